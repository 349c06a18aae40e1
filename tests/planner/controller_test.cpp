// The run controller driven as a sequence of events, with no actor system,
// no process and no socket: a whole run, refused plans, retries and
// escalation, lost nodes and late replies (in coding and in a fix round),
// budgets, cancel and deadline, and a restart at every point of a run.
#include <algorithm>

#include <gtest/gtest.h>

#include "tests/planner/harness.hpp"

using namespace codehive;
using codehive::test::harness;
using codehive::test::one_fix_round;
using codehive::test::plan_json;
using codehive::test::plan_reply;
using stored = store::task_state;

namespace {

planner::failure bad_answer(std::string why) {
  planner::failure f;
  f.reason = std::move(why);
  f.code = "bad_answer";
  return f;
}

planner::failure unreachable() {
  planner::failure f;
  f.reason = "connection refused";
  f.code = "model_unreachable";
  f.transport = true;
  return f;
}

}  // namespace

TEST(Controller, AWholeRunCodesEachFileOnceInDependencyOrderAndEndsClean) {
  harness h;
  std::vector<std::string> order;
  h.on_code = [&](const msg::code_request& req, int) {
    order.push_back(req.task.id);
    return std::optional<planner::failure>{};
  };
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->state, msg::run_outcome::done);
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_EQ(order, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(h.coded["index.html"], 1);
  EXPECT_EQ(h.coded["app.js"], 1);
  EXPECT_EQ(h.plans_asked, 1);
  EXPECT_EQ(h.reviews_asked, 1);
  EXPECT_EQ(h.stored_state("t1"), stored::done);
  EXPECT_EQ(h.stored_state("t2"), stored::done);
  auto run = h.store->get_run(h.run_id);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->state, store::run_state::done);
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_GT(h.exports_written, 0);
  EXPECT_EQ(h.progress_kinds.back(), "finished");
}

// Progress events carry what one coder generates per second: nothing before
// the first coder has answered, then the coders' speed (the harness's coders
// report 40 tokens/s). (The line that shows it: NodeProgress, tests/nodes.)
TEST(Controller, ProgressCarriesTheCodersSpeedOnceOneHasAnswered) {
  harness h;
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  ASSERT_FALSE(h.progress_events.empty());
  EXPECT_EQ(h.progress_events.front().coder_tokens_per_s, 0);
  const msg::progress_event* done = nullptr;
  for (const auto& ev : h.progress_events)
    if (ev.kind == msg::progress_kind::task_done && !done)
      done = &ev;
  ASSERT_NE(done, nullptr);
  EXPECT_DOUBLE_EQ(done->coder_tokens_per_s, 40);
}

TEST(Controller, AnUnusablePlanIsAskedForAgainWithTheReason) {
  harness h;
  h.on_plan = [&](const planner::ask_plan& c) {
    if (h.plans_asked == 2) {
      const auto& last = c.request.messages.back().content;
      EXPECT_NE(last.find("the plan was refused"), std::string::npos) << last;
    }
    return plan_reply(c, h.plans_asked == 1 ? plan_json(
                           {{"t1", "a.js", {"app.js"}}})  // depends on a path, not an id
                                            : plan_json({{"t1", "a.js", {}}}));
  };
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.plans_asked, 2);
  EXPECT_EQ(h.result->exit_code, 0);
}

// Issue 16: a plan is bounded (plan.max_tasks) before its graph is built; a
// larger one is asked for again, naming the limit.
TEST(Controller, APlanOverPlanMaxTasksIsAskedForAgainNamingTheLimit) {
  harness h;
  h.settings->max_plan_tasks = 2;
  std::string second_prompt;
  h.on_plan = [&](const planner::ask_plan& c) {
    if (h.plans_asked == 1)
      return plan_reply(c, plan_json({{"t1", "a.js", {}}, {"t2", "b.js", {}}, {"t3", "c.js", {}}}));
    second_prompt = c.request.messages.back().content;
    return plan_reply(c, plan_json({{"t1", "a.js", {}}, {"t2", "b.js", {}}}));
  };
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.plans_asked, 2);
  EXPECT_NE(second_prompt.find("the plan has 3 tasks, more than plan.max_tasks (2)"), std::string::npos)
    << second_prompt;
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_EQ(h.coded.size(), 2u);
}

TEST(Controller, NoUsablePlanAfterTheAttemptsIsAModelFailure) {
  harness h;
  h.always_plan(R"({"tasks":[]})");
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.plans_asked, 3);
  EXPECT_EQ(h.result->state, msg::run_outcome::model_failure);
  EXPECT_EQ(h.result->exit_code, 3);
  EXPECT_NE(h.result->message.find("no usable plan after 3 attempts"), std::string::npos);
}

TEST(Controller, AFailingTaskIsRetriedOnAnotherCoderThenEscalatedToTheLargeModel) {
  harness h;
  std::vector<int> slots;
  h.on_code = [&](const msg::code_request& req, int slot) -> std::optional<planner::failure> {
    if (req.task.id != "t1")
      return std::nullopt;
    slots.push_back(slot);
    if (slot == planner::escalation_slot)
      return std::nullopt;
    return bad_answer("not JSON");
  };
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_NE(slots[0], slots[1]);  // the retry avoids the coder that failed
  EXPECT_EQ(slots[2], planner::escalation_slot);
  auto t1 = h.store->get_task(h.run_id, "t1");
  EXPECT_EQ(t1->attempts, 3);
  EXPECT_EQ(t1->state, stored::done);
}

TEST(Controller, ATransportFailureOfACoderStopsTheRunWithExit3) {
  harness h;
  h.on_code = [](const msg::code_request&, int) -> std::optional<planner::failure> {
    return unreachable();
  };
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->state, msg::run_outcome::model_failure);
  EXPECT_EQ(h.result->exit_code, 3);
  EXPECT_EQ(h.store->get_run(h.run_id)->state, store::run_state::failed);
}

TEST(Controller, ALostNodesTaskGoesElsewhereAndItsLateReplyIsDropped) {
  harness h;
  h.always_plan(plan_json({{"t1", "a.js", {}}}));
  h.start(0, 1);
  h.ctl->on_worker_offer("w1", 1, 0, "sim");
  h.collect();
  // Answer until w1's coder has the task.
  auto asked = h.answer_until<planner::ask_coder>();
  ASSERT_TRUE(asked);
  EXPECT_EQ(h.ctl->pool().coders().at(static_cast<std::size_t>(asked->slot)).node, "w1");
  h.ctl->on_node_lost("w1", "connection lost");
  h.collect();
  EXPECT_EQ(h.stored_state("t1"), stored::pending);
  // A second down message of the same node (one per monitored slot) changes nothing.
  h.ctl->on_node_lost("w1", "connection lost");
  EXPECT_TRUE(h.ctl->take_commands().empty());
  h.run_until_delivered();
  EXPECT_FALSE(h.result);
  EXPECT_EQ(std::count(h.progress_kinds.begin(), h.progress_kinds.end(), "worker_lost"), 1);
  EXPECT_EQ(h.progress_kinds.back(), "waiting");
  // w2 joins and gets the task at once.
  h.ctl->on_worker_offer("w2", 1, 0, "sim");
  h.collect();
  auto again = h.answer_until<planner::ask_coder>();
  ASSERT_TRUE(again);
  EXPECT_EQ(h.ctl->pool().coders().at(static_cast<std::size_t>(again->slot)).node, "w2");
  // w1's reply arrives after all: dropped (no edit is applied for it).
  msg::file_edit late;
  late.task_id = "t1";
  late.path = "a.js";
  late.action = msg::task_action::create;
  late.kind = msg::edit_kind::whole;
  late.content = "late";
  h.ctl->on_edit_made(asked->ticket, late);
  h.collect();
  EXPECT_FALSE(h.take<planner::apply_edit>());
  h.answer(*again);
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  auto content = h.store->get_file(h.run_id, "a.js");
  ASSERT_TRUE(content);
  EXPECT_EQ(content->content, "// a.js\n");
}

TEST(Controller, AWorkerLostDuringAFixRoundHasItsFixQueuedAgainForAnotherFixer) {
  harness h;
  one_fix_round(h);
  h.start(2, 0);
  h.ctl->on_worker_offer("w1", 0, 1, "sim");
  h.collect();
  auto asked = h.answer_until<planner::ask_fixer>();
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->request.issue.file, "app.js");
  EXPECT_EQ(h.ctl->run().phase, msg::run_phase::fixing);
  h.ctl->on_node_lost("w1", "connection lost");
  h.collect();
  EXPECT_EQ(h.stored_state(asked->request.fix_id), stored::pending);
  h.ctl->on_worker_offer("w2", 0, 1, "sim");
  h.collect();
  auto again = h.answer_until<planner::ask_fixer>();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->request.fix_id, asked->request.fix_id);
  EXPECT_EQ(h.ctl->pool().fixers().at(static_cast<std::size_t>(again->slot)).node, "w2");
  h.ctl->on_edit_failed(asked->ticket, bad_answer("late"));  // w1's late answer: dropped
  h.collect();
  h.answer(*again);
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_EQ(h.result->rounds, 2);
  EXPECT_EQ(h.stored_state(asked->request.fix_id), stored::done);
  EXPECT_EQ(h.store->get_file(h.run_id, "app.js")->content, "// fixed app.js\n");
}

TEST(Controller, EachLandedVersionIsPrecheckedOnceBeforeTheRoundsValidation) {
  harness h;
  one_fix_round(h);
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_EQ(h.result->rounds, 2);
  // Both tasks' versions, as each landed, then the fix's version of app.js.
  ASSERT_EQ(h.prechecks.size(), 3u);
  std::vector<std::string> coded{h.prechecks[0].path, h.prechecks[1].path};
  std::sort(coded.begin(), coded.end());
  EXPECT_EQ(coded, (std::vector<std::string>{"app.js", "index.html"}));
  EXPECT_EQ(h.prechecks[2].path, "app.js");
  EXPECT_EQ(h.prechecks[2].hash, store::sha256_hex("// fixed app.js\n"));
  for (std::size_t i = 0; i < 2; ++i)  // the version each task produced
    EXPECT_EQ(h.prechecks[i].hash, store::sha256_hex("// " + h.prechecks[i].path + "\n"));
  // Round 1 validates after both tasks' prechecks (the round starts after the
  // last task), round 2 after the fix's.
  EXPECT_EQ(h.validations, (std::vector<std::size_t>{2, 3}));
}

TEST(Controller, ATokenBudgetStopsTheRunAndKeepsWhatWasPaidFor) {
  harness h;
  msg::budget b;
  b.max_tokens = 200;  // the plan costs 150, each file 60
  h.start(2, 1, b);
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->state, msg::run_outcome::budget);
  EXPECT_EQ(h.result->exit_code, 4);
  EXPECT_EQ(h.store->get_run(h.run_id)->state, store::run_state::budget_stopped);
  // The answer that crossed the limit was applied and recorded.
  EXPECT_EQ(h.stored_state("t1"), stored::done);
  EXPECT_EQ(h.store->get_file(h.run_id, "index.html")->content, "// index.html\n");
}

TEST(Controller, AnOutputFolderThatRefusesWritesStopsTheRunAsLocalIoNotModelFailure) {
  harness h;
  int refused = 0;
  h.on_apply = [&](const msg::file_edit&) -> std::optional<planner::failure> {
    ++refused;
    planner::failure f;
    f.reason = "cannot create a temp file next to index.html: No space left on device";
    f.code = "io_error";
    f.local_io = true;
    return f;
  };
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->state, msg::run_outcome::local_io);
  EXPECT_EQ(h.result->exit_code, 6);
  EXPECT_EQ(refused, 1) << "no coder is asked again: the disk, not the answer, is the problem";
  EXPECT_NE(h.result->message.find("No space left on device"), std::string::npos);
  EXPECT_EQ(h.store->get_run(h.run_id)->state, store::run_state::failed);  // resumable
}

TEST(Controller, ACodersContextStaysBoundedAtAThousandFilesAndListsWhatItsInstructionsName) {
  harness h;
  std::string plan = R"({"tasks":[)";
  for (int i = 1; i <= 1000; ++i) {
    auto id = std::to_string(i);
    plan += (i > 1 ? "," : "") + std::string{R"({"id":"t)"} + id + R"(","action":"create","type":"file","path":"src/f)"
            + id + R"(.js","description":"module )" + id + R"(","instructions":")"
            + (i == 1000 ? "call helper() from lib/f999x.js and src/f3.js" : "write it") + R"("})";
  }
  plan += "]}";
  h.always_plan(plan);
  std::size_t largest = 0;
  std::vector<std::string> last_map;
  h.on_code = [&](const msg::code_request& req, int) -> std::optional<planner::failure> {
    largest = std::max(largest, req.context.size());
    if (req.task.id == "t1000") {
      last_map.clear();
      for (const auto& f : req.context)
        last_map.push_back(f.path);
    }
    return std::nullopt;
  };
  h.start(4, 1);
  h.run_until_delivered(100000);
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_EQ(largest, h.settings->context_map_entries) << "the map is capped, not 999 entries";
  ASSERT_FALSE(last_map.empty());
  EXPECT_EQ(last_map.front(), "src/f3.js") << "a file the instructions name comes first";
}

TEST(Controller, ACodersContextMapListsWhatItsInstructionsNameThenItsFolderThenTheRest) {
  harness h;
  auto task = [](std::string id, std::string path, std::string instructions) {
    return R"({"id":")" + id + R"(","action":"create","type":"file","path":")" + path
           + R"(","description":"a module","instructions":")" + instructions + R"("})";
  };
  h.always_plan(R"({"tasks":[)" + task("t1", "b/other.js", "write it") + ","
                + task("t2", "a/x.js", "write it") + "," + task("t3", "b/named.js", "write it")
                + "," + task("t4", "a/z.js", "write it") + ","
                + task("t5", "c/med.js", "write it") + ","
                + task("t6", "a/target.js", "call run() from named.js.") + "]}");
  std::vector<std::string> map;
  h.on_code = [&](const msg::code_request& req, int) -> std::optional<planner::failure> {
    if (req.task.id == "t6")
      for (const auto& f : req.context)
        map.push_back(f.path);
    return std::nullopt;
  };
  h.start(1, 1);  // one coder: t6 is asked for last, when the others have landed
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(map, (std::vector<std::string>{"b/named.js", "a/x.js", "a/z.js", "b/other.js",
                                           "c/med.js"}))
    << "named first (a whole name: named.js does not name med.js), then the target's folder, "
       "then the rest in plan order";
}

TEST(Controller, APlannedFolderIsMadeByTheTrackerBeforeTheFilesInItAndIsNoFileToReview) {
  harness h;
  h.always_plan(R"({"tasks":[{"id":"d","action":"create","type":"folder","path":"assets",
      "description":"assets","instructions":""},{"id":"f","action":"create","type":"file",
      "path":"assets/a.js","description":"a","instructions":"write it","depends_on":["d"]}]})");
  std::vector<std::string> validated;
  h.on_validate = [&](const std::vector<std::string>& paths) {
    validated = paths;
    return msg::validation_report{};
  };
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_EQ(h.folders_made, 1);
  EXPECT_EQ(h.coded.count("assets"), 0u) << "no model is asked for a folder";
  EXPECT_EQ(validated, std::vector<std::string>{"assets/a.js"});
  ASSERT_EQ(h.prechecks.size(), 1u) << "a folder is no file to check";
  EXPECT_EQ(h.prechecks[0].path, "assets/a.js");
  EXPECT_EQ(h.stored_state("d"), stored::done);
  const auto& rec = h.ctl->run().task_records.at(0);
  EXPECT_EQ(rec.finished_ms - rec.started_ms, 0) << "a real duration, not since 1970";
}

TEST(Controller, ExportsAreWrittenOncePerTimerNotOncePerTaskAndCompleteAtTheEnd) {
  harness h;
  h.hold_export_timers = true;  // the timer never fires during the run
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_EQ(h.export_timers_held, 1) << "one timer for every change while it runs";
  EXPECT_EQ(h.exports_written, 0);
  ASSERT_EQ(h.final_exports.size(), 4u);
  const auto& status = h.final_exports.back();
  EXPECT_EQ(status.name, "status.json");
  EXPECT_NE(status.content.find("\"done\""), std::string::npos);
}

TEST(Controller, TaskCompletionsWithinOneIntervalGiveOneExportWriteAndTheFinalOne) {
  harness h;
  h.hold_export_timers = true;  // the interval is over only when the test says so
  h.always_plan(plan_json({{"t1", "a.js", {}},
                           {"t2", "b.js", {}},
                           {"t3", "c.js", {}},
                           {"t4", "d.js", {}},
                           {"t5", "e.js", {}}}));
  h.start();
  auto all_done = [&] {
    return h.ctl->run().graph && h.ctl->run().graph->count(graph_task_state::done) == 5;
  };
  while (!all_done() && h.answer_next()) {
  }
  ASSERT_TRUE(all_done());
  EXPECT_EQ(h.export_timers_held, 1) << "one timer for the plan and five completions";
  EXPECT_EQ(h.exports_written, 0);
  h.ctl->on_exports_due();  // the interval is over
  h.collect();
  auto written = h.take<planner::write_exports>();
  ASSERT_TRUE(written);
  ASSERT_EQ(written->files.size(), 4u);
  EXPECT_EQ(written->files.back().name, "status.json");
  EXPECT_NE(written->files.back().content.find("e.js"), std::string::npos)
      << "one write holds every completion of the interval";
  h.answer(std::move(*written));
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_EQ(h.exports_written, 1) << "no other write while the timers were held";
  ASSERT_EQ(h.final_exports.size(), 4u) << "and the complete ones at the end";
}

TEST(Controller, TheExportsWaitLongerForALargerPlanSoTheirCostPerTaskStaysFlat) {
  auto last_delay = [](std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> tasks) {
    harness h;  // timers answered at once: one delay per change batch, after the plan too
    h.settings->exports_interval_ms = 500;
    h.settings->exports_interval_per_task_us = 200000;  // 200 ms per planned task
    h.always_plan(plan_json(tasks));
    h.start();
    h.run_until_delivered();
    EXPECT_TRUE(h.result && h.result->exit_code == 0);
    return h.export_delays.empty() ? std::int64_t{-1} : h.export_delays.back();
  };
  EXPECT_EQ(last_delay({{"t1", "a.js", {}}}), 500) << "a small plan: the interval";
  EXPECT_EQ(last_delay({{"t1", "a.js", {}}, {"t2", "b.js", {}}, {"t3", "c.js", {}},
                         {"t4", "d.js", {}}}),
            800)
      << "4 tasks x 200 ms";
}

TEST(Controller, CancelAndDeadlineEndTheRunResumably) {
  {
    harness h;
    h.start();
    h.answer_next();
    h.ctl->on_cancel();
    h.collect();
    h.run_until_delivered();
    ASSERT_TRUE(h.result);
    EXPECT_EQ(h.result->exit_code, 130);
    EXPECT_EQ(h.store->get_run(h.run_id)->state, store::run_state::cancelled);
  }
  {
    harness h;
    h.start();
    h.ctl->on_deadline();
    h.collect();
    h.run_until_delivered();
    ASSERT_TRUE(h.result);
    EXPECT_EQ(h.result->state, msg::run_outcome::deadline);
    EXPECT_EQ(msg::row_of(h.result->state).shown, "budget") << "the user sees a budget stop";
    EXPECT_EQ(h.result->exit_code, 4);
    EXPECT_EQ(h.store->get_run(h.run_id)->state, store::run_state::deadline_stopped);
  }
}

// A process killed after any number of answered commands: a new controller
// on the same store finishes the run, and nothing that was done is asked
// again (plans, files, fixes).
TEST(Controller, ARestartAtAnyPointFinishesTheRunWithoutRedoingDoneWork) {
  int total = 0;
  {
    harness h;
    one_fix_round(h);
    h.start();
    while (!h.result && h.answer_next())
      ++total;
    ASSERT_TRUE(h.result);
    ASSERT_EQ(h.result->exit_code, 0);
  }
  ASSERT_GT(total, 10);
  for (int stop_after = 0; stop_after < total; ++stop_after) {
    SCOPED_TRACE("stopped after " + std::to_string(stop_after) + " answers");
    harness h;
    one_fix_round(h);
    h.start();
    for (int i = 0; i < stop_after && !h.result; ++i)
      h.answer_next();
    std::set<std::string> done_before;
    for (const auto& id : {"t1", "t2"})
      if (h.store->get_task(h.run_id, id) && h.stored_state(id) == stored::done)
        done_before.insert(id);
    auto plans_before = h.plans_asked;
    auto coded_before = h.coded;
    if (h.result)
      continue;  // finished before the "kill"
    h.restart();
    h.start();
    h.run_until_delivered();
    ASSERT_TRUE(h.result);
    EXPECT_EQ(h.result->exit_code, 0) << h.result->message;
    if (plans_before > 0 && h.store->get_task(h.run_id, "t1")) {
      EXPECT_EQ(h.plans_asked, plans_before) << "a stored plan is not asked for again";
    }
    if (done_before.count("t1")) {
      EXPECT_EQ(h.coded["index.html"], coded_before["index.html"]);
    }
    if (done_before.count("t2")) {
      EXPECT_EQ(h.coded["app.js"], coded_before["app.js"]);
    }
    EXPECT_EQ(h.store->get_file(h.run_id, "app.js")->content, "// fixed app.js\n");
  }
}
