// The clients against llm-sim's personalities (h4's simulator of the real
// servers' manners: tools/llm-sim, /work/notes/personalities.md).
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <cstdlib>

#include "llm/profile.hpp"
#include "tests/llm_clients/fixture.hpp"

using namespace codehive::llm;
using namespace codehive::llm::testing;

namespace {

const char* kPlanSchema = R"({"type":"object","required":["tasks"],"properties":{"tasks":{"type":"array"}}})";

const char* kRules = R"([
  {"name":"plan","match":{"role":"planner"},"response":{"json":{"tasks":[]}}},
  {"name":"edit","match":{"role":"coder"},"response":{"json":{"tasks":["x"]}}},
  {"name":"note","match":{"role":"summarizer"},"response":{"content":"a summary"}}
])";

std::string with_personality(const std::string& personality, const std::string& model = kModel) {
  return R"({"models":[")" + model + R"("],"latency":{"ttft_ms":1,"tokens_per_s":20000},"personality":)" +
         personality + R"(,"rules":)" + kRules + "}";
}

int stat(sim_process& sim, const char* key) {
  rapidjson::Document d;
  auto text = sim.stats_json();
  d.Parse(text.c_str());
  if (d.HasParseError() || !d.IsObject()) return -1;
  auto it = d.FindMember(key);
  return it != d.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : 0;
}

chat_request structured(const std::string& role) {
  auto req = request(role, "", "go");
  req.json_schema = kPlanSchema;
  req.temperature = 0.2;
  return req;
}

}  // namespace

// Issue 10: one Ollama model for every role is loaded once. Without
// share_model_settings the planner's 32768 and the coder's 16384 reload it
// on every switch (the control half shows the test can fail).
TEST(Personality, OneOllamaModelForEveryRoleIsLoadedOnce) {
  for (bool shared : {true, false}) {
    auto sim = sim_process::start(with_personality(R"({"name":"ollama","reload_ms":1})"));
    auto planner = config_for(api::ollama, sim.base_url());
    planner.context_tokens = 32768;
    auto coder = config_for(api::ollama, sim.base_url());
    coder.context_tokens = 16384;
    if (shared) share_model_settings({&planner, &coder});
    http_loop loop;
    auto large = make_client(loop, planner);
    auto small = make_client(loop, coder);
    for (int i = 0; i < 3; ++i) {
      auto p = chat_sync(*large, structured("planner"));
      ASSERT_TRUE(p.ok()) << p.err().describe();
      auto c = chat_sync(*small, structured("coder"));
      ASSERT_TRUE(c.ok()) << c.err().describe();
    }
    if (shared)
      EXPECT_EQ(stat(sim, "reloads"), 0) << sim.stats_json();
    else
      EXPECT_GT(stat(sim, "reloads"), 0) << sim.stats_json();
  }
}

// A thinking model (qwen3-like): think:false keeps the answer in content.
TEST(Personality, OllamaThinkingModelAnswersInContent) {
  auto sim = sim_process::start(with_personality(R"("ollama-thinking")"));
  http_loop loop;
  auto cl = make_client(loop, config_for(api::ollama, sim.base_url()));
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"tasks":[]})");
  EXPECT_EQ(sim.total(), 1);
}

// A thinking model where thinking could not be turned off (think dropped
// by config): the structured answer is found in message.thinking.
TEST(Personality, OllamaThinkingAnswerFoundInThinkingWhenThinkIsNotSent) {
  auto sim = sim_process::start(with_personality(R"("ollama-thinking")"));
  http_loop loop;
  auto c = config_for(api::ollama, sim.base_url());
  c.profile.think = false;  // never send think
  auto cl = make_client(loop, c);
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"tasks":[]})");
}

// OpenAI reasoning model by name: no failed first call.
TEST(Personality, OpenAiReasoningModelFirstCallAccepted) {
  auto sim = sim_process::start(with_personality(R"({"name":"openai-reasoning","require_key":false})", "o3-mini"));
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, sim.base_url(), "o3-mini"));
  auto r = chat_sync(*cl, summary_request("a.js", "sum", 0.0, 200));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->use.attempts, 1);
  EXPECT_EQ(sim.total(), 1);
}

// The same server behind an unknown deployment name: learned from the 400s, once.
TEST(Personality, OpenAiReasoningRefusalsLearnedOnce) {
  auto sim = sim_process::start(with_personality(R"({"name":"openai-reasoning","require_key":false})", "planner-prod"));
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, sim.base_url(), "planner-prod"));
  for (int i = 0; i < 3; ++i) {
    auto r = chat_sync(*cl, summary_request("a.js", "sum", 0.0, 200));
    ASSERT_TRUE(r.ok()) << r.err().describe();
  }
  EXPECT_EQ(sim.total(), 5);  // 2 refusals, then 3 accepted calls
}

TEST(Personality, LlamaCppRefusingJsonSchemaFallsBackOnce) {
  auto sim = sim_process::start(with_personality(R"({"name":"llamacpp","json_schema":"refuse"})"));
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, sim.base_url()));
  for (int i = 0; i < 2; ++i) {
    auto r = chat_sync(*cl, structured("planner"));
    ASSERT_TRUE(r.ok()) << r.err().describe();
    EXPECT_EQ(r->content, R"({"tasks":[]})");
  }
  EXPECT_EQ(sim.total(), 3);
  EXPECT_EQ(cl->profile().structured, structured_mode::json_object);
}

TEST(Personality, LmStudioAndVllmAcceptTheFirstShape) {
  for (const char* p : {R"("lmstudio")", R"("vllm")"}) {
    auto sim = sim_process::start(with_personality(p));
    http_loop loop;
    auto cl = make_client(loop, config_for(api::openai, sim.base_url()));
    auto r = chat_sync(*cl, structured("planner"));
    ASSERT_TRUE(r.ok()) << p << ": " << r.err().describe();
    EXPECT_EQ(sim.total(), 1) << p;
    EXPECT_EQ(cl->profile().structured, structured_mode::json_schema) << p;
  }
}
