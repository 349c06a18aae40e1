// The plan-approval endpoints of a `codehive run --approve-plan --http ...`
// process (llm-sim answers): GET /api/runs/{id}/approval, POST .../approve
// (an edited plan in the body, or none) and .../reject, behind the bearer
// token; an edited plan the run refuses is a 422 with the reason and the
// plan keeps waiting; the dashboard shows the waiting plan in a real browser.
// Every wait polls with a generous deadline and says what it waits for.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/cluster/node_process.hpp"
#include "tests/support/approval_scenario.hpp"
#include "tests/support/configs.hpp"
#include "tests/support/json.hpp"
#include "tests/support/sim_process.hpp"

namespace {

using codehive::cluster_test::node_process;
using namespace codehive::test;

const std::string token = "approval-token-for-tests";

std::map<std::string, std::string> bearer() { return {{"Authorization", "Bearer " + token}}; }

rapidjson::Document parse(const std::string& text) {
  return codehive::test::parse_any(text);
}

/// The waiting plan as the dashboard shows it, in headless chromium (skipped
/// with a note where chromium is not installed).
void check_dashboard_shows_the_plan(const std::string& base, const temp_dir& dir) {
  auto chromium = codehive::cluster_test::find_program({"chromium", "chromium-browser", "google-chrome"});
  if (chromium.empty()) {
    std::printf("[  NOTE    ] no chromium in PATH: the approval box was not checked in a browser\n");
    return;
  }
  std::string dom;
  int code = codehive::cluster_test::run_to_end(
      {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--user-data-dir=" + (dir.path() / "chromium-profile").string(), "--virtual-time-budget=5000",
       "--dump-dom", base + "/#token=" + token},
      dir.path() / "logs" / "chromium", 120000, &dom);
  ASSERT_EQ(code, 0) << dom;
  auto box = dom.find("<div id=\"approval\"");
  ASSERT_NE(box, std::string::npos) << dom;
  auto tag = dom.substr(box, dom.find('>', box) - box);
  EXPECT_EQ(tag.find("hidden"), std::string::npos) << "the approval box is shown: " << tag;
  EXPECT_NE(dom.find("hello.txt", box), std::string::npos) << "the plan is listed:\n" << dom;
  EXPECT_NE(dom.find("<button id=\"approve\">Approve</button>"), std::string::npos) << dom;
}

}  // namespace

TEST(HttpApproval, ThePlanWaitsBehindTheTokenARefusedEditKeepsItWaitingAndApprovalBuildsIt) {
  temp_dir dir{"codehive-http-approval"};
  auto sim = codehive::test::sim_process::start(codehive::test::approval_scenario);
  auto port = std::to_string(sim.port());
  std::ofstream(dir.path() / "http.token") << token << "\n";
  write_plain_config(dir.path());
  node_process run({CODEHIVE_BIN, "run", "two notes", "--approve-plan", "--http", "127.0.0.1:0",
                    "--http-token-file", (dir.path() / "http.token").string(), "--out",
                    (dir.path() / "out").string(), "--store", (dir.path() / "store").string(), "--config",
                    (dir.path() / "codehive.json").string(), "--planner",
                    "openai://127.0.0.1:" + port + "/v1/big", "--coder", "ollama://127.0.0.1:" + port + "/small"},
                   dir.path() / "logs" / "run", {{"CODEHIVE_HTTP_TOKEN", ""}});
  static const std::regex http_re{R"(^http: (http://127\.0\.0\.1:\d+)/$)"};
  auto line = run.wait_line(http_re, 60000);
  ASSERT_TRUE(line) << "awaited the line \"http: URL\" within 60 s\n" << run.tail();
  std::smatch m;
  std::regex_search(*line, m, http_re);
  const std::string base = m[1];
  ASSERT_TRUE(run.wait_text("waits for approval", 120000)) << "awaited the waiting plan\n" << run.tail();
  static const std::regex id_re{R"(^codehive (\S+): two notes)"};
  auto id_line = run.wait_line(id_re, 1000);
  ASSERT_TRUE(id_line) << run.tail();
  std::regex_search(*id_line, m, id_re);
  const std::string id = m[1];
  const std::string path = "/api/runs/" + id;

  // The token rules of the rest of the API.
  EXPECT_EQ(http_get(base, path + "/approval").status, 401);
  EXPECT_EQ(http_post(base, path + "/approve", "").status, 401);
  EXPECT_EQ(http_post(base, path + "/reject", "", {{"Authorization", "Bearer wrong"}}).status, 401);

  auto state = http_get(base, path + "/approval", bearer());
  ASSERT_EQ(state.status, 200) << state.body;
  auto s = parse(state.body);
  ASSERT_TRUE(s.IsObject()) << state.body;
  EXPECT_TRUE(s["waiting"].GetBool()) << state.body;
  EXPECT_EQ(s["tasks"].GetInt(), 2) << state.body;
  EXPECT_NE(std::string(s["message"].GetString()).find("bye.txt"), std::string::npos) << state.body;
  auto other = http_get(base, "/api/runs/no-such-run/approval", bearer());
  EXPECT_EQ(other.status, 404);
  EXPECT_TRUE(parse(other.body).HasMember("error")) << other.body;
  EXPECT_EQ(http_post(base, "/api/runs/no-such-run/approve", "", bearer()).status, 404);

  // An edit the run refuses: 422 with the reason, and the plan still waits.
  auto bad = http_post(base, path + "/approve", R"({"tasks":[{"id":"x","path":"x.txt","edit":"rewrite"}]})",
                       bearer());
  EXPECT_EQ(bad.status, 422) << bad.body;
  auto b = parse(bad.body);
  ASSERT_TRUE(b.IsObject()) << bad.body;
  EXPECT_TRUE(b["waiting"].GetBool());
  EXPECT_FALSE(b["accepted"].GetBool());
  EXPECT_NE(std::string(b["message"].GetString()).find("edit must be"), std::string::npos) << bad.body;
  auto detail = parse(http_get(base, path, bearer()).body);
  ASSERT_TRUE(detail.IsObject() && detail["tasks"].IsArray());
  EXPECT_EQ(detail["tasks"].Size(), 0u) << "no task is stored before approval";
  EXPECT_EQ(sim.count_role("coder"), 0);

  check_dashboard_shows_the_plan(base, dir);

  // Approved as proposed (the exported file is untouched).
  auto ok = http_post(base, path + "/approve", "", bearer());
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto o = parse(ok.body);
  EXPECT_TRUE(o["accepted"].GetBool()) << ok.body;
  EXPECT_FALSE(o["waiting"].GetBool()) << ok.body;
  EXPECT_NE(std::string(o["message"].GetString()).find("plan approved: 2 tasks"), std::string::npos) << ok.body;
  // Nothing waits any more: 409 while the run runs, 404 once it is gone.
  auto again = http_post(base, path + "/approve", "", bearer());
  EXPECT_TRUE(again.status == 409 || again.status == 404) << again.status << " " << again.body;

  auto code = run.wait_exit(180000);
  ASSERT_TRUE(code) << "awaited the run's end within 180 s of the approval\n" << run.tail();
  EXPECT_EQ(*code, 0) << run.tail();
  EXPECT_EQ(sim.count_role_path("coder", "bye.txt"), 1);
}

// `run --coordinator --approve-plan`: the plan waits on the coordinator, the
// client says so, and the coordinator's HTTP API approves it.
TEST(HttpApproval, ARunSubmittedToACoordinatorWaitsThereAndIsApprovedThroughItsApi) {
  temp_dir dir{"codehive-http-approval"};
  auto sim = codehive::test::sim_process::start(codehive::test::approval_scenario);
  auto port = std::to_string(sim.port());
  std::ofstream(dir.path() / "join.token") << "join-token-for-tests\n";
  write_plain_config(dir.path());
  const std::map<std::string, std::string> env{{"CODEHIVE_HTTP_TOKEN", ""}};
  node_process coord({CODEHIVE_BIN, "coordinator", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
                      "--token-file", (dir.path() / "join.token").string(), "--coders", "1", "--fixers", "1",
                      "--store", (dir.path() / "store").string(), "--config", (dir.path() / "codehive.json").string(),
                      "--planner", "openai://127.0.0.1:" + port + "/v1/big", "--coder",
                      "ollama://127.0.0.1:" + port + "/small"},
                     dir.path() / "logs" / "coordinator", env);
  static const std::regex http_re{R"(^http: (http://127\.0\.0\.1:\d+)/$)"};
  static const std::regex listen_re{R"(listening on (\S+))"};
  auto http_line = coord.wait_line(http_re, 60000);
  ASSERT_TRUE(http_line) << "awaited the line \"http: URL\" within 60 s\n" << coord.tail();
  auto listen_line = coord.wait_line(listen_re, 60000);
  ASSERT_TRUE(listen_line) << "awaited \"listening on\" within 60 s\n" << coord.tail();
  std::smatch m;
  std::regex_search(*http_line, m, http_re);
  const std::string base = m[1];
  std::regex_search(*listen_line, m, listen_re);
  const std::string coordinator = m[1];

  node_process client({CODEHIVE_BIN, "run", "two notes", "--coordinator", coordinator, "--token-file",
                       (dir.path() / "join.token").string(), "--approve-plan", "--config",
                       (dir.path() / "codehive.json").string(), "--out", (dir.path() / "out").string()},
                      dir.path() / "logs" / "client", env);
  ASSERT_TRUE(client.wait_text("waits; approve it through the coordinator", 120000))
      << "awaited the client's note that the plan waits\n" << client.tail() << coord.tail();
  static const std::regex id_re{R"(^codehive (\S+): two notes)"};
  auto id_line = client.wait_line(id_re, 1000);
  ASSERT_TRUE(id_line) << client.tail();
  std::regex_search(*id_line, m, id_re);
  const std::string id = m[1];
  EXPECT_EQ(sim.count_role("coder"), 0);

  auto ok = http_post(base, "/api/runs/" + id + "/approve", "");
  ASSERT_EQ(ok.status, 200) << ok.body << "\n" << coord.tail();
  auto code = client.wait_exit(180000);
  ASSERT_TRUE(code) << "awaited the client's end within 180 s of the approval\n" << client.tail();
  EXPECT_EQ(*code, 0) << client.tail() << coord.tail();
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "out" / "bye.txt"));

  coord.signal(SIGTERM);
  auto stopped = coord.wait_exit(60000);
  ASSERT_TRUE(stopped) << "awaited the coordinator to end within 60 s of SIGTERM\n" << coord.tail();
}
