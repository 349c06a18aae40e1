// Shared helpers of the model-client suites: endpoint configs pointing at a
// running llm-sim, chat requests, a free (closed) loopback port, waiting, the log.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "llm/client.hpp"
#include "llm/http_loop.hpp"
#include "tests/support/sim_process.hpp"

namespace codehive::llm::testing {

/// The simulator every suite here talks to (named here once for all of them).
using codehive::test::sim_process;

inline const char* kModel = "qwen2.5-coder:7b";

/// Captures everything spdlog logs (debug and up) while alive.
class log_capture {
 public:
  log_capture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~log_capture() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

/// Scenario text with the standard models and a fast latency model.
inline std::string scenario(const std::string& rules, const std::string& extra = "") {
  return R"({"models":["qwen2.5-coder:7b","llama3:latest"],"latency":{"ttft_ms":5,"tokens_per_s":20000},)" +
         extra + R"("rules":)" + rules + "}";
}

inline endpoint_config config_for(api kind, const std::string& base, const std::string& model = kModel) {
  endpoint_config cfg;
  cfg.spec.kind = kind;
  cfg.spec.base_url = kind == api::openai ? base + "/v1" : base;
  cfg.spec.model = model;
  cfg.connect_timeout = std::chrono::milliseconds{1000};
  cfg.call_timeout = std::chrono::milliseconds{5000};
  cfg.max_retries = 2;
  cfg.backoff_base = std::chrono::milliseconds{5};
  cfg.backoff_max = std::chrono::milliseconds{50};
  return cfg;
}

inline chat_request request(const std::string& role, const std::string& path, const std::string& prompt,
                            bool stream = false) {
  chat_request r;
  r.role = role;
  r.path = path;
  r.messages = {{"system", "You write code."}, {"user", prompt}};
  r.stream = stream;
  return r;
}

/// A summary's request: `prompt` for `path` with a temperature and a reply cap.
inline chat_request summary_request(const std::string& path, const std::string& prompt,
                                    double temperature, int max_tokens) {
  auto r = request("summarizer", path, prompt);
  r.temperature = temperature;
  r.max_tokens = max_tokens;
  return r;
}

/// A loopback port that nothing listens on (bound by the OS, then closed).
inline int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace codehive::llm::testing
