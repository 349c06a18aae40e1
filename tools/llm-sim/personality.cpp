// Each refusal below is the real server's status and body; where it comes
// from is listed in tools/llm-sim/README.md ("Personalities").
#include "personality.hpp"

#include <cstdlib>
#include <set>

#include "error_bodies.hpp"

namespace llm_sim {

namespace {

refusal_reply reply(int status, std::string body, std::string why) {
  refusal_reply r;
  r.status = status;
  r.body = std::move(body);
  r.why = std::move(why);
  return r;
}

struct named {
  const char* name;
  persona kind;
};
constexpr named k_names[] = {{"ollama", persona::ollama},
                             {"ollama-thinking", persona::ollama_thinking},
                             {"openai", persona::openai},
                             {"openai-reasoning", persona::openai_reasoning},
                             {"vllm", persona::vllm},
                             {"llamacpp", persona::llamacpp},
                             {"lmstudio", persona::lmstudio}};

std::set<std::string> allowed_options(persona k) {
  switch (k) {
    case persona::ollama:
    case persona::ollama_thinking:
      return {"num_parallel", "max_queue", "reload_ms", "default_num_ctx", "context_length"};
    case persona::openai:
    case persona::openai_reasoning: return {"require_key"};
    case persona::vllm: return {"max_model_len"};
    case persona::llamacpp: return {"n_ctx", "total_slots", "json_schema"};
    case persona::lmstudio: return {"context_length"};
    case persona::none: break;
  }
  return {};
}

long to_long(const std::string& name, const std::string& key, const std::string& v, long min) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min)
    throw personality_error("personality " + name + ": option " + key + " must be an integer >= " +
                            std::to_string(min) + ", got \"" + v + "\"");
  return n;
}

bool to_bool(const std::string& name, const std::string& key, const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  throw personality_error("personality " + name + ": option " + key +
                          " must be true or false, got \"" + v + "\"");
}

}  // namespace

std::string personality_names() {
  std::string out;
  for (const auto& n : k_names) out += (out.empty() ? "" : ", ") + std::string(n.name);
  return out;
}

personality make_personality(const std::string& name,
                             const std::map<std::string, std::string>& options) {
  personality p;
  if (name.empty() || name == "none") {
    if (!options.empty()) throw personality_error("personality options need a personality name");
    return p;
  }
  bool found = false;
  for (const auto& n : k_names)
    if (name == n.name) {
      p.kind = n.kind;
      found = true;
    }
  if (!found)
    throw personality_error("unknown personality \"" + name + "\" (expected one of: " +
                            personality_names() + ")");
  p.name = name;
  const auto allowed = allowed_options(p.kind);
  for (const auto& [key, value] : options) {
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw personality_error("personality " + name + " has no option \"" + key +
                              "\" (it takes: " + list + ")");
    }
    if (key == "num_parallel" || key == "total_slots")
      p.num_parallel = static_cast<int>(to_long(name, key, value, 1));
    else if (key == "max_queue") p.max_queue = static_cast<int>(to_long(name, key, value, 1));
    else if (key == "reload_ms") p.reload_ms = static_cast<int>(to_long(name, key, value, 0));
    else if (key == "default_num_ctx") p.default_num_ctx = to_long(name, key, value, 1);
    else if (key == "context_length" || key == "max_model_len" || key == "n_ctx")
      p.context_length = to_long(name, key, value, 1);
    else if (key == "require_key") p.require_key = to_bool(name, key, value);
    else if (key == "json_schema") {
      if (value != "accept" && value != "refuse")
        throw personality_error("personality " + name +
                                ": option json_schema must be accept or refuse, got \"" + value + "\"");
      p.refuse_json_schema = value == "refuse";
    }
  }
  return p;
}

refusal_reply not_found_endpoint(const personality& p, const std::string& method,
                                 const std::string& path) {
  const std::string what = method + " " + path;
  switch (p.kind) {
    case persona::ollama:
    case persona::ollama_thinking: {
      // gin's default 404 (Ollama registers no NoRoute handler).
      auto r = reply(404, "404 page not found", "unknown_endpoint");
      r.content_type = "text/plain";
      return r;
    }
    case persona::openai:
    case persona::openai_reasoning:
      return reply(404,
                   openai_error("Invalid URL (" + what + ")", "invalid_request_error",
                                std::nullopt, std::nullopt),
                   "unknown_endpoint");
    case persona::vllm: return reply(404, R"({"detail":"Not Found"})", "unknown_endpoint");
    case persona::llamacpp:
      return reply(404, llamacpp_error(404, "File Not Found", "not_found_error"), "unknown_endpoint");
    case persona::lmstudio:
      // LM Studio answers an unrouted path 200 ("Returning 200 anyway",
      // lmstudio-bug-tracker#1323): only the body says it failed.
      return reply(200, flat_error("Unexpected endpoint or method. (" + what + ")"), "unknown_endpoint");
    case persona::none: break;
  }
  return reply(404, flat_error("not found"), "unknown_endpoint");
}

std::optional<refusal_reply> check_auth(const personality& p, bool has_bearer) {
  if (!p.openai_like() || !p.require_key || has_bearer) return std::nullopt;
  return reply(401,
               openai_error(
                   "You didn't provide an API key. You need to provide your API key in an "
                   "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), "
                   "or as the password field (with blank username) if you're accessing the API "
                   "from your browser and are prompted for a username. You can obtain an API key "
                   "from https://platform.openai.com/account/api-keys.",
                   "invalid_request_error", std::nullopt, std::nullopt),
               "missing_api_key");
}

bool checks_model_name(const personality& p) { return p.kind != persona::llamacpp; }

refusal_reply unknown_model(const personality& p, api_kind api, const std::string& model) {
  const std::string ollama_text = "model \"" + model + "\" not found, try pulling it first";
  switch (p.kind) {
    case persona::ollama:
    case persona::ollama_thinking:
      if (api == api_kind::ollama) return reply(404, flat_error(ollama_text), "unknown_model");
      // Ollama's OpenAI layer (openai/openai.go) wraps the same text as an api_error.
      return reply(404, openai_error(ollama_text, "api_error", std::nullopt, std::nullopt),
                   "unknown_model");
    case persona::openai:
    case persona::openai_reasoning:
      return reply(404,
                   openai_error("The model `" + model +
                                    "` does not exist or you do not have access to it.",
                                "invalid_request_error", std::nullopt, std::string("model_not_found")),
                   "unknown_model");
    case persona::vllm:
      return reply(404, vllm_error("The model `" + model + "` does not exist.", "NotFoundError", 404),
                   "unknown_model");
    default: break;
  }
  // LM Studio and no personality: the simulator's generic answer.
  return reply(404,
               openai_error(ollama_text, "invalid_request_error", std::nullopt,
                            std::string("model_not_found")),
               "unknown_model");
}

bool thinks(const personality& p, const chat_request& r) {
  if (!p.thinking()) return false;
  if (r.think) return *r.think;
  if (r.reasoning_effort && *r.reasoning_effort == "none") return false;
  return true;  // Ollama: a thinking-capable model thinks when `think` is absent
}

std::optional<refusal_reply> check_request(const personality& p, const chat_request& r) {
  switch (p.kind) {
    case persona::ollama:
      // server/routes.go: `think` on a model without the thinking capability.
      if (r.think && *r.think)
        return reply(400, flat_error("\"" + r.model + "\" does not support thinking"),
                     "think_unsupported");
      break;
    case persona::openai:
    case persona::openai_reasoning: {
      if (r.api == api_kind::openai && r.has_stream_options && !r.stream)
        return reply(400,
                     openai_error("The 'stream_options' parameter is only allowed when 'stream' "
                                  "is enabled.",
                                  "invalid_request_error", std::string("stream_options"),
                                  std::nullopt),
                     "stream_options_without_stream");
      if (p.kind != persona::openai_reasoning) break;
      if (r.has_max_tokens)
        return reply(400,
                     openai_error("Unsupported parameter: 'max_tokens' is not supported with this "
                                  "model. Use 'max_completion_tokens' instead.",
                                  "invalid_request_error", std::string("max_tokens"),
                                  std::string("unsupported_parameter")),
                     "unsupported_parameter");
      struct fixed {
        const char* name;
        double value;
        const char* text;
      };
      for (const fixed f : {fixed{"temperature", 1.0, "1"}, fixed{"top_p", 1.0, "1"},
                            fixed{"presence_penalty", 0.0, "0"},
                            fixed{"frequency_penalty", 0.0, "0"}}) {
        auto it = r.sampling.find(f.name);
        if (it == r.sampling.end() || it->second.first == f.value) continue;
        return reply(400,
                     openai_error("Unsupported value: '" + std::string(f.name) +
                                      "' does not support " + it->second.second +
                                      " with this model. Only the default (" + f.text +
                                      ") value is supported.",
                                  "invalid_request_error", std::string(f.name),
                                  std::string("unsupported_value")),
                     "unsupported_value");
      }
      break;
    }
    case persona::vllm: {
      const long prompt = estimate_tokens(r.prompt);
      const long max_len = p.context_length;
      if (r.max_tokens && prompt + *r.max_tokens > max_len)
        return reply(400,
                     vllm_error("This model's maximum context length is " + std::to_string(max_len) +
                                    " tokens. However, you requested " +
                                    std::to_string(prompt + *r.max_tokens) + " tokens (" +
                                    std::to_string(prompt) + " in the messages, " +
                                    std::to_string(*r.max_tokens) +
                                    " in the completion). Please reduce the length of the "
                                    "messages or completion.",
                                "BadRequestError", 400),
                     "context_length");
      if (!r.max_tokens && prompt >= max_len)
        return reply(400,
                     vllm_error("This model's maximum context length is " + std::to_string(max_len) +
                                    " tokens. However, you requested " + std::to_string(prompt) +
                                    " tokens in the messages, Please reduce the length of the "
                                    "messages.",
                                "BadRequestError", 400),
                     "context_length");
      break;
    }
    case persona::llamacpp: {
      // server-context.cpp: a prompt that does not fit the slot's context.
      const long prompt = estimate_tokens(r.prompt);
      if (prompt >= p.context_length)
        return reply(400, llamacpp_context_error(prompt, p.context_length), "context_length");
      if (p.refuse_json_schema && r.response_format == "json_schema")
        return reply(500,
                     llamacpp_error(500,
                                    "response_format type must be one of \"text\" or "
                                    "\"json_object\", but got: json_schema",
                                    "server_error"),
                     "json_schema_unsupported");
      break;
    }
    case persona::lmstudio:
      if (!r.response_format.empty() && r.response_format != "json_schema" &&
          r.response_format != "text")
        return reply(400, flat_error("'response_format.type' must be 'json_schema' or 'text'"),
                     "response_format_unsupported");
      break;
    default: break;
  }
  return std::nullopt;
}

}  // namespace llm_sim
