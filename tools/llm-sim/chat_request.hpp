// An incoming chat request, reduced to what matching, counting and
// rendering need, for both APIs.
#pragma once

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
};

/// Parses the JSON body of /api/chat or /v1/chat/completions into `out`
/// (header fields are left alone). Returns an error message, or nullopt.
std::optional<std::string> parse_chat_body(const std::string& body, api_kind api,
                                           chat_request& out);

/// ~4 characters a token, at least 1 for non-empty text.
int estimate_tokens(const std::string& text);

}  // namespace llm_sim
