// worker_pool: the planner's slots of local and joined coders/fixers (the
// planner actor keeps their handles in the same order).
#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "actors/worker_pool.hpp"

using namespace codehive;

namespace {

std::size_t coders(std::size_t n) {
  return n;
}
std::size_t fixers(std::size_t n) {
  return n;
}

TEST(WorkerPool, LabelsNameTheNodeAndNumberPerNode) {
  worker_pool p;
  p.add("local", coders(2), fixers(1));
  p.add("gpu0", coders(2), fixers(1));
  ASSERT_EQ(p.coders().size(), 4u);
  EXPECT_EQ(p.coders()[0].label, "coder-1");
  EXPECT_EQ(p.coders()[1].label, "coder-2");
  EXPECT_EQ(p.coders()[2].label, "gpu0/coder-1");
  EXPECT_EQ(p.fixers()[1].label, "gpu0/fixer-1");
  // A node that rejoins gets new, distinct labels.
  p.add("gpu0", coders(1), 0);
  EXPECT_EQ(p.coders()[4].label, "gpu0/coder-3");
}

TEST(WorkerPool, FreeCoderAvoidsTheLastWorkerWhenItCan) {
  worker_pool p;
  p.add("local", coders(2), 0);
  EXPECT_EQ(p.free_coder(-1), 0);
  EXPECT_EQ(p.free_coder(0), 1);
  p.occupy_coder(1, 1);
  EXPECT_EQ(p.free_coder(0), 0);  // the only one left, even if it failed last time
  p.occupy_coder(0, 1);
  EXPECT_EQ(p.free_coder(-1), -1);
  EXPECT_EQ(p.busy_coders(), 2);
}

TEST(WorkerPool, LosingANodeFreesItsSlotsAndReturnsTheirTickets) {
  worker_pool p;
  p.add("local", coders(1), fixers(1));
  p.add("w1", coders(2), fixers(1));
  p.occupy_coder(1, 7);
  p.occupy_fixer(1, 9);
  p.occupy_coder(0, 3);
  auto tickets = p.lose_node("w1");
  EXPECT_EQ(tickets, (std::vector<std::uint64_t>{7, 9}));
  EXPECT_EQ(p.live_coders(), 1);
  EXPECT_EQ(p.live_fixers(), 1);
  EXPECT_FALSE(p.coders()[1].busy);
  EXPECT_EQ(p.free_coder(-1), -1);  // dead slots never come back; local one is busy
  EXPECT_TRUE(p.lose_node("w1").empty());  // twice is harmless
  EXPECT_EQ(p.free_fixer(), 0);
}

TEST(WorkerPool, WorkGoesToTheLeastLoadedNode) {
  worker_pool p;
  p.add("w1", coders(4), 0);
  p.add("w2", coders(4), 0);
  p.add("w3", coders(4), 0);
  std::vector<int> picks;
  for (int i = 0; i < 6; ++i) {
    int c = p.free_coder(-1);
    ASSERT_GE(c, 0);
    p.occupy_coder(c, static_cast<std::uint64_t>(i + 1));
    picks.push_back(c);
  }
  // Two tasks on each node, not six on the first.
  EXPECT_EQ(p.busy_on("w1"), 2);
  EXPECT_EQ(p.busy_on("w2"), 2);
  EXPECT_EQ(p.busy_on("w3"), 2);
  EXPECT_EQ(picks[0], 0);
  EXPECT_EQ(picks[1], 4);
  EXPECT_EQ(picks[2], 8);
}

TEST(WorkerPool, AThousandCodersOverEightNodesFillEvenlyAndAFreedSlotIsTakenFirst) {
  worker_pool p;
  for (int n = 0; n < 8; ++n)
    p.add("w" + std::to_string(n), coders(125), fixers(1));
  std::map<std::string, int> per_node;
  for (int i = 0; i < 1000; ++i) {
    int c = p.free_coder(-1);
    ASSERT_GE(c, 0) << "after " << i;
    // Never more than one task above the least-loaded node.
    ++per_node[p.coders()[static_cast<std::size_t>(c)].node];
    p.occupy_coder(c, static_cast<std::uint64_t>(i + 1));
    int lo = 1000, hi = 0;
    for (int n = 0; n < 8; ++n) {
      lo = std::min(lo, p.busy_on("w" + std::to_string(n)));
      hi = std::max(hi, p.busy_on("w" + std::to_string(n)));
    }
    ASSERT_LE(hi - lo, 1) << "after " << i;
  }
  EXPECT_EQ(p.free_coder(-1), -1);
  EXPECT_EQ(p.busy_coders(), 1000);
  for (const auto& [node, n] : per_node)
    EXPECT_EQ(n, 125) << node;
  // A slot freed on w3 is the only free one: it is picked, even when it is
  // the one to avoid.
  auto slot = 3 * 125 + 7;
  p.release_coder(slot, p.coders()[static_cast<std::size_t>(slot)].ticket);
  EXPECT_EQ(p.free_coder(-1), slot);
  EXPECT_EQ(p.free_coder(slot), slot);
  // Losing w3 takes its 124 busy slots' tickets and its free one.
  EXPECT_EQ(p.lose_node("w3").size(), 124u);
  EXPECT_EQ(p.free_coder(-1), -1);
  EXPECT_EQ(p.live_coders(), 875);
  EXPECT_EQ(p.live_fixers(), 7);
  EXPECT_FALSE(p.has_live_slots("w3"));
  EXPECT_TRUE(p.has_live_slots("w4"));
}

}  // namespace
