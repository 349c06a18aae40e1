// The exported JSON files keep the proof of concept's keys.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "actors/exports.hpp"
#include "tests/support/json.hpp"

using namespace codehive;

namespace {

rapidjson::Document parse(const std::string& text) {
  return codehive::test::parse_json(text);
}

planner_run sample() {
  planner_run run;
  run.run_id = "run-1";
  run.request = "a board";
  run.state = "done";
  run.exit_code = 0;
  run.started_ms = 1700000000000;
  run.finished_ms = 1700000005000;
  run.tasks = {{"t1", msg::task_action::create, "file", "index.html", "page", "write it", {}, {}},
               {"t2", msg::task_action::create, "file", "app.js", "app", "code it", {"t1"}, {}}};
  std::string err;
  run.graph = task_graph::build({{"t1", "index.html", {}}, {"t2", "app.js", {"t1"}}}, err);
  run.graph->mark_done(0);
  run.task_records.resize(2);
  run.task_records[0] = {1700000000100, 1700000000600, 1, "coder-1", ""};
  run.issues = {{"app.js", "broken", "fix it", msg::edit_kind::none, 1}};
  run.files = {{"index.html", 1, "the page", "h", 10, 1700000000600, false, true},
               {"old.txt", 2, "gone", "", 0, 1700000000700, true, true}};
  run.usage_by_role["coder"] = {"coder", "m", 100, 50, 10, 0.01, 2};
  run.round = 1;
  return run;
}

}  // namespace

TEST(Exports, TasksHaveTheProofOfConceptKeys) {
  auto d = parse(tasks_json(sample()));
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 2u);
  for (const char* key : {"id", "action", "type", "path", "description", "instructions",
                          "depends_on", "state"})
    EXPECT_TRUE(d[0].HasMember(key)) << key;
  EXPECT_STREQ(d[0]["state"].GetString(), "done");
  EXPECT_STREQ(d[1]["state"].GetString(), "pending");
  EXPECT_STREQ(d[1]["depends_on"][0].GetString(), "t1");
}

TEST(Exports, CodeReviewAndFileTracker) {
  auto review = parse(code_review_json(sample()));
  ASSERT_TRUE(review.IsArray());
  EXPECT_STREQ(review[0]["file"].GetString(), "app.js");
  EXPECT_STREQ(review[0]["problem"].GetString(), "broken");
  EXPECT_STREQ(review[0]["instructions"].GetString(), "fix it");
  EXPECT_EQ(review[0]["round"].GetInt(), 1);
  auto tracker = parse(file_tracker_json(sample()));
  ASSERT_TRUE(tracker.IsObject());
  ASSERT_TRUE(tracker.HasMember("index.html"));
  EXPECT_FALSE(tracker.HasMember("old.txt"));  // deleted
  EXPECT_STREQ(tracker["index.html"]["summary"].GetString(), "the page");
  EXPECT_STREQ(tracker["index.html"]["lastModified"].GetString(), "2023-11-14T22:13:20.600Z");
}

TEST(Exports, StatusHasRunTasksUsageAndTimings) {
  auto d = parse(status_json(sample(), 1700000009000));
  EXPECT_STREQ(d["run_id"].GetString(), "run-1");
  EXPECT_STREQ(d["state"].GetString(), "done");
  EXPECT_EQ(d["elapsed_ms"].GetInt64(), 5000);
  EXPECT_EQ(d["tasks"][0]["duration_ms"].GetInt64(), 500);
  EXPECT_EQ(d["usage"]["coder"]["tokens"].GetInt64(), 150);
  EXPECT_EQ(d["total_tokens"].GetInt64(), 150);
  EXPECT_EQ(d["rounds"].GetInt(), 1);
  EXPECT_TRUE(d["validation"].IsArray());
  auto all = render_exports(sample(), 0);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3].name, "status.json");
}

// planner_run::remember keeps one record per path, found by an index (not a
// scan), also after `files` was replaced by a tracker listing or a restore.
TEST(RunState, RememberKeepsTheLatestRecordPerPathAcrossReplacedListings) {
  planner_run r;
  auto rec = [](const std::string& path, std::int64_t v) {
    msg::applied_file f;
    f.path = path;
    f.version = v;
    return f;
  };
  r.remember(rec("a.js", 1));
  r.remember(rec("b.js", 1));
  r.remember(rec("a.js", 2));
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].version, 2);
  // Replaced wholesale (same size, other order): a stale place is noticed.
  r.files = {rec("b.js", 5), rec("a.js", 1)};
  r.remember(rec("b.js", 6));
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].version, 6);
  EXPECT_EQ(r.files[1].version, 1);
  // A listing with new paths, as the controller stores it.
  r.files = {rec("b.js", 7), rec("c.js", 1)};
  r.reindex_files();
  r.remember(rec("c.js", 2));
  r.remember(rec("a.js", 3));
  ASSERT_EQ(r.files.size(), 3u);
  EXPECT_EQ(r.files[0].path, "b.js");
  EXPECT_EQ(r.files[1].version, 2);
  EXPECT_EQ(r.files[2].path, "a.js");
  // Filled directly (a restore appends).
  r.files.push_back(rec("d.js", 1));
  r.remember(rec("d.js", 4));
  ASSERT_EQ(r.files.size(), 4u);
  EXPECT_EQ(r.files[3].version, 4);
}
