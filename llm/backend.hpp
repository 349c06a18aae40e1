// Shared machinery of the HTTP model backends (internal to llm/): the call
// state machine with context guard, budget gate, transport retries with
// backoff on the loop's timers, structured-answer validation, usage, cost and
// the one log line per call. Ollama and OpenAI clients supply the wire format.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

#include "llm/client.hpp"
#include "llm/http_loop.hpp"
#include "llm/json_write.hpp"
#include "llm/profile.hpp"

namespace codehive::llm::detail {

/// What a backend read out of one 2xx reply.
struct parsed_reply {
  std::string content;
  /// Reasoning the server kept apart from the answer (Ollama message.thinking,
  /// OpenAI-compatible reasoning_content / reasoning). Never the answer, except
  /// where a structured answer can only be found there (see on_attempt).
  std::string thinking;
  std::optional<std::string> refusal;  ///< OpenAI message.refusal when not null
  std::string finish_reason;
  std::optional<std::int64_t> prompt_tokens;
  std::optional<std::int64_t> completion_tokens;
  double tokens_per_s = 0;  ///< server's figure, 0 if none
};

/// Assembles a streamed reply from `from` (the server's base URL); fed on the
/// loop thread, piece by piece.
class stream_parser {
 public:
  explicit stream_parser(std::string from) : from_(std::move(from)) {}
  virtual ~stream_parser() = default;
  /// Splits into lines and hands each complete one to on_line.
  void feed(std::string_view data);
  /// Called once the transfer completed; handles a last unterminated line.
  result<parsed_reply> finish();
  /// The reply so far holds a token (content or thinking): the model has
  /// started generating (the time to first token is taken here).
  bool generating() const { return !so_far().content.empty() || !so_far().thinking.empty(); }

 protected:
  virtual void on_line(std::string_view line) = 0;
  virtual result<parsed_reply> done() = 0;
  /// What the lines so far assembled.
  const parsed_reply& so_far() const { return out_; }
  /// Keeps the first error of the stream (a malformed line, an error object).
  void fail(errc code, std::string message);
  /// `text` parsed as one JSON object into `d` (`unit`: "a line", "an event");
  /// false, with the stream's error, when it is cut off, not JSON, or the
  /// server's error (`server_error` of the parsed object, "" for none).
  template <class ServerError>
  bool parse_object(std::string_view text, rapidjson::Document& d, const char* unit, ServerError server_error) {
    d.Parse(text.data(), text.size());
    if (d.HasParseError() || !d.IsObject()) {
      fail_unparsed(text, d, unit);
      return false;
    }
    if (auto err = server_error(d); !err.empty()) {
      fail(errc::truncated, "stream from " + from_ + " ended with a server error: " + err);
      return false;
    }
    return true;
  }
  /// errc::truncated: the stream ended without `what` (its end marker).
  error ended_without(const std::string& what, std::size_t characters_received) const;

  std::string from_;
  parsed_reply out_;  ///< what the stream said so far
  std::optional<error> error_;

 private:
  void fail_unparsed(std::string_view text, const rapidjson::Document& d, const char* unit);

  std::string buf_;
};

/// A chat request's JSON body while a backend writes it.
struct chat_body {
  rapidjson::Document schema;  ///< the request's JSON schema, parsed
  rapidjson::StringBuffer buf;
  json_writer w{buf};
};

/// One chat call across its attempts.
struct call_state {
  chat_request req;
  chat_callback cb;
  std::chrono::steady_clock::time_point start;
  std::int64_t estimated_prompt_tokens = 0;
  int attempts = 0;      ///< attempts sent so far
  int retries = 0;       ///< transport retries used (counted against max_retries)
  int adaptations = 0;   ///< resends after a refused field (bounded: each field changes once)
  int last_status = 0;
  /// Streaming: when the current attempt's first token arrived.
  std::optional<std::chrono::steady_clock::time_point> first_token_at;
  /// Time to first token of the last attempt that got a 2xx reply.
  std::optional<std::chrono::milliseconds> first_token;
  /// What the current attempt sent (filled by build_chat), to match a refusal against.
  sent_fields sent;
  structured_mode sent_structured = structured_mode::json_schema;
  /// This call is the one finding out whether the server takes its shape
  /// (see basic_client::attempt); calls of the same untried shape wait for it.
  bool probe = false;
};

class basic_client : public client, public std::enable_shared_from_this<basic_client> {
 public:
  basic_client(http_loop& loop, endpoint_config cfg);

  void chat(chat_request req, chat_callback cb) override;
  void health(health_callback cb) override;
  const endpoint_config& config() const noexcept override { return cfg_; }
  profile_report profile() const override;
  http_loop& loop() noexcept { return loop_; }

  /// The server's error text of a non-2xx reply: {"error":"..."},
  /// {"error":{"message":"..."}}, or the start of the raw body.
  static std::string server_error_text(const http_response& r);
  /// OpenAI's {"error":{"param":"..."}} of a non-2xx reply, "" when absent.
  static std::string server_error_param(const http_response& r);
  /// Retry-After (delta seconds or HTTP date) in ms, -1 when absent/unparsable.
  static int retry_after_ms(const http_response& r);

 protected:
  /// URL and JSON body of a chat attempt (headers and timeouts are added
  /// by the caller): begin_chat, then the backend's write_chat, then the
  /// body's end, posted to the path write_chat names.
  result<http_request> build_chat(call_state& st);
  /// The backend's own fields of a chat body, after begin_chat's, as members
  /// of the open top-level object; records in `st.sent` what it put in (uses
  /// the *_now() accessors). Returns the path to post to.
  virtual std::string_view write_chat(call_state& st, chat_body& body) = 0;
  /// A whole (not streamed) 2xx chat reply: bad_json when the body is not a
  /// JSON object or carries the server's error (reply_error), else read_chat.
  result<parsed_reply> parse_chat(const http_response& r);
  /// The server's error in a parsed reply body, "" for none.
  virtual std::string reply_error(const rapidjson::Value& d) const = 0;
  /// The answer in a parsed reply body without an error.
  virtual result<parsed_reply> read_chat(const rapidjson::Value& d) const = 0;
  virtual std::unique_ptr<stream_parser> make_stream_parser() = 0;

  /// A GET of models_url().
  http_request build_health() const;
  /// Where the server lists the models it serves.
  virtual std::string models_url() const = 0;
  /// The model list's reply: bad_json when the body is not a JSON object, else read_models.
  result<std::vector<std::string>> parse_models(const http_response& r) const;
  /// The served models' names in the parsed model list.
  virtual result<std::vector<std::string>> read_models(const rapidjson::Value& d) const = 0;
  /// Message for errc::model_missing.
  virtual std::string missing_model_message(const std::vector<std::string>& served) = 0;
  /// Whether a listed name serves the configured model.
  virtual bool model_matches(const std::string& listed) const;

  /// Common headers (content type, role/path, auth, the config's headers),
  /// timeouts and the reply cap. A key goes only where key_may_travel allows.
  void decorate(http_request& h, const chat_request* req, std::chrono::milliseconds timeout) const;
  /// base_url + path + the SPEC's query string.
  std::string url(std::string_view path) const;
  /// The start of every chat body: the schema parsed, `st.sent` cleared, the
  /// structured mode chosen, and {"model", the messages and "stream" written.
  result<unit> begin_chat(call_state& st, chat_body& body);
  /// A POST of the JSON in `body` to url(path).
  http_request post_json(std::string_view path, const chat_body& body) const;
  /// bad_json: a 2xx reply that carries the server's error `text`.
  error server_error_in_reply(const std::string& text) const;

  const char* api_name() const noexcept;

  // What to send now: the config's pins, else what was learned.
  structured_mode structured_now() const noexcept { return static_cast<structured_mode>(sp_->structured.load()); }
  bool temperature_now() const noexcept { return sp_->temperature.load(); }
  /// 0: max_tokens, 1: max_completion_tokens, 2: no cap (both refused).
  int cap_name_now() const noexcept { return sp_->cap_name.load(); }
  bool think_now() const noexcept { return sp_->think.load(); }

  http_loop& loop_;
  endpoint_config cfg_;

 private:
  /// A refusal of one field the attempt sent: learn it (once, logged once
  /// with the server's words) and say whether to send again at once.
  bool adapt(call_state& st, const http_response& resp, const std::string& server_text);
  void note(std::string line);

  /// What clients of one endpoint (same loop, server, model, query and pins)
  /// learned, shared while any of them lives: the planner and the coders on
  /// one server meet a refusal once, not once per client.
  struct shared_profile {
    std::atomic<int> structured{0};
    std::atomic<bool> temperature{true};
    std::atomic<int> cap_name{0};
    std::atomic<bool> think{false};
    std::mutex mu;
    std::vector<std::string> learned;
    // Loop thread only (see attempt).
    unsigned confirmed_shapes = 0;
    bool probe_in_flight = false;
    std::vector<std::function<void()>> parked;
  };
  static std::shared_ptr<shared_profile> shared_profile_for(const http_loop& loop, const endpoint_config& cfg);
  std::shared_ptr<shared_profile> sp_;
  mutable std::atomic<bool> warned_key_unset_{false};
  mutable std::atomic<bool> warned_key_insecure_{false};
  std::atomic<bool> warned_thinking_{false};

  // A new request shape (fields never seen accepted) goes out once: the
  // first call with it is the probe, later ones wait until it is answered
  // (a 2xx, or a stream's first token), so a server's refusal is met once
  // per endpoint, not once per call in flight. Loop thread only.
  static unsigned shape_of(const call_state& st) noexcept;
  void end_probe(call_state& st);
  /// The server took `st`'s shape: later calls with it go at once.
  void confirm_shape(call_state& st);

  void attempt(std::shared_ptr<call_state> st);
  void on_attempt(std::shared_ptr<call_state> st, std::shared_ptr<stream_parser> parser,
                  http_result r);
  void retry_or_fail(std::shared_ptr<call_state> st, error e, const std::optional<parsed_reply>& got);
  void complete(std::shared_ptr<call_state> st, result<chat_response> r,
                const std::optional<parsed_reply>& got, double attempt_seconds);
};

}  // namespace codehive::llm::detail
