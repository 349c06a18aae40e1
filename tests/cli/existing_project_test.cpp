// `codehive run` on a folder that already holds a project (the committed
// fixture tests/fixtures/existing_site), as a real process against llm-sim:
// the scan leaves out what .gitignore excludes, each text file is summarised
// once (binary ones never: their bytes are kept as found) and the planning
// prompt lists the summaries, an update changes only what it must (every
// other file byte-identical, ignored and binary ones included), a second run
// on the same folder and store asks the summarizer only about the files that
// changed since, and `codehive export` rebuilds the whole project, binary
// files included, naming what the store could not hold.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "tests/cli/process.hpp"
#include "tests/support/configs.hpp"
#include "tests/support/sim_process.hpp"

using namespace codehive::test;
namespace fs = std::filesystem;

namespace {

const fs::path fixture = fs::path{CODEHIVE_SOURCE_DIR} / "tests/fixtures/existing_site";

/// What the scan hands to the summarizer: the fixture less debug.log, dist/,
/// secret.txt, notes/draft.md (ignored), logo.png, data/latin1.txt (binary:
/// stored as they are, never summarised).
const std::vector<std::string> scanned{".gitignore",      "about.html",       "css/style.css",
                                       "docs/secret.txt", "index.html",       "js/app.js",
                                       "keep.log",        "notes/.gitignore", "notes/todo.md"};
const std::vector<std::string> left_out{"debug.log",      "dist/bundle.js", "secret.txt",
                                        "notes/draft.md", "logo.png",       "data/latin1.txt"};
const std::vector<std::string> ignored{"debug.log", "dist/bundle.js", "secret.txt",
                                       "notes/draft.md"};

std::string slurp(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

/// Every file under `root` but codehive's exports, with its bytes.
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator{root}) {
    auto rel = e.path().lexically_relative(root).generic_string();
    if (e.is_regular_file() && rel.rfind("generated_files/", 0) != 0)
      out[rel] = slurp(e.path());
  }
  return out;
}

/// Summaries by path; the planner answers only a prompt that lists the
/// model's summary of index.html (else an unusable answer, and the run fails).
std::string scenario(const std::string& plan, const std::string& coder_rule) {
  return R"json({"models":["small","big"],"latency":{"ttft_ms":5,"tokens_per_s":100000},"rules":[
    {"name":"sum-index","match":{"role":"summarizer","path":"index.html"},
     "response":{"json":{"summary":"the bakery's home page"}}},
    {"name":"sum","match":{"role":"summarizer"},"response":{"json":{"summary":"a file of the bakery site"}}},
    {"name":"plan","match":{"role":"planner","prompt_regex":"- index\\.html: the bakery's home page"},
     "response":{"json":)json"
         + plan + R"json(}},
    {"name":"blind plan","match":{"role":"planner"},"response":{"content":"no summaries, no plan"}},
    )json"
         + coder_rule + R"json(,
    {"name":"review","match":{"role":"reviewer"},"response":{"json":{"issues":[]}}}]})json";
}

/// Run 1 of both tests: a new title in index.html, by search and replace.
const std::string new_title_request = "change the title of index.html to Welcome";
std::string new_title_scenario() {
  return scenario(
    R"json({"tasks":[{"id":"title","action":"update","type":"file","path":"index.html","edit":"search_replace",
       "description":"new title","instructions":"Replace the title Old Title with Welcome."}]})json",
    R"json({"name":"coder","match":{"role":"coder","path":"index.html"},
       "response":{"json":{"kind":"search_replace","blocks":[{"search":"<title>Old Title</title>","replace":"<title>Welcome</title>"}]}}})json");
}

std::vector<std::string> args(const temp_dir& dir, const sim_process& sim,
                              const std::string& request, const fs::path& out) {
  auto port = std::to_string(sim.port());
  return {"run",       request,
          "--out",     out.string(),
          "--config",  write_plain_config(dir.path()),
          "--planner", "openai://127.0.0.1:" + port + "/v1/big",
          "--coder",   "ollama://127.0.0.1:" + port + "/small"};
}

}  // namespace

TEST(ExistingProject, AnUpdateChangesOnlyItsFileAndASecondRunSummarisesOnlyWhatChanged) {
  temp_dir dir{"codehive-existing"};
  auto out = dir / "site";
  fs::copy(fixture, out, fs::copy_options::recursive);
  auto before = tree(out);
  ASSERT_EQ(before.size(), scanned.size() + left_out.size());
  std::vector<std::pair<std::string, std::string>> env{
    {"CODEHIVE_STORE", (dir / "store").string()}};

  // Run 1: a new title, by search and replace.
  {
    auto sim = sim_process::start(new_title_scenario());
    auto r = run_codehive(args(dir, sim, new_title_request, out), 120000, env);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const auto& p : scanned)
      EXPECT_EQ(sim.count_role_path("summarizer", p), 1) << p;
    for (const auto& p : left_out)
      EXPECT_EQ(sim.count_role_path("summarizer", p), 0) << p;
    EXPECT_EQ(sim.count_role("summarizer"), static_cast<int>(scanned.size()));
    EXPECT_EQ(sim.count_role("planner"), 1) << "the prompt listed the summaries";
    EXPECT_EQ(sim.count_role("coder"), 1);
    EXPECT_EQ(sim.unmatched(), 0);
  }
  auto after = tree(out);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [path, bytes] : before) {
    if (path == "index.html")
      continue;
    EXPECT_EQ(after[path], bytes) << path << " changed";
  }
  auto want = before["index.html"];
  want.replace(want.find("<title>Old Title</title>"), 24, "<title>Welcome</title>");
  EXPECT_EQ(after["index.html"], want) << "only the title changed";

  // A change by hand between the runs.
  std::ofstream{out / "js/app.js", std::ios::app} << "// edited by hand\n";

  // Run 2, another request on the same folder and store: the summaries of
  // unchanged files come from the store.
  {
    auto sim = sim_process::start(scenario(
      R"json({"tasks":[{"id":"brown","action":"update","type":"file","path":"css/style.css","edit":"search_replace",
         "description":"darker heading","instructions":"Make h1 dark brown."}]})json",
      R"json({"name":"coder","match":{"role":"coder","path":"css/style.css"},
         "response":{"json":{"kind":"search_replace","blocks":[{"search":"color: brown;","replace":"color: #4a2c0a;"}]}}})json"));
    auto r = run_codehive(args(dir, sim, "make the heading in css/style.css dark brown", out),
                          120000, env);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // index.html changed in run 1, js/app.js by hand; nothing else is asked about.
    EXPECT_EQ(sim.count_role_path("summarizer", "index.html"), 1);
    EXPECT_EQ(sim.count_role_path("summarizer", "js/app.js"), 1);
    EXPECT_EQ(sim.count_role("summarizer"), 2);
    EXPECT_EQ(sim.count_role("planner"), 1) << "the cached summary of index.html was listed";
    EXPECT_EQ(sim.count_role("coder"), 1);
  }
  auto last = tree(out);
  for (const auto& [path, bytes] : after) {
    if (path == "css/style.css" || path == "js/app.js")
      continue;
    EXPECT_EQ(last[path], bytes) << path << " changed";
  }
  EXPECT_EQ(last["css/style.css"], "body { font-family: serif; }\nh1 { color: #4a2c0a; }\n");
}

TEST(ExistingProject, ExportRebuildsTheWholeProjectBinaryFilesIncludedAndNamesWhatItCannot) {
  temp_dir dir{"codehive-existing-export"};
  auto out = dir / "site";
  fs::copy(fixture, out, fs::copy_options::recursive);
  // A real binary bigger than a text file may be (1 MiB), and a text file
  // over that limit: the first is kept in the store, the second is not.
  std::string photo = "\x89PNG\r\n\x1a\n";
  photo += std::string("\0\0\0\rIHDR", 8);
  for (std::size_t i = 0; photo.size() < (3u << 20) / 2; ++i)
    photo.push_back(static_cast<char>((i * 7919) % 251));
  dir.write("site/img/photo.png", photo);
  dir.write("site/big.txt", std::string((1u << 20) + 10, 'x'));
  auto before = tree(out);
  std::vector<std::pair<std::string, std::string>> env{
    {"CODEHIVE_STORE", (dir / "store").string()}};
  auto sim = sim_process::start(new_title_scenario());
  auto r = run_codehive(args(dir, sim, new_title_request, out), 120000, env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(sim.count_role_path("summarizer", "img/photo.png"), 0);
  EXPECT_EQ(sim.count_role_path("summarizer", "logo.png"), 0);
  EXPECT_EQ(sim.count_role_path("summarizer", "big.txt"), 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex{"codehive ([0-9]{8}-[0-9]{6}-[0-9a-f]{4}): "}))
    << r.output;
  const std::string run = m[1];
  auto after = tree(out);
  EXPECT_EQ(after["img/photo.png"], photo) << "a binary file the run did not touch is untouched";

  auto copy = dir / "export";
  auto e = run_codehive({"export", run, "--out", copy.string()}, 120000, env);
  ASSERT_EQ(e.exit_code, 0) << e.output;
  auto exported = tree(copy);
  // The project as the run left it, but what .gitignore excludes and the
  // file over the size limit, which the note names with the folder it is in.
  auto want = after;
  for (const auto& p : ignored)
    want.erase(p);
  want.erase("big.txt");
  EXPECT_EQ(exported.size(), want.size());
  for (const auto& [path, bytes] : want) {
    ASSERT_EQ(exported.count(path), 1u) << path << " was not exported: " << e.output;
    EXPECT_TRUE(exported[path] == bytes) << path << " differs (" << exported[path].size()
                                         << " bytes, want " << bytes.size() << ")";
  }
  EXPECT_EQ(exported["logo.png"], before["logo.png"]);
  EXPECT_EQ(exported["data/latin1.txt"], before["data/latin1.txt"]);
  EXPECT_NE(e.output.find("not in the store and were not exported (copy them from " + out.string()),
            std::string::npos)
    << e.output;
  EXPECT_NE(e.output.find("big.txt: too large"), std::string::npos) << e.output;
  EXPECT_EQ(e.output.find("photo.png:"), std::string::npos) << e.output;
}
