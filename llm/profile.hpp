// Endpoint profiles: what a model server accepts, pinned by the config or
// learned from its answers. Pure helpers (no I/O): which request field a
// server's error names, known reasoning models, where a key may go, secrets
// scrubbed from server text, one context window per model.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llm/types.hpp"

namespace codehive::llm {

/// A profile with every field decided (what a client sends right now), plus
/// what it learned from its servers, each in the server's own words.
struct profile_report {
  structured_mode structured = structured_mode::json_schema;
  bool temperature = true;
  bool max_completion_tokens = false;
  bool max_tokens_dropped = false;  ///< neither cap name was accepted: no cap is sent
  bool think = true;                ///< Ollama: `think: false` is sent
  std::string keep_alive;
  int context_tokens = 0;
  std::vector<std::string> learned;
};

/// The request fields a server's error can refuse. A 400/422/500 whose error
/// text (or OpenAI's `error.param`) names one of them changes exactly that.
enum class refused_field { none, think, temperature, max_tokens, max_completion_tokens, response_format };
const char* to_string(refused_field f) noexcept;

/// What the request sent, for matching an error against it.
struct sent_fields {
  bool think = false;
  bool temperature = false;
  bool max_tokens = false;
  bool max_completion_tokens = false;
  bool response_format = false;  ///< any structured-output field (OpenAI response_format, Ollama format)
};

/// The field of `sent` that the error names, `none` for any other error
/// (which is then reported as it is and changes nothing). Sampling fields
/// count only with words of refusal ("unsupported", "not supported", ...),
/// so a "max_tokens is too large" does not switch the parameter's name; the
/// response format counts whenever it is named (servers refuse schemas with
/// all kinds of words: "Unrecognized schema", "failed to compile grammar").
refused_field refused_by(int http_status, std::string_view error_text, std::string_view param,
                         const sent_fields& sent);

/// o1, o3, o4 and gpt-5 models (optionally "openai/" prefixed): temperature
/// only at its default and `max_completion_tokens` instead of `max_tokens`.
bool is_reasoning_model(std::string_view model);

/// The profile a client starts with: the config's pins, else the defaults for
/// the model's name.
profile_report initial_profile(const endpoint_config& cfg);

bool is_https_url(std::string_view url);
/// 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_url(std::string_view url);
/// Whether a key may be sent to `cfg`'s server: TLS, loopback, or allowed by
/// `allow_insecure_key`.
bool key_may_travel(const endpoint_config& cfg);

/// "$VAR" / "${VAR}" expanded from the environment (unset: empty).
/// `names_variable` says whether the value referred to any variable.
std::string expand_env(std::string_view value, bool& names_variable);

/// Remembers a secret (a key, a header value from the environment) so that
/// scrub_secrets removes it from any text; values shorter than 4 characters
/// are ignored. Thread-safe; process-wide.
void register_secret(std::string_view value);
/// `text` with every registered secret replaced by "[redacted]".
std::string scrub_secrets(std::string text);

/// One model, one context size: endpoints that name the same Ollama model on
/// the same server get the largest context_tokens of them (Ollama reloads a
/// model whenever num_ctx changes) and the longest keep_alive, so the model
/// is loaded once for the whole run. Other endpoints are left alone.
void share_model_settings(const std::vector<endpoint_config*>& endpoints);

}  // namespace codehive::llm
