// Reply shapes of both APIs, streamed and not, and the model lists.
#include <gtest/gtest.h>

#include "tests/sim/sim_test_util.hpp"

using namespace sim_test;

namespace {

const char* const k_scenario = R"({
  "models": ["qwen2.5-coder:7b", "gpt-4o-mini"],
  "rules": [
    {"name": "hello", "match": {"role": "coder"},
     "response": {"content": "Hello, wörld! Here is some longer text so that streaming makes several chunks of it."}},
    {"name": "json", "match": {"role": "planner"}, "response": {"json": {"tasks": [{"id": 1}]}}},
    {"name": "counted", "match": {"role": "fixer"},
     "response": {"content": "x", "prompt_tokens": 77, "completion_tokens": 5}}
  ]
})";

const std::string k_hello =
    "Hello, wörld! Here is some longer text so that streaming makes several chunks of it.";

/// A 200 of `content_type`; call through ASSERT_NO_FATAL_FAILURE.
void expect_ok_of_type(const http_reply& r, const std::string& content_type) {
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("Content-Type").find(content_type), std::string::npos)
    << r.header("Content-Type");
}

}  // namespace

TEST(SimShapes, OllamaNonStream) {
  auto sim = sim_process::start(k_scenario);
  auto r = ollama_chat(sim, "write hello", false, role_headers("coder"));
  ASSERT_NO_FATAL_FAILURE(expect_ok_of_type(r, "application/json"));
  auto d = parse(r.body);
  ASSERT_FALSE(d.HasParseError()) << r.body;
  EXPECT_STREQ(d["model"].GetString(), "qwen2.5-coder:7b");
  EXPECT_TRUE(d["created_at"].IsString());
  EXPECT_STREQ(d["message"]["role"].GetString(), "assistant");
  EXPECT_EQ(d["message"]["content"].GetString(), k_hello);
  EXPECT_TRUE(d["done"].GetBool());
  EXPECT_STREQ(d["done_reason"].GetString(), "stop");
  for (const char* k : {"total_duration", "load_duration", "prompt_eval_count",
                        "prompt_eval_duration", "eval_count", "eval_duration"}) {
    ASSERT_TRUE(d.HasMember(k)) << k;
    EXPECT_TRUE(d[k].IsInt64()) << k;
  }
  EXPECT_GT(d["prompt_eval_count"].GetInt(), 0);
  EXPECT_EQ(d["eval_count"].GetInt(), static_cast<int>((k_hello.size() + 3) / 4));
}

TEST(SimShapes, OllamaStreamsByDefaultAsNdjson) {
  auto sim = sim_process::start(k_scenario);
  // No "stream" member: Ollama streams.
  auto r = http_post(sim.base_url(), "/api/chat",
                     R"({"model":"qwen2.5-coder:7b","messages":[{"role":"user","content":"hi"}]})",
                     role_headers("coder"));
  ASSERT_NO_FATAL_FAILURE(expect_ok_of_type(r, "application/x-ndjson"));
  auto ls = lines(r.body);
  ASSERT_GE(ls.size(), 3u) << r.body;
  for (std::size_t i = 0; i + 1 < ls.size(); ++i) {
    auto d = parse(ls[i]);
    ASSERT_FALSE(d.HasParseError()) << ls[i];
    EXPECT_FALSE(d["done"].GetBool());
    EXPECT_STREQ(d["message"]["role"].GetString(), "assistant");
    EXPECT_STREQ(d["model"].GetString(), "qwen2.5-coder:7b");
  }
  auto last = parse(ls.back());
  EXPECT_TRUE(last["done"].GetBool());
  EXPECT_STREQ(last["done_reason"].GetString(), "stop");
  EXPECT_STREQ(last["message"]["content"].GetString(), "");
  EXPECT_TRUE(last.HasMember("eval_count"));
  EXPECT_TRUE(last.HasMember("prompt_eval_count"));
  EXPECT_TRUE(last.HasMember("total_duration"));
  EXPECT_EQ(ollama_content(r.body, true), k_hello);  // UTF-8 never split
}

TEST(SimShapes, OpenAINonStream) {
  auto sim = sim_process::start(k_scenario);
  auto r = openai_chat(sim, "plan it", false, role_headers("planner"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r.body);
  ASSERT_FALSE(d.HasParseError()) << r.body;
  EXPECT_TRUE(d["id"].IsString());
  EXPECT_STREQ(d["object"].GetString(), "chat.completion");
  EXPECT_TRUE(d["created"].IsInt64());
  EXPECT_STREQ(d["model"].GetString(), "gpt-4o-mini");
  ASSERT_EQ(d["choices"].Size(), 1u);
  EXPECT_EQ(d["choices"][0]["index"].GetInt(), 0);
  EXPECT_STREQ(d["choices"][0]["message"]["role"].GetString(), "assistant");
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(), R"({"tasks":[{"id":1}]})");
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "stop");
  const auto& u = d["usage"];
  EXPECT_GT(u["prompt_tokens"].GetInt(), 0);
  EXPECT_GT(u["completion_tokens"].GetInt(), 0);
  EXPECT_EQ(u["total_tokens"].GetInt(), u["prompt_tokens"].GetInt() + u["completion_tokens"].GetInt());
}

TEST(SimShapes, OpenAIStreamIsSseEndingWithDone) {
  auto sim = sim_process::start(k_scenario);
  auto r = openai_chat(sim, "hi", true, role_headers("coder"));
  ASSERT_NO_FATAL_FAILURE(expect_ok_of_type(r, "text/event-stream"));
  auto data = sse_data(r.body);
  ASSERT_GE(data.size(), 4u) << r.body;
  EXPECT_EQ(data.back(), "[DONE]");
  for (std::size_t i = 0; i + 1 < data.size(); ++i) {
    auto d = parse(data[i]);
    ASSERT_FALSE(d.HasParseError()) << data[i];
    EXPECT_STREQ(d["object"].GetString(), "chat.completion.chunk");
    EXPECT_STREQ(d["model"].GetString(), "gpt-4o-mini");
  }
  auto fin = parse(data[data.size() - 2]);
  EXPECT_STREQ(fin["choices"][0]["finish_reason"].GetString(), "stop");
  auto mid = parse(data[1]);
  EXPECT_TRUE(mid["choices"][0]["finish_reason"].IsNull());
  EXPECT_EQ(openai_content(r.body, true), k_hello);
}

TEST(SimShapes, OpenAIStreamIncludesUsageWhenAsked) {
  auto sim = sim_process::start(k_scenario);
  auto r = openai_chat(sim, "hi", true, role_headers("fixer"), "gpt-4o-mini",
                       R"("stream_options":{"include_usage":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto data = sse_data(r.body);
  ASSERT_GE(data.size(), 3u);
  auto usage = parse(data[data.size() - 2]);
  EXPECT_TRUE(usage["choices"].Empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens"].GetInt(), 77);
  EXPECT_EQ(usage["usage"]["completion_tokens"].GetInt(), 5);
}

TEST(SimShapes, TokenCountOverrides) {
  auto sim = sim_process::start(k_scenario);
  auto d = parse(ollama_chat(sim, "fix", false, role_headers("fixer")).body);
  EXPECT_EQ(d["prompt_eval_count"].GetInt(), 77);
  EXPECT_EQ(d["eval_count"].GetInt(), 5);
  auto o = parse(openai_chat(sim, "fix", false, role_headers("fixer")).body);
  EXPECT_EQ(o["usage"]["total_tokens"].GetInt(), 82);
}

TEST(SimShapes, ModelLists) {
  auto sim = sim_process::start(k_scenario);
  auto tags = http_get(sim.base_url(), "/api/tags");
  ASSERT_EQ(tags.status, 200);
  auto t = parse(tags.body);
  ASSERT_EQ(t["models"].Size(), 2u);
  EXPECT_STREQ(t["models"][0]["name"].GetString(), "qwen2.5-coder:7b");
  EXPECT_STREQ(t["models"][1]["model"].GetString(), "gpt-4o-mini");
  auto models = http_get(sim.base_url(), "/v1/models");
  ASSERT_EQ(models.status, 200);
  auto m = parse(models.body);
  EXPECT_STREQ(m["object"].GetString(), "list");
  ASSERT_EQ(m["data"].Size(), 2u);
  EXPECT_STREQ(m["data"][1]["id"].GetString(), "gpt-4o-mini");
  EXPECT_STREQ(m["data"][1]["object"].GetString(), "model");
}

TEST(SimShapes, UnknownModelIs404LikeOllama) {
  auto sim = sim_process::start(k_scenario);
  auto r = ollama_chat(sim, "hi", false, role_headers("coder"), "llama9:1t");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(parse(r.body)["error"].GetString(),
            std::string("model \"llama9:1t\" not found, try pulling it first"));
  auto o = openai_chat(sim, "hi", false, role_headers("coder"), "gpt-9");
  EXPECT_EQ(o.status, 404);
  auto od = parse(o.body);
  ASSERT_TRUE(od["error"].IsObject()) << o.body;
  EXPECT_NE(std::string(od["error"]["message"].GetString()).find("gpt-9"), std::string::npos);
  // Counted, but no rule consumed.
  EXPECT_EQ(sim.total(), 2);
  EXPECT_EQ(sim.count_rule("hello"), 0);
}

TEST(SimShapes, EmptyModelListAcceptsAnyModel) {
  auto sim = sim_process::start(R"({"rules":[{"response":{"content":"ok"}}]})");
  auto r = ollama_chat(sim, "hi", false, {}, "whatever:1b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ollama_content(r.body, false), "ok");
  EXPECT_EQ(parse(http_get(sim.base_url(), "/api/tags").body)["models"].Size(), 0u);
}

TEST(SimShapes, BadRequestBodyIs400) {
  auto sim = sim_process::start(k_scenario);
  auto r = http_post(sim.base_url(), "/api/chat", "{not json", role_headers("coder"));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(parse(r.body)["error"].IsString());
  auto m = http_post(sim.base_url(), "/v1/chat/completions", R"({"messages":[]})");
  EXPECT_EQ(m.status, 400);
  EXPECT_EQ(sim.total(), 2);
}

TEST(SimShapes, LargePromptIsAccepted) {
  auto sim = sim_process::start(k_scenario);
  const std::string prompt(1 << 20, 'x');  // a prompt carrying big files
  auto r = ollama_chat(sim, prompt, false, role_headers("coder"));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
  EXPECT_GE(parse(r.body)["prompt_eval_count"].GetInt(), (1 << 20) / 4);
}

TEST(SimShapes, OllamaRootAnswersLikeOllama) {
  auto sim = sim_process::start(k_scenario);
  auto r = http_get(sim.base_url(), "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ollama is running");
}
