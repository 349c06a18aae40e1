// An incoming chat request, reduced to what matching, counting and
// rendering need, for both APIs.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace llm_sim {

enum class api_kind { ollama, openai };

inline const char* to_string(api_kind a) { return a == api_kind::ollama ? "ollama" : "openai"; }

struct chat_request {
  api_kind api = api_kind::ollama;
  std::string model;
  std::string role;         ///< X-Codehive-Role, "" when absent
  std::string path;         ///< X-Codehive-Path, "" when absent
  bool has_bearer = false;  ///< Authorization: Bearer … was sent (its value is never kept)
  std::string prompt;       ///< message contents joined with '\n'
  bool stream = false;
  bool wants_json_schema = false;  ///< OpenAI response_format.type == "json_schema"
  bool include_usage = false;      ///< OpenAI stream_options.include_usage

  // What the personalities (personality.hpp) look at; no personality ignores them.
  std::string response_format;  ///< OpenAI response_format.type, "" when absent
  bool has_format = false;      ///< Ollama `format` present (schema or "json")
  std::optional<bool> think;    ///< Ollama `think` (a level string counts as true)
  std::optional<std::string> reasoning_effort;  ///< OpenAI-compatible `reasoning_effort`
  bool has_max_tokens = false;
  bool has_stream_options = false;  ///< OpenAI stream_options present (not null)
  std::optional<long> max_tokens;             ///< max_tokens, else max_completion_tokens
  std::optional<std::string> keep_alive;      ///< Ollama keep_alive, as text
  /// Sampling values sent that a reasoning model refuses: name -> the value as sent
  /// (temperature, top_p, presence_penalty, frequency_penalty).
  std::map<std::string, std::pair<double, std::string>> sampling;
  /// Ollama runner options (a change reloads the model): name -> compact JSON value.
  std::map<std::string, std::string> runner_options;
};

/// Parses the JSON body of /api/chat or /v1/chat/completions into `out`
/// (header fields are left alone). Returns an error message, or nullopt.
std::optional<std::string> parse_chat_body(const std::string& body, api_kind api,
                                           chat_request& out);

/// ~4 characters a token, at least 1 for non-empty text.
int estimate_tokens(const std::string& text);

}  // namespace llm_sim
