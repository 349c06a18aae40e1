// restore_run: a planner_run rebuilt from what a real RocksDB store holds, as
// the planner uses it to continue a run (and `export` to render it).
#include <gtest/gtest.h>

#include "actors/run_restore.hpp"
#include "storage/run_store.hpp"
#include "tests/support/sim_process.hpp"

using namespace codehive;
using codehive::test::temp_dir;

namespace {

struct RunRestore : ::testing::Test {
  temp_dir dir{"codehive-restore"};
  std::unique_ptr<store::run_store> st = std::move(*store::run_store::open(dir / "store"));
  std::string run = *st->create_run("a board", R"({"out_dir":"/tmp/x","max_rounds":2,"max_tokens":900})");
  retry_policy policy;  // 2 small attempts, then 1 large

  static store::task_spec task(std::string id, std::string path, std::vector<std::string> deps = {}) {
    store::task_spec t;
    t.id = std::move(id);
    t.path = std::move(path);
    t.depends_on = std::move(deps);
    return t;
  }

  restored_run restore() {
    std::string err;
    auto r = restore_run(*st, run, policy, err);
    if (!r)
      throw std::runtime_error(err);
    return std::move(*r);
  }
};

TEST_F(RunRestore, NewRunHasNoPlan) {
  auto r = restore();
  EXPECT_FALSE(r.planned);
  EXPECT_EQ(r.run.request, "a board");
  EXPECT_EQ(r.run.out_dir, "/tmp/x");
  EXPECT_EQ(r.run.max_rounds, 2);
  EXPECT_EQ(r.run.limits.max_tokens, 900);
}

TEST_F(RunRestore, ReplaysTaskHistoriesOnTheGraph) {
  ASSERT_TRUE(st->put_plan(run, {task("a", "a.js"), task("b", "b.js", {"a"}), task("c", "c.js"),
                                 task("d", "d.js", {"c"})}));
  using store::task_state;
  // a: done. b: in flight at the crash. c: failed twice on small models -> escalated.
  ASSERT_TRUE(st->transition(run, "a", task_state::assigned, store::by_worker("coder-2")));
  ASSERT_TRUE(st->put_file_version(run, "a.js", "let a;\n", store::from_task("a")));
  ASSERT_TRUE(st->transition(run, "a", task_state::done, store::producing(store::sha256_hex("let a;\n"))));
  ASSERT_TRUE(st->transition(run, "b", task_state::assigned, store::by_worker("coder-1")));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(st->transition(run, "c", task_state::assigned, store::by_worker("coder-3")));
    ASSERT_TRUE(st->transition(run, "c", task_state::failed, store::because("bad json", "bad_answer")));
    ASSERT_TRUE(st->transition(run, "c", task_state::pending, store::because("retry")));
  }
  auto r = restore();
  ASSERT_TRUE(r.planned);
  ASSERT_TRUE(r.run.graph);
  const auto& g = *r.run.graph;
  EXPECT_EQ(g.at(0).state, codehive::graph_task_state::done);
  EXPECT_EQ(g.at(0).last_worker, 1);
  EXPECT_EQ(g.at(1).state, codehive::graph_task_state::running);  // the planner requeues it
  EXPECT_EQ(r.in_flight, std::vector<std::string>{"b"});
  EXPECT_EQ(g.at(2).state, codehive::graph_task_state::pending);
  EXPECT_TRUE(g.at(2).escalated);
  EXPECT_EQ(g.at(2).small_failures, 2);
  EXPECT_EQ(r.run.task_records[2].attempts, 2);
  EXPECT_EQ(r.run.task_records[2].last_error, "retry");
  EXPECT_EQ(r.run.changed_paths, std::set<std::string>{"a.js"});
  ASSERT_EQ(r.run.files.size(), 1u);
  EXPECT_EQ(r.run.files[0].version, 1);
  // A large-model failure after that gives up: d is skipped.
  ASSERT_TRUE(st->transition(run, "c", task_state::assigned, store::by_worker("large-model")));
  ASSERT_TRUE(st->transition(run, "c", task_state::failed, store::because("still bad", "bad_answer")));
  auto r2 = restore();
  EXPECT_EQ(r2.run.graph->at(2).state, codehive::graph_task_state::failed);
  EXPECT_EQ(r2.run.graph->at(3).state, codehive::graph_task_state::skipped);
}

TEST_F(RunRestore, RoundsIssuesAndFixes) {
  ASSERT_TRUE(st->put_plan(run, {task("a", "index.html")}));
  ASSERT_TRUE(st->transition(run, "a", store::task_state::assigned, store::by_worker("coder-1")));
  ASSERT_TRUE(st->transition(run, "a", store::task_state::done));
  store::review_round r1;
  r1.round = 1;
  r1.issues = {{"index.html", "no title", "add a title"}};
  r1.findings_json = findings_to_json({{"html_ref", "index.html", 3, "missing a.css"}});
  ASSERT_TRUE(st->put_review_round(run, r1));
  // Round 1 stored, its decision not yet taken: the issue is not counted.
  auto before = restore();
  EXPECT_EQ(before.run.round, 1);
  EXPECT_TRUE(before.run.issue_seen.empty());
  EXPECT_TRUE(before.last_round_fixes.fixes.empty());
  ASSERT_EQ(before.run.open_findings.size(), 1u);
  EXPECT_EQ(before.run.open_findings[0].line, 3);
  EXPECT_EQ(before.run.open_findings[0].message, "missing a.css");
  // Fix tasks stored: the decision was taken.
  msg::review_issue issue;
  issue.file = "index.html";
  issue.problem = "no title";
  issue.instructions = "add a title";
  ASSERT_TRUE(st->put_plan(run, {fix_task_spec(issue, fix_task_id(1, 1)),
                                 fix_task_spec(issue, fix_task_id(1, 2))}));
  ASSERT_TRUE(st->transition(run, "fix:1:1", store::task_state::assigned, store::by_worker("fixer-1")));
  ASSERT_TRUE(st->transition(run, "fix:1:1", store::task_state::done));
  auto after = restore();
  EXPECT_EQ(after.run.tasks.size(), 1u);  // fix tasks are not plan tasks
  EXPECT_EQ(after.run.issue_seen.at("index.html|no title"), 1);
  ASSERT_EQ(after.last_round_fixes.fixes.size(), 2u);
  EXPECT_EQ(after.last_round_fixes.fixes[0].spec.id, "fix:1:1");
  EXPECT_EQ(after.last_round_fixes.fixes[1].state, store::task_state::pending);
  EXPECT_EQ(after.run.rounds.back().fixes_applied, 1);
}

TEST_F(RunRestore, UsageComesFromTheLedger) {
  store::ledger_entry e;
  e.use.role = "coder";
  e.use.prompt_tokens = 100;
  e.use.completion_tokens = 20;
  e.use.cost_usd = 0.5;
  ASSERT_TRUE(st->append_ledger(run, e));
  ASSERT_TRUE(st->append_ledger(run, e));
  auto r = restore();
  EXPECT_EQ(r.run.total_tokens(), 240);
  EXPECT_DOUBLE_EQ(r.run.total_cost(), 1.0);
  EXPECT_EQ(r.run.usage_by_role.at("coder").calls, 2);
}

TEST_F(RunRestore, FinishedRunKeepsItsExitCode) {
  ASSERT_TRUE(st->set_run_state(run, store::run_state::done, "1 issue left", 1));
  auto r = restore();
  EXPECT_EQ(r.stored_exit_code, 1);
  EXPECT_EQ(r.run.state, "unresolved");  // done with exit 1, as the planner calls it
  EXPECT_EQ(r.run.message, "1 issue left");
}

TEST(RunRestoreIds, FixIdsAndWorkerLabels) {
  EXPECT_TRUE(is_fix_task(fix_task_id(2, 5)));
  EXPECT_EQ(fix_task_id(2, 5), "fix:2:5");
  EXPECT_FALSE(is_fix_task("t1"));
  EXPECT_EQ(worker_index("coder-3"), 2);
  EXPECT_EQ(worker_index("large-model"), -2);
  EXPECT_EQ(worker_index("folder"), -1);
  EXPECT_TRUE(findings_from_json("not json").empty());
}

}  // namespace
