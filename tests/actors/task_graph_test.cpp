// The planner's task graph: plan validation, critical-path order, retries
// and escalation, and what failing a task does to its dependents.
#include <gtest/gtest.h>

#include "actors/task_graph.hpp"

using namespace codehive;

namespace {

std::optional<task_graph> build(std::vector<graph_task_spec> specs, std::string& err) {
  return task_graph::build(specs, err);
}

std::vector<std::string> ids(const task_graph& g, const std::vector<std::size_t>& xs) {
  std::vector<std::string> out;
  for (auto i : xs)
    out.push_back(g.at(i).spec.id);
  return out;
}

}  // namespace

TEST(TaskGraph, AcceptsAValidPlan) {
  std::string err;
  auto g = build({{"html", "index.html", {"css", "js"}}, {"css", "css/style.css", {}},
                  {"js", "./js//app.js", {"util"}}, {"util", "js/util.js", {}}},
                 err);
  ASSERT_TRUE(g) << err;
  EXPECT_EQ(g->size(), 4u);
  EXPECT_EQ(g->at(2).spec.path, "js/app.js");  // normalized
  EXPECT_EQ(g->dependency_paths(0), (std::vector<std::string>{"css/style.css", "js/app.js"}));
}

TEST(TaskGraph, RejectsACycleAndNamesIt) {
  std::string err;
  EXPECT_FALSE(build({{"a", "a.js", {"b"}}, {"b", "b.js", {"c"}}, {"c", "c.js", {"a"}}}, err));
  EXPECT_NE(err.find("cycle"), std::string::npos) << err;
  EXPECT_NE(err.find("a"), std::string::npos) << err;
  EXPECT_FALSE(build({{"a", "a.js", {"a"}}}, err));
  EXPECT_NE(err.find("itself"), std::string::npos) << err;
}

TEST(TaskGraph, RejectsAnUnknownDependency) {
  std::string err;
  EXPECT_FALSE(build({{"a", "a.js", {"nope"}}}, err));
  EXPECT_NE(err.find("unknown task 'nope'"), std::string::npos) << err;
}

// The store records depends_on as task ids and refuses anything else; a path
// accepted here used to end the run with "cannot record the plan" (exit 5)
// instead of asking the planner again. The reason names the id to use.
TEST(TaskGraph, RefusesAPathAsDependencyAndNamesTheTaskId) {
  std::string err;
  EXPECT_FALSE(build({{"a", "a.js", {"js/b.js"}}, {"b", "js/b.js", {}}}, err));
  EXPECT_NE(err.find("task 'a' depends on unknown task 'js/b.js'"), std::string::npos) << err;
  EXPECT_NE(err.find("depends_on names a path; use the task id 'b'"), std::string::npos) << err;
  // Any spelling of the path that normalizes to it is recognized as one.
  EXPECT_FALSE(build({{"a", "a.js", {"./js//b.js"}}, {"b", "js/b.js", {}}}, err));
  EXPECT_NE(err.find("use the task id 'b'"), std::string::npos) << err;
}

TEST(TaskGraph, AnUnknownDependencyReasonListsThePlansIds) {
  std::string err;
  EXPECT_FALSE(build({{"a", "a.js", {}}, {"b", "b.js", {"c"}}}, err));
  EXPECT_NE(err.find("task 'b' depends on unknown task 'c'"), std::string::npos) << err;
  EXPECT_NE(err.find("('a', 'b')"), std::string::npos) << err;
  EXPECT_EQ(err.find("names a path"), std::string::npos) << err;
}

TEST(TaskGraph, RejectsDuplicatePathsAndIds) {
  std::string err;
  EXPECT_FALSE(build({{"a", "x/a.js", {}}, {"b", "x//a.js", {}}}, err));
  EXPECT_NE(err.find("duplicate path 'x/a.js'"), std::string::npos) << err;
  EXPECT_FALSE(build({{"a", "a.js", {}}, {"a", "b.js", {}}}, err));
  EXPECT_NE(err.find("duplicate task id"), std::string::npos) << err;
}

TEST(TaskGraph, RejectsPathsOutsideTheOutputFolder) {
  std::string err;
  EXPECT_FALSE(build({{"a", "../evil.js", {}}}, err));
  EXPECT_NE(err.find("not inside the output folder"), std::string::npos) << err;
  EXPECT_FALSE(build({{"a", "/etc/passwd", {}}}, err));
  EXPECT_FALSE(build({{"a", "js/../../x", {}}}, err));
  EXPECT_FALSE(build({{"a", "generated_files/status.json", {}}}, err));
  EXPECT_NE(err.find("reserved"), std::string::npos) << err;
  EXPECT_FALSE(build({}, err));
}

TEST(TaskGraph, ReadyTasksGoLongestRemainingPathFirst) {
  // chain: util -> model -> app -> index ; style is a leaf of length 1;
  // readme stands alone.
  std::string err;
  auto g = build({{"readme", "README.md", {}},
                  {"style", "style.css", {}},
                  {"index", "index.html", {"app", "style"}},
                  {"app", "app.js", {"model"}},
                  {"model", "model.js", {"util"}},
                  {"util", "util.js", {}}},
                 err);
  ASSERT_TRUE(g) << err;
  EXPECT_EQ(g->at(*g->index_of("util")).critical_length, 4);
  EXPECT_EQ(g->at(*g->index_of("style")).critical_length, 2);
  EXPECT_EQ(ids(*g, g->ready()), (std::vector<std::string>{"util", "style", "readme"}));
  g->mark_running(*g->index_of("util"), 0);
  EXPECT_EQ(ids(*g, g->ready()), (std::vector<std::string>{"style", "readme"}));
  g->mark_done(*g->index_of("util"));
  EXPECT_EQ(ids(*g, g->ready()), (std::vector<std::string>{"model", "style", "readme"}));
  EXPECT_EQ(g->ready_count(), 3u) << "the count the live view shows, without the list";
  g->mark_running(*g->index_of("style"), 1);
  EXPECT_EQ(g->ready_count(), 2u);
  EXPECT_FALSE(g->finished());
}

TEST(TaskGraph, RetriesThenEscalatesThenGivesUp) {
  std::string err;
  auto g = build({{"a", "a.js", {}}, {"b", "b.js", {"a"}}, {"c", "c.js", {"b"}}}, err);
  ASSERT_TRUE(g) << err;
  retry_policy policy{2, 1};
  g->mark_running(0, 1);
  EXPECT_EQ(g->record_failure(0, policy), retry_decision::retry_small);
  EXPECT_EQ(g->at(0).state, graph_task_state::pending);
  EXPECT_EQ(g->at(0).last_worker, 1);
  EXPECT_FALSE(g->at(0).escalated);
  g->mark_running(0, 2);
  EXPECT_EQ(g->record_failure(0, policy), retry_decision::escalate);
  EXPECT_TRUE(g->at(0).escalated);
  EXPECT_EQ(g->at(0).small_failures, 2);
  g->mark_running(0, -2);
  EXPECT_EQ(g->record_failure(0, policy), retry_decision::give_up);
  EXPECT_EQ(g->at(0).large_failures, 1);
  EXPECT_EQ(g->at(0).state, graph_task_state::failed);
  EXPECT_EQ(g->at(1).state, graph_task_state::skipped);
  EXPECT_EQ(g->at(2).state, graph_task_state::skipped);
  EXPECT_TRUE(g->finished());
  EXPECT_EQ(g->count(graph_task_state::skipped), 2);
}

TEST(TaskGraph, EscalatedSuccessCompletes) {
  std::string err;
  auto g = build({{"a", "a.js", {}}}, err);
  ASSERT_TRUE(g);
  retry_policy policy{1, 2};
  g->mark_running(0, 0);
  EXPECT_EQ(g->record_failure(0, policy), retry_decision::escalate);
  g->mark_running(0, -2);
  EXPECT_EQ(g->record_failure(0, policy), retry_decision::escalate);
  g->mark_running(0, -2);
  g->mark_done(0);
  EXPECT_TRUE(g->finished());
  EXPECT_EQ(g->count(graph_task_state::done), 1);
}

// A model may plan one dependency chain of any length; no walk over the graph
// may recurse per task (200,000 deep overflowed the stack: SIGSEGV, and a
// crash loop on every resume), and walking the chain through ready() and
// mark_done() must not cost the plan's size per step.
TEST(TaskGraph, AChainOf200000TasksBuildsAndRunsInOrder) {
  constexpr std::size_t n = 200'000;
  std::vector<graph_task_spec> specs;
  specs.reserve(n);
  // Listed last task first, so plan order and chain order disagree.
  for (std::size_t k = n; k-- > 0;) {
    graph_task_spec s{"t" + std::to_string(k), "src/f" + std::to_string(k) + ".js", {}};
    if (k > 0)
      s.depends_on.push_back("t" + std::to_string(k - 1));
    specs.push_back(std::move(s));
  }
  std::string err;
  auto g = task_graph::build(specs, err);
  ASSERT_TRUE(g) << err;
  auto first = *g->index_of("t0");
  EXPECT_EQ(g->at(first).critical_length, static_cast<int>(n));
  EXPECT_EQ(g->at(*g->index_of("t" + std::to_string(n - 1))).critical_length, 1);
  for (std::size_t k = 0; k < n; ++k) {
    auto ready = g->ready();
    ASSERT_EQ(ready.size(), 1u) << "at step " << k;
    ASSERT_EQ(g->at(ready[0]).spec.id, "t" + std::to_string(k));
    g->mark_running(ready[0], 0);
    g->mark_done(ready[0]);
  }
  EXPECT_TRUE(g->finished());
  EXPECT_EQ(g->count(graph_task_state::done), static_cast<int>(n));
}

// Failing the head of a long chain skips the rest without recursing.
TEST(TaskGraph, FailingTheHeadOf200000TasksSkipsTheChain) {
  constexpr std::size_t n = 200'000;
  std::vector<graph_task_spec> specs;
  for (std::size_t k = 0; k < n; ++k)
    specs.push_back({"t" + std::to_string(k), "f" + std::to_string(k) + ".js",
                     k ? std::vector<std::string>{"t" + std::to_string(k - 1)} : std::vector<std::string>{}});
  std::string err;
  auto g = task_graph::build(specs, err);
  ASSERT_TRUE(g) << err;
  g->mark_running(0, 0);
  g->fail(0);
  EXPECT_TRUE(g->finished());
  EXPECT_EQ(g->count(graph_task_state::skipped), static_cast<int>(n - 1));
  EXPECT_TRUE(g->ready().empty());
}

// A long cycle is found without recursion and named.
TEST(TaskGraph, ACycleThroughALongChainIsNamed) {
  constexpr std::size_t n = 200'000;
  std::vector<graph_task_spec> specs;
  for (std::size_t k = 0; k < n; ++k)
    specs.push_back({"t" + std::to_string(k), "f" + std::to_string(k) + ".js",
                     {"t" + std::to_string((k + n - 1) % n)}});
  std::string err;
  EXPECT_FALSE(task_graph::build(specs, err));
  EXPECT_EQ(err.rfind("dependency cycle: ", 0), 0u) << err.substr(0, 200);
  EXPECT_NE(err.find("(200000 tasks in the cycle)"), std::string::npos) << err.substr(0, 400);
  EXPECT_LT(err.size(), 1000u) << "a reason for a model, not the whole plan";
}

// The incremental ready set follows a done task that is failed afterwards
// (its dependents wait again) and a requeued one.
TEST(TaskGraph, ReadyFollowsEveryStateChange) {
  std::string err;
  auto g = build({{"a", "a.js", {}}, {"b", "b.js", {"a"}}, {"c", "c.js", {}}}, err);
  ASSERT_TRUE(g) << err;
  EXPECT_EQ(ids(*g, g->ready()), (std::vector<std::string>{"a", "c"}));
  g->mark_running(0, 0);
  g->requeue(0);
  EXPECT_EQ(ids(*g, g->ready()), (std::vector<std::string>{"a", "c"}));
  g->mark_running(0, 0);
  g->mark_done(0);
  EXPECT_EQ(ids(*g, g->ready()), (std::vector<std::string>{"b", "c"}));
  g->fail(0);
  EXPECT_EQ(ids(*g, g->ready()), (std::vector<std::string>{"c"}));
  EXPECT_EQ(g->at(1).state, graph_task_state::skipped);
  EXPECT_EQ(g->count(graph_task_state::pending), 1);
  EXPECT_EQ(g->count(graph_task_state::failed), 1);
}

// Dispatch walks ready tasks with next_ready: all of them while a coder is
// free, only those that need none (folders, escalations) while every coder is
// busy, in ready()'s order either way.
TEST(TaskGraph, NextReadyWalksReadyTasksOrOnlyThoseThatNeedNoCoder) {
  std::string err;
  auto g = build({{"a", "a.js", {}},
                  {"dir", "lib", {}, /*needs_coder=*/false},
                  {"b", "lib/b.js", {"dir"}},
                  {"c", "c.js", {}},
                  {"d", "d.js", {}}},
                 err);
  ASSERT_TRUE(g) << err;
  auto walk = [&](bool any) {
    std::vector<std::size_t> out;
    for (auto i = g->next_ready(std::nullopt, any); i; i = g->next_ready(*i, any))
      out.push_back(*i);
    return out;
  };
  EXPECT_EQ(ids(*g, walk(true)), ids(*g, g->ready()));
  EXPECT_EQ(ids(*g, walk(true)), (std::vector<std::string>{"dir", "a", "c", "d"}));
  EXPECT_EQ(ids(*g, walk(false)), (std::vector<std::string>{"dir"}));
  // Taken off the list when started: the walk goes on after it.
  auto dir = *g->index_of("dir");
  g->mark_running(dir, -1);
  EXPECT_FALSE(g->next_ready(std::nullopt, false));
  EXPECT_EQ(ids(*g, {*g->next_ready(dir, true)}), (std::vector<std::string>{"a"}));
  // An escalated task needs no coder slot of ours.
  retry_policy policy{1, 1};
  auto c = *g->index_of("c");
  g->mark_running(c, 0);
  EXPECT_EQ(g->record_failure(c, policy), retry_decision::escalate);
  EXPECT_EQ(ids(*g, walk(false)), (std::vector<std::string>{"c"}));
  g->mark_running(c, -2);
  g->mark_done(c);
  g->mark_done(dir);
  EXPECT_EQ(ids(*g, walk(false)), std::vector<std::string>{});
  EXPECT_EQ(ids(*g, walk(true)), (std::vector<std::string>{"a", "b", "d"}));
}
