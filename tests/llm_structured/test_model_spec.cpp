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
}  // namespace

TEST(ModelSpec, OllamaWithPortAndTaggedModel) {
  auto s = must_parse("ollama://127.0.0.1:11434/qwen2.5-coder:7b");
  EXPECT_EQ(s.kind, api::ollama);
  EXPECT_EQ(s.base_url, "http://127.0.0.1:11434");
  EXPECT_EQ(s.model, "qwen2.5-coder:7b");
}

TEST(ModelSpec, OllamaModelMayContainSlashes) {
  auto s = must_parse("ollama://h:1/library/x:1b");
  EXPECT_EQ(s.base_url, "http://h:1");
  EXPECT_EQ(s.model, "library/x:1b");
}

TEST(ModelSpec, OllamaDefaultPort) {
  auto s = must_parse("ollama://gpu-box/llama3");
  EXPECT_EQ(s.base_url, "http://gpu-box:11434");
  EXPECT_EQ(s.model, "llama3");
}

TEST(ModelSpec, OpenAiBasePathEndsAtVersionSegment) {
  auto s = must_parse("openai://127.0.0.1:8000/v1/gpt-4o-mini");
  EXPECT_EQ(s.kind, api::openai);
  EXPECT_EQ(s.base_url, "http://127.0.0.1:8000/v1");
  EXPECT_EQ(s.model, "gpt-4o-mini");

  auto hf = must_parse("openai://vllm:8000/v1/meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(hf.base_url, "http://vllm:8000/v1");
  EXPECT_EQ(hf.model, "meta-llama/Llama-3.1-8B-Instruct");

  auto prefixed = must_parse("openai://gw:9000/proxy/openai/v1beta/gemini-2.0-flash");
  EXPECT_EQ(prefixed.base_url, "http://gw:9000/proxy/openai/v1beta");
  EXPECT_EQ(prefixed.model, "gemini-2.0-flash");

  auto ollama_v1 = must_parse("openai://localhost:11434/v1/qwen2.5-coder:7b");
  EXPECT_EQ(ollama_v1.base_url, "http://localhost:11434/v1");
  EXPECT_EQ(ollama_v1.model, "qwen2.5-coder:7b");
}

TEST(ModelSpec, OpenAiHttpsAndDefaultPorts) {
  auto s = must_parse("openai+https://api.example.com/v1/gpt-4o-mini");
  EXPECT_EQ(s.kind, api::openai);
  EXPECT_EQ(s.base_url, "https://api.example.com/v1");
  EXPECT_EQ(s.model, "gpt-4o-mini");
  auto plain = must_parse("openai://llm.lan/v1/m");
  EXPECT_EQ(plain.base_url, "http://llm.lan/v1");
  auto explicit_port = must_parse("openai+https://api.example.com:8443/v1/m");
  EXPECT_EQ(explicit_port.base_url, "https://api.example.com:8443/v1");
}

TEST(ModelSpec, Ipv6Host) {
  auto s = must_parse("ollama://[::1]:11434/phi3");
  EXPECT_EQ(s.base_url, "http://[::1]:11434");
  EXPECT_EQ(s.model, "phi3");
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
  auto s = must_parse("openai+https://myres.openai.azure.com/openai/deployments/gpt4o-prod?api-version=2024-10-21");
  EXPECT_EQ(s.kind, api::openai);
  EXPECT_EQ(s.base_url, "https://myres.openai.azure.com/openai/deployments/gpt4o-prod");
  EXPECT_EQ(s.model, "gpt4o-prod");
  EXPECT_TRUE(s.model_in_path);
  EXPECT_EQ(s.query, "api-version=2024-10-21");
  EXPECT_EQ(to_string(s), "openai+https://myres.openai.azure.com/openai/deployments/gpt4o-prod?api-version=2024-10-21");
}

TEST(ModelSpec, GeminiOpenAiPath) {
  auto s = must_parse("openai+https://generativelanguage.googleapis.com/v1beta/openai/gemini-2.0-flash");
  EXPECT_EQ(s.base_url, "https://generativelanguage.googleapis.com/v1beta/openai");
  EXPECT_EQ(s.model, "gemini-2.0-flash");
  EXPECT_FALSE(s.model_in_path);
  EXPECT_EQ(to_string(s), "openai+https://generativelanguage.googleapis.com/v1beta/openai/gemini-2.0-flash");
  // After /v1, "openai" is an organisation (vLLM serving openai/gpt-oss-20b).
  auto oss = must_parse("openai://vllm:8000/v1/openai/gpt-oss-20b");
  EXPECT_EQ(oss.base_url, "http://vllm:8000/v1");
  EXPECT_EQ(oss.model, "openai/gpt-oss-20b");
}

TEST(ModelSpec, AnyBasePathAndQuery) {
  auto gw = must_parse("openai+https://gw.example.com/team/a/llm/v1/gpt-4o-mini?tenant=x&region=eu");
  EXPECT_EQ(gw.base_url, "https://gw.example.com/team/a/llm/v1");
  EXPECT_EQ(gw.model, "gpt-4o-mini");
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
  auto port = parse_model_spec("ollama://h:99999/m");
  ASSERT_FALSE(port);
  EXPECT_NE(port.err().message.find("port"), std::string::npos) << port.err().message;
  auto scheme = parse_model_spec("gemini://h:1/m");
  ASSERT_FALSE(scheme);
  EXPECT_NE(scheme.err().message.find("unknown scheme 'gemini'"), std::string::npos) << scheme.err().message;
  auto model = parse_model_spec("ollama://h:1");
  ASSERT_FALSE(model);
  EXPECT_NE(model.err().message.find("missing model"), std::string::npos) << model.err().message;
}
