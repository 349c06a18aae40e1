// The task transitions of one controller event go to the run store as one
// synced batch, committed before any command of the event is handed out; a
// commit that fails ends the run as local_io and hands out none of them.
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/planner/harness.hpp"

using namespace codehive;
using codehive::test::harness;
using codehive::test::plan_json;
using stored = store::task_state;

namespace {

/// Two independent tasks and one coder: t2 waits until t1's edit is applied.
/// Returns t1's edit, asked of the tracker and not yet answered.
planner::apply_edit first_edit(harness& h) {
  h.always_plan(plan_json({{"t1", "a.js", {}}, {"t2", "b.js", {}}}));
  h.start(1, 1);
  auto edit = h.answer_until<planner::apply_edit>();
  if (!edit)
    throw std::runtime_error("t1's edit never reached the tracker");
  return *edit;
}

/// What the tracker does with an edit: its version goes to the store, the
/// controller hears that it was applied. Returns the commands of that event.
std::vector<planner::command> apply(harness& h, const planner::apply_edit& c) {
  auto v =
    h.store->put_file(h.run_id, c.edit.path, c.edit.content, store::from_task(c.edit.task_id));
  if (!v)
    throw std::runtime_error("cannot store " + c.edit.path + ": " + v.err().describe());
  msg::applied_file a;
  a.path = c.edit.path;
  a.version = static_cast<std::int64_t>(v->version);
  a.hash = v->hash;
  a.changed_in_run = true;
  h.ctl->on_applied(c.ticket, a);
  return h.ctl->take_commands();
}

template <class C>
int count(const std::vector<planner::command>& cmds) {
  int n = 0;
  for (const auto& c : cmds)
    n += std::holds_alternative<C>(c) ? 1 : 0;
  return n;
}

bool has_progress(const std::vector<planner::command>& cmds, msg::progress_kind kind) {
  for (const auto& c : cmds)
    if (const auto* p = std::get_if<planner::report_progress>(&c); p && p->event.kind == kind)
      return true;
  return false;
}

std::vector<std::string> task_events(const harness& h) {
  std::vector<std::string> out;
  auto events = h.store->read_events(h.run_id);
  if (!events)
    throw std::runtime_error("cannot read the events: " + events.err().describe());
  for (const auto& e : *events)
    if (e.type == "task")
      out.push_back(e.data_json);
  return out;
}

}  // namespace

TEST(ControllerStoreBatch, ATasksDoneAndTheFreedCodersNextAssignmentAreOneSyncedWrite) {
  harness h;
  auto edit = first_edit(h);
  ASSERT_EQ(edit.edit.task_id, "t1");
  ASSERT_EQ(h.stored_state("t2"), stored::pending) << "t2 waits for the one coder";
  auto events_before = task_events(h).size();
  auto writes = h.store->write_stats().count;
  auto out = apply(h, edit);
  EXPECT_EQ(h.store->write_stats().count, writes + 2)
    << "the tracker's version, then t1's done and t2's assigned in one batch";
  EXPECT_EQ(h.stored_state("t1"), stored::done);
  EXPECT_EQ(h.stored_state("t2"), stored::assigned);
  auto events = task_events(h);
  ASSERT_EQ(events.size(), events_before + 2);
  EXPECT_NE(events[events_before].find(R"("task":"t1","from":"assigned","to":"done")"),
            std::string::npos);
  EXPECT_NE(events[events_before + 1].find(R"("task":"t2","from":"pending","to":"assigned")"),
            std::string::npos);
  EXPECT_EQ(count<planner::read_files>(out), 1) << "t2's files are read for its coder";
  for (auto& c : out)
    h.pending.push_back(std::move(c));
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0) << h.result->message;
}

// The commit is made to fail by a state the controller does not expect (t2
// already assigned behind its back): the store refuses the whole batch, as it
// refuses every write after a failed one on a full disk.
TEST(ControllerStoreBatch, AFailingCommitEndsTheRunAsLocalIoAndHandsOutNoneOfTheEventsCommands) {
  harness h;
  auto edit = first_edit(h);
  ASSERT_TRUE(h.store->transition(h.run_id, "t2", stored::assigned, store::by_worker("elsewhere")));
  auto out = apply(h, edit);
  EXPECT_EQ(h.stored_state("t1"), stored::assigned) << "t1's done went with t2's refused move";
  EXPECT_EQ(count<planner::read_files>(out), 0);
  EXPECT_EQ(count<planner::ask_coder>(out), 0);
  EXPECT_EQ(count<planner::precheck>(out), 0) << "nothing acts on t1's done";
  EXPECT_EQ(count<planner::schedule_exports>(out), 0);
  EXPECT_FALSE(has_progress(out, msg::progress_kind::task_done));
  EXPECT_FALSE(has_progress(out, msg::progress_kind::task_start));
  EXPECT_TRUE(has_progress(out, msg::progress_kind::finished));
  EXPECT_EQ(count<planner::collect_final_records>(out), 1) << "the end's own commands go out";
  for (auto& c : out)
    h.pending.push_back(std::move(c));
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->state, msg::run_outcome::local_io);
  EXPECT_NE(h.result->message.find("cannot record the task state"), std::string::npos)
    << h.result->message;
  EXPECT_EQ(h.coded.count("b.js"), 0u);
  EXPECT_EQ(h.store->get_run(h.run_id)->state, store::run_state::failed);  // resumable
}

// The last task's done is committed when the review round starts (before its
// phase event); when that commit fails, the round's validate is dropped too.
TEST(ControllerStoreBatch, ACommitThatFailsBeforeAnotherStoreWriteDropsTheRestOfTheEvent) {
  harness h;
  h.always_plan(plan_json({{"t1", "a.js", {}}}));
  h.start(1, 1);
  auto edit = h.answer_until<planner::apply_edit>();
  ASSERT_TRUE(edit);
  ASSERT_TRUE(h.store->transition(h.run_id, "t1", stored::pending, store::because("elsewhere")));
  auto out = apply(h, *edit);
  EXPECT_EQ(count<planner::validate>(out), 0);
  EXPECT_FALSE(has_progress(out, msg::progress_kind::validate));
  EXPECT_TRUE(has_progress(out, msg::progress_kind::finished));
  for (auto& c : out)
    h.pending.push_back(std::move(c));
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->state, msg::run_outcome::local_io);
  EXPECT_EQ(h.stored_state("t1"), stored::pending);
}
