// `codehive ping`: health check plus one round trip per role with the run's
// request shape, against llm-sim; exit 3 when unreachable or failing, exit 2
// for a bad config.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/cli/process.hpp"
#include "tests/support/sim_process.hpp"

using namespace codehive::test;

namespace {

// A plan for the planner role, an edit for the coder role.
const char* kRules = R"([
  {"name":"plan","match":{"role":"planner"},"response":{"json":{"tasks":[{"id":"t1","action":"create","type":"file","path":"index.html","description":"page","instructions":"say pong"}]},"completion_tokens":9}},
  {"name":"edit","match":{"role":"coder"},"response":{"json":{"kind":"whole","content":"<p>pong</p>"},"completion_tokens":5}}
])";

std::string scenario(const std::string& model) {
  return R"({"models":[")" + model + R"("],"rules":)" + kRules + "}";
}

std::string ollama_spec(const sim_process& sim, const std::string& model) {
  return "ollama://127.0.0.1:" + std::to_string(sim.port()) + "/" + model;
}

/// `r` exited 0 and its output holds each of `says`.
void expect_ok_saying(const process_result& r, const std::vector<std::string>& says) {
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const auto& s : says)
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
}

}  // namespace

TEST(Ping, RoundTripAgainstTheSimulator) {
  auto sim = sim_process::start(scenario("qwen2.5-coder:7b"));
  auto r = run_codehive({"ping", ollama_spec(sim, "qwen2.5-coder:7b")});
  expect_ok_saying(r, {"qwen2.5-coder:7b", "pong", "tokens:", "latency:"});
  EXPECT_EQ(sim.count_rule("plan"), 1);
  EXPECT_EQ(sim.count_rule("edit"), 1);
}

// The run's request shape: the planner's schema as `format`, one num_ctx for
// both roles of one Ollama model (the larger, 32768 in the shipped config),
// think off, keep_alive; the profile is printed per role.
TEST(Ping, UsesTheRunsRequestShapeAndPrintsTheProfilePerRole) {
  auto sim = sim_process::start(scenario("qwen3:8b"));
  auto r = run_codehive({"ping", ollama_spec(sim, "qwen3:8b")});
  expect_ok_saying(r,
                   {"planner  profile: structured=json_schema temperature=sent think=false (sent) "
                    "keep_alive=30m num_ctx=32768",
                    "coder    profile: structured=json_schema temperature=sent think=false (sent) "
                    "keep_alive=30m num_ctx=32768"});
  EXPECT_EQ(sim.count_rule("plan"), 1);
}

TEST(Ping, OpenAiApi) {
  auto sim = sim_process::start(scenario("gpt-4o-mini"));
  auto r = run_codehive({"ping", "openai://127.0.0.1:" + std::to_string(sim.port()) + "/v1/gpt-4o-mini",
                         "--prompt", "hello"});
  expect_ok_saying(
    r, {"planner  profile: structured=json_schema temperature=sent reply_cap=max_tokens"});
  EXPECT_EQ(sim.count_rule("plan"), 1);
  EXPECT_EQ(sim.count_rule("edit"), 1);
}

TEST(Ping, MissingModelIsExit3) {
  auto sim = sim_process::start(R"({"models":["other"],"rules":[]})");
  auto r = run_codehive({"ping", ollama_spec(sim, "qwen2.5-coder:7b")});
  EXPECT_EQ(r.exit_code, 3) << r.output;
}

TEST(Ping, UnreachableIsExit3) {
  auto r = run_codehive({"ping", "ollama://127.0.0.1:1/m", "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
}

// Issue 10/16: config errors are errors, with the closest key or the limit named.
TEST(Ping, ConfigErrorsAreExit2WithTheReason) {
  temp_dir dir{"codehive-ping-config"};
  struct bad_case {
    const char* json;
    const char* expected;
  };
  for (const auto& c : {
           bad_case{R"({"coder_model":{"contxt_tokens":4096}})", "unknown key \"contxt_tokens\" (did you mean \"context_tokens\"?)"},
           bad_case{R"({"run":{"coders":1e9}})", "\"coders\" must be between 1 and 256"},
           bad_case{R"({"planner_model":{"context_tokens":0}})", "\"context_tokens\" must be between 256 and"},
           bad_case{R"({"planner_model":{"context_tokens":-5}})", "\"context_tokens\" must be between 256 and"},
           bad_case{R"({"coder_model":{"call_timeout_s":0}})", "\"call_timeout_s\" must be between 0.001 and 86400"},
           bad_case{R"({"coder_model":{"call_timeout_s":-1}})", "\"call_timeout_s\" must be between"},
           bad_case{R"({"run":{"coders":2.5}})", "\"coders\" must be a whole number"},
           bad_case{R"({"planer_model":{}})", "unknown key \"planer_model\" (did you mean \"planner_model\"?)"},
           bad_case{R"({"coder_model":{"structured_output":"xml"}})", "\"structured_output\" must be one of"},
       }) {
    auto file = dir.write("c.json", c.json);
    auto r = run_codehive({"ping", "ollama://127.0.0.1:1/m", "--timeout", "5"}, 60000,
                          {{"CODEHIVE_CONFIG", file.string()}});
    EXPECT_EQ(r.exit_code, 2) << c.json << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.json << "\n" << r.output;
  }
}

// Everything learned can be pinned in the config, per model.
TEST(Ping, PinnedProfileFromTheConfig) {
  auto sim = sim_process::start(scenario("qwen2.5-coder:7b"));
  temp_dir dir{"codehive-ping-pins"};
  auto file = dir.write("c.json", R"({"coder_model":{"structured_output":"prompt_only","disable_thinking":"false",
    "keep_alive":"1h","headers":{"X-Team":"codehive"}}})");
  auto r = run_codehive({"ping", ollama_spec(sim, "qwen2.5-coder:7b")}, 120000,
                        {{"CODEHIVE_CONFIG", file.string()}});
  // keep_alive: the longest of the roles sharing the model (one load for the run).
  expect_ok_saying(r,
                   {"planner  profile: structured=json_schema temperature=sent think=false (sent) "
                    "keep_alive=1h num_ctx=32768",
                    "coder    profile: structured=prompt_only temperature=sent think=not sent "
                    "keep_alive=1h num_ctx=32768"});
}
