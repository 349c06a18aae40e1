// The demo, end to end, through real processes: llm-sim replays the SCRIPTED answers of
// configs/demo/scenario.json; `codehive run` plans, codes with parallel coders, validates,
// reviews, fixes the planted defect (js/app.js lacks clearDone(), which index.html's
// "Clear done" button calls) and exports generated_files/. The output must equal
// configs/demo/app/ byte for byte, and the simulator's counts prove nothing was asked twice.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/demo/run_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/configs.hpp"
#include "tests/support/sim_process.hpp"
#include "vcs/repository.hpp"

namespace fs = std::filesystem;
using namespace codehive::demo_test;
using namespace codehive::test;

namespace {

constexpr const char* defect_path = "js/app.js";
constexpr int run_timeout_ms = 180000;

/// The whole file, "" when it cannot be read.
std::string slurp(const fs::path& p) { return codehive::test::read_whole_file(p); }

std::string describe(const process_result& r) {
  std::ostringstream s;
  s << "exit " << r.exit_code << (r.timed_out ? " (timed out)" : "") << " after " << r.seconds
    << " s; output:\n" << r.output;
  return s.str();
}

/// Every file of configs/demo/app/ exists in `out` with the same bytes; no other project
/// files were written (generated_files/ and hidden folders, e.g. a run store, aside).
void expect_output_matches_app(const fs::path& out) {
  ASSERT_GE(demo_app_files().size(), 8u) << "configs/demo/app/ looks incomplete";
  EXPECT_EQ(demo_output_differences(out), "") << "the output differs from configs/demo/app/";
}

/// `codehive run --demo` into `out` with its own run store (the simulator is its own).
process_result run_demo_flag(const temp_dir& out, const temp_dir& store) {
  return run_process(
    {CODEHIVE_BIN, "run", "--demo", "--out", out.path().string(), "--store", store.path().string()},
    run_timeout_ms, source_dir());
}

rapidjson::Document parse_file(const fs::path& p) {
  rapidjson::Document d;
  const std::string text = slurp(p);
  d.Parse(text.c_str(), text.size());
  EXPECT_FALSE(d.HasParseError()) << p << " is not valid JSON";
  return d;
}

bool is_nonempty_string(const rapidjson::Value& obj, const char* key) {
  return obj.IsObject() && obj.HasMember(key) && obj[key].IsString() && obj[key].GetStringLength() > 0;
}

/// Calls f on every object nested anywhere in v (v included).
void for_each_object(const rapidjson::Value& v, const std::function<void(const rapidjson::Value&)>& f) {
  if (v.IsObject()) {
    f(v);
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) for_each_object(it->value, f);
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) for_each_object(e, f);
  }
}

/// generated_files/{tasks,code_review,file_tracker,status}.json with the documented keys.
void expect_exports(const fs::path& out) {
  const fs::path gen = out / "generated_files";
  for (const char* name : {"tasks.json", "code_review.json", "file_tracker.json", "status.json"})
    ASSERT_TRUE(fs::is_regular_file(gen / name)) << "generated_files/" << name << " missing";

  // tasks.json: one task per app file, each with id, action, type, path, description.
  {
    auto d = parse_file(gen / "tasks.json");
    const rapidjson::Value* tasks = nullptr;
    if (d.IsArray()) tasks = &d;
    else if (d.IsObject() && d.HasMember("tasks") && d["tasks"].IsArray()) tasks = &d["tasks"];
    ASSERT_NE(tasks, nullptr) << "tasks.json is neither a list nor {\"tasks\": [...]}";
    std::set<std::string> paths;
    for (const auto& t : tasks->GetArray()) {
      for (const char* key : {"id", "action", "type", "path", "description"})
        EXPECT_TRUE(is_nonempty_string(t, key)) << "a task lacks \"" << key << "\"";
      if (is_nonempty_string(t, "path")) paths.insert(t["path"].GetString());
      if (is_nonempty_string(t, "action")) {
        EXPECT_STREQ(t["action"].GetString(), "create");
      }
    }
    EXPECT_EQ(paths, std::set<std::string>(demo_app_files().begin(), demo_app_files().end()));
  }

  // code_review.json: the review's issue about the planted defect.
  {
    auto d = parse_file(gen / "code_review.json");
    int issues = 0;
    bool defect_found = false;
    for_each_object(d, [&](const rapidjson::Value& o) {
      if (!is_nonempty_string(o, "file") || !is_nonempty_string(o, "problem")) return;
      ++issues;
      EXPECT_TRUE(is_nonempty_string(o, "instructions")) << "an issue lacks instructions";
      if (std::string(o["file"].GetString()) == defect_path &&
          std::string(o["problem"].GetString()).find("clearDone") != std::string::npos)
        defect_found = true;
    });
    EXPECT_GE(issues, 1) << "code_review.json holds no issue";
    EXPECT_TRUE(defect_found) << "code_review.json lacks the clearDone issue on " << defect_path;
  }

  // file_tracker.json: {path: {summary, lastModified}} for every file.
  {
    auto d = parse_file(gen / "file_tracker.json");
    ASSERT_TRUE(d.IsObject()) << "file_tracker.json is not an object";
    const rapidjson::Value* tracker = &d;
    if (!d.HasMember("index.html") && d.HasMember("files") && d["files"].IsObject()) tracker = &d["files"];
    for (const auto& rel : demo_app_files()) {
      ASSERT_TRUE(tracker->HasMember(rel.c_str())) << "file_tracker.json lacks " << rel;
      const auto& entry = (*tracker)[rel.c_str()];
      EXPECT_TRUE(is_nonempty_string(entry, "summary")) << rel << ": no summary";
      EXPECT_TRUE(entry.IsObject() && entry.HasMember("lastModified")) << rel << ": no lastModified";
    }
  }

  // status.json: a run state that says the run finished.
  {
    auto d = parse_file(gen / "status.json");
    ASSERT_TRUE(is_nonempty_string(d, "state")) << "status.json has no \"state\"";
    const std::string state = d["state"].GetString();
    EXPECT_TRUE(state == "done" || state == "completed" || state == "succeeded" || state == "clean")
        << "status.json state is \"" << state << "\"";
  }
}

}  // namespace

// (a) The whole pipeline against the scripted scenario, with four parallel coders.
TEST(Demo, EndToEndAgainstScriptedScenario) {
  const std::string request = demo_request();
  ASSERT_FALSE(request.empty()) << "configs/demo/request.txt is empty";
  auto sim = sim_process::start((demo_dir() / "scenario.json").string());
  temp_dir out("codehive-demo-e2e");
  temp_dir store("codehive-demo-store");  // each test its own run store (they run in parallel)
  const std::string port = std::to_string(sim.port());
  const auto r = run_process(
      {CODEHIVE_BIN, "run", request, "--out", out.path().string(), "--store", store.path().string(),
       "--planner", "openai://127.0.0.1:" + port + "/v1/gpt-4o-mini",
       "--coder", "ollama://127.0.0.1:" + port + "/qwen2.5-coder:7b", "--coders", "4"},
      run_timeout_ms);
  ASSERT_EQ(r.exit_code, 0) << describe(r) << "\nsim stats: " << sim.stats_json();

  expect_output_matches_app(out.path());
  expect_exports(out.path());

  // The simulator's counts: nothing asked twice, nothing unexpected.
  EXPECT_EQ(sim.count_role("planner"), 1) << sim.stats_json();
  for (const auto& rel : demo_app_files())
    EXPECT_EQ(sim.count_role_path("coder", rel), 1) << "coder calls for " << rel;
  EXPECT_EQ(sim.count_role("coder"), static_cast<int>(demo_app_files().size()));
  EXPECT_EQ(sim.count_role_path("fixer", defect_path), 1);
  EXPECT_EQ(sim.count_role("fixer"), 1);
  EXPECT_EQ(sim.count_role("reviewer"), 2);
  EXPECT_EQ(sim.unmatched(), 0) << sim.stats_json();
  EXPECT_EQ(sim.count_fault("404"), 0) << "a request matched no rule: " << sim.stats_json();
}

// (b) `codehive run --demo` starts its own simulator and says plainly that it is a demo.
TEST(Demo, DemoFlagRunsOfflineWithDisclaimer) {
  temp_dir out("codehive-demo-flag");
  temp_dir store("codehive-demo-store");
  const auto r = run_demo_flag(out, store);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.output.find("DEMO MODE"), std::string::npos)
      << "no DEMO MODE disclaimer in the output:\n" << r.output;
  expect_output_matches_app(out.path());
  EXPECT_TRUE(fs::is_regular_file(out / "generated_files" / "status.json"));
}

// (c) The generated page in a real browser: it loads without uncaught errors, renders the
// seeded board, and the "Clear done" button (the planted defect, fixed) works.
TEST(Demo, GeneratedPageWorksInChromium) {
  const std::string chromium = find_in_path({"chromium", "chromium-browser", "google-chrome"});
  if (chromium.empty()) {
    std::printf("[  SKIPPED ] no chromium, chromium-browser or google-chrome in PATH\n");
    GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  }
  temp_dir out("codehive-demo-browser");
  temp_dir store("codehive-demo-store");
  const auto r = run_demo_flag(out, store);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  ASSERT_TRUE(fs::is_regular_file(out / "index.html"));

  // A copy of the generated app plus one probe script that, once the page has loaded,
  // clicks "Clear done" through its inline handler and records what the board shows.
  temp_dir page("codehive-demo-page");
  fs::copy(out.path(), page.path(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  page.write("probe.js", R"JS(
window.addEventListener('load', function () {
  setTimeout(function () {
    var result = [];
    try {
      result.push('before=' + document.querySelectorAll('.card').length);
      document.querySelector('button[onclick="clearDone()"]').click();
      result.push('after=' + document.querySelectorAll('.card').length);
      result.push('done=' + document.querySelectorAll('.column-done .card').length);
    } catch (e) {
      result.push('error=' + e);
    }
    document.body.setAttribute('data-probe', result.join(';'));
  }, 300);
});
)JS");
  std::string html = slurp(page / "index.html");
  const auto body_end = html.rfind("</body>");
  ASSERT_NE(body_end, std::string::npos) << "index.html has no </body>";
  html.insert(body_end, "<script src=\"probe.js\"></script>\n");
  page.write("index.html", html);

  temp_dir profile("codehive-demo-chromium");
  const auto b = run_process(
      {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--user-data-dir=" + profile.path().string(), "--enable-logging=stderr", "--v=0",
       "--virtual-time-budget=5000", "--window-size=1200,800", "--dump-dom",
       "file://" + (page / "index.html").string()},
      90000);
  ASSERT_EQ(b.exit_code, 0) << describe(b);
  EXPECT_EQ(b.output.find("Uncaught"), std::string::npos) << "uncaught error in the page:\n" << b.output;

  std::smatch m;
  ASSERT_TRUE(std::regex_search(b.output, m, std::regex("data-probe=\"([^\"]*)\"")))
      << "the probe did not run; browser output:\n" << b.output;
  // The seed has six cards, one of them in Done; Clear done leaves five and none in Done.
  EXPECT_EQ(m[1].str(), "before=6;after=5;done=0");
  EXPECT_NE(b.output.find("Write the release notes"), std::string::npos) << "seed cards not rendered";
}

// (d) Issue 14's "done means": a follow-up request on the demo's output (with --git, which
// makes the folder a repository, its files the first commit) changes only what it must, in
// commits: one search/replace in about.html, one commit of the run, every other file byte
// for byte the demo's, nothing left uncommitted; undo gives back the demo's output.
TEST(Demo, AFollowUpRequestOnTheDemosOutputChangesOnlyWhatItMustInCommits) {
  temp_dir out("codehive-demo-followup");
  temp_dir store("codehive-demo-store");
  const auto demo = run_demo_flag(out, store);
  ASSERT_EQ(demo.exit_code, 0) << describe(demo);
  expect_output_matches_app(out.path());

  const std::string plan = R"json({"tasks":[{"id":"title","action":"update","type":"file",
    "path":"about.html","edit":"search_replace","description":"rename the about page",
    "instructions":"Change the title About the Kanban board to About our Kanban board."}]})json";
  auto sim = sim_process::start(
      R"json({"models":["small","big"],"latency":{"ttft_ms":5,"tokens_per_s":100000},"rules":[
    {"name":"sum","match":{"role":"summarizer"},"response":{"json":{"summary":"a file of the board"}}},
    {"name":"plan","match":{"role":"planner","prompt_regex":"- about\\.html: "},"response":{"json":)json" +
      plan + R"json(}},
    {"name":"blind plan","match":{"role":"planner"},"response":{"content":"the project was not listed"}},
    {"name":"coder","match":{"role":"coder","path":"about.html"},"response":{"json":{"kind":"search_replace",
      "blocks":[{"search":"<title>About the Kanban board</title>","replace":"<title>About our Kanban board</title>"}]}}},
    {"name":"review","match":{"role":"reviewer"},"response":{"json":{"issues":[]}}}]})json");
  const std::string port = std::to_string(sim.port());
  temp_dir cfg("codehive-demo-followup-config");
  const std::string config = write_plain_config(cfg.path());
  const auto r =
    run_process({CODEHIVE_BIN, "run", "rename the about page: About our Kanban board", "--out",
                 out.path().string(), "--store", store.path().string(), "--git", "--config", config,
                 "--planner", "openai://127.0.0.1:" + port + "/v1/big", "--coder",
                 "ollama://127.0.0.1:" + port + "/small"},
                run_timeout_ms);
  ASSERT_EQ(r.exit_code, 0) << describe(r) << "\nsim stats: " << sim.stats_json();
  EXPECT_EQ(sim.count_role("planner"), 1) << "the plan was made against the listed project";
  EXPECT_EQ(sim.count_role("coder"), 1);
  EXPECT_EQ(sim.count_role("fixer"), 0);

  // Only about.html changed, and only its title.
  for (const auto& rel : demo_app_files()) {
    auto want = slurp(demo_app_dir() / rel);
    if (rel == "about.html")
      want.replace(want.find("<title>About the Kanban board</title>"), 37,
                   "<title>About our Kanban board</title>");
    EXPECT_TRUE(slurp(out / rel) == want) << rel;
  }
  const std::set<std::string> expected(demo_app_files().begin(), demo_app_files().end());
  for (const auto& rel : files_under(out.path())) {
    if (rel.rfind("generated_files/", 0) == 0 || rel[0] == '.') continue;
    EXPECT_TRUE(expected.count(rel)) << "unexpected file in the output: " << rel;
  }

  // In commits: the run's one commit holds the edit, and nothing is left uncommitted.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m,
                                std::regex{"codehive ([0-9]{8}-[0-9]{6}-[0-9a-f]{4}): "}))
      << r.output;
  const std::string run = m[1];
  auto repo = codehive::vcs::repository::open(out.path());
  ASSERT_TRUE(repo) << repo.err().describe();
  auto commits = repo->run_commits(run);
  ASSERT_TRUE(commits) << commits.err().describe();
  ASSERT_EQ(commits->size(), 1u);
  EXPECT_EQ((*commits)[0].tag.task, "title");
  EXPECT_EQ((*commits)[0].tag.path, "about.html");
  auto dirty = repo->dirty_paths();
  ASSERT_TRUE(dirty);
  EXPECT_TRUE(dirty->empty()) << "left uncommitted: " << (dirty->empty() ? "" : dirty->front());

  const auto u = run_process({CODEHIVE_BIN, "undo", run, "--store", store.path().string()},
                             run_timeout_ms);
  ASSERT_EQ(u.exit_code, 0) << describe(u);
  expect_output_matches_app(out.path());
}
