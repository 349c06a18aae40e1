// Plain data of a model call: what goes in, what comes out, what it cost.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace codehive::llm {

enum class api { ollama, openai };

/// A parsed model SPEC: `ollama://host:port/model` or
/// `openai://host:port/v1/model` (`openai+https://` for TLS). See model_spec.hpp.
struct model_spec {
  api kind = api::ollama;
  std::string base_url;   ///< "http://host:port" (ollama) or "http://host:port/v1" (openai)
  std::string model;      ///< "qwen2.5-coder:7b", "gpt-4o-mini"
  /// Query string (without '?') added to every request URL, e.g. Azure's
  /// "api-version=2024-10-21"; "" for none.
  std::string query;
  /// The model is named by the base path itself (Azure: .../deployments/NAME),
  /// so it is not repeated after the base in SPEC form.
  bool model_in_path = false;
};

/// How structured output is asked for, strongest first. A server that refuses
/// one (a 400/500 naming the response format) gets the next one.
enum class structured_mode {
  json_schema = 0,  ///< OpenAI response_format json_schema / Ollama format: <schema>
  json_object = 1,  ///< OpenAI response_format json_object / Ollama format: "json"
  prompt_only = 2,  ///< nothing on the wire: the prompt carries the schema, we extract and validate
};
const char* to_string(structured_mode m) noexcept;

/// What an endpoint accepts. Each optional field is pinned by the config when
/// set and learned from the server's answers when not (see backend.hpp).
struct endpoint_profile {
  std::optional<structured_mode> structured;  ///< nullopt: start at json_schema, downgrade on refusal
  /// Send `temperature`? nullopt: yes, unless the model is a known reasoning
  /// model (o1, o3, o4, gpt-5...) or the server refused it once.
  std::optional<bool> temperature;
  /// OpenAI: name the reply cap `max_completion_tokens` (not `max_tokens`)?
  /// nullopt: for known reasoning models, or once a server refused max_tokens.
  std::optional<bool> max_completion_tokens;
  /// Ollama: send `think: false`? nullopt: yes, until a server refuses `think`.
  std::optional<bool> think;
  std::string keep_alive = "30m";  ///< Ollama keep_alive (keeps the model loaded); "" = not sent
};

struct chat_request;
enum class errc;

/// Asked before every chat call with the request and its estimated prompt
/// tokens; false refuses the call with errc::budget_refused (no traffic).
using budget_gate = std::function<bool(const chat_request&, std::int64_t estimated_prompt_tokens)>;

struct usage;
/// Told about every finished chat call (success: nullopt), e.g. usage_ledger::observer().
using usage_observer = std::function<void(const usage&, std::optional<errc>)>;

/// Per-endpoint settings (from config; defaults are sane for a laptop).
struct endpoint_config {
  model_spec spec;
  std::string api_key_env;          ///< name of the env var holding the key (openai); never logged
  /// Send the key (and secret headers) over plain HTTP to a host outside
  /// loopback. Off: such a key is withheld with a warning.
  bool allow_insecure_key = false;
  /// Extra request headers, e.g. {"api-key", "$AZURE_OPENAI_KEY"}: "$VAR" and
  /// "${VAR}" are expanded from the environment when sent; values are secrets
  /// (never logged, scrubbed from server text) when they name a variable.
  std::vector<std::pair<std::string, std::string>> headers;
  endpoint_profile profile;         ///< pinned capabilities (unset ones are learned)
  /// A reply body larger than this is aborted while reading (errc::truncated).
  std::size_t max_reply_bytes = std::size_t{16} << 20;
  /// Stream every call (Ollama NDJSON, OpenAI SSE with include_usage), so the
  /// two timeouts below replace waiting for the whole call. Off in this
  /// library by default; codehive's configuration turns it on for every model
  /// (nodes/config.cpp), `"stream": false` turns it off.
  bool stream = false;
  /// Streaming only: the first token must come within this (time in the
  /// server's queue included), and no pause between two pieces may be longer
  /// than idle_timeout; then call_timeout bounds the generation from the first
  /// token. 0 = call_timeout (see stream_timeouts in retry.hpp).
  std::chrono::milliseconds first_token_timeout{0};
  std::chrono::milliseconds idle_timeout{0};
  int context_tokens = 8192;        ///< the model's configured context window (num_ctx)
  int max_in_flight = 4;            ///< requests in flight to this endpoint at once
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds call_timeout{120000};
  int max_retries = 3;              ///< transport retries (conn errors, 429, 5xx)
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_max{8000};
  double price_prompt_per_mtok = 0;      ///< USD per million prompt tokens (0 = free/unknown)
  double price_completion_per_mtok = 0;  ///< USD per million completion tokens
  budget_gate gate;                 ///< optional; empty = no budget check
  usage_observer on_usage;          ///< optional; runs on the loop thread
};

struct chat_message {
  std::string role;     ///< "system" | "user" | "assistant"
  std::string content;
};

/// One chat call. `role` and `path` become the X-Codehive-Role / X-Codehive-Path headers.
struct chat_request {
  std::string role;                 ///< planner|coder|reviewer|fixer|summarizer
  std::string path;                 ///< file concerned, empty if none
  std::vector<chat_message> messages;
  std::optional<std::string> json_schema;  ///< JSON Schema text: ask for structured output
  std::string schema_name = "answer";      ///< name for OpenAI's json_schema.name
  std::optional<double> temperature;
  std::optional<int> max_tokens;     ///< num_predict / max_tokens
  std::optional<int> seed;
  bool stream = false;               ///< use streaming (NDJSON / SSE) and assemble
  std::optional<std::chrono::milliseconds> timeout;  ///< overrides endpoint call_timeout
};

/// What one call cost. Filled for successes and, where known, failures.
struct usage {
  std::string role;
  std::string model;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::chrono::milliseconds latency{0};
  double tokens_per_s = 0;   ///< completion tokens / generation time (server's figure if given)
  double cost_usd = 0;       ///< from the endpoint's price table; 0 when unpriced
  int attempts = 1;
  /// Time to first token of the last attempt: from the request going on the
  /// wire to the first token (streamed: content or thinking; else the first
  /// byte of the body). nullopt: no reply body. Not kept in the run store.
  std::optional<std::chrono::milliseconds> first_token;
};

struct chat_response {
  std::string content;       ///< the assistant message text (assembled if streamed)
  std::string finish_reason; ///< "stop", "length", ... ("" if unknown)
  usage use;
};

struct health_report {
  bool reachable = false;
  bool model_present = false;
  std::vector<std::string> models;  ///< what the server says it serves
};

}  // namespace codehive::llm
