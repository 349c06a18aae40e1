// The HTTP API's answers rendered from a store built by hand (no process, no
// socket): the run list, one run, 404s, and Prometheus text whose label
// values need escaping.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "nodes/http/api_json.hpp"
#include "nodes/http/ttft_histogram.hpp"
#include "storage/run_store.hpp"
#include "tests/support/json.hpp"
#include "tests/support/sim_process.hpp"

namespace {

using namespace codehive;

struct fixture {
  test::temp_dir dir{"codehive-api-json"};
  std::unique_ptr<store::run_store> st;
  std::string run;

  fixture() {
    store::store_options o;
    o.sync = false;
    auto s = store::run_store::open(dir.path() / "store", o);
    if (!s) throw std::runtime_error(s.err().describe());
    st = std::move(*s);
    run = st->create_run("a \"quoted\" request", "{}").value();
    std::vector<store::task_spec> plan(3);
    for (int i = 0; i < 3; ++i) {
      plan[i].id = "t" + std::to_string(i + 1);
      plan[i].path = "f" + std::to_string(i + 1) + ".js";
    }
    EXPECT_TRUE(st->put_plan(run, plan));
    EXPECT_TRUE(st->transition(run, "t1", store::task_state::assigned, store::by_worker("node-a/coder-1")));
    EXPECT_TRUE(st->transition(run, "t1", store::task_state::done));
    EXPECT_TRUE(st->transition(run, "t2", store::task_state::assigned, store::by_worker("coder-2")));
    store::ledger_entry e;
    e.use.role = "coder";
    e.use.model = R"(odd"model\name)";
    e.use.prompt_tokens = 100;
    e.use.completion_tokens = 20;
    e.use.cost_usd = 0.5;
    e.use.latency = std::chrono::milliseconds(700);
    EXPECT_TRUE(st->append_ledger(run, e));
    e.outcome = "error";
    e.error_code = "timeout";
    e.use.completion_tokens = 0;
    EXPECT_TRUE(st->append_ledger(run, e));
  }
};

rapidjson::Document parse(const std::string& text) {
  return codehive::test::parse_any(text);
}

TEST(ApiJson, RunListCountsTasksAndTokens) {
  fixture f;
  auto r = runs_reply(*f.st);
  ASSERT_EQ(r.status, 200);
  auto d = parse(r.body);
  ASSERT_TRUE(d.IsObject()) << r.body;
  ASSERT_EQ(d["runs"].Size(), 1u);
  const auto& run = d["runs"][0];
  EXPECT_EQ(run["id"].GetString(), f.run);
  EXPECT_STREQ(run["request"].GetString(), "a \"quoted\" request");
  EXPECT_STREQ(run["state"].GetString(), "running");
  EXPECT_EQ(run["tasks_done"].GetUint(), 1u);
  EXPECT_EQ(run["tasks_total"].GetUint(), 3u);
  EXPECT_EQ(run["tokens"].GetInt64(), 220);
  EXPECT_DOUBLE_EQ(run["cost_usd"].GetDouble(), 1.0);
}

TEST(ApiJson, OneRunHasTasksWorkersAndUsage) {
  fixture f;
  auto r = run_reply(*f.st, f.run);
  ASSERT_EQ(r.status, 200);
  auto d = parse(r.body);
  ASSERT_TRUE(d.IsObject()) << r.body;
  ASSERT_EQ(d["tasks"].Size(), 3u);
  EXPECT_STREQ(d["tasks"][0]["state"].GetString(), "done");
  EXPECT_STREQ(d["tasks"][0]["worker"].GetString(), "node-a/coder-1");
  EXPECT_STREQ(d["tasks"][0]["node"].GetString(), "node-a");
  EXPECT_STREQ(d["tasks"][1]["state"].GetString(), "assigned");
  EXPECT_STREQ(d["tasks"][1]["node"].GetString(), "");
  EXPECT_STREQ(d["tasks"][2]["state"].GetString(), "pending");
  EXPECT_EQ(d["task_counts"]["assigned"].GetUint(), 1u);
  EXPECT_EQ(d["usage"]["calls"].GetUint64(), 2u);
  EXPECT_EQ(d["usage"]["failed_calls"].GetUint64(), 1u);
  EXPECT_EQ(d["usage_by_role"]["coder"]["prompt_tokens"].GetInt64(), 200);
  ASSERT_EQ(d["usage_by_role_model"].Size(), 1u);
  EXPECT_STREQ(d["usage_by_role_model"][0]["model"].GetString(), R"(odd"model\name)");
}

TEST(ApiJson, UnknownRunIs404Json) {
  fixture f;
  for (const char* id : {"no-such-run", ""}) {
    auto r = run_reply(*f.st, id);
    EXPECT_EQ(r.status, 404) << id;
    auto d = parse(r.body);
    ASSERT_TRUE(d.IsObject()) << r.body;
    EXPECT_TRUE(d["error"].IsString());
  }
}

TEST(ApiJson, MetricsEscapeLabelValues) {
  fixture f;
  auto r = metrics_reply(*f.st);
  ASSERT_EQ(r.status, 200);
  const std::string m = r.body;
  EXPECT_NE(m.find("# TYPE codehive_tasks gauge\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_tasks{state=\"done\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_tasks{state=\"assigned\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_runs{state=\"running\"} 1\n"), std::string::npos) << m;
  // A model name with a quote and a backslash, escaped as the format says.
  const std::string labels = R"({role="coder",model="odd\"model\\name",)";
  EXPECT_NE(m.find("codehive_model_calls_total" + labels + R"(outcome="ok"} 1)" "\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_calls_total" + labels + R"(outcome="error"} 1)" "\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_tokens_total" + labels + R"(kind="completion"} 20)" "\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_tokens_total" + labels + R"(kind="prompt"} 200)" "\n"), std::string::npos) << m;
  // Two calls of 0.7 s: none up to 0.5 s, both from 1 s on.
  EXPECT_NE(m.find("# TYPE codehive_model_call_duration_seconds histogram\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_call_duration_seconds_bucket" + labels + R"(le="0.5"} 0)" "\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_call_duration_seconds_bucket" + labels + R"(le="1"} 2)" "\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_call_duration_seconds_bucket" + labels + R"(le="+Inf"} 2)" "\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_call_duration_seconds_sum{role=\"coder\",model=\"odd\\\"model\\\\name\"} 1.4\n"),
            std::string::npos) << m;
}

// Time to first token comes from the process's histogram, not the store:
// three calls of 0.03125, 0.375 and 2 s (exact in binary) give cumulative buckets per role and model.
TEST(ApiJson, MetricsTimeToFirstTokenHistogramIsCumulative) {
  fixture f;
  ttft_histogram h;
  for (double s : {0.03125, 0.375, 2.0}) h.observe("coder", "small", s);
  h.observe("planner", "big", 0.7);
  const auto m = metrics_reply(*f.st, {}, &h).body;
  const std::string labels = R"({role="coder",model="small",)";
  EXPECT_NE(m.find("# TYPE codehive_model_ttft_seconds histogram\n"), std::string::npos) << m;
  for (auto [le, n] : {std::pair<const char*, int>{"0.05", 1}, {"0.25", 1}, {"0.5", 2}, {"1", 2}, {"2.5", 3},
                       {"60", 3}, {"+Inf", 3}})
    EXPECT_NE(m.find("codehive_model_ttft_seconds_bucket" + labels + "le=\"" + le + "\"} " + std::to_string(n) + "\n"),
              std::string::npos) << le << "\n" << m;
  EXPECT_NE(m.find("codehive_model_ttft_seconds_count{role=\"coder\",model=\"small\"} 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_ttft_seconds_sum{role=\"coder\",model=\"small\"} 2.40625\n"), std::string::npos) << m;
  EXPECT_NE(m.find("codehive_model_ttft_seconds_count{role=\"planner\",model=\"big\"} 1\n"), std::string::npos) << m;
  // Without a histogram: the family is declared, with no samples.
  const auto none = metrics_reply(*f.st).body;
  EXPECT_NE(none.find("# TYPE codehive_model_ttft_seconds histogram\n"), std::string::npos);
  EXPECT_EQ(none.find("codehive_model_ttft_seconds_bucket"), std::string::npos);
}

}  // namespace
