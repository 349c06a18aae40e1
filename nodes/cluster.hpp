// What the coordinator, the worker and `run --coordinator` share: the join
// token (loaded from a file or the environment, compared in constant time),
// HOST:PORT parsing, and the CAF setup of a node (middleman, heartbeats,
// app identifiers, OpenSSL) plus publish/connect over TCP or TLS.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class formatter;
}  // namespace spdlog

namespace caf {
class actor_system;
class actor_system_config;
}  // namespace caf

namespace codehive {

/// The config's "cluster" section; command-line flags override it.
struct cluster_settings {
  std::string token_file;            ///< "" = CODEHIVE_JOIN_TOKEN / --token-file
  int heartbeat_interval_ms = 1000;  ///< middleman.heartbeat-interval (0 = off)
  int connection_timeout_ms = 5000;  ///< silence before a node is taken for dead (adapts, see silence_limit)
  std::uint32_t max_frame_bytes = 64u << 20;  ///< largest message a coordinator accepts from a node
  std::string tls_certificate;       ///< PEM; all three set = TLS between nodes
  std::string tls_key;
  std::string tls_ca_file;
};

/// The flags every node command shares.
struct cluster_flags {
  std::string token_file;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::optional<int> heartbeat_ms;
  std::optional<int> timeout_ms;
};

/// Flags over config values.
void apply_cluster_flags(const cluster_flags& f, cluster_settings& s);

/// Compares two secrets in time that depends only on their lengths (never
/// on where they differ). Different lengths compare unequal.
bool tokens_equal(std::string_view a, std::string_view b) noexcept;

/// The join token: --token-file F (flag), else $CODEHIVE_JOIN_TOKEN, else the
/// config's cluster.token_file; trailing whitespace stripped. nullopt with
/// `error` when none is given, the file cannot be read, or it is empty.
std::optional<std::string> load_token(const std::string& flag_file,
                                      const cluster_settings& s, std::string& error);

/// The warning for a token file that group or others may read (the token
/// lets anyone who reads it join workers or submit runs); nullopt when only
/// the owner can, or the file cannot be inspected. read_token_file logs it.
std::optional<std::string> token_file_warning(const std::string& file);

/// The message a node prints when no token is configured.
inline constexpr const char* token_required =
  "a join token is required: --token-file F or CODEHIVE_JOIN_TOKEN";

struct host_port {
  std::string host;
  std::uint16_t port = 0;
  std::string str() const { return host + ":" + std::to_string(port); }
};

/// "HOST:PORT", ":PORT" (host = default_host), "[::1]:PORT". Port 0 only
/// when `allow_zero`.
std::optional<host_port> parse_host_port(const std::string& text,
                                         const std::string& default_host, bool allow_zero,
                                         std::string& error);

/// True when certificate, key and CA file are all set; `error` when only
/// some are (or a file is missing).
bool tls_configured(const cluster_settings& s, std::string& error);

struct codehive_config;

/// What every node command needs before it connects: the token and whether
/// TLS is on, after the flags are applied over the config's cluster section.
struct cluster_setup {
  std::string token;
  bool tls = false;
};

/// Applies `flags` to cfg.cluster, loads the token, checks the TLS files;
/// nullopt with `error` (a usage error) otherwise.
std::optional<cluster_setup> load_cluster_setup(const cluster_flags& flags, codehive_config& cfg,
                                                std::string& error);

/// Loads the middleman (and OpenSSL's manager when TLS is configured), turns
/// heartbeats on, sets middleman.app-identifiers to msg::protocol_version and
/// the openssl.* files; registers codehive's messages; tunes the scheduler
/// for an idle node (scheduler_tuning.hpp).
void configure_node(caf::actor_system_config& cfg, const cluster_settings& s);

/// This process's name for logs: hostname-pid.
std::string default_node_name();

}  // namespace codehive

namespace codehive {

/// Blocks SIGINT and SIGTERM in this thread (call first in main, before any
/// thread starts, so every thread inherits the mask).
void block_stop_signals();

/// Waits for SIGINT or SIGTERM (blocked by block_stop_signals); returns it.
int wait_stop_signal();

/// Logging of a node process: stderr, one line per event, info (debug with -v),
/// through make_log_formatter().
void setup_node_logging(bool verbose);

/// The formatter of every codehive log line: "%Y-%m-%dT%H:%M:%S.%e %^%l%$ "
/// then the message with control characters escaped (ESC as \x1b, newline
/// as \n, C1 controls as \u0080..\u009f; tab kept), so text from a model or
/// a server (an escape sequence in an answer) never reaches the terminal as
/// control codes and one event stays one line.
std::unique_ptr<spdlog::formatter> make_log_formatter();

/// `text` with control characters escaped as make_log_formatter() does.
std::string escape_control_characters(std::string_view text);

}  // namespace codehive
