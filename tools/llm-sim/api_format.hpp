// Response rendering for one API: bodies, stream chunks and error bodies.
// ollama_format.cpp and openai_format.cpp implement it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chat_request.hpp"
#include "json_out.hpp"

namespace llm_sim {

/// What a rendered reply says (counts and timings are reported, not measured
/// by the client).
struct reply_info {
  std::string model;
  std::string content;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  bool include_usage = false;  ///< OpenAI stream: send a usage chunk before [DONE]
  std::string id;              ///< OpenAI completion id
  std::int64_t created = 0;    ///< unix seconds
  std::chrono::steady_clock::time_point started;  ///< request arrival
  std::chrono::nanoseconds prompt_eval{0};        ///< time to first token
  // Set by personalities only (the default shapes stay as they were):
  std::optional<std::string> thinking;  ///< Ollama message.thinking / OpenAI-compat message.reasoning
  bool refusal = false;  ///< `content` is an OpenAI refusal: content null, message.refusal
  bool rich = false;     ///< OpenAI's full shape: refusal, annotations, usage details, usage:null
  std::chrono::nanoseconds load{0};  ///< Ollama load_duration (time spent loading the model)
  int reasoning_tokens = 0;          ///< thinking's share of completion_tokens
};

class api_format {
 public:
  virtual ~api_format() = default;

  /// Error body for a status, in the API's shape; `code` is a short machine
  /// word (e.g. "model_not_found"), used where the API has such a field.
  virtual std::string error_body(int status, const std::string& message,
                                 const std::string& code) const = 0;
  /// A complete non-streamed reply.
  virtual std::string body(const reply_info& r) const = 0;

  virtual const char* stream_content_type() const = 0;
  /// Sent before the first content piece ("" when the API has no preamble).
  virtual std::string stream_begin(const reply_info& r) const = 0;
  /// One chunk carrying `piece` of the content (or, `thinking`, of the thinking).
  virtual std::string stream_piece(const reply_info& r, std::string_view piece,
                                   bool thinking = false) const = 0;
  /// The final chunk(s), with finish reason and counts (and [DONE]).
  virtual std::string stream_end(const reply_info& r) const = 0;
};

std::unique_ptr<api_format> make_ollama_format();
std::unique_ptr<api_format> make_openai_format();

/// RFC 3339 UTC time with nanoseconds, as Ollama's created_at.
std::string rfc3339_now();

}  // namespace llm_sim
