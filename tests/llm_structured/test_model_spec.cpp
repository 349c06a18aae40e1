#include <gtest/gtest.h>

#include <string>

#include "llm/model_spec.hpp"

using namespace codehive::llm;

namespace {
model_spec must_parse(const std::string& s) {
  auto r = parse_model_spec(s);
  EXPECT_TRUE(r) << s << ": " << (r ? "" : r.err().describe());
  return r ? *r : model_spec{};
}

/// `spec` parses to `base_url` and, unless null, `model`; the parsed spec for more checks.
model_spec expect_parsed(const std::string& spec, const std::string& base_url,
                         const char* model = nullptr) {
  auto s = must_parse(spec);
  EXPECT_EQ(s.base_url, base_url) << spec;
  if (model)
    EXPECT_EQ(s.model, model) << spec;
  return s;
}
}  // namespace

TEST(ModelSpec, OllamaWithPortAndTaggedModel) {
  auto s = expect_parsed("ollama://127.0.0.1:11434/qwen2.5-coder:7b", "http://127.0.0.1:11434",
                         "qwen2.5-coder:7b");
  EXPECT_EQ(s.kind, api::ollama);
}

TEST(ModelSpec, OllamaModelMayContainSlashes) {
  expect_parsed("ollama://h:1/library/x:1b", "http://h:1", "library/x:1b");
}

TEST(ModelSpec, OllamaDefaultPort) {
  expect_parsed("ollama://gpu-box/llama3", "http://gpu-box:11434", "llama3");
}

TEST(ModelSpec, OpenAiBasePathEndsAtVersionSegment) {
  auto s = expect_parsed("openai://127.0.0.1:8000/v1/gpt-4o-mini", "http://127.0.0.1:8000/v1",
                         "gpt-4o-mini");
  EXPECT_EQ(s.kind, api::openai);
  expect_parsed("openai://vllm:8000/v1/meta-llama/Llama-3.1-8B-Instruct", "http://vllm:8000/v1",
                "meta-llama/Llama-3.1-8B-Instruct");
  expect_parsed("openai://gw:9000/proxy/openai/v1beta/gemini-2.0-flash",
                "http://gw:9000/proxy/openai/v1beta", "gemini-2.0-flash");
  expect_parsed("openai://localhost:11434/v1/qwen2.5-coder:7b", "http://localhost:11434/v1",
                "qwen2.5-coder:7b");
}

TEST(ModelSpec, OpenAiHttpsAndDefaultPorts) {
  auto s = expect_parsed("openai+https://api.example.com/v1/gpt-4o-mini",
                         "https://api.example.com/v1", "gpt-4o-mini");
  EXPECT_EQ(s.kind, api::openai);
  expect_parsed("openai://llm.lan/v1/m", "http://llm.lan/v1");
  expect_parsed("openai+https://api.example.com:8443/v1/m", "https://api.example.com:8443/v1");
}

TEST(ModelSpec, Ipv6Host) {
  expect_parsed("ollama://[::1]:11434/phi3", "http://[::1]:11434", "phi3");
}

TEST(ModelSpec, ToStringRoundTrips) {
  for (const char* spec : {"ollama://127.0.0.1:11434/qwen2.5-coder:7b", "ollama://h:1/library/x:1b",
                           "openai://127.0.0.1:8000/v1/gpt-4o-mini", "openai+https://api.example.com/v1/gpt-4o-mini",
                           "openai://vllm:8000/v1/meta-llama/Llama-3.1-8B-Instruct", "ollama://[::1]:5/m"}) {
    auto s = must_parse(spec);
    EXPECT_EQ(to_string(s), spec);
  }
  // A defaulted port comes back explicit and parses to the same spec.
  auto d = must_parse("ollama://box/llama3");
  EXPECT_EQ(to_string(d), "ollama://box:11434/llama3");
  auto again = must_parse(to_string(d));
  EXPECT_EQ(again.base_url, d.base_url);
  EXPECT_EQ(again.model, d.model);
}

// Issue 10: endpoints that could not be written as a SPEC.
TEST(ModelSpec, AzureDeploymentWithApiVersion) {
  auto s = expect_parsed(
    "openai+https://myres.openai.azure.com/openai/deployments/gpt4o-prod?api-version=2024-10-21",
    "https://myres.openai.azure.com/openai/deployments/gpt4o-prod", "gpt4o-prod");
  EXPECT_EQ(s.kind, api::openai);
  EXPECT_TRUE(s.model_in_path);
  EXPECT_EQ(s.query, "api-version=2024-10-21");
  EXPECT_EQ(to_string(s), "openai+https://myres.openai.azure.com/openai/deployments/gpt4o-prod?api-version=2024-10-21");
}

TEST(ModelSpec, GeminiOpenAiPath) {
  auto s =
    expect_parsed("openai+https://generativelanguage.googleapis.com/v1beta/openai/gemini-2.0-flash",
                  "https://generativelanguage.googleapis.com/v1beta/openai", "gemini-2.0-flash");
  EXPECT_FALSE(s.model_in_path);
  EXPECT_EQ(to_string(s), "openai+https://generativelanguage.googleapis.com/v1beta/openai/gemini-2.0-flash");
  // After /v1, "openai" is an organisation (vLLM serving openai/gpt-oss-20b).
  expect_parsed("openai://vllm:8000/v1/openai/gpt-oss-20b", "http://vllm:8000/v1",
                "openai/gpt-oss-20b");
}

TEST(ModelSpec, AnyBasePathAndQuery) {
  auto gw =
    expect_parsed("openai+https://gw.example.com/team/a/llm/v1/gpt-4o-mini?tenant=x&region=eu",
                  "https://gw.example.com/team/a/llm/v1", "gpt-4o-mini");
  EXPECT_EQ(gw.query, "tenant=x&region=eu");
  EXPECT_EQ(to_string(gw), "openai+https://gw.example.com/team/a/llm/v1/gpt-4o-mini?tenant=x&region=eu");
  auto ollama = must_parse("ollama://h:11434/qwen3:8b?x=1");
  EXPECT_EQ(ollama.model, "qwen3:8b");
  EXPECT_EQ(ollama.query, "x=1");
  // Every earlier form parses as before (no query, model after the base).
  auto plain = must_parse("openai://127.0.0.1:8000/v1/gpt-4o-mini");
  EXPECT_TRUE(plain.query.empty());
  EXPECT_FALSE(plain.model_in_path);
}

TEST(ModelSpec, RejectsBadSpecsWithBadConfigAndAnExample) {
  for (const char* spec : {
           "",
           "qwen2.5-coder:7b",                 // no scheme
           "ollama://127.0.0.1:11434",          // no model
           "ollama://127.0.0.1:11434/",         // empty model
           "ollama://:11434/m",                 // no host
           "ollama://h:0/m",                    // port out of range
           "ollama://h:65536/m",
           "ollama://h:abc/m",
           "ollama://h:/m",
           "gemini://h:1/m",                    // unknown scheme
           "http://h:1/m",
           "openai://h:8000/v1",                // no model after base path
           "openai://h:8000/v1/",
           "openai://h:8000/gpt-4o",            // no version segment
           "openai://user:key@h/v1/m",          // credentials
           "ollama://h:1/m odel",               // whitespace
           "ollama://h:1/a//b",
           "openai://h:8000/v1/m?",             // empty query
           "openai://h:8000/v1/m?a=1?b=2",      // two queries
           "openai://h:8000/v1/m#frag",         // fragment
           "openai+https://r.openai.azure.com/openai/deployments//x?api-version=1",
       }) {
    auto r = parse_model_spec(spec);
    ASSERT_FALSE(r) << "accepted: '" << spec << "' as " << (r ? to_string(*r) : "");
    EXPECT_EQ(r.err().code, errc::bad_config) << spec;
    EXPECT_NE(r.err().message.find("ollama://127.0.0.1:11434/qwen2.5-coder:7b"), std::string::npos)
        << r.err().message;
  }
}

TEST(ModelSpec, ErrorsSayWhatIsWrong) {
  for (const auto& [spec, says] : {std::pair{"ollama://h:99999/m", "port"},
                                   std::pair{"gemini://h:1/m", "unknown scheme 'gemini'"},
                                   std::pair{"ollama://h:1", "missing model"}}) {
    auto r = parse_model_spec(spec);
    ASSERT_FALSE(r) << spec;
    EXPECT_NE(r.err().message.find(says), std::string::npos) << r.err().message;
  }
}
