// The controller's live view (what /api/nodes and /metrics show): nodes with
// their slots and load, the ready queue, a node's generation speed from its
// replies, and a lost node marked so.
#include <algorithm>

#include <gtest/gtest.h>

#include "tests/planner/harness.hpp"

using namespace codehive;
using codehive::test::harness;
using codehive::test::plan_json;

namespace {

const live_node* find_node(const live_view& v, const std::string& name) {
  auto it = std::find_if(v.nodes.begin(), v.nodes.end(), [&](const live_node& n) { return n.name == name; });
  return it == v.nodes.end() ? nullptr : &*it;
}

}  // namespace

TEST(LiveView, ShowsNodesSlotsLoadQueueAndALostNode) {
  harness h;
  // Three independent tasks and one that waits for them: with one coder
  // busy, two tasks are ready and waiting.
  h.always_plan(plan_json(
    {{"t1", "a.js", {}}, {"t2", "b.js", {}}, {"t3", "c.js", {}}, {"t4", "d.js", {"t1"}}}));
  h.start(0, 0);
  auto before = h.ctl->view("qwen-local");
  EXPECT_EQ(before.source, "planner");
  EXPECT_EQ(before.run_id, h.run_id);
  EXPECT_TRUE(before.nodes.empty()) << "no slots yet";

  h.ctl->on_worker_offer("gpu-1", 1, 1, "qwen2.5-coder:7b");
  h.collect();
  auto asked = h.answer_until<planner::ask_coder>();
  ASSERT_TRUE(asked);

  auto busy = h.ctl->view("qwen-local");
  EXPECT_EQ(busy.phase, msg::run_phase::coding);
  EXPECT_EQ(busy.ready_tasks, 2) << "t2 and t3 wait for the one coder; t4 waits for t1";
  EXPECT_EQ(busy.tasks_in_flight, 1);
  const auto* gpu = find_node(busy, "gpu-1");
  ASSERT_NE(gpu, nullptr);
  EXPECT_TRUE(gpu->alive);
  EXPECT_EQ(gpu->model, "qwen2.5-coder:7b");
  EXPECT_EQ(gpu->coders, 1);
  EXPECT_EQ(gpu->fixers, 1);
  EXPECT_EQ(gpu->busy_coders, 1);
  ASSERT_EQ(gpu->coder_slots.size(), 1u);
  EXPECT_EQ(gpu->coder_slots[0].label, "gpu-1/coder-1");
  EXPECT_TRUE(gpu->coder_slots[0].busy);
  EXPECT_GT(gpu->joined_ms, 0);
  EXPECT_EQ(gpu->tokens_per_s, 0) << "no reply yet";

  // Its reply carries the call's speed (the harness's coder: 40 tokens/s).
  h.answer(*asked);
  h.collect();
  auto answered = h.ctl->view("qwen-local");
  gpu = find_node(answered, "gpu-1");
  ASSERT_NE(gpu, nullptr);
  EXPECT_DOUBLE_EQ(gpu->tokens_per_s, 40);
  EXPECT_EQ(gpu->calls, 1);
  EXPECT_EQ(gpu->completion_tokens, 20);
  EXPECT_GE(gpu->last_seen_ms, gpu->joined_ms);

  h.ctl->on_node_lost("gpu-1", "connection lost");
  h.collect();
  auto lost = h.ctl->view("qwen-local");
  gpu = find_node(lost, "gpu-1");
  ASSERT_NE(gpu, nullptr);
  EXPECT_FALSE(gpu->alive);
  EXPECT_EQ(gpu->coders, 0);
  EXPECT_EQ(gpu->busy_coders, 0);
}

TEST(LiveView, TheLocalNodeCarriesTheLocalModelAndIsAlwaysJustSeen) {
  harness h;
  h.start(2, 1);
  auto v = h.ctl->view("qwen-local");
  const auto* local = find_node(v, "local");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->model, "qwen-local");
  EXPECT_EQ(local->coders, 2);
  EXPECT_EQ(local->fixers, 1);
  EXPECT_EQ(local->last_seen_ms, v.at_ms);
  ASSERT_EQ(local->coder_slots.size(), 2u);
  EXPECT_EQ(local->coder_slots[1].label, "coder-2");
}
