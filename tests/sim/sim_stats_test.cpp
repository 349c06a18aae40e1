// /sim/stats counts and /sim/reset, concurrency and Bearer-token counting.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/sim/sim_test_util.hpp"

using namespace sim_test;

TEST(SimStats, CountsByRolePathRuleAndFault) {
  auto sim = sim_process::start(R"({"rules":[
      {"name":"plan","match":{"role":"planner"},"response":{"json":{"tasks":[]}}},
      {"name":"code","match":{"role":"coder"},"responses":[{"fault":"429"},{"content":"x"}]}],
      "default":{"content":"d"}})");
  ollama_chat(sim, "p", false, role_headers("planner"));
  ollama_chat(sim, "c", false, role_headers("coder", "index.html"));
  openai_chat(sim, "c", true, role_headers("coder", "index.html"));
  ollama_chat(sim, "f", false, role_headers("fixer", "index.html"));
  ollama_chat(sim, "n", false);

  auto s = parse(sim.stats_json());
  ASSERT_FALSE(s.HasParseError());
  EXPECT_EQ(s["total"].GetInt(), 5);
  EXPECT_EQ(sim.total(), 5);
  EXPECT_EQ(sim.count_role("planner"), 1);
  EXPECT_EQ(sim.count_role("coder"), 2);
  EXPECT_EQ(sim.count_role("fixer"), 1);
  EXPECT_EQ(sim.count_path("index.html"), 3);
  EXPECT_EQ(sim.count_role_path("coder", "index.html"), 2);
  EXPECT_EQ(sim.count_role_path("fixer", "index.html"), 1);
  EXPECT_EQ(sim.count_role_path("planner", "index.html"), 0);
  EXPECT_EQ(sim.count_rule("plan"), 1);
  EXPECT_EQ(sim.count_rule("code"), 2);
  EXPECT_EQ(sim.count_fault("429"), 1);
  EXPECT_EQ(sim.unmatched(), 2);
  EXPECT_EQ(s["by_api"]["ollama"].GetInt(), 4);
  EXPECT_EQ(s["by_api"]["openai"].GetInt(), 1);
  EXPECT_TRUE(s["by_role_path"].HasMember("coder|index.html"));
  // GET endpoints are not counted.
  http_get(sim.base_url(), "/api/tags");
  EXPECT_EQ(sim.total(), 5);
}

TEST(SimStats, ResetZeroesCounts) {
  auto sim = sim_process::start(R"({"rules":[{"name":"r","response":{"content":"x"}}]})");
  ollama_chat(sim, "x", false, role_headers("coder", "a.js"));
  ASSERT_EQ(sim.total(), 1);
  sim.reset();
  EXPECT_EQ(sim.total(), 0);
  EXPECT_EQ(sim.count_role("coder"), 0);
  EXPECT_EQ(sim.count_role_path("coder", "a.js"), 0);
  EXPECT_EQ(sim.count_rule("r"), 0);
  EXPECT_EQ(sim.max_in_flight(), 0);
}

TEST(SimStats, FiftyConcurrentRequestsAllServedInParallel) {
  auto sim = sim_process::start(
      R"({"latency":{"ttft_ms":1000},"rules":[{"match":{"role":"coder"},"response":{"content":"ok"}}]})");
  constexpr int n = 50;
  std::vector<int> status(n, 0);
  std::vector<std::string> errors(n);
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      auto r = i % 2 ? ollama_chat(sim, "x", i % 4 == 1, role_headers("coder", "f" + std::to_string(i)))
                     : openai_chat(sim, "x", i % 4 == 0, role_headers("coder", "f" + std::to_string(i)));
      status[i] = r.status;
      if (r.status != 200) errors[i] = r.error + " " + r.body;
    });
  for (auto& t : threads) t.join();
  const auto took = std::chrono::steady_clock::now() - t0;
  for (int i = 0; i < n; ++i) EXPECT_EQ(status[i], 200) << i << ": " << errors[i];
  EXPECT_EQ(sim.count_role("coder"), n);
  for (int i = 0; i < n; ++i) EXPECT_EQ(sim.count_role_path("coder", "f" + std::to_string(i)), 1);
  // They overlapped: most were in flight together (a serial server would show 1).
  EXPECT_GE(sim.max_in_flight(), 25);
  EXPECT_GE(took, std::chrono::milliseconds(1000));
}

TEST(SimStats, CountsBearerTokensWithoutLoggingThem) {
  auto sim = sim_process::start(R"({"rules":[{"response":{"content":"x"}}]})");
  openai_chat(sim, "x", false, {{"Authorization", "Bearer sk-secret-123"}});
  openai_chat(sim, "x", false);
  ollama_chat(sim, "x", false, {{"Authorization", "Basic abc"}});
  EXPECT_EQ(sim.with_bearer(), 1);
  EXPECT_EQ(sim.output().find("sk-secret-123"), std::string::npos) << sim.output();
}
