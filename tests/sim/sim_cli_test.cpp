// The llm-sim command line: start-up line, port file, scenario errors (exit
// 2), signals, and the latency model as lower bounds.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <fstream>

#include "tests/sim/sim_test_util.hpp"

using namespace sim_test;
using codehive::test::run_llm_sim;
using codehive::test::temp_dir;

namespace {

/// Runs llm-sim on a scenario text; expects exit 2 and returns the output.
std::string bad_scenario(const std::string& text) {
  temp_dir dir;
  auto path = dir.write("bad.json", text);
  auto r = run_llm_sim({"--scenario", path.string(), "--port", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(path.string()), std::string::npos) << "names the file: " << r.output;
  return r.output;
}

}  // namespace

TEST(SimCli, PrintsListeningLineFirstAndWritesPortFile) {
  auto sim = sim_process::start(R"({"rules":[]})");
  const std::string out = sim.output();
  const std::string expect = "llm-sim listening on http://127.0.0.1:" + std::to_string(sim.port()) + "\n";
  EXPECT_EQ(out.substr(0, expect.size()), expect) << out;
  EXPECT_GT(sim.port(), 0);
  EXPECT_EQ(http_get(sim.base_url(), "/").status, 200);
}

TEST(SimCli, SigtermExitsCleanly) {
  auto sim = sim_process::start(R"({"rules":[]})");
  const int status = sim.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(SimCli, MissingScenarioFile) {
  auto r = run_llm_sim({"--scenario", "/nonexistent/scenario.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/nonexistent/scenario.json"), std::string::npos) << r.output;
}

TEST(SimCli, MissingScenarioOptionIsUsageError) {
  auto r = run_llm_sim({});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--scenario"), std::string::npos) << r.output;
}

TEST(SimCli, HelpExitsZero) {
  auto r = run_llm_sim({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--port-file"), std::string::npos);
}

TEST(SimCli, InvalidJsonSaysWhere) {
  auto out = bad_scenario("{\n  \"rules\": [\n    {\"response\": {\"content\": \"x\"},}\n  ]\n}");
  EXPECT_NE(out.find("invalid JSON"), std::string::npos) << out;
  EXPECT_NE(out.find("line 3"), std::string::npos) << out;
}

TEST(SimCli, UnknownKeyIsNamedWithItsLocation) {
  auto out = bad_scenario(R"({"rules":[{"match":{"role":"coder"},"response":{"contnet":"x"}}]})");
  EXPECT_NE(out.find("rules[0].response"), std::string::npos) << out;
  EXPECT_NE(out.find("contnet"), std::string::npos) << out;
}

TEST(SimCli, UnknownFaultKind) {
  auto out = bad_scenario(R"({"rules":[{"responses":[{"fault":"418"}]}]})");
  EXPECT_NE(out.find("rules[0].responses[0].fault"), std::string::npos) << out;
  EXPECT_NE(out.find("418"), std::string::npos) << out;
}

TEST(SimCli, BadRegex) {
  auto out = bad_scenario(R"({"rules":[{"match":{"prompt_regex":"(unclosed"},"response":{"content":"x"}}]})");
  EXPECT_NE(out.find("prompt_regex"), std::string::npos) << out;
}

TEST(SimCli, MissingAnswerFile) {
  auto out = bad_scenario(R"({"rules":[{"response":{"file":"answers/none.txt"}}]})");
  EXPECT_NE(out.find("answers/none.txt"), std::string::npos) << out;
}

TEST(SimCli, OtherScenarioMistakes) {
  bad_scenario(R"([1,2])");
  bad_scenario(R"({"rules":[{"response":{"content":"x","fault":"500"}}]})");
  bad_scenario(R"({"rules":[{"responses":[]}]})");
  bad_scenario(R"({"rules":[{"match":{"api":"anthropic"},"response":{"content":"x"}}]})");
  bad_scenario(R"({"random_faults":{"rate":1.5,"kinds":["500"]}})");
  bad_scenario(R"({"random_faults":{"rate":0.5}})");
  bad_scenario(R"({"latency":{"ttft_ms":-1}})");
  bad_scenario(R"({"models":"qwen"})");
  bad_scenario(R"({"default":{"content":"x","retry_after_s":2}})");
}

TEST(SimCli, LatencyModelIsALowerBound) {
  // 200 ms to the first token, then 40 tokens at 100 tokens/s = 400 ms more.
  auto sim = sim_process::start(R"({"latency":{"ttft_ms":200,"tokens_per_s":100},
      "rules":[{"match":{"role":"coder"},"response":{"content":"x","completion_tokens":40}},
               {"match":{"role":"fast"},"latency":{"ttft_ms":0,"tokens_per_s":0},
                "response":{"content":"fast"}},
               {"match":{"role":"slow"},"latency":{"ttft_ms":400},"response":{"content":"slow"}}]})");
  auto r = timed_post(sim.base_url(), "/api/chat", chat_body("m", "x", false), role_headers("coder"));
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(r.total, std::chrono::milliseconds(600));
  // Per-rule latency: ttft overridden, tokens_per_s inherited.
  auto slow = timed_post(sim.base_url(), "/api/chat", chat_body("m", "x", false), role_headers("slow"));
  EXPECT_GE(slow.total, std::chrono::milliseconds(400));
}

TEST(SimCli, StreamedRepliesArePacedAfterTheFirstToken) {
  auto sim = sim_process::start(R"({"latency":{"ttft_ms":200,"tokens_per_s":50},
      "rules":[{"response":{"content":"0123456789012345678901234567890123456789"}}]})");
  // 40 chars = 10 tokens at 50 tokens/s = 200 ms of streaming after 200 ms ttft.
  auto r = timed_post(sim.base_url(), "/v1/chat/completions", chat_body("m", "x", true));
  ASSERT_EQ(r.status, 200);
  ASSERT_FALSE(r.arrivals.empty());
  EXPECT_GE(r.arrivals.front(), std::chrono::milliseconds(200));
  EXPECT_GE(r.total, std::chrono::milliseconds(400));
  EXPECT_GE(r.arrivals.size(), 3u);
  EXPECT_EQ(openai_content(r.body, true), "0123456789012345678901234567890123456789");
}
