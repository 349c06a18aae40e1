// Personalities: llm-sim behaving as a particular real server does (Ollama,
// OpenAI, vLLM, llama.cpp server, LM Studio): what it refuses, with that
// server's own status and error body, which endpoints it serves, and the
// shapes of its extra endpoints. What each one does, with its sources:
// tools/llm-sim/README.md, "Personalities".
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "chat_request.hpp"

namespace llm_sim {

/// A personality name or option that cannot be used; what() says which and why.
class personality_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class persona { none, ollama, ollama_thinking, openai, openai_reasoning, vllm, llamacpp, lmstudio };

struct personality {
  persona kind = persona::none;
  std::string name;  ///< as selected ("" for none)

  // Ollama (and llama.cpp's slots): how many requests one model generates at once;
  // the rest queue, up to max_queue, then 503 (OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE).
  int num_parallel = 1;
  int max_queue = 512;
  int reload_ms = 250;          ///< Ollama: time to (re)load a model's runner
  long default_num_ctx = 4096;  ///< Ollama: num_ctx when a request sends none
  /// The model's window: Ollama <arch>.context_length, vLLM max_model_len,
  /// llama.cpp n_ctx, LM Studio max_context_length.
  long context_length = 32768;
  bool require_key = true;          ///< OpenAI: 401 without a Bearer token
  bool refuse_json_schema = false;  ///< llama.cpp before schema support: 500

  bool active() const { return kind != persona::none; }
  bool ollama_like() const { return kind == persona::ollama || kind == persona::ollama_thinking; }
  bool openai_like() const { return kind == persona::openai || kind == persona::openai_reasoning; }
  bool thinking() const { return kind == persona::ollama_thinking; }
  /// Whether its chat endpoint for `api` exists (Ollama also speaks OpenAI's).
  bool serves(api_kind api) const { return !active() || ollama_like() || api == api_kind::openai; }
  /// Whether requests queue per model through a slot gate (model_runtime).
  bool gates_slots() const { return ollama_like() || kind == persona::llamacpp; }
};

/// Builds a personality from its name and options (values as text: numbers,
/// true/false, words). Throws personality_error for an unknown name or an
/// option that personality does not take.
personality make_personality(const std::string& name,
                             const std::map<std::string, std::string>& options);

/// Every personality name, comma-separated (for help and error messages).
std::string personality_names();

/// A refusal in the server's own words.
struct refusal_reply {
  int status = 0;
  std::string body;
  std::string content_type = "application/json";
  std::string why;  ///< counted in /sim/stats "rejected"
};

/// The answer to a path the real server does not have (404 in its own shape).
refusal_reply not_found_endpoint(const personality& p, const std::string& method,
                                 const std::string& path);

/// Missing API key (OpenAI personalities with require_key), else nullopt.
std::optional<refusal_reply> check_auth(const personality& p, bool has_bearer);

/// Unknown model in the personality's words.
refusal_reply unknown_model(const personality& p, api_kind api, const std::string& model);

/// Whether the personality checks the model name at all (llama.cpp serves
/// one model whatever the request names).
bool checks_model_name(const personality& p);

/// What the real server refuses in this request (parameters, response format,
/// context length, `think`), else nullopt.
std::optional<refusal_reply> check_request(const personality& p, const chat_request& r);

/// Whether this reply thinks (Ollama thinking models think unless told not to).
bool thinks(const personality& p, const chat_request& r);

}  // namespace llm_sim
