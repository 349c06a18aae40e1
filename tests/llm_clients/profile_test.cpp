// Endpoint profiles as pure functions: which refusal names which field,
// reasoning models by name, where a key may go, secrets scrubbed, and one
// context size per Ollama model.
#include <gtest/gtest.h>

#include <cstdlib>

#include "llm/profile.hpp"
#include "tests/llm_clients/fixture.hpp"

using namespace codehive::llm;
using namespace codehive::llm::testing;

namespace {

sent_fields all_sent() {
  sent_fields s;
  s.think = s.temperature = s.max_tokens = s.response_format = true;
  return s;
}

}  // namespace

TEST(Profile, RefusalsNameExactlyOneField) {
  auto sent = all_sent();
  // OpenAI reasoning models (bodies as OpenAI sends them).
  EXPECT_EQ(refused_by(400, "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
                       "temperature", sent),
            refused_field::temperature);
  EXPECT_EQ(refused_by(400, "Unsupported parameter: 'temperature' is not supported with this model.", "", sent),
            refused_field::temperature);
  EXPECT_EQ(refused_by(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                       "max_tokens", sent),
            refused_field::max_tokens);
  // Ollama: a model without the thinking capability.
  EXPECT_EQ(refused_by(400, "\"llama3.1:8b\" does not support thinking", "", sent), refused_field::think);
  // llama.cpp before schema support (500), LM Studio (400), a grammar back-end.
  EXPECT_EQ(refused_by(500, "response_format type must be one of \"text\" or \"json_object\", but got: json_schema", "", sent),
            refused_field::response_format);
  EXPECT_EQ(refused_by(400, "'response_format.type' must be 'json_schema' or 'text'", "", sent),
            refused_field::response_format);
  EXPECT_EQ(refused_by(500, "xgrammar failed to compile the grammar", "", sent), refused_field::response_format);
  EXPECT_EQ(refused_by(400, "invalid format: expected \"json\" or a JSON schema", "", sent), refused_field::response_format);
}

TEST(Profile, OtherErrorsChangeNothing) {
  auto sent = all_sent();
  EXPECT_EQ(refused_by(400, "invalid request", "", sent), refused_field::none);
  EXPECT_EQ(refused_by(400, "messages: field required", "", sent), refused_field::none);
  // vLLM's context error names max_tokens without refusing the parameter.
  EXPECT_EQ(refused_by(400, "'max_tokens' or 'max_completion_tokens' is too large: 4096. This model's maximum context length is 8192 tokens",
                       "", sent),
            refused_field::none);
  EXPECT_EQ(refused_by(400, "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens", "", sent),
            refused_field::none);
  // A 500 that says nothing of the format stays a server error (retried).
  EXPECT_EQ(refused_by(500, "CUDA out of memory", "", sent), refused_field::none);
  // 401/404/429 never adapt.
  EXPECT_EQ(refused_by(404, "response_format not found", "", sent), refused_field::none);
  // A field the request did not send is never blamed.
  sent_fields none;
  EXPECT_EQ(refused_by(400, "Unsupported parameter: 'temperature' is not supported with this model.", "temperature", none),
            refused_field::none);
  EXPECT_EQ(refused_by(500, "response_format json_schema unsupported", "", none), refused_field::none);
}

TEST(Profile, ReasoningModelsByName) {
  for (const char* m : {"o1", "o1-mini", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.1", "openai/o3"})
    EXPECT_TRUE(is_reasoning_model(m)) << m;
  for (const char* m : {"gpt-4o-mini", "gpt-4.1", "qwen2.5-coder:7b", "o1x", "openai/gpt-oss-20b", "meta/o3", "llama3"})
    EXPECT_FALSE(is_reasoning_model(m)) << m;
  endpoint_config c;
  c.spec.kind = api::openai;
  c.spec.model = "o3-mini";
  auto p = initial_profile(c);
  EXPECT_FALSE(p.temperature);
  EXPECT_TRUE(p.max_completion_tokens);
  // A pin wins over the name.
  c.profile.temperature = true;
  EXPECT_TRUE(initial_profile(c).temperature);
}

TEST(Profile, KeysTravelOnlyOverTlsOrLoopback) {
  EXPECT_TRUE(is_loopback_url("http://127.0.0.1:8000/v1"));
  EXPECT_TRUE(is_loopback_url("http://localhost:11434"));
  EXPECT_TRUE(is_loopback_url("http://[::1]:5/v1"));
  EXPECT_FALSE(is_loopback_url("http://192.168.1.20:8000/v1"));
  EXPECT_FALSE(is_loopback_url("http://127.0.0.1.evil.com/v1"));
  endpoint_config c;
  c.spec.base_url = "http://10.0.0.5:8000/v1";
  EXPECT_FALSE(key_may_travel(c));
  c.allow_insecure_key = true;
  EXPECT_TRUE(key_may_travel(c));
  c.allow_insecure_key = false;
  c.spec.base_url = "https://api.openai.com/v1";
  EXPECT_TRUE(key_may_travel(c));
}

TEST(Profile, EnvironmentExpansionAndScrubbing) {
  ::setenv("CODEHIVE_PROFILE_TEST_KEY", "az-key-0123456789", 1);
  bool named = false;
  EXPECT_EQ(expand_env("$CODEHIVE_PROFILE_TEST_KEY", named), "az-key-0123456789");
  EXPECT_TRUE(named);
  EXPECT_EQ(expand_env("Bearer ${CODEHIVE_PROFILE_TEST_KEY}!", named), "Bearer az-key-0123456789!");
  EXPECT_EQ(expand_env("plain value", named), "plain value");
  EXPECT_FALSE(named);
  register_secret("az-key-0123456789");
  EXPECT_EQ(scrub_secrets("echo: Bearer az-key-0123456789 end"), "echo: Bearer [redacted] end");
  ::unsetenv("CODEHIVE_PROFILE_TEST_KEY");
}

// Issue 10: one Ollama model serving every role is loaded once, so every
// role sends the same num_ctx (the largest) and keep_alive.
TEST(Profile, OneOllamaModelGetsOneContextSize) {
  auto planner = config_for(api::ollama, "http://127.0.0.1:11434", "qwen2.5-coder:7b");
  planner.context_tokens = 32768;
  auto coder = config_for(api::ollama, "http://127.0.0.1:11434/", "qwen2.5-coder:7b");
  coder.context_tokens = 16384;
  coder.profile.keep_alive = "1h";
  share_model_settings({&planner, &coder});
  EXPECT_EQ(planner.context_tokens, 32768);
  EXPECT_EQ(coder.context_tokens, 32768);
  EXPECT_EQ(planner.profile.keep_alive, "1h");
  EXPECT_EQ(coder.profile.keep_alive, "1h");
  // "llama3" and "llama3:latest" are the same model.
  auto a = config_for(api::ollama, "http://h:11434", "llama3");
  a.context_tokens = 8192;
  auto b = config_for(api::ollama, "http://h:11434", "llama3:latest");
  b.context_tokens = 4096;
  share_model_settings({&a, &b});
  EXPECT_EQ(b.context_tokens, 8192);
  // Different models, servers or APIs keep their own windows.
  auto big = config_for(api::ollama, "http://h:11434", "qwen2.5-coder:32b");
  big.context_tokens = 32768;
  auto small = config_for(api::ollama, "http://h:11434", "qwen2.5-coder:7b");
  small.context_tokens = 16384;
  auto other = config_for(api::ollama, "http://g:11434", "qwen2.5-coder:32b");
  other.context_tokens = 8192;
  auto vllm = config_for(api::openai, "http://h:11434", "qwen2.5-coder:32b");
  vllm.context_tokens = 4096;
  share_model_settings({&big, &small, &other, &vllm});
  EXPECT_EQ(big.context_tokens, 32768);
  EXPECT_EQ(small.context_tokens, 16384);
  EXPECT_EQ(other.context_tokens, 8192);
  EXPECT_EQ(vllm.context_tokens, 4096);
}
