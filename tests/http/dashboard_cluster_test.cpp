// The user's path of issue 13 on a cluster: a coordinator with its HTTP API
// and dashboard, two workers (each with its own llm-sim replaying the demo),
// a run submitted with `codehive run --coordinator`, and a real browser
// (Debian's chromium, headless) watching the dashboard from the run's
// planning to its end while /metrics is read. All real processes on loopback.
//
// "Loaded during the run" is made certain, not likely: the workers'
// simulators are frozen (SIGSTOP) once the plan exists, so no task can finish
// until the browser holds a connection to the dashboard; then they go on.
// Every wait polls a condition with a generous deadline.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/cluster/node_process.hpp"
#include "tests/http/http_test_support.hpp"
#include "tests/http/page_watch.hpp"
#include "tests/support/configs.hpp"
#include "tests/support/json.hpp"
#include "tests/support/sim_process.hpp"

namespace {

namespace fs = std::filesystem;
using namespace codehive::cluster_test;
using namespace codehive::http_test;
using namespace codehive::test;
using clock_type = std::chrono::steady_clock;

const std::map<std::string, std::string> no_token_env{{"CODEHIVE_HTTP_TOKEN", ""}};

rapidjson::Document parse(const std::string& text) {
  return codehive::test::parse_any(text);
}

/// Polls until `done` holds or timeout_ms passes; whether it held.
template <class Done>
bool wait_until(int timeout_ms, Done done) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (clock_type::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

/// Established TCP connections (IPv4 or IPv6) whose far end is local port
/// `port`, from /proc/net/tcp{,6}: a client holding the dashboard open.
int connections_to(int port) {
  int n = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in{table};
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields{line};
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      auto colon = remote.rfind(':');
      if (state == "01" && colon != std::string::npos && std::stoi(remote.substr(colon + 1), nullptr, 16) == port) ++n;
    }
  }
  return n;
}

/// The number of times `needle` occurs in `text`.
std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = 0; (at = text.find(needle, at)) != std::string::npos; at += needle.size()) ++n;
  return n;
}

/// A simulator stopped with SIGSTOP until thaw() (or the end of the scope).
struct frozen {
  std::vector<sim_process*> sims;
  explicit frozen(std::vector<sim_process*> s) : sims(std::move(s)) {
    for (auto* sim : sims) ::kill(sim->pid(), SIGSTOP);
  }
  void thaw() {
    for (auto* sim : sims) ::kill(sim->pid(), SIGCONT);
    sims.clear();
  }
  ~frozen() { thaw(); }
};

}  // namespace

TEST(DashboardOnACluster, ChromiumWatchesARunOnTwoWorkersFromPlanToDone) {
  auto chromium = codehive::cluster_test::find_program({"chromium", "chromium-browser", "google-chrome"});
  if (chromium.empty()) GTEST_SKIP() << "no chromium in PATH: the dashboard cannot be checked in a browser (CI installs it)";
  temp_dir dir{"codehive-dashboard-cluster"};
  // The browser validator off (the run's own checks are not what is watched
  // here); the planner's model priced, so the run has a cost.
  auto config = write_plain_config(
    dir.path(),
    ",\"prices\":{\"gpt-4o-mini\":{\"prompt_per_mtok\":0.15,\"completion_per_mtok\":0.6}}");
  auto join_token = dir.write("join.token", "join-token-for-the-dashboard-test\n").string();
  auto scenario = (demo_dir() / "scenario.json").string();

  auto coord_sim = sim_process::start(scenario);
  auto sim_port = std::to_string(coord_sim.port());
  node_process coord({CODEHIVE_BIN, "coordinator", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--store",
                      (dir / "store").string(), "--token-file", join_token, "--config", config, "--planner",
                      "openai://127.0.0.1:" + sim_port + "/v1/gpt-4o-mini", "--coder",
                      "ollama://127.0.0.1:" + sim_port + "/qwen2.5-coder:7b"},
                     dir / "logs" / "coordinator", no_token_env);
  auto base = wait_base_url(coord, 60000);
  ASSERT_TRUE(base) << "awaited the line \"http: http://HOST:PORT/\" within 60 s\n" << coord.tail();
  static const std::regex listening_re{"codehive coordinator listening on ([^ ]+):([0-9]+)"};
  auto listening = coord.wait_line(listening_re, 60000);
  ASSERT_TRUE(listening) << "awaited \"codehive coordinator listening on HOST:PORT\" within 60 s\n" << coord.tail();
  std::smatch m;
  std::regex_search(*listening, m, listening_re);
  const std::string address = m[1].str() + ":" + m[2].str();

  // Two workers of one coder each (a run long enough to watch), each with its own simulator.
  std::map<std::string, sim_process> sims;
  std::map<std::string, std::unique_ptr<node_process>> workers;
  for (const std::string name : {"w1", "w2"}) {
    auto& sim = sims.emplace(name, sim_process::start(scenario)).first->second;
    workers[name] = std::make_unique<node_process>(
        std::vector<std::string>{CODEHIVE_BIN, "worker", "--join", address, "--name", name, "--coders", "1",
                                 "--fixers", "1", "--coder",
                                 "ollama://127.0.0.1:" + std::to_string(sim.port()) + "/qwen2.5-coder:7b",
                                 "--token-file", join_token, "--config", config},
        dir / "logs" / ("worker-" + name), no_token_env);
  }
  for (auto& [name, w] : workers)
    ASSERT_TRUE(w->wait_text("joined coordinator", 60000))
        << "awaited worker " << name << " to log \"joined coordinator\" within 60 s\n" << w->tail() << coord.tail();

  frozen held{{&sims.at("w1"), &sims.at("w2")}};
  node_process run({CODEHIVE_BIN, "run", "--coordinator", address, demo_request(), "--out", (dir / "out").string(),
                    "--token-file", join_token},
                   dir / "logs" / "run", no_token_env);

  // The plan exists (11 tasks) and nothing can finish yet: the page opens now.
  std::string id;
  ASSERT_TRUE(wait_until(120000, [&] {
    auto d = parse(http_get(*base, "/api/runs").body);
    if (!d.IsObject() || !d["runs"].IsArray() || d["runs"].Size() != 1) return false;
    id = d["runs"][0]["id"].GetString();
    return d["runs"][0]["tasks_total"].GetInt() == 11;
  })) << "awaited one run with a plan of 11 tasks in /api/runs within 120 s\n" << run.tail() << coord.tail();

  // The page watches in real time from here to a refresh that read the run as done.
  page_watch page;
  auto opened = page.open(chromium, *base + "/", 120000);
  ASSERT_EQ(opened, "") << "awaited chromium to open the dashboard within 120 s";

  const int http_port = std::stoi(base->substr(base->rfind(':') + 1));
  ASSERT_TRUE(wait_until(120000, [&] { return connections_to(http_port) > 0; }))
      << "awaited the browser's connection to the dashboard within 120 s";
  held.thaw();

  // While it runs: both workers in /api/nodes, and /metrics says so.
  ASSERT_TRUE(wait_until(60000, [&] {
    auto d = parse(http_get(*base, "/api/nodes").body);
    int alive = 0;
    if (d.IsObject() && d["nodes"].IsArray())
      for (const auto& n : d["nodes"].GetArray()) alive += n["alive"].GetBool() ? 1 : 0;
    return alive == 2;
  })) << "awaited 2 workers alive in /api/nodes within 60 s";

  // The end of the run, as the client sees it and as the API does.
  auto code = run.wait_exit(300000);
  ASSERT_TRUE(code) << "awaited the run's end within 300 s\n" << run.tail() << coord.tail();
  ASSERT_EQ(*code, 0) << run.tail() << coord.tail();
  auto detail = parse(http_get(*base, "/api/runs/" + id).body);
  ASSERT_TRUE(detail.IsObject()) << "no /api/runs/" << id;
  EXPECT_STREQ(detail["state"].GetString(), "done");
  std::vector<sample> metrics;
  std::string why;
  auto text = http_get(*base, "/metrics").body;
  ASSERT_TRUE(parse_prometheus(text, metrics, why)) << why << "\n" << text;
  EXPECT_EQ(sum_of(metrics, "codehive_workers_up"), 2) << text;
  EXPECT_EQ(sum_of(metrics, "codehive_run_tasks", {{"run", id}, {"kind", "plan"}, {"state", "done"}}), 11) << text;
  EXPECT_GT(sum_of(metrics, "codehive_run_tokens_total", {{"run", id}}), 0) << text;

  std::string no_page;
  auto page_dom = dashboard_once(page, "done", 120000, no_page);
  ASSERT_TRUE(page_dom) << no_page;
  const std::string& dom = *page_dom;
  EXPECT_EQ(exceptions_text(page), "") << "the page threw";
  // One page session saw the run from running to done, and the cost grow.
  const std::string watch = "<div id=\"watch\"";
  EXPECT_EQ(attr_of(dom, watch, "data-run"), id) << dom;
  EXPECT_EQ(attr_of(dom, watch, "data-first-state"), "running") << "the page was loaded during the run";
  EXPECT_EQ(attr_of(dom, watch, "data-last-state"), "done") << dom;
  EXPECT_GT(std::atof(attr_of(dom, watch, "data-last-cost").c_str()),
            std::atof(attr_of(dom, watch, "data-first-cost").c_str()))
      << "the cost grew while the page watched";
  EXPECT_NE(dom.find("id=\"run-state\">done<"), std::string::npos) << dom;
  std::smatch tokens;
  ASSERT_TRUE(std::regex_search(dom, tokens, std::regex(R"(id="tokens">(\d+)<)"))) << dom;
  EXPECT_GT(std::stoll(tokens[1].str()), 0);
  // Every task done, in the graph and in the table.
  auto tasks_at = dom.find("<table id=\"tasks\">");
  ASSERT_NE(tasks_at, std::string::npos) << dom;
  EXPECT_EQ(count_of(dom.substr(tasks_at, dom.find("</table>", tasks_at) - tasks_at), "data-state=\"done\""), 11u)
      << dom;
  auto graph_at = dom.find("<div id=\"graph\">");
  ASSERT_NE(graph_at, std::string::npos) << dom;
  auto graph = dom.substr(graph_at, dom.find("</svg>", graph_at) - graph_at);
  EXPECT_EQ(count_of(graph, "<g id=\"g-"), 11u) << graph;
  EXPECT_EQ(count_of(graph, "data-state=\"done\""), 11u) << graph;
  // The worker list is the cluster: exactly w1 and w2, one coder each, all
  // the page's session long.
  auto seen = parse(unescape_html(attr_of(dom, watch, "data-workers")));
  ASSERT_TRUE(seen.IsObject()) << dom;
  EXPECT_EQ(seen.MemberCount(), 2u) << attr_of(dom, watch, "data-workers");
  for (const char* name : {"w1", "w2"}) {
    ASSERT_TRUE(seen.HasMember(name)) << name << " missing: " << attr_of(dom, watch, "data-workers");
    EXPECT_EQ(seen[name].GetInt(), 1);
    EXPECT_EQ(attr_of(dom, std::string("<tr id=\"node-") + name + "\"", "data-coders"), "1") << dom;
  }
  auto workers_at = dom.find("<table id=\"workers\">");
  ASSERT_NE(workers_at, std::string::npos) << dom;
  EXPECT_EQ(count_of(dom.substr(workers_at, dom.find("</table>", workers_at) - workers_at), "<tr id=\"node-"), 2u)
      << dom;

  // The screenshot, a test artifact at a stable path.
  std::error_code ec;
  fs::create_directories(CODEHIVE_HTTP_ARTIFACTS, ec);
  const auto shot = fs::path(CODEHIVE_HTTP_ARTIFACTS) / "dashboard-cluster.png";
  fs::remove(shot, ec);
  auto still = headless_chromium(chromium, dir / "chromium-shot");
  still.insert(still.end(), {"--virtual-time-budget=5000", "--window-size=1400,1000", "--screenshot=" + shot.string(),
                             *base + "/"});
  std::string out;
  EXPECT_EQ(run_to_end(still, dir / "logs" / "chromium-shot", 120000, &out), 0) << out;
  ASSERT_TRUE(fs::is_regular_file(shot)) << out;
  EXPECT_TRUE(is_png(shot)) << shot << " does not start with the PNG signature";
  std::printf("[  NOTE    ] dashboard screenshot (cluster of 2 workers): %s\n", shot.string().c_str());

  coord.signal(SIGTERM);
  auto coord_code = coord.wait_exit(60000);
  ASSERT_TRUE(coord_code) << "awaited the coordinator to end within 60 s of SIGTERM\n" << coord.tail();
  EXPECT_EQ(*coord_code, 0) << coord.tail();
}
