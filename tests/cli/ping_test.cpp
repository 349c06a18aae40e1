// `codehive ping`: one round trip against llm-sim; exit 3 when unreachable.
#include <gtest/gtest.h>

#include "tests/cli/process.hpp"
#include "tests/support/sim_process.hpp"

using codehive::test::run_codehive;
using codehive::test::sim_process;

TEST(Ping, RoundTripAgainstTheSimulator) {
  auto sim = sim_process::start(R"({"models":["qwen2.5-coder:7b"],"rules":[
    {"name":"pong","match":{"role":"ping"},"response":{"content":"pong","completion_tokens":1}}]})");
  auto r = run_codehive({"ping", "ollama://127.0.0.1:" + std::to_string(sim.port()) + "/qwen2.5-coder:7b"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("qwen2.5-coder:7b"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pong"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tokens:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("latency:"), std::string::npos) << r.output;
  EXPECT_EQ(sim.count_rule("pong"), 1);
}

TEST(Ping, OpenAiApi) {
  auto sim = sim_process::start(R"({"models":["gpt-4o-mini"],"rules":[
    {"name":"pong","match":{"api":"openai"},"response":{"content":"pong"}}]})");
  auto r = run_codehive({"ping", "openai://127.0.0.1:" + std::to_string(sim.port()) + "/v1/gpt-4o-mini",
                         "--prompt", "hello"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(sim.count_rule("pong"), 1);
}

TEST(Ping, MissingModelIsExit3) {
  auto sim = sim_process::start(R"({"models":["other"],"rules":[]})");
  auto r = run_codehive({"ping", "ollama://127.0.0.1:" + std::to_string(sim.port()) + "/qwen2.5-coder:7b"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
}

TEST(Ping, UnreachableIsExit3) {
  auto r = run_codehive({"ping", "ollama://127.0.0.1:1/m", "--timeout", "5"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
}
