#include "nodes/cluster.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/timespan.hpp>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <spdlog/spdlog.h>

#include "common/read_file.hpp"
#include "common/secret_file.hpp"
#include "messages/cluster.hpp"
#include "messages/setup.hpp"
#include "nodes/commands/settings_resolution.hpp"
#include "nodes/config.hpp"
#include "nodes/scheduler_tuning.hpp"
#include "nodes/silence_limit.hpp"

namespace codehive {

void apply_cluster_flags(const cluster_flags& f, cluster_settings& s) {
  if (!f.token_file.empty())
    s.token_file = f.token_file;
  if (!f.tls_cert.empty())
    s.tls_certificate = f.tls_cert;
  if (!f.tls_key.empty())
    s.tls_key = f.tls_key;
  if (!f.tls_ca.empty())
    s.tls_ca_file = f.tls_ca;
  if (f.heartbeat_ms)
    s.heartbeat_interval_ms = *f.heartbeat_ms;
  if (f.timeout_ms)
    s.connection_timeout_ms = *f.timeout_ms;
}

bool tokens_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  // Every byte is looked at whatever the earlier ones were; volatile keeps
  // the compiler from turning the loop into an early-exit memcmp.
  volatile unsigned char acc = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    acc = acc | static_cast<unsigned char>(a[i] ^ b[i]);
  return acc == 0;
}

namespace {

void strip_trailing_space(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '
                        || s.back() == '\t'))
    s.pop_back();
}

std::optional<std::string> read_token_file(const std::string& file, std::string& error) {
  if (auto w = token_file_warning(file))
    spdlog::warn("{}", *w);
  auto read = read_whole_file(file);
  if (!read) {
    error = "cannot read the join token file " + file;
    return std::nullopt;
  }
  auto tok = std::move(*read);
  strip_trailing_space(tok);
  if (tok.empty()) {
    error = "the join token file " + file + " is empty";
    return std::nullopt;
  }
  return tok;
}

}  // namespace

std::optional<std::string> token_file_warning(const std::string& file) {
  return secret_file_warning(file, "the join token file",
                             "anyone who reads it can join workers and submit runs");
}

std::optional<std::string> load_token(const std::string& flag_file, const cluster_settings& s,
                                      std::string& error) {
  auto source = join_token_source(flag_file, read_environment(), s.token_file);
  if (!source) {
    error = token_required;
    return std::nullopt;
  }
  if (!source->file.empty())
    return read_token_file(source->file, error);
  return source->value;
}

std::optional<host_port> parse_host_port(const std::string& text, const std::string& default_host,
                                         bool allow_zero, std::string& error) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    error = "expected HOST:PORT, got \"" + text + "\"";
    return std::nullopt;
  }
  host_port hp;
  hp.host = text.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']')
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  if (hp.host.empty())
    hp.host = default_host;
  auto port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos
      || port_text.size() > 5) {
    error = "bad port in \"" + text + "\"";
    return std::nullopt;
  }
  auto port = std::stoul(port_text);
  if (port > 65535 || (port == 0 && !allow_zero)) {
    error = "bad port in \"" + text + "\"";
    return std::nullopt;
  }
  hp.port = static_cast<std::uint16_t>(port);
  return hp;
}

bool tls_configured(const cluster_settings& s, std::string& error) {
  int given = !s.tls_certificate.empty() + !s.tls_key.empty() + !s.tls_ca_file.empty();
  if (given == 0)
    return false;
  if (given != 3) {
    error = "TLS needs all three of --tls-cert, --tls-key and --tls-ca (cluster.tls.certificate, "
            "key, ca_file)";
    return false;
  }
  for (const auto* f : {&s.tls_certificate, &s.tls_key, &s.tls_ca_file}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*f, ec)) {
      error = "TLS file not found: " + *f;
      return false;
    }
  }
  return true;
}

namespace {

// CAF 0.17.6's TLS sessions (libcaf_openssl/src/openssl/session.cpp, do_some and
// handle_ssl_result) call SSL_accept/SSL_read/SSL_write and then SSL_get_error without
// ever clearing OpenSSL's per-thread error queue first, and drain it only inside
// CAF_LOG_INFO(... get_ssl_error()), which Debian's build compiles out (CAF_LOG_LEVEL
// QUIET). So one failed TLS operation on the multiplexer thread (a plain-TCP client or a
// bad certificate at the handshake, a peer that disconnects without close_notify) leaves
// its error queued, and the next healthy connection whose SSL_read ends in "want read"
// gets SSL_ERROR_SSL from SSL_get_error and is closed: every joined TLS worker is dropped.
// CAF fixed this later (2815cf255, "Fix error handling in OpenSSL wrapper": ERR_clear_error
// before each SSL_* call). Here: every socket BIO (what SSL_set_fd creates for CAF's
// sessions) gets a callback that clears the calling thread's error queue right before
// each read or write on the socket, so the errors SSL_get_error sees are those of the
// call in progress. Registered through OpenSSL's ex_data "new" hook, which runs for every
// BIO created afterwards; BIOs of other types (libcurl's, PEM/memory BIOs) are untouched.
long clear_errors_before_socket_io(BIO*, int oper, const char*, size_t, int, long, int ret,
                                   size_t*) {
  if (oper == BIO_CB_READ || oper == BIO_CB_WRITE)  // before the I/O (no BIO_CB_RETURN)
    ERR_clear_error();
  return ret;  // 1 before an operation (go on), the operation's result after it
}

void hook_new_bio(void* parent, void*, CRYPTO_EX_DATA*, int, long, void*) {
  auto* bio = static_cast<BIO*>(parent);
  if (bio != nullptr && BIO_method_type(bio) == BIO_TYPE_SOCKET
      && BIO_get_callback_ex(bio) == nullptr)
    BIO_set_callback_ex(bio, clear_errors_before_socket_io);
}

void install_tls_error_queue_guard() {
  static const int index =
    CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_BIO, 0, nullptr, hook_new_bio, nullptr, nullptr);
  (void)index;
}

}  // namespace

std::optional<cluster_setup> load_cluster_setup(const cluster_flags& flags, codehive_config& cfg,
                                                std::string& error) {
  apply_cluster_flags(flags, cfg.cluster);
  auto token = load_token(flags.token_file, cfg.cluster, error);
  if (!token)
    return std::nullopt;
  cluster_setup out;
  out.token = std::move(*token);
  std::string tls_error;
  out.tls = tls_configured(cfg.cluster, tls_error);
  if (!tls_error.empty()) {
    error = tls_error;
    return std::nullopt;
  }
  return out;
}

void configure_node(caf::actor_system_config& cfg, const cluster_settings& s) {
  register_messages(cfg);
  tune_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  std::string ignored;
  if (tls_configured(s, ignored)) {
    install_tls_error_queue_guard();
    cfg.load<caf::openssl::manager>();
    cfg.set("openssl.certificate", s.tls_certificate);
    cfg.set("openssl.key", s.tls_key);
    cfg.set("openssl.cafile", s.tls_ca_file);
  }
  cfg.set("middleman.app-identifiers", std::vector<std::string>{msg::protocol_version});
  if (s.heartbeat_interval_ms > 0) {
    cfg.set("middleman.heartbeat-interval",
            caf::timespan{std::chrono::milliseconds{s.heartbeat_interval_ms}});
    // CAF's own timeout is only the backstop: it is checked on the
    // middleman's timer, which a loaded machine delays past bytes already
    // waiting in the socket, and it never adapts. The coordinator's gate
    // judges silence (silence_limit: the configured timeout, up to 10x it for
    // a node that has shown long gaps); a dead process closes its socket and
    // is seen at once anyway.
    auto backstop = std::chrono::milliseconds{s.connection_timeout_ms}
                    * (silence_limit::ceiling_factor + 1);
    cfg.set("middleman.connection-timeout", caf::timespan{backstop});
  }
}

std::string default_node_name() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0)
    std::snprintf(host, sizeof(host), "node");
  return std::string{host} + "-" + std::to_string(getpid());
}

}  // namespace codehive

#include <csignal>
#include <pthread.h>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace codehive {

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_stop_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

std::string escape_control_characters(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80
               && static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080..U+009F: C1 controls (U+009B is a CSI to many terminals).
      auto c1 = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += hex[c1 >> 4];
      out += hex[c1 & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

namespace {

/// %* in the pattern: the message, control characters escaped.
class escaped_message final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    auto text = escape_control_characters({msg.payload.data(), msg.payload.size()});
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<escaped_message>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<escaped_message>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*");
  return f;
}

void setup_node_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("codehive");
  logger->set_formatter(make_log_formatter());
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}

}  // namespace codehive
