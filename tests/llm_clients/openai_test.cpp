// API-specific behaviour against llm-sim: OpenAI's json_schema -> json_object
// fallback, the Bearer key (sent, never leaked), Ollama's model-missing hint.
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "tests/llm_clients/fixture.hpp"

using namespace codehive::llm;
using namespace codehive::llm::testing;

namespace {

const char* kSchema = R"({"type":"object","properties":{"files":{"type":"array"}},"required":["files"]})";
const char* kRules = R"([
  {"name":"json","match":{"role":"planner"},"response":{"json":{"files":["a.js"]}}},
  {"name":"plain","match":{"role":"coder"},"response":{"content":"ok"}},
  {"name":"a500","match":{"role":"a500"},"response":{"fault":"500"}}
])";
const char* kKey = "sk-test-SECRET-4242";

/// The planner's structured request: kSchema.
chat_request plan_request() {
  auto req = request("planner", "", "plan");
  req.json_schema = kSchema;
  return req;
}

/// The health check of `model` (not served) through a `kind` client fails with
/// model_missing, saying "model <model> not found on <the server's URL>" + `rest`.
void expect_model_missing(api kind, const std::string& model, const std::string& rest) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  auto h = health_sync(*make_client(loop, config_for(kind, sim.base_url(), model)));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.err().code, errc::model_missing);
  EXPECT_EQ(h.err().message, "model " + model + " not found on " + sim.base_url() + rest);
}

}  // namespace

TEST(OpenAi, JsonSchemaRefusedFallsBackToJsonObjectOnceAndRemembers) {
  auto sim = sim_process::start(scenario(kRules, R"("openai_json_schema":false,)"));
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, sim.base_url()));
  const auto req = plan_request();
  auto r = chat_sync(*cl, req);
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"files":["a.js"]})");
  EXPECT_EQ(r->use.attempts, 2);
  EXPECT_EQ(sim.total(), 2);
  EXPECT_EQ(sim.count_rule("json"), 1);
  // The client remembers: the next structured call goes straight to json_object.
  r = chat_sync(*cl, req);
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->use.attempts, 1);
  EXPECT_EQ(sim.total(), 3);
  EXPECT_EQ(sim.count_rule("json"), 2);
}

TEST(OpenAi, JsonSchemaAcceptedNeedsNoFallback) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, sim.base_url()));
  auto r = chat_sync(*cl, plan_request());
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->use.attempts, 1);
  EXPECT_EQ(sim.total(), 1);
}

TEST(OpenAi, BearerKeyIsSentAndNeverLogged) {
  auto sim = sim_process::start(scenario(kRules));
  ::setenv("CODEHIVE_LLM_TEST_KEY", kKey, 1);
  log_capture logs;
  {
    http_loop loop;
    auto c = config_for(api::openai, sim.base_url());
    c.api_key_env = "CODEHIVE_LLM_TEST_KEY";
    c.max_retries = 1;
    auto cl = make_client(loop, c);
    ASSERT_TRUE(chat_sync(*cl, request("coder", "a.js", "x")).ok());
    EXPECT_EQ(sim.with_bearer(), 1);
    auto bad = chat_sync(*cl, request("a500", "a.js", "x"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.err().message.find(kKey), std::string::npos);
    EXPECT_EQ(bad.err().describe().find(kKey), std::string::npos);
    EXPECT_EQ(sim.with_bearer(), 3);
    ASSERT_TRUE(health_sync(*cl).ok());
  }
  auto text = logs.text();
  EXPECT_NE(text.find("llm call"), std::string::npos) << text;
  EXPECT_NE(text.find("role=coder"), std::string::npos) << text;
  EXPECT_NE(text.find("llm retry"), std::string::npos) << text;
  EXPECT_EQ(text.find(kKey), std::string::npos) << text;
  EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
  ::unsetenv("CODEHIVE_LLM_TEST_KEY");
}

TEST(OpenAi, NoKeyVariableMeansNoAuthorization) {
  auto sim = sim_process::start(scenario(kRules));
  ::unsetenv("CODEHIVE_LLM_TEST_KEY_UNSET");
  http_loop loop;
  auto c = config_for(api::openai, sim.base_url());
  c.api_key_env = "CODEHIVE_LLM_TEST_KEY_UNSET";
  auto cl = make_client(loop, c);
  ASSERT_TRUE(chat_sync(*cl, request("coder", "a.js", "x")).ok());
  EXPECT_EQ(sim.with_bearer(), 0);
  EXPECT_EQ(sim.total(), 1);
}

TEST(OpenAi, HealthListsWhatTheServerServes) {
  expect_model_missing(api::openai, "gpt-4o",
                       "/v1; the server serves: qwen2.5-coder:7b, llama3:latest");
}

TEST(Ollama, ModelMissingSaysHowToPullIt) {
  expect_model_missing(api::ollama, "qwen2.5-coder:14b", "; run `ollama pull qwen2.5-coder:14b`");
}

TEST(Ollama, ChatSyncOnTheLoopThreadIsRefusedNotDeadlocked) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  auto cl = make_client(loop, config_for(api::ollama, sim.base_url()));
  std::promise<errc> p;
  loop.post([&] {
    auto r = chat_sync(*cl, request("coder", "", "x"));
    p.set_value(r.ok() ? errc::cancelled : r.err().code);
  });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get(), errc::bad_config);
}
