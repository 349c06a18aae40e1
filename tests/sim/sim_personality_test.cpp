// llm-sim personalities (tools/llm-sim/README.md, "Personalities"): each one
// refuses what the real server refuses, with that server's status and body,
// and answers its extra endpoints in their documented shapes. For Ollama
// also the reload counter (a changed num_ctx reloads the model) and the
// per-model parallelism (extra requests queue, never refused).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <set>
#include <thread>

#include "tests/sim/sim_test_util.hpp"

using namespace sim_test;
using codehive::test::run_llm_sim;
using codehive::test::temp_dir;

namespace {

constexpr const char* k_scenario = R"({
  "models": ["qwen2.5-coder:7b", "gpt-4o-mini"],
  "rules": [
    {"name": "refuse", "match": {"prompt_regex": "refuse me"}, "response": {"refusal": "I can't help with that."}},
    {"name": "slow", "match": {"prompt_regex": "slowly"}, "latency": {"ttft_ms": 5000}, "response": {"content": "done"}},
    {"name": "json", "match": {"prompt_regex": "json please"}, "response": {"json": {"ok": true}}}
  ],
  "default": {"content": "hello world"}
})";

sim_process start(const std::string& personality, std::vector<std::string> options = {}) {
  sim_process::options o;
  o.extra_args = {"--personality", personality};
  for (auto& opt : options) {
    o.extra_args.push_back("--personality-option");
    o.extra_args.push_back(opt);
  }
  return sim_process::start(k_scenario, o);
}

const std::map<std::string, std::string> bearer{{"Authorization", "Bearer sk-test"}};

http_reply post(sim_process& sim, const std::string& path, const std::string& body,
                const std::map<std::string, std::string>& headers = {}) {
  return http_post(sim.base_url(), path, body, headers, 30000);
}

/// A chat completion of "hi" to gpt-4o-mini with the key, plus `extra` body fields.
http_reply keyed_chat(sim_process& sim, bool stream, const std::string& extra = "") {
  return post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", "hi", stream, extra), bearer);
}

/// /sim/stats as a document.
rapidjson::Document stats(sim_process& sim) { return parse(sim.stats_json()); }

long stat_in(sim_process& sim, const char* object, const std::string& key) {
  auto d = stats(sim);
  if (!d.HasMember(object) || !d[object].IsObject() || !d[object].HasMember(key.c_str())) return 0;
  return d[object][key.c_str()].GetInt64();
}

long stat(sim_process& sim, const char* key) {
  auto d = stats(sim);
  return d.HasMember(key) ? d[key].GetInt64() : -1;
}

/// Waits (generously: the CI machine is busy) until `cond` holds; false on time-out.
bool wait_until(const std::function<bool()>& cond, int seconds = 30) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

std::string ollama_body(const std::string& prompt, const std::string& extra) {
  return chat_body("qwen2.5-coder:7b", prompt, false, extra);
}

}  // namespace

// ---------------------------------------------------------------- ollama

TEST(PersonalityOllama, StreamsNdjsonWhenStreamIsAbsent) {
  auto sim = start("ollama");
  const auto r = post(sim, "/api/chat",
                      R"({"model":"qwen2.5-coder:7b","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto ls = lines(r.body);
  ASSERT_GE(ls.size(), 2u) << r.body;
  EXPECT_FALSE(parse(ls.front())["done"].GetBool());
  EXPECT_TRUE(parse(ls.back())["done"].GetBool());
}

TEST(PersonalityOllama, UnknownModelIs404WithPullHint) {
  auto sim = start("ollama");
  const auto r = post(sim, "/api/chat", chat_body("llama9", "hi", false));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"model \"llama9\" not found, try pulling it first"})");
  const auto o = post(sim, "/v1/chat/completions", chat_body("llama9", "hi", false));
  EXPECT_EQ(o.status, 404);
  EXPECT_EQ(o.body,
            R"({"error":{"message":"model \"llama9\" not found, try pulling it first","type":"api_error","param":null,"code":null}})");
}

TEST(PersonalityOllama, ShowReportsContextLengthAndCapabilities) {
  auto sim = start("ollama", {"context_length=8192"});
  const auto r = post(sim, "/api/show", R"({"model":"qwen2.5-coder:7b"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r.body);
  ASSERT_TRUE(d.HasMember("model_info"));
  EXPECT_STREQ(d["model_info"]["general.architecture"].GetString(), "qwen2");
  EXPECT_EQ(d["model_info"]["qwen2.context_length"].GetInt64(), 8192);
  std::set<std::string> caps;
  for (const auto& c : d["capabilities"].GetArray()) caps.insert(c.GetString());
  EXPECT_EQ(caps, (std::set<std::string>{"completion", "tools"}));
  const auto missing = post(sim, "/api/show", R"({"model":"llama9"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":"model 'llama9' not found"})");
}

TEST(PersonalityOllama, ThinkTrueRefusedOnANonThinkingModelThinkFalseAccepted) {
  auto sim = start("ollama");
  const auto yes = post(sim, "/api/chat", ollama_body("hi", R"("think":true)"));
  EXPECT_EQ(yes.status, 400);
  EXPECT_EQ(yes.body, R"({"error":"\"qwen2.5-coder:7b\" does not support thinking"})");
  const auto no = post(sim, "/api/chat", ollama_body("hi", R"("think":false)"));
  ASSERT_EQ(no.status, 200) << no.body;
  auto d = parse(no.body);
  EXPECT_STREQ(d["message"]["content"].GetString(), "hello world");
  EXPECT_FALSE(d["message"].HasMember("thinking"));
}

TEST(PersonalityOllama, ChangedNumCtxReloadsTheModelAndIsCounted) {
  auto sim = start("ollama", {"reload_ms=20"});
  const std::string model = "qwen2.5-coder:7b";
  auto ask = [&](const std::string& options) {
    const auto r = post(sim, "/api/chat", ollama_body("hi", R"("options":)" + options));
    EXPECT_EQ(r.status, 200) << r.body;
  };
  ask(R"({"num_ctx":16384,"temperature":0.2})");
  EXPECT_EQ(stat_in(sim, "model_loads", model), 1);
  EXPECT_EQ(stat(sim, "reloads"), 0);
  ask(R"({"num_ctx":16384,"temperature":0.0,"seed":7,"num_predict":200})");  // sampling only
  EXPECT_EQ(stat_in(sim, "model_loads", model), 1);
  ask(R"({"num_ctx":32768,"temperature":0.2})");  // another window: reload
  EXPECT_EQ(stat_in(sim, "model_loads", model), 2);
  EXPECT_EQ(stat(sim, "reloads"), 1);
  auto ps = parse(http_get(sim.base_url(), "/api/ps").body);
  ASSERT_EQ(ps["models"].Size(), 1u);
  EXPECT_STREQ(ps["models"][0]["name"].GetString(), model.c_str());
  EXPECT_EQ(ps["models"][0]["context_length"].GetInt64(), 32768);
  ask(R"({"temperature":0.2})");  // no num_ctx: Ollama's default 4096, another reload
  EXPECT_EQ(stat(sim, "reloads"), 2);
  ps = parse(http_get(sim.base_url(), "/api/ps").body);
  EXPECT_EQ(ps["models"][0]["context_length"].GetInt64(), 4096);
}

TEST(PersonalityOllama, KeepAliveZeroUnloadsAfterTheRequest) {
  auto sim = start("ollama", {"reload_ms=0"});
  ASSERT_EQ(post(sim, "/api/chat", ollama_body("hi", R"("keep_alive":0)")).status, 200);
  EXPECT_EQ(parse(http_get(sim.base_url(), "/api/ps").body)["models"].Size(), 0u);
  ASSERT_EQ(post(sim, "/api/chat", ollama_body("hi", R"("keep_alive":"5m")")).status, 200);
  EXPECT_EQ(stat_in(sim, "model_loads", "qwen2.5-coder:7b"), 2);
  EXPECT_EQ(parse(http_get(sim.base_url(), "/api/ps").body)["models"].Size(), 1u);
}

TEST(PersonalityOllama, OneRequestAtATimePerModelTheOthersQueue) {
  auto sim = start("ollama", {"reload_ms=0"});
  auto slow = [&] { return post(sim, "/api/chat", ollama_body("answer slowly", "")); };
  auto first = std::async(std::launch::async, slow);
  ASSERT_TRUE(wait_until([&] { return stat_in(sim, "max_concurrent", "qwen2.5-coder:7b") == 1; }))
      << sim.stats_json();
  auto second = std::async(std::launch::async, slow);
  auto third = std::async(std::launch::async, slow);
  ASSERT_TRUE(wait_until([&] { return stat(sim, "queued") >= 1; })) << sim.stats_json();
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(second.get().status, 200);  // queued, not refused
  EXPECT_EQ(third.get().status, 200);
  EXPECT_EQ(stat_in(sim, "max_concurrent", "qwen2.5-coder:7b"), 1) << sim.stats_json();
  EXPECT_EQ(stat_in(sim, "model_loads", "qwen2.5-coder:7b"), 1);
}

TEST(PersonalityOllama, PastMaxQueueWaitingRequestsTheServerIsBusy) {
  auto sim = start("ollama", {"reload_ms=0", "max_queue=1"});
  auto slow = [&] { return post(sim, "/api/chat", ollama_body("answer slowly", "")); };
  auto first = std::async(std::launch::async, slow);
  ASSERT_TRUE(wait_until([&] { return stat_in(sim, "max_concurrent", "qwen2.5-coder:7b") == 1; }));
  auto second = std::async(std::launch::async, slow);  // waits: the one place in the queue
  ASSERT_TRUE(wait_until([&] { return stat(sim, "queued") == 1; })) << sim.stats_json();
  const auto third = post(sim, "/api/chat", ollama_body("hi", ""));
  EXPECT_EQ(third.status, 503);
  EXPECT_EQ(third.body, R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(second.get().status, 200);
  EXPECT_EQ(stat_in(sim, "rejected", "queue_full"), 1);
}

TEST(PersonalityOllama, NumParallelTwoServesTwoAtOnce) {
  auto sim = start("ollama", {"reload_ms=0", "num_parallel=2"});
  auto slow = [&] { return post(sim, "/api/chat", ollama_body("answer slowly", "")); };
  std::vector<std::future<http_reply>> calls;
  for (int i = 0; i < 3; ++i) calls.push_back(std::async(std::launch::async, slow));
  EXPECT_TRUE(wait_until([&] { return stat_in(sim, "max_concurrent", "qwen2.5-coder:7b") == 2; }))
      << sim.stats_json();
  for (auto& c : calls) EXPECT_EQ(c.get().status, 200);
  EXPECT_EQ(stat_in(sim, "max_concurrent", "qwen2.5-coder:7b"), 2);
}

// ------------------------------------------------------- ollama-thinking

TEST(PersonalityOllamaThinking, WithFormatTheAnswerLandsInThinkingUnlessThinkIsFalse) {
  auto sim = start("ollama-thinking");
  const auto r = post(sim, "/api/chat", ollama_body("json please", R"("format":{"type":"object"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r.body);
  EXPECT_STREQ(d["message"]["content"].GetString(), "");
  EXPECT_STREQ(d["message"]["thinking"].GetString(), R"({"ok":true})");

  const auto off = post(sim, "/api/chat",
                        ollama_body("json please", R"("format":{"type":"object"},"think":false)"));
  ASSERT_EQ(off.status, 200) << off.body;
  auto o = parse(off.body);
  EXPECT_STREQ(o["message"]["content"].GetString(), R"({"ok":true})");
  EXPECT_FALSE(o["message"].HasMember("thinking"));
}

TEST(PersonalityOllamaThinking, WithoutFormatItThinksThenAnswersAndStreamsThinkingFirst) {
  auto sim = start("ollama-thinking");
  const auto r = post(sim, "/api/chat", ollama_body("hi", ""));
  ASSERT_EQ(r.status, 200);
  auto d = parse(r.body);
  EXPECT_STREQ(d["message"]["content"].GetString(), "hello world");
  EXPECT_GT(d["message"]["thinking"].GetStringLength(), 0u);

  const auto s = post(sim, "/api/chat", chat_body("qwen2.5-coder:7b", "hi", true));
  ASSERT_EQ(s.status, 200);
  const auto ls = lines(s.body);
  ASSERT_GE(ls.size(), 3u);
  auto first = parse(ls.front());
  EXPECT_TRUE(first["message"].HasMember("thinking")) << ls.front();
  EXPECT_STREQ(first["message"]["content"].GetString(), "");
  EXPECT_EQ(ollama_content(s.body, true), "hello world");
}

TEST(PersonalityOllamaThinking, OnTheOpenAIEndpointThinkingGoesToReasoning) {
  auto sim = start("ollama-thinking");
  const std::string format = R"("response_format":{"type":"json_object"})";
  const auto r = post(sim, "/v1/chat/completions", chat_body("qwen2.5-coder:7b", "json please", false, format));
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r.body);
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(), "");
  EXPECT_STREQ(d["choices"][0]["message"]["reasoning"].GetString(), R"({"ok":true})");
  const auto off = post(sim, "/v1/chat/completions",
                        chat_body("qwen2.5-coder:7b", "json please", false,
                                  format + R"(,"reasoning_effort":"none")"));
  auto o = parse(off.body);
  EXPECT_STREQ(o["choices"][0]["message"]["content"].GetString(), R"({"ok":true})");
  EXPECT_FALSE(o["choices"][0]["message"].HasMember("reasoning"));
}

TEST(PersonalityOllamaThinking, ShowListsTheThinkingCapability) {
  auto sim = start("ollama-thinking");
  auto d = parse(post(sim, "/api/show", R"({"model":"qwen2.5-coder:7b"})").body);
  std::set<std::string> caps;
  for (const auto& c : d["capabilities"].GetArray()) caps.insert(c.GetString());
  EXPECT_TRUE(caps.count("thinking"));
  EXPECT_TRUE(d["model_info"].HasMember("qwen3.context_length"));
}

// ----------------------------------------------------------------- openai

TEST(PersonalityOpenai, MissingKeyIs401WithOpenAIsBody) {
  auto sim = start("openai");
  const auto r = post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", "hi", false));
  EXPECT_EQ(r.status, 401);
  auto d = parse(r.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << r.body;
  EXPECT_EQ(std::string(d["error"]["message"].GetString()).rfind("You didn't provide an API key.", 0), 0u);
  EXPECT_STREQ(d["error"]["type"].GetString(), "invalid_request_error");
  EXPECT_TRUE(d["error"]["param"].IsNull());
  EXPECT_TRUE(d["error"]["code"].IsNull());
  EXPECT_EQ(http_get(sim.base_url(), "/v1/models").status, 401);
  EXPECT_EQ(http_get(sim.base_url(), "/v1/models", bearer).status, 200);

  auto open = start("openai", {"require_key=false"});
  EXPECT_EQ(post(open, "/v1/chat/completions", chat_body("gpt-4o-mini", "hi", false)).status, 200);
}

TEST(PersonalityOpenai, MessageCarriesRefusalNullAndARuleCanRefuse) {
  auto sim = start("openai");
  const auto r = keyed_chat(sim, false);
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r.body);
  const auto& m = d["choices"][0]["message"];
  EXPECT_STREQ(m["content"].GetString(), "hello world");
  ASSERT_TRUE(m.HasMember("refusal"));
  EXPECT_TRUE(m["refusal"].IsNull());
  EXPECT_TRUE(m["annotations"].IsArray());

  const auto no = post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", "refuse me", false), bearer);
  ASSERT_EQ(no.status, 200);
  auto n = parse(no.body);
  EXPECT_TRUE(n["choices"][0]["message"]["content"].IsNull()) << no.body;
  EXPECT_STREQ(n["choices"][0]["message"]["refusal"].GetString(), "I can't help with that.");

  const auto streamed = post(sim, "/v1/chat/completions",
                             chat_body("gpt-4o-mini", "refuse me", true), bearer);
  std::string refusal;
  for (const auto& ev : sse_data(streamed.body)) {
    if (ev == "[DONE]") break;
    auto c = parse(ev);
    if (c["choices"].Empty()) continue;
    const auto& delta = c["choices"][0]["delta"];
    if (delta.HasMember("refusal") && delta["refusal"].IsString()) refusal += delta["refusal"].GetString();
    if (delta.HasMember("content")) {
      EXPECT_STREQ(delta["content"].GetString(), "") << ev;
    }
  }
  EXPECT_EQ(refusal, "I can't help with that.");
}

TEST(PersonalityOpenai, StreamedUsageComesOnlyInTheLastChunk) {
  auto sim = start("openai");
  const auto r = keyed_chat(sim, true, R"("stream_options":{"include_usage":true})");
  ASSERT_EQ(r.status, 200);
  auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 3u);
  ASSERT_EQ(events.back(), "[DONE]");
  events.pop_back();
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    auto c = parse(events[i]);
    ASSERT_TRUE(c.HasMember("usage")) << events[i];
    EXPECT_TRUE(c["usage"].IsNull()) << events[i];
    EXPECT_EQ(c["choices"].Size(), 1u);
  }
  auto last = parse(events.back());
  EXPECT_EQ(last["choices"].Size(), 0u);
  EXPECT_TRUE(last["usage"].IsObject());
  EXPECT_GT(last["usage"]["completion_tokens"].GetInt(), 0);
  EXPECT_EQ(openai_content(r.body, true), "hello world");
}

TEST(PersonalityOpenai, StreamOptionsWithoutStreamIsRefused) {
  auto sim = start("openai");
  const auto r = keyed_chat(sim, false, R"("stream_options":{"include_usage":true})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"error":{"message":"The 'stream_options' parameter is only allowed when 'stream' is enabled.","type":"invalid_request_error","param":"stream_options","code":null}})");
}

TEST(PersonalityOpenai, OllamaPathIsAnInvalidUrl) {
  auto sim = start("openai");
  const auto r = post(sim, "/api/chat", chat_body("gpt-4o-mini", "hi", false), bearer);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            R"J({"error":{"message":"Invalid URL (POST /api/chat)","type":"invalid_request_error","param":null,"code":null}})J");
}

// ------------------------------------------------------- openai-reasoning

TEST(PersonalityOpenaiReasoning, TemperatureOtherThanOneIsRefused) {
  auto sim = start("openai-reasoning");
  const auto r = keyed_chat(sim, false, R"("temperature":0.2)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"error":{"message":"Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}})");
  const auto zero = keyed_chat(sim, false, R"("temperature":0.0)");
  EXPECT_EQ(zero.status, 400);
  EXPECT_NE(zero.body.find("does not support 0.0 with this model"), std::string::npos) << zero.body;
  const auto one = keyed_chat(sim, false, R"("temperature":1)");
  EXPECT_EQ(one.status, 200) << one.body;
}

TEST(PersonalityOpenaiReasoning, MaxTokensIsRefusedMaxCompletionTokensAccepted) {
  auto sim = start("openai-reasoning");
  const auto r = keyed_chat(sim, false, R"("max_tokens":200)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}})");
  const auto ok = keyed_chat(sim, false, R"("max_completion_tokens":200,"reasoning_effort":"low")");
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto d = parse(ok.body);
  EXPECT_TRUE(d["usage"]["completion_tokens_details"].HasMember("reasoning_tokens"));
}

// ------------------------------------------------------------------- vllm

TEST(PersonalityVllm, ModelsReportMaxModelLen) {
  auto sim = start("vllm", {"max_model_len=4096"});
  auto d = parse(http_get(sim.base_url(), "/v1/models").body);
  ASSERT_GE(d["data"].Size(), 1u);
  EXPECT_EQ(d["data"][0]["max_model_len"].GetInt64(), 4096);
  EXPECT_STREQ(d["data"][0]["owned_by"].GetString(), "vllm");
}

TEST(PersonalityVllm, PromptOverMaxModelLenIs400WithVllmsBody) {
  auto sim = start("vllm", {"max_model_len=100"});
  // The system message (15 characters) plus 400 characters: ~104 tokens at ~4 characters a token.
  const std::string prompt(400, 'x');
  const auto r = post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", prompt, false));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"object":"error","message":"This model's maximum context length is 100 tokens. However, you requested 104 tokens in the messages, Please reduce the length of the messages.","type":"BadRequestError","param":null,"code":400})");
  const auto with_max = post(sim, "/v1/chat/completions",
                             chat_body("gpt-4o-mini", "hi", false, R"("max_tokens":200)"));
  EXPECT_EQ(with_max.status, 400);
  EXPECT_EQ(with_max.body,
            R"({"object":"error","message":"This model's maximum context length is 100 tokens. However, you requested 205 tokens (5 in the messages, 200 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400})");
  EXPECT_EQ(post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", "hi", false)).status, 200);
}

TEST(PersonalityVllm, UnknownModelIsNotFoundError) {
  auto sim = start("vllm");
  const auto r = post(sim, "/v1/chat/completions", chat_body("llama9", "hi", false));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            R"({"object":"error","message":"The model `llama9` does not exist.","type":"NotFoundError","param":null,"code":404})");
}

// --------------------------------------------------------------- llamacpp

TEST(PersonalityLlamacpp, PropsReportContextAndSlots) {
  auto sim = start("llamacpp", {"n_ctx=8192", "total_slots=2"});
  auto d = parse(http_get(sim.base_url(), "/props").body);
  EXPECT_EQ(d["default_generation_settings"]["n_ctx"].GetInt64(), 8192);
  EXPECT_EQ(d["total_slots"].GetInt(), 2);
  auto m = parse(http_get(sim.base_url(), "/v1/models").body);
  ASSERT_EQ(m["data"].Size(), 1u);  // one model, whatever the scenario lists
  EXPECT_STREQ(m["data"][0]["owned_by"].GetString(), "llamacpp");
  EXPECT_EQ(http_get(sim.base_url(), "/health").status, 200);
  // The request's model name is not checked.
  EXPECT_EQ(post(sim, "/v1/chat/completions", chat_body("anything", "hi", false)).status, 200);
}

TEST(PersonalityLlamacpp, PromptOverTheSlotContextIs400) {
  auto sim = start("llamacpp", {"n_ctx=100"});
  const auto r = post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", std::string(400, 'x'), false));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"J({"error":{"code":400,"message":"request (104 tokens) exceeds the available context size (100 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":104,"n_ctx":100}})J");
  EXPECT_EQ(post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", "hi", false)).status, 200);
}

TEST(PersonalityLlamacpp, RefusingModeAnswersJsonSchemaWith500) {
  const std::string schema =
      R"("response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object"}}})";
  auto accepting = start("llamacpp");
  EXPECT_EQ(post(accepting, "/v1/chat/completions", chat_body("gpt-4o-mini", "hi", false, schema)).status, 200);

  auto sim = start("llamacpp", {"json_schema=refuse"});
  const auto r = post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", "hi", false, schema));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body,
            R"({"error":{"code":500,"message":"response_format type must be one of \"text\" or \"json_object\", but got: json_schema","type":"server_error"}})");
  EXPECT_EQ(post(sim, "/v1/chat/completions",
                 chat_body("gpt-4o-mini", "hi", false, R"("response_format":{"type":"json_object"})"))
                .status,
            200);
}

// --------------------------------------------------------------- lmstudio

TEST(PersonalityLmstudio, JsonObjectIsRefusedJsonSchemaAccepted) {
  auto sim = start("lmstudio", {"context_length=8192"});
  const auto r = post(sim, "/v1/chat/completions",
                      chat_body("gpt-4o-mini", "hi", false, R"("response_format":{"type":"json_object"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"'response_format.type' must be 'json_schema' or 'text'"})");
  const auto ok = post(sim, "/v1/chat/completions",
                       chat_body("gpt-4o-mini", "hi", false,
                                 R"("response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object"}}})"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto d = parse(http_get(sim.base_url(), "/api/v0/models").body);
  EXPECT_EQ(d["data"][0]["max_context_length"].GetInt64(), 8192);
}

TEST(PersonalityLmstudio, AnUnknownPathIsAnErrorBodyWithStatus200) {
  auto sim = start("lmstudio");
  const auto chat = post(sim, "/api/chat", chat_body("gpt-4o-mini", "hi", false));
  EXPECT_EQ(chat.status, 200);
  EXPECT_EQ(chat.body, R"J({"error":"Unexpected endpoint or method. (POST /api/chat)"})J");
  const auto get = http_get(sim.base_url(), "/api/tags");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, R"J({"error":"Unexpected endpoint or method. (GET /api/tags)"})J");
  const auto other = http_get(sim.base_url(), "/nowhere");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, R"J({"error":"Unexpected endpoint or method. (GET /nowhere)"})J");
}

// ------------------------------------------------------------ selection

TEST(PersonalitySelection, ScenarioKeyWithOptions) {
  auto sim = sim_process::start(
      R"({"models":["m"],"personality":{"name":"ollama","num_parallel":2,"context_length":1234},"default":{"content":"x"}})");
  auto d = parse(post(sim, "/api/show", R"({"model":"m"})").body);
  EXPECT_EQ(d["model_info"]["qwen2.context_length"].GetInt64(), 1234);
}

TEST(PersonalitySelection, UnknownNameOrOptionIsAUsageError) {
  temp_dir dir;
  const auto path = dir.write("s.json", R"({"rules":[]})").string();
  auto bad = run_llm_sim({"--scenario", path, "--personality", "olama"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("unknown personality \"olama\""), std::string::npos) << bad.output;
  auto opt = run_llm_sim({"--scenario", path, "--personality", "vllm", "--personality-option", "num_ctx=5"});
  EXPECT_EQ(opt.exit_code, 2);
  EXPECT_NE(opt.output.find("has no option \"num_ctx\""), std::string::npos) << opt.output;
}

TEST(PersonalitySelection, NoPersonalityKeepsTheOldShapes) {
  auto sim = sim_process::start(k_scenario);
  auto d = parse(post(sim, "/v1/chat/completions", chat_body("gpt-4o-mini", "hi", false)).body);
  EXPECT_FALSE(d["choices"][0]["message"].HasMember("refusal"));
  EXPECT_EQ(http_get(sim.base_url(), "/api/ps").status, 404);
}
