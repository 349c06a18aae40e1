// The HTTP server: routes of both APIs and of /sim/*, fault behaviour, and
// the latency model applied to each reply.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "api_format.hpp"
#include "matching.hpp"
#include "model_runtime.hpp"
#include "pacing.hpp"
#include "personality.hpp"
#include "scenario.hpp"
#include "stats.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace llm_sim {

class server {
 public:
  /// `threads`: request threads (latency waits and hangs hold one each);
  /// `p`: the real server to behave as (personality.hpp), none by default.
  server(scenario s, std::uint64_t seed, int threads, personality p = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts listening on host:port (0: OS-chosen); returns the port or -1.
  int bind(const std::string& host, int port);
  /// Serves until stop(); returns false if serving failed.
  bool run();
  /// Thread-safe; wakes every waiting reply (hangs included).
  void stop();

 private:
  void install_routes();
  void handle_chat(api_kind api, const httplib::Request& req, httplib::Response& res);
  /// Renders `e` (answer or fault) into `res`; returns a word for the log.
  std::string serve_entry(const response_entry& e, const decision& d, const chat_request& cr,
                          const api_format& fmt, std::chrono::steady_clock::time_point started,
                          std::shared_ptr<void> in_flight, std::chrono::nanoseconds load,
                          httplib::Response& res);
  void install_personality_routes();
  /// Sends a personality's refusal and (chat requests only: GET endpoints are
  /// never counted) counts it in "rejected"; returns the log word.
  std::string refuse(httplib::Response& res, const refusal_reply& r, bool count = true);
  bool model_known(const std::string& model) const;
  std::string ollama_show(const std::string& model) const;
  std::string ollama_ps() const;
  std::string llamacpp_props() const;
  std::string lmstudio_models() const;
  void send_error(httplib::Response& res, const api_format& fmt, int status,
                  const std::string& message, const std::string& code);
  std::string model_list_ollama() const;
  std::string model_list_openai() const;

  scenario scenario_;
  personality persona_;
  selector selector_;
  stats stats_;
  stop_signal stop_;
  std::unique_ptr<api_format> ollama_;
  std::unique_ptr<api_format> openai_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<model_runtime> runtime_;  ///< Ollama / llama.cpp slots and loads; else null
  std::atomic<std::uint64_t> next_id_{1};
  std::int64_t started_unix_ = 0;
  int listen_socket_ = -1;
  std::atomic<bool> finished_{false};  ///< run() has returned
};

}  // namespace llm_sim
