// The HTTP API as a user meets it: `codehive run --demo --http ...` (llm-sim
// answers) and `codehive coordinator --http ...` as real processes, queried
// over loopback while they run. Every wait polls with a generous deadline and
// says what it waits for; nothing depends on how fast the machine is.
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/cluster/node_process.hpp"
#include "tests/http/http_test_support.hpp"
#include "tests/http/page_watch.hpp"
#include "tests/support/json.hpp"
#include "tests/support/sim_process.hpp"

namespace {

using codehive::cluster_test::node_process;
using namespace codehive::http_test;
using codehive::test::http_get;
using codehive::test::http_reply;
using codehive::test::temp_dir;
using clock_type = std::chrono::steady_clock;

const std::string token = "s3cret-token-for-tests";

/// The environment every child gets: no token from the caller's shell.
const std::map<std::string, std::string> no_token_env{{"CODEHIVE_HTTP_TOKEN", ""},
                                                      {"CODEHIVE_DEMO_DIR", CODEHIVE_SOURCE_DIR "/configs/demo"}};

std::map<std::string, std::string> bearer() { return {{"Authorization", "Bearer " + token}}; }

rapidjson::Document parse(const std::string& text) {
  return codehive::test::parse_any(text);
}

/// Polls `get` until `done` holds for its reply or `timeout_ms` passes; the
/// last reply either way.
template <class Done>
http_reply poll(const std::string& base, const std::string& path, int timeout_ms, Done done) {
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  http_reply r;
  for (;;) {
    r = http_get(base, path, bearer());
    if (done(r) || clock_type::now() >= deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::string write_token_file(const temp_dir& dir) {
  auto path = dir.path() / "http.token";
  std::ofstream(path) << token << "\n";
  return path.string();
}

/// The coordinator's join token (for workers; not the HTTP one).
std::string write_join_token(const temp_dir& dir) {
  auto path = dir.path() / "join.token";
  std::ofstream(path) << "join-token-for-tests\n";
  return path.string();
}

/// The dashboard in a real browser (Debian's chromium, headless), after the
/// run ended: the page fetches the API with the token from its #token=...
/// and shows every task done and the tokens spent. Saves a screenshot as a
/// test artifact. Skipped (with a note) where chromium is not installed.
void check_dashboard_in_chromium(const std::string& base, const temp_dir& dir) {
  auto chromium = codehive::cluster_test::find_program({"chromium", "chromium-browser", "google-chrome"});
  if (chromium.empty()) {
    std::printf("[  NOTE    ] no chromium in PATH: the dashboard was not loaded in a browser\n");
    return;
  }
  auto url = base + "/#token=" + token;
  auto profile = (dir.path() / "chromium-profile").string();
  auto browser = [&](const std::string& what, std::vector<std::string> extra, std::string& output) {
    std::vector<std::string> argv{chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                  "--no-first-run", "--disable-background-networking",
                                  "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
                                  "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                                  "--window-size=1200,1400"};
    for (auto& e : extra) argv.push_back(std::move(e));
    argv.push_back(url);
    return codehive::cluster_test::run_to_end(argv, dir.path() / "logs" / what, 120000, &output);
  };
  std::string dom;
  ASSERT_EQ(browser("chromium-dom", {"--dump-dom"}, dom), 0) << dom;
  EXPECT_EQ(dom.find("Uncaught"), std::string::npos) << "uncaught error in the dashboard:\n" << dom;
  EXPECT_NE(dom.find("id=\"run-state\">done<"), std::string::npos) << dom;
  auto tasks_at = dom.find("<table id=\"tasks\">");
  ASSERT_NE(tasks_at, std::string::npos) << "no task table in the dashboard:\n" << dom;
  auto tasks_html = dom.substr(tasks_at, dom.find("</table>", tasks_at) - tasks_at);
  std::size_t done_rows = 0;
  for (std::size_t at = 0; (at = tasks_html.find("data-state=\"done\"", at)) != std::string::npos; ++at) ++done_rows;
  EXPECT_EQ(done_rows, 11u) << tasks_html;
  auto events_at = dom.find("<pre id=\"events\">");
  ASSERT_NE(events_at, std::string::npos) << dom;
  EXPECT_NE(dom.find(" run_state {", events_at), std::string::npos) << "the event tail ends with the run's end:\n" << dom;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex(R"(id="tokens">(\d+)<)"))) << dom;
  EXPECT_GT(std::stoll(m[1].str()), 0);

  std::error_code ec;
  std::filesystem::create_directories(CODEHIVE_HTTP_ARTIFACTS, ec);
  auto shot = std::filesystem::path(CODEHIVE_HTTP_ARTIFACTS) / "dashboard.png";
  std::filesystem::remove(shot, ec);
  std::string out;
  EXPECT_EQ(browser("chromium-shot", {"--screenshot=" + shot.string()}, out), 0) << out;
  EXPECT_TRUE(std::filesystem::is_regular_file(shot)) << out;
  std::printf("[  NOTE    ] dashboard screenshot: %s\n", shot.string().c_str());
}

// -- a demo run, watched over HTTP ---------------------------------------------------

// Listens on every interface with a token (the case that needs one), queries
// during the run and, thanks to --http-linger, after it.
/// The time-to-first-token histogram has the coders' calls (the demo's
/// coders run in the process that serves /metrics), and each series' buckets
/// are cumulative: never fewer calls under a higher bound, +Inf equal to _count.
void expect_coder_ttft_histogram(const std::vector<sample>& samples, const std::string& body) {
  EXPECT_GT(sum_of(samples, "codehive_model_ttft_seconds_count", {{"role", "coder"}}), 0) << body;
  std::map<std::pair<std::string, std::string>, std::map<double, double>> series;  // (role, model) -> le -> calls
  for (const auto& s : samples)
    if (s.name == "codehive_model_ttft_seconds_bucket") {
      const auto& le = s.labels.at("le");
      series[{s.labels.at("role"), s.labels.at("model")}][le == "+Inf" ? HUGE_VAL : std::stod(le)] = s.value;
    }
  ASSERT_FALSE(series.empty()) << body;
  for (const auto& [key, buckets] : series) {
    SCOPED_TRACE(key.first + " " + key.second);
    ASSERT_GE(buckets.size(), 2u) << body;
    double before = 0;
    for (const auto& [le, calls] : buckets) {
      EXPECT_GE(calls, before) << "le " << le << "\n" << body;
      before = calls;
    }
    EXPECT_EQ(buckets.rbegin()->first, HUGE_VAL) << "a +Inf bucket";
    EXPECT_EQ(before, sum_of(samples, "codehive_model_ttft_seconds_count", {{"role", key.first}, {"model", key.second}}));
  }
}

TEST(HttpApi, DemoRunWatchedLiveAndAfterTheEnd) {
  temp_dir dir{"codehive-http"};
  node_process run({CODEHIVE_BIN, "run", "--demo", "--http", "0.0.0.0:0", "--http-token-file",
                    write_token_file(dir), "--http-linger", "300", "--out", (dir.path() / "out").string(),
                    "--store", (dir.path() / "store").string()},
                   dir.path() / "logs" / "run", no_token_env);
  auto base = wait_base_url(run, 60000);
  ASSERT_TRUE(base) << "awaited the line \"http: http://HOST:PORT/\" within 60 s\n" << run.tail();

  // Auth: nothing without the token, nothing with a wrong one.
  auto anon = http_get(*base, "/api/runs");
  EXPECT_EQ(anon.status, 401) << anon.body << anon.error;
  EXPECT_TRUE(parse(anon.body).HasMember("error")) << anon.body;
  auto wrong = http_get(*base, "/metrics", {{"Authorization", "Bearer " + token + "x"}});
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(run.text().find(token), std::string::npos) << "the token must never be logged";

  // The run appears in the list while it runs (or once it is stored).
  auto listed = poll(*base, "/api/runs", 60000, [](const http_reply& r) {
    auto d = parse(r.body);
    return r.status == 200 && d.IsObject() && d["runs"].IsArray() && d["runs"].Size() == 1;
  });
  ASSERT_EQ(listed.status, 200) << listed.error << "\n" << run.tail();
  auto list = parse(listed.body);
  ASSERT_TRUE(list.IsObject() && list["runs"].IsArray() && list["runs"].Size() == 1)
      << "awaited one run in /api/runs within 60 s: " << listed.body;
  const std::string id = list["runs"][0]["id"].GetString();
  for (const char* key : {"request", "state", "tasks_done", "tasks_total", "tokens", "cost_usd", "started_ms"})
    EXPECT_TRUE(list["runs"][0].HasMember(key)) << key << " missing: " << listed.body;

  // The run ends (done or not) and is still served: every task done at the end.
  auto final_reply = poll(*base, "/api/runs/" + id, 240000, [](const http_reply& r) {
    auto d = parse(r.body);
    return r.status == 200 && d.IsObject() && std::string(d["state"].GetString()) != "running";
  });
  auto detail = parse(final_reply.body);
  ASSERT_TRUE(detail.IsObject()) << final_reply.status << " " << final_reply.body << final_reply.error;
  ASSERT_STREQ(detail["state"].GetString(), "done")
      << "awaited the run to leave state running within 240 s\n" << run.tail();
  ASSERT_TRUE(detail["tasks"].IsArray());
  EXPECT_EQ(detail["tasks"].Size(), 11u) << final_reply.body;
  for (const auto& t : detail["tasks"].GetArray()) {
    EXPECT_STREQ(t["state"].GetString(), "done") << t["id"].GetString();
    EXPECT_GE(t["attempts"].GetInt(), 1) << t["id"].GetString();
    EXPECT_STRNE(t["worker"].GetString(), "") << t["id"].GetString();
    EXPECT_GE(t["finished_ms"].GetInt64(), t["assigned_ms"].GetInt64()) << t["id"].GetString();
  }
  EXPECT_EQ(detail["task_counts"]["done"].GetUint(), 11u);
  EXPECT_TRUE(detail["rounds"].IsArray());
  EXPECT_GT(detail["usage"]["tokens"].GetInt64(), 0) << final_reply.body;
  EXPECT_TRUE(detail["usage_by_role"].HasMember("planner")) << final_reply.body;
  EXPECT_TRUE(detail["usage_by_role"].HasMember("coder")) << final_reply.body;
  ASSERT_TRUE(detail["usage_by_role_model"].IsArray());
  EXPECT_GE(detail["usage_by_role_model"].Size(), 2u);

  // Metrics, parsed as Prometheus text.
  auto metrics = http_get(*base, "/metrics", bearer());
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.header("Content-Type").find("text/plain"), std::string::npos);
  std::vector<sample> samples;
  std::string why;
  ASSERT_TRUE(parse_prometheus(metrics.body, samples, why)) << why << "\n" << metrics.body;
  EXPECT_EQ(sum_of(samples, "codehive_tasks", {{"state", "done"}}), 11) << metrics.body;
  EXPECT_EQ(sum_of(samples, "codehive_run_tasks", {{"run", id}, {"kind", "plan"}, {"state", "done"}}), 11);
  EXPECT_EQ(sum_of(samples, "codehive_runs", {{"state", "done"}}), 1) << metrics.body;
  EXPECT_GT(sum_of(samples, "codehive_model_tokens_total"), 0) << metrics.body;
  EXPECT_GT(sum_of(samples, "codehive_model_tokens_total", {{"role", "coder"}, {"kind", "completion"}}), 0);
  EXPECT_GT(sum_of(samples, "codehive_model_calls_total", {{"role", "planner"}, {"outcome", "ok"}}), 0);
  // The latency histogram: +Inf holds every call, as _count does.
  EXPECT_EQ(sum_of(samples, "codehive_model_call_duration_seconds_bucket", {{"le", "+Inf"}}),
            sum_of(samples, "codehive_model_call_duration_seconds_count"));
  EXPECT_EQ(sum_of(samples, "codehive_model_call_duration_seconds_count"), detail["usage"]["calls"].GetDouble());
  EXPECT_EQ(sum_of(samples, "codehive_run_tokens_total", {{"run", id}}),
            static_cast<double>(detail["usage"]["tokens"].GetInt64()));
  expect_coder_ttft_histogram(samples, metrics.body);

  // The event log as Server-Sent Events: the run is over, so the stream ends.
  auto events = http_get(*base, "/api/runs/" + id + "/events", bearer(), 60000);
  ASSERT_EQ(events.status, 200) << events.body << events.error;
  EXPECT_NE(events.header("Content-Type").find("text/event-stream"), std::string::npos);
  std::vector<std::uint64_t> ids;
  static const std::regex id_re{R"((^|\n)id: (\d+)\n)"};
  for (auto it = std::sregex_iterator(events.body.begin(), events.body.end(), id_re); it != std::sregex_iterator(); ++it)
    ids.push_back(std::stoull((*it)[2].str()));
  ASSERT_GE(ids.size(), 3u) << events.body;
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], i + 1) << "events are numbered 1, 2, ... without gaps";
  EXPECT_NE(events.body.find("event: run_created\n"), std::string::npos);
  EXPECT_NE(events.body.find("event: run_state\ndata: {\"from\":\"running\",\"to\":\"done\""), std::string::npos)
      << events.body;
  // Resumed after the last-but-two: exactly the last two.
  auto headers = bearer();
  headers["Last-Event-ID"] = std::to_string(ids.size() - 2);
  auto resumed = http_get(*base, "/api/runs/" + id + "/events", headers, 60000);
  ASSERT_EQ(resumed.status, 200) << resumed.body << resumed.error;
  EXPECT_EQ(resumed.body.rfind("id: " + std::to_string(ids.size() - 1) + "\n", 0), 0u) << resumed.body;
  EXPECT_EQ(resumed.body.find("id: " + std::to_string(ids.size() - 2) + "\n"), std::string::npos) << resumed.body;
  EXPECT_NE(resumed.body.find("id: " + std::to_string(ids.size()) + "\n"), std::string::npos) << resumed.body;
  EXPECT_EQ(http_get(*base, "/api/runs/no-such-run/events", bearer()).status, 404);

  // 404s are JSON.
  auto unknown = http_get(*base, "/api/runs/no-such-run", bearer());
  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(parse(unknown.body).HasMember("error")) << unknown.body;
  auto bad_path = http_get(*base, "/api/nothing/here", bearer());
  EXPECT_EQ(bad_path.status, 404);
  EXPECT_TRUE(parse(bad_path.body).HasMember("error")) << bad_path.body;

  // The dashboard: one self-contained page that polls the API.
  auto page = http_get(*base, "/");  // the page is public (no data); its API calls are not
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("/api/runs"), std::string::npos);
  EXPECT_EQ(page.body.find("src=\"http"), std::string::npos) << "nothing fetched from outside";

  check_dashboard_in_chromium(*base, dir);

  // SIGTERM ends the linger; the exit code is the run's.
  ASSERT_TRUE(run.wait_text("--http-linger", 30000)) << run.tail();
  run.signal(SIGTERM);
  auto code = run.wait_exit(60000);
  ASSERT_TRUE(code) << "awaited the process to end within 60 s of SIGTERM\n" << run.tail();
  EXPECT_EQ(*code, 0) << run.tail();
  EXPECT_EQ(run.text().find(token), std::string::npos) << "the token must never be logged";
}

// -- the dashboard watching a run live -------------------------------------------------

// A demo run of 11 tasks on 3 coders, watched by the dashboard in Chromium (one
// page session from "running" to "done") while /api/nodes and /metrics are
// polled: the workers, the queue and the numbers move as the run goes.
TEST(HttpApi, DashboardWatchesARunLiveWithWorkersCostGraphAndDiff) {
  auto chromium = codehive::cluster_test::find_program({"chromium", "chromium-browser", "google-chrome"});
  temp_dir dir{"codehive-http"};
  node_process run({CODEHIVE_BIN, "run", "--demo", "--coders", "3", "--http", "127.0.0.1:0", "--http-linger", "300",
                    "--out", (dir.path() / "out").string(), "--store", (dir.path() / "store").string()},
                   dir.path() / "logs" / "run", no_token_env);
  auto base = wait_base_url(run, 60000);
  ASSERT_TRUE(base) << "awaited the line \"http: http://HOST:PORT/\" within 60 s\n" << run.tail();

  // The browser opens the page now, during the run, and watches it in real
  // time until a refresh of the page has read the run as done (below).
  page_watch page;
  if (!chromium.empty()) {
    auto opened = page.open(chromium, *base + "/", 120000);
    ASSERT_EQ(opened, "") << "awaited chromium to open the dashboard within 120 s";
  } else {
    std::printf("[  NOTE    ] no chromium in PATH: the dashboard was not watched in a browser\n");
  }

  auto no_token = std::map<std::string, std::string>{};
  auto metrics_now = [&](std::vector<sample>& out) {
    auto r = http_get(*base, "/metrics", no_token);
    std::string why;
    out.clear();
    return r.status == 200 && parse_prometheus(r.body, out, why);
  };

  // While the run runs: the node, its coders and the queue; a first look at the numbers.
  std::vector<sample> first;
  bool saw_local = false, saw_queue = false;
  auto deadline = clock_type::now() + std::chrono::seconds(120);
  while (clock_type::now() < deadline && !(saw_local && saw_queue && !first.empty())) {
    auto nodes = http_get(*base, "/api/nodes", no_token);
    ASSERT_EQ(nodes.status, 200) << nodes.body << nodes.error;
    auto d = parse(nodes.body);
    ASSERT_TRUE(d.IsObject() && d["nodes"].IsArray() && d["runs"].IsArray()) << nodes.body;
    for (const auto& n : d["nodes"].GetArray())
      if (std::string(n["name"].GetString()) == "local" && n["alive"].GetBool()) {
        saw_local = true;
        EXPECT_EQ(n["coders"].GetInt(), 3) << nodes.body;
        EXPECT_EQ(n["coder_slots"].Size(), 3u) << nodes.body;
        EXPECT_LE(n["busy_coders"].GetInt(), 3);
        EXPECT_STREQ(n["model"].GetString(), "qwen2.5-coder:7b") << nodes.body;
        EXPECT_TRUE(n["heartbeat_age_ms"].IsInt64()) << nodes.body;
      }
    for (const auto& r : d["runs"].GetArray()) {
      saw_queue = true;
      EXPECT_GE(r["ready_tasks"].GetInt64(), 0);
    }
    std::vector<sample> m;
    // Once /api/nodes showed the node: the run's first moments may come before it.
    if (first.empty() && saw_local && metrics_now(m) && sum_of(m, "codehive_runs", {{"state", "running"}}) == 1)
      first = m;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(saw_local) << "awaited node \"local\" in /api/nodes within 120 s\n" << run.tail();
  ASSERT_TRUE(saw_queue) << "awaited the run's queue in /api/nodes within 120 s";
  ASSERT_FALSE(first.empty()) << "awaited /metrics with the run running within 120 s";
  EXPECT_EQ(sum_of(first, "codehive_workers_up"), 1);
  EXPECT_EQ(sum_of(first, "codehive_coder_slots", {{"node", "local"}}), 3);

  // The end of the run; then the numbers have moved.
  auto listed = poll(*base, "/api/runs", 240000, [](const http_reply& r) {
    auto d = parse(r.body);
    return r.status == 200 && d.IsObject() && d["runs"].Size() == 1 &&
           std::string(d["runs"][0]["state"].GetString()) != "running";
  });
  auto list = parse(listed.body);
  ASSERT_TRUE(list.IsObject() && list["runs"].Size() == 1) << listed.body;
  ASSERT_STREQ(list["runs"][0]["state"].GetString(), "done") << "awaited the run's end within 240 s\n" << run.tail();
  const std::string id = list["runs"][0]["id"].GetString();
  std::vector<sample> last;
  ASSERT_TRUE(metrics_now(last));
  EXPECT_GT(sum_of(last, "codehive_model_tokens_total"), sum_of(first, "codehive_model_tokens_total"));
  EXPECT_GT(sum_of(last, "codehive_model_calls_total"), sum_of(first, "codehive_model_calls_total"));
  EXPECT_GT(sum_of(last, "codehive_store_write_duration_seconds_count"),
            sum_of(first, "codehive_store_write_duration_seconds_count"));
  EXPECT_EQ(sum_of(last, "codehive_store_write_duration_seconds_bucket", {{"le", "+Inf"}}),
            sum_of(last, "codehive_store_write_duration_seconds_count"));
  EXPECT_GT(sum_of(last, "codehive_store_write_duration_seconds_sum"), 0);
  EXPECT_EQ(sum_of(last, "codehive_tasks", {{"state", "done"}}), 11);
  EXPECT_EQ(sum_of(last, "codehive_ready_tasks", {{"run", id}}), 0) << "nothing waits once the run is done";

  // File versions: the list, one version with the one before it, and errors.
  auto files = http_get(*base, "/api/runs/" + id + "/files", no_token);
  ASSERT_EQ(files.status, 200) << files.body;
  auto fd = parse(files.body);
  ASSERT_TRUE(fd.IsObject() && fd["files"].IsArray()) << files.body;
  EXPECT_EQ(fd["files"].Size(), 11u) << files.body;
  std::string most;  // as the dashboard picks it: the first file with the most versions
  unsigned most_n = 0;
  for (const auto& f : fd["files"].GetArray())
    if (f["versions"].Size() > most_n) most = f["path"].GetString(), most_n = f["versions"].Size();
  ASSERT_GE(most_n, 2u) << "the demo's review round rewrites a file: " << files.body;
  auto ver = http_get(*base, "/api/runs/" + id + "/file?path=" + most + "&version=" + std::to_string(most_n), no_token);
  ASSERT_EQ(ver.status, 200) << ver.body;
  auto vd = parse(ver.body);
  ASSERT_TRUE(vd.IsObject() && vd["previous"].IsObject()) << ver.body;
  EXPECT_EQ(vd["version"].GetUint64(), most_n);
  EXPECT_EQ(vd["previous"]["version"].GetUint64(), most_n - 1);
  EXPECT_STRNE(vd["content"].GetString(), vd["previous"]["content"].GetString());
  EXPECT_EQ(http_get(*base, "/api/runs/" + id + "/file?path=no/such.js", no_token).status, 404);
  EXPECT_EQ(http_get(*base, "/api/runs/" + id + "/file?path=" + most + "&version=99", no_token).status, 404);
  EXPECT_EQ(http_get(*base, "/api/runs/" + id + "/file?path=" + most + "&version=x", no_token).status, 400);
  EXPECT_EQ(http_get(*base, "/api/runs/no-such-run/files", no_token).status, 404);

  if (!chromium.empty()) {
    std::string why;
    auto page_dom = dashboard_once(page, "done", 120000, why);
    ASSERT_TRUE(page_dom) << why;
    const std::string& dom = *page_dom;
    EXPECT_EQ(exceptions_text(page), "") << "the page threw";
    // One page session saw the run from running to done, and the cost grow.
    std::string watch_tag = "<div id=\"watch\"";
    EXPECT_EQ(attr_of(dom, watch_tag, "data-run"), id) << dom;
    EXPECT_EQ(attr_of(dom, watch_tag, "data-first-state"), "running") << "the page was loaded during the run";
    EXPECT_EQ(attr_of(dom, watch_tag, "data-last-state"), "done") << dom;
    double first_cost = std::atof(attr_of(dom, watch_tag, "data-first-cost").c_str());
    double last_cost = std::atof(attr_of(dom, watch_tag, "data-last-cost").c_str());
    EXPECT_GT(last_cost, first_cost) << "the cost grew while the page watched";
    EXPECT_GE(std::atoi(attr_of(dom, watch_tag, "data-cost-samples").c_str()), 2);
    // The worker list matched the cluster: this node with its 3 coders.
    auto workers = parse(unescape_html(attr_of(dom, watch_tag, "data-workers")));
    ASSERT_TRUE(workers.IsObject()) << dom;
    EXPECT_EQ(workers.MemberCount(), 1u);
    ASSERT_TRUE(workers.HasMember("local")) << dom;
    EXPECT_EQ(workers["local"].GetInt(), 3);
    EXPECT_EQ(attr_of(dom, "<tr id=\"node-local\"", "data-coders"), "3") << dom;
    // The task graph: every task a box, every box done.
    auto graph_at = dom.find("<div id=\"graph\">");
    ASSERT_NE(graph_at, std::string::npos) << dom;
    auto graph = dom.substr(graph_at, dom.find("</svg>", graph_at) - graph_at);
    std::size_t boxes = 0, done = 0;
    for (std::size_t at = 0; (at = graph.find("<g id=\"g-", at)) != std::string::npos; ++at) {
      ++boxes;
      auto tag = graph.substr(at, graph.find('>', at) - at);
      if (tag.find("data-state=\"done\"") != std::string::npos) ++done;
    }
    EXPECT_EQ(boxes, 11u) << graph;
    EXPECT_EQ(done, 11u) << graph;
    // The review rounds and the diff of the most rewritten file's latest version.
    EXPECT_NE(dom.find("<p class=\"round\""), std::string::npos) << dom;
    EXPECT_EQ(attr_of(dom, "<div id=\"diff\"", "data-path"), most) << dom;
    EXPECT_EQ(attr_of(dom, "<div id=\"diff\"", "data-version"), std::to_string(most_n)) << dom;
    EXPECT_GT(std::atoi(attr_of(dom, "<div id=\"diff\"", "data-added").c_str()) +
                  std::atoi(attr_of(dom, "<div id=\"diff\"", "data-removed").c_str()),
              0)
        << dom;

    std::error_code ec;
    std::filesystem::create_directories(CODEHIVE_HTTP_ARTIFACTS, ec);
    auto shot = std::filesystem::path(CODEHIVE_HTTP_ARTIFACTS) / "dashboard-live.png";
    std::filesystem::remove(shot, ec);
    std::string out;
    EXPECT_EQ(codehive::cluster_test::run_to_end(
                  {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--user-data-dir=" + (dir.path() / "chromium-shot").string(), "--virtual-time-budget=5000",
                   "--window-size=1280,2600", "--screenshot=" + shot.string(), *base + "/"},
                  dir.path() / "logs" / "chromium-shot", 120000, &out),
              0)
        << out;
    EXPECT_TRUE(std::filesystem::is_regular_file(shot)) << out;
    std::printf("[  NOTE    ] live dashboard screenshot: %s\n", shot.string().c_str());
  }

  run.signal(SIGTERM);
  auto code = run.wait_exit(60000);
  ASSERT_TRUE(code) << "awaited the process to end within 60 s of SIGTERM\n" << run.tail();
  EXPECT_EQ(*code, 0) << run.tail();
}

TEST(HttpApi, BeyondLoopbackWithoutTokenRefusesWithExit2) {
  temp_dir dir{"codehive-http"};
  std::string output;
  int code = codehive::cluster_test::run_to_end(
      {CODEHIVE_BIN, "run", "--demo", "--http", "0.0.0.0:0", "--out", (dir.path() / "out").string(),
       "--store", (dir.path() / "store").string()},
      dir.path() / "logs" / "run", 60000, &output, no_token_env);
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("--http-token-file"), std::string::npos) << output;
  EXPECT_EQ(output.find("http: http://"), std::string::npos) << "nothing may listen: " << output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "store")) << "refused before the store opened";

  // The coordinator refuses the same way.
  code = codehive::cluster_test::run_to_end(
      {CODEHIVE_BIN, "coordinator", "--listen", "127.0.0.1:0", "--token-file", write_join_token(dir),
       "--http", "0.0.0.0:0", "--store", (dir.path() / "store").string()},
      dir.path() / "logs" / "coordinator", 60000, &output, no_token_env);
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("--http-token-file"), std::string::npos) << output;
  EXPECT_EQ(output.find("http: http://"), std::string::npos) << "nothing may listen: " << output;
}

// The coordinator serves the same API over its store (empty here).
TEST(HttpApi, CoordinatorServesTheApi) {
  temp_dir dir{"codehive-http"};
  auto sim = codehive::test::sim_process::start(CODEHIVE_SOURCE_DIR "/configs/demo/scenario.json");
  auto port = std::to_string(sim.port());
  node_process coord({CODEHIVE_BIN, "coordinator", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
                      "--http-token-file", write_token_file(dir), "--token-file", write_join_token(dir),
                      "--store", (dir.path() / "store").string(), "--planner", "openai://127.0.0.1:" + port + "/v1/gpt-4o-mini", "--coder",
                      "ollama://127.0.0.1:" + port + "/qwen2.5-coder:7b"},
                     dir.path() / "logs" / "coordinator", no_token_env);
  auto base = wait_base_url(coord, 60000);
  ASSERT_TRUE(base) << "awaited the line \"http: http://HOST:PORT/\" within 60 s\n" << coord.tail();
  auto runs = http_get(*base, "/api/runs", bearer());
  ASSERT_EQ(runs.status, 200) << runs.body << runs.error << coord.tail();
  auto d = parse(runs.body);
  ASSERT_TRUE(d.IsObject() && d["runs"].IsArray()) << runs.body;
  EXPECT_EQ(d["runs"].Size(), 0u);
  EXPECT_EQ(http_get(*base, "/api/runs", {}).status, 401);
  auto metrics = http_get(*base, "/metrics", bearer());
  std::vector<sample> samples;
  std::string why;
  ASSERT_TRUE(parse_prometheus(metrics.body, samples, why)) << why << "\n" << metrics.body;
  EXPECT_EQ(sum_of(samples, "codehive_runs"), 0);
  // No worker has joined and no run runs: no nodes yet, and no one up.
  auto nodes = http_get(*base, "/api/nodes", bearer());
  ASSERT_EQ(nodes.status, 200) << nodes.body;
  auto nd = parse(nodes.body);
  ASSERT_TRUE(nd.IsObject() && nd["nodes"].IsArray() && nd["runs"].IsArray()) << nodes.body;
  EXPECT_EQ(nd["runs"].Size(), 0u) << nodes.body;
  EXPECT_EQ(sum_of(samples, "codehive_workers_up"), static_cast<double>(nd["nodes"].Size()));
  EXPECT_EQ(http_get(*base, "/api/nodes", {}).status, 401);
  coord.signal(SIGTERM);
  auto code = coord.wait_exit(60000);
  ASSERT_TRUE(code) << "awaited the coordinator to end within 60 s of SIGTERM\n" << coord.tail();
  EXPECT_EQ(*code, 0) << coord.tail();
}

}  // namespace
