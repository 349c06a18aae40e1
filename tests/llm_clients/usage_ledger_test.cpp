#include "llm/usage_ledger.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using namespace codehive::llm;

namespace {
usage make(const std::string& role, const std::string& model, int p, int c, double cost, int attempts = 1) {
  usage u;
  u.role = role;
  u.model = model;
  u.prompt_tokens = p;
  u.completion_tokens = c;
  u.cost_usd = cost;
  u.attempts = attempts;
  u.latency = std::chrono::milliseconds{10};
  return u;
}
}  // namespace

TEST(UsageLedger, TotalsPerRoleAndModel) {
  usage_ledger l;
  l.record(make("coder", "small", 100, 50, 0.01));
  l.record(make("coder", "small", 10, 5, 0.001, 3), errc::timeout);
  l.record(make("planner", "large", 1000, 200, 0.5));
  auto s = l.snapshot();
  EXPECT_EQ(s.total.calls, 3);
  EXPECT_EQ(s.total.failures, 1);
  EXPECT_EQ(s.total.attempts, 5);
  EXPECT_EQ(s.total.prompt_tokens, 1110);
  EXPECT_EQ(s.total.completion_tokens, 255);
  EXPECT_DOUBLE_EQ(s.total.cost_usd, 0.511);
  EXPECT_EQ(s.total.latency, std::chrono::milliseconds{30});
  ASSERT_EQ(s.by_role.size(), 2u);
  EXPECT_EQ(s.by_role["coder"].calls, 2);
  EXPECT_EQ(s.by_role["coder"].errors["timeout"], 1);
  EXPECT_EQ(s.by_role["planner"].prompt_tokens, 1000);
  EXPECT_EQ(s.by_model["large"].completion_tokens, 200);
  ASSERT_EQ(s.records.size(), 3u);
  EXPECT_EQ(s.records[1].outcome, errc::timeout);
  EXPECT_FALSE(s.records[0].outcome.has_value());
  l.clear();
  EXPECT_EQ(l.totals().calls, 0);
}

TEST(UsageLedger, ConcurrentRecordsAreAllCounted) {
  usage_ledger l;
  auto obs = l.observer();
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) obs(make(t % 2 ? "coder" : "fixer", "m", 1, 2, 0), std::nullopt);
    });
  for (auto& t : ts) t.join();
  auto s = l.snapshot();
  EXPECT_EQ(s.total.calls, 4000);
  EXPECT_EQ(s.total.completion_tokens, 8000);
  EXPECT_EQ(s.by_role["coder"].calls, 2000);
  EXPECT_EQ(s.by_role["fixer"].calls, 2000);
}
