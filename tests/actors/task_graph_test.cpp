// The planner's task graph: plan validation, critical-path order, retries
// and escalation, and what failing a task does to its dependents.
#include <gtest/gtest.h>

#include "actors/task_graph.hpp"

using namespace codehive;

namespace {

std::optional<task_graph> build(std::vector<task_spec> specs, std::string& err) {
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

TEST(TaskGraph, AcceptsAPathAsDependency) {
  std::string err;
  auto g = build({{"a", "a.js", {"js/b.js"}}, {"b", "js/b.js", {}}}, err);
  ASSERT_TRUE(g) << err;
  EXPECT_EQ(g->at(0).deps, (std::vector<std::size_t>{1}));
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
  EXPECT_FALSE(g->finished());
}

TEST(TaskGraph, RetriesThenEscalatesThenGivesUp) {
  std::string err;
  auto g = build({{"a", "a.js", {}}, {"b", "b.js", {"a"}}, {"c", "c.js", {"b"}}}, err);
  ASSERT_TRUE(g) << err;
  retry_policy policy{2, 1};
  g->mark_running(0, 1);
  EXPECT_EQ(g->record_failure(0, policy), retry_decision::retry_small);
  EXPECT_EQ(g->at(0).state, task_state::pending);
  EXPECT_EQ(g->at(0).last_worker, 1);
  EXPECT_FALSE(g->at(0).escalated);
  g->mark_running(0, 2);
  EXPECT_EQ(g->record_failure(0, policy), retry_decision::escalate);
  EXPECT_TRUE(g->at(0).escalated);
  EXPECT_EQ(g->at(0).small_failures, 2);
  g->mark_running(0, -2);
  EXPECT_EQ(g->record_failure(0, policy), retry_decision::give_up);
  EXPECT_EQ(g->at(0).large_failures, 1);
  EXPECT_EQ(g->at(0).state, task_state::failed);
  EXPECT_EQ(g->at(1).state, task_state::skipped);
  EXPECT_EQ(g->at(2).state, task_state::skipped);
  EXPECT_TRUE(g->finished());
  EXPECT_EQ(g->count(task_state::skipped), 2);
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
  EXPECT_EQ(g->count(task_state::done), 1);
}
