// Shared machinery of the HTTP model backends (internal to llm/): the call
// state machine with context guard, budget gate, transport retries with
// backoff on the loop's timers, structured-answer validation, usage, cost and
// the one log line per call. Ollama and OpenAI clients supply the wire format.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "llm/client.hpp"
#include "llm/http_loop.hpp"

namespace codehive::llm::detail {

/// What a backend read out of one 2xx reply.
struct parsed_reply {
  std::string content;
  std::string finish_reason;
  std::optional<std::int64_t> prompt_tokens;
  std::optional<std::int64_t> completion_tokens;
  double tokens_per_s = 0;  ///< server's figure, 0 if none
};

/// Assembles a streamed reply; fed on the loop thread, piece by piece.
class stream_parser {
 public:
  virtual ~stream_parser() = default;
  /// Splits into lines and hands each complete one to on_line.
  void feed(std::string_view data);
  /// Called once the transfer completed; handles a last unterminated line.
  result<parsed_reply> finish();

 protected:
  virtual void on_line(std::string_view line) = 0;
  virtual result<parsed_reply> done() = 0;
  /// Keeps the first error of the stream (a malformed line, an error object).
  void fail(errc code, std::string message);
  std::optional<error> error_;

 private:
  std::string buf_;
};

/// One chat call across its attempts.
struct call_state {
  chat_request req;
  chat_callback cb;
  std::chrono::steady_clock::time_point start;
  std::int64_t estimated_prompt_tokens = 0;
  int attempts = 0;      ///< attempts sent so far
  int retries = 0;       ///< transport retries used (counted against max_retries)
  bool fallback = false; ///< backend-specific downgrade (OpenAI json_object)
  int last_status = 0;
};

class basic_client : public client, public std::enable_shared_from_this<basic_client> {
 public:
  basic_client(http_loop& loop, endpoint_config cfg);

  void chat(chat_request req, chat_callback cb) override;
  void health(health_callback cb) override;
  const endpoint_config& config() const noexcept override { return cfg_; }
  http_loop& loop() noexcept { return loop_; }

  /// The server's error text of a non-2xx reply: {"error":"..."},
  /// {"error":{"message":"..."}}, or the start of the raw body.
  static std::string server_error_text(const http_response& r);
  /// Retry-After (delta seconds or HTTP date) in ms, -1 when absent/unparsable.
  static int retry_after_ms(const http_response& r);

 protected:
  /// URL and JSON body of a chat attempt (headers and timeouts are added here).
  virtual result<http_request> build_chat(const call_state& st) = 0;
  virtual result<parsed_reply> parse_chat(const http_response& r) = 0;
  virtual std::unique_ptr<stream_parser> make_stream_parser() = 0;
  /// A non-2xx reply: return true to send again at once (no retry counted).
  virtual bool adapt_after_error(call_state&, const error&) { return false; }
  /// A 2xx reply that parsed.
  virtual void on_success(const call_state&) {}

  virtual http_request build_health() = 0;
  virtual result<std::vector<std::string>> parse_models(const http_response& r) = 0;
  /// Message for errc::model_missing.
  virtual std::string missing_model_message(const std::vector<std::string>& served) = 0;
  /// Whether a listed name serves the configured model.
  virtual bool model_matches(const std::string& listed) const;

  /// Common headers (content type, role/path, auth) and timeouts.
  void decorate(http_request& h, const chat_request* req, std::chrono::milliseconds timeout) const;

  const char* api_name() const noexcept;

  http_loop& loop_;
  endpoint_config cfg_;

 private:
  void attempt(std::shared_ptr<call_state> st);
  void on_attempt(std::shared_ptr<call_state> st, std::shared_ptr<stream_parser> parser,
                  http_result r);
  void retry_or_fail(std::shared_ptr<call_state> st, error e, const std::optional<parsed_reply>& got);
  void complete(std::shared_ptr<call_state> st, result<chat_response> r,
                const std::optional<parsed_reply>& got, double attempt_seconds);
};

}  // namespace codehive::llm::detail
