// The error bodies of the servers llm-sim plays, each as the real server
// writes it (sources in tools/llm-sim/README.md, "Personalities"): used by
// the API renderers and by the personalities' refusals.
#pragma once

#include <optional>
#include <string>

namespace llm_sim {

/// {"error":"..."}: Ollama and LM Studio.
std::string flat_error(const std::string& message);

/// {"error":{"message","type","param","code"}}: OpenAI (and Ollama's OpenAI endpoint).
std::string openai_error(const std::string& message, const std::string& type,
                         const std::optional<std::string>& param, const std::optional<std::string>& code);

/// vLLM's ErrorResponse (serving_engine.py create_error_response, v0.5-0.9).
std::string vllm_error(const std::string& message, const std::string& type, int code);

/// llama-server's format_error_response: {"error":{"code","message","type"}}.
std::string llamacpp_error(int code, const std::string& message, const std::string& type);

/// llama-server's refusal of a prompt that does not fit the slot's context
/// (server-context.cpp): llamacpp_error 400 plus n_prompt_tokens and n_ctx.
std::string llamacpp_context_error(long prompt_tokens, long context_length);

}  // namespace llm_sim
