// Git history end to end: `codehive run` against llm-sim on an existing project
// that is a git repository. One commit per accepted edit (four tasks and one
// fix), `codehive diff` shows them, `codehive undo` gives back the tree byte for
// byte; a dirty tree is refused, --allow-dirty leaves the user's changes alone,
// and a run SIGKILLed right after a commit and resumed commits nothing twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "tests/cli/process.hpp"
#include "tests/crash/killable_process.hpp"
#include "tests/support/configs.hpp"
#include "tests/support/sim_process.hpp"
#include "vcs/repository.hpp"

#include <git2.h>

namespace fs = std::filesystem;
namespace vcs = codehive::vcs;
using namespace codehive::crash_test;
using namespace codehive::test;

namespace {

constexpr int run_timeout_ms = 300000;  // a whole run on a loaded 2-core machine

const std::string scenario =
  R"json({"models":["small","big"],"latency":{"ttft_ms":5,"tokens_per_s":100000},
 "rules":[
  {"name":"plan","match":{"role":"planner"},"response":{"json":{"tasks":[
    {"id":"util","action":"create","type":"file","path":"js/util.js","description":"helpers",
     "instructions":"Define function shout(text) returning text + '!'."},
    {"id":"app","action":"update","type":"file","path":"js/app.js","description":"greet with shout",
     "instructions":"greet() alerts shout('Hello').","depends_on":["util"]},
    {"id":"page","action":"update","type":"file","path":"index.html","description":"load the scripts",
     "instructions":"A button calling greet(); load js/util.js and js/app.js.","depends_on":["app"]},
    {"id":"old","action":"delete","type":"file","path":"old.txt","description":"remove the obsolete note",
     "instructions":"Delete it."}]}}},
  {"name":"util","match":{"role":"coder","path":"js/util.js"},
   "response":{"json":{"kind":"whole","content":"function shout(text) {\n  return text + '!';\n}\n","summary":"helpers"}}},
  {"name":"app","match":{"role":"coder","path":"js/app.js"},
   "response":{"json":{"kind":"whole","content":"function greet() {\n  alert(shout('Helo'));\n}\n","summary":"greet()"}}},
  {"name":"page","match":{"role":"coder","path":"index.html"},
   "response":{"json":{"kind":"whole","content":"<!DOCTYPE html>\n<html><head><title>Greeter</title></head>\n<body><button onclick=\"greet()\">Greet</button>\n<script src=\"js/util.js\"></script><script src=\"js/app.js\"></script></body></html>\n","summary":"the page"}}},
  {"name":"summaries","match":{"role":"summarizer"},"response":{"json":{"summary":"a file"}}},
  {"name":"review","match":{"role":"reviewer"},"responses":[
    {"json":{"issues":[{"file":"js/app.js","problem":"the greeting says Helo","instructions":"Replace 'Helo' with 'Hello'."}]}},
    {"json":{"issues":[]}}]},
  {"name":"fix","match":{"role":"fixer","path":"js/app.js"},
   "response":{"json":{"kind":"search_replace","blocks":[{"search":"shout('Helo')","replace":"shout('Hello')"}]}}}]})json";

/// The tasks whose edits are accepted, each exactly once in the history.
const std::multiset<std::string> expected_tasks{"util", "app", "page", "old", "fix:1:1"};

using tree = std::map<std::string, std::string>;

/// Every file of the folder but .git/ and generated_files/ (codehive's exports), with its bytes.
tree snapshot(const fs::path& root) {
  tree out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    auto rel = fs::relative(it->path(), root).generic_string();
    if (rel == ".git" || rel == "generated_files") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) {
      std::ifstream in{it->path(), std::ios::binary};
      out[rel] = {std::istreambuf_iterator<char>{in}, {}};
    }
  }
  return out;
}

std::multiset<std::string> tasks_of(const std::vector<vcs::commit_info>& commits) {
  std::multiset<std::string> out;
  for (const auto& c : commits)
    out.insert(c.tag.task);
  return out;
}

std::string describe(const std::vector<vcs::commit_info>& commits) {
  std::string s;
  for (const auto& c : commits)
    s += "\n  " + c.id.substr(0, 12) + " " + c.tag.task + " " + c.tag.path + " v"
         + std::to_string(c.tag.version);
  return s;
}

struct git_fixture : ::testing::Test {
  temp_dir dir{"codehive-git"};
  fs::path out = dir / "out";
  fs::path store = dir / "store";
  sim_process sim = sim_process::start(scenario);

  void SetUp() override {
    dir.write("out/index.html",
              "<!DOCTYPE html>\n<html><head><title>Greeter</title></head><body></body></html>\n");
    dir.write("out/js/app.js", "function greet() {\n  alert('Hi');\n}\n");
    dir.write("out/README.md", "# Greeter\r\nmixed line ends\n\tand a tab\n");
    dir.write("out/old.txt", "obsolete\n");
    auto repo = vcs::repository::init(out, "fixture");  // the user's project, committed
    ASSERT_TRUE(repo) << repo.err().describe();
    write_config("");
  }

  /// The default config without the browser check, plus `extra` keys (",\"git\":{...}").
  void write_config(const std::string& extra) { write_plain_config(dir.path(), extra); }

  std::vector<std::string> run_args(std::vector<std::string> extra = {}) {
    auto port = std::to_string(sim.port());
    std::vector<std::string> a{"run",       "greet with a shout",
                               "--out",     out.string(),
                               "--store",   store.string(),
                               "--config",  (dir / "codehive.json").string(),
                               "--planner", "openai://127.0.0.1:" + port + "/v1/big",
                               "--coder",   "ollama://127.0.0.1:" + port + "/small",
                               "--coders",  "2"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::vector<vcs::commit_info> commits_of(const std::string& run) {
    auto repo = vcs::repository::open(out);
    if (!repo)
      throw std::runtime_error(repo.err().describe());
    auto c = repo->run_commits(run);
    if (!c)
      throw std::runtime_error(c.err().describe());
    return *c;
  }

  std::vector<std::string> dirty() {
    auto repo = vcs::repository::open(out);
    if (!repo)
      throw std::runtime_error(repo.err().describe());
    auto d = repo->dirty_paths();
    if (!d)
      throw std::runtime_error(d.err().describe());
    std::sort(d->begin(), d->end());
    return *d;
  }
};

/// The subjects of HEAD's first-parent history, newest first (libgit2, as codehive reads it).
std::vector<std::string> git_log_subjects(const fs::path& repo_dir) {
  std::vector<std::string> out;
  git_libgit2_init();
  git_repository* repo = nullptr;
  git_revwalk* walk = nullptr;
  if (git_repository_open(&repo, repo_dir.c_str()) == 0 && git_revwalk_new(&walk, repo) == 0) {
    git_revwalk_simplify_first_parent(walk);
    git_revwalk_push_head(walk);
    git_oid id;
    while (git_revwalk_next(&id, walk) == 0) {
      git_commit* c = nullptr;
      if (git_commit_lookup(&c, repo, &id) != 0)
        break;
      out.emplace_back(git_commit_summary(c));
      git_commit_free(c);
    }
  }
  git_revwalk_free(walk);
  git_repository_free(repo);
  git_libgit2_shutdown();
  return out;
}

std::string run_id_of(const std::string& output) {
  std::smatch m;
  if (std::regex_search(output, m, std::regex{"codehive ([0-9]{8}-[0-9]{6}-[0-9a-f]{4}): "}))
    return m[1];
  return {};
}

/// `codehive run --allow-dirty` on `f`'s project: exit 0 and each accepted edit committed
/// once; `run`: its id, `commits`: its commits. Call through ASSERT_NO_FATAL_FAILURE.
void run_allowing_dirty(git_fixture& f, std::string& run, std::vector<vcs::commit_info>& commits) {
  auto r = run_codehive(f.run_args({"--allow-dirty"}), run_timeout_ms);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  run = run_id_of(r.output);
  commits = f.commits_of(run);
  EXPECT_EQ(tasks_of(commits), expected_tasks) << describe(commits);
}

}  // namespace

using GitHistory = git_fixture;

TEST_F(GitHistory, AnUpdateRunCommitsEachAcceptedEditOnceAndUndoRestoresTheTree) {
  auto before = snapshot(out);
  auto r = run_codehive(run_args(), run_timeout_ms);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto run = run_id_of(r.output);
  ASSERT_FALSE(run.empty()) << r.output;
  auto commits = commits_of(run);
  EXPECT_EQ(tasks_of(commits), expected_tasks) << describe(commits);
  for (const auto& c : commits)
    EXPECT_EQ(c.tag.run, run);
  EXPECT_EQ(sim.count_role("fixer"), 1);
  EXPECT_FALSE(fs::exists(out / "old.txt"));
  EXPECT_TRUE(dirty().empty()) << "the run left uncommitted changes";

  auto d = run_codehive(
    {"diff", run, "--store", store.string(), "--config", (dir / "codehive.json").string()});
  ASSERT_EQ(d.exit_code, 0) << d.output;
  EXPECT_NE(d.output.find("+++ b/js/util.js"), std::string::npos) << d.output;
  EXPECT_NE(d.output.find("-  alert(shout('Helo'));\n+  alert(shout('Hello'));"), std::string::npos)
    << d.output;
  EXPECT_NE(d.output.find("Codehive-Task: fix:1:1"), std::string::npos) << d.output;
  EXPECT_NE(d.output.find("--- a/old.txt"), std::string::npos) << d.output;

  auto u = run_codehive(
    {"undo", run, "--store", store.string(), "--config", (dir / "codehive.json").string()});
  ASSERT_EQ(u.exit_code, 0) << u.output;
  EXPECT_EQ(snapshot(out), before);
  EXPECT_TRUE(dirty().empty());
  auto again = run_codehive({"undo", run, "--out", out.string()});
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("already undone"), std::string::npos) << again.output;
}

TEST_F(GitHistory, ADirtyTreeIsRefusedWithItsPathsAndNothingIsTouched) {
  dir.write("out/README.md", "# my edit, not committed\n");
  dir.write("out/notes.txt", "untracked\n");
  auto before = snapshot(out);
  auto r = run_codehive(run_args(), run_timeout_ms);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("uncommitted changes"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("README.md"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("notes.txt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--allow-dirty"), std::string::npos) << r.output;
  EXPECT_EQ(snapshot(out), before);
  EXPECT_EQ(sim.count_role("planner"), 0);
  EXPECT_EQ(sim.count_role("coder"), 0);
}

TEST_F(GitHistory, AllowDirtyRunsAndLeavesTheUsersChangesUncommittedAndUntouched) {
  dir.write("out/README.md", "# my edit, not committed\n");
  dir.write("out/notes.txt", "untracked\n");
  std::string run;
  std::vector<vcs::commit_info> commits;
  ASSERT_NO_FATAL_FAILURE(run_allowing_dirty(*this, run, commits));
  for (const auto& c : commits)
    EXPECT_TRUE(c.tag.path != "README.md" && c.tag.path != "notes.txt") << c.tag.path;
  EXPECT_EQ(dirty(), (std::vector<std::string>{"README.md", "notes.txt"}));
  EXPECT_EQ(snapshot(out).at("README.md"), "# my edit, not committed\n");
  EXPECT_EQ(snapshot(out).at("notes.txt"), "untracked\n");
  auto u = run_codehive({"undo", run, "--out", out.string()});
  ASSERT_EQ(u.exit_code, 0) << u.output;
  EXPECT_EQ(snapshot(out).at("README.md"), "# my edit, not committed\n");
  EXPECT_EQ(snapshot(out).at("js/app.js"), "function greet() {\n  alert('Hi');\n}\n");
  EXPECT_TRUE(fs::exists(out / "old.txt"));
}

TEST_F(GitHistory, AllowDirtyCommitsTheUsersChangesToAFileTheRunEditsApartFirst) {
  // js/app.js (the run updates it) and README.md (it does not) changed, uncommitted.
  const std::string mine = "function greet() {\n  alert('Hi there');\n}\n";
  dir.write("out/js/app.js", mine);
  dir.write("out/README.md", "# my edit, not committed\n");
  std::string run;
  std::vector<vcs::commit_info> commits;
  ASSERT_NO_FATAL_FAILURE(run_allowing_dirty(*this, run, commits));

  // The commit before the run's first commit of js/app.js holds the user's
  // version, under its own label and no run trailer.
  auto log = run_codehive({"diff", run, "--out", out.string()});
  ASSERT_EQ(log.exit_code, 0) << log.output;
  EXPECT_EQ(log.output.find("your uncommitted changes"), std::string::npos)
    << "the user's commit is not one of the run's: " << log.output;
  EXPECT_NE(log.output.find("-  alert('Hi there');"), std::string::npos)
    << "the run's commit of js/app.js starts from the user's version: " << log.output;
  EXPECT_EQ(log.output.find("-  alert('Hi');"), std::string::npos) << log.output;
  auto subjects = git_log_subjects(out);
  auto kept = std::find(subjects.begin(), subjects.end(),
                        "codehive: your uncommitted changes to js/app.js");
  ASSERT_NE(kept, subjects.end()) << ::testing::PrintToString(subjects);
  EXPECT_EQ(std::count_if(subjects.begin(), subjects.end(),
                          [](const std::string& s) { return s.find("uncommitted") != s.npos; }),
            1)
    << "only the edited dirty file is committed for the user";
  EXPECT_EQ(dirty(), std::vector<std::string>{"README.md"}) << "untouched dirty files stay dirty";

  // Undo takes the run out and gives back the user's version, now committed.
  auto u = run_codehive({"undo", run, "--out", out.string()});
  ASSERT_EQ(u.exit_code, 0) << u.output;
  EXPECT_EQ(snapshot(out).at("js/app.js"), mine);
  EXPECT_EQ(snapshot(out).at("README.md"), "# my edit, not committed\n");
  EXPECT_EQ(dirty(), std::vector<std::string>{"README.md"});
}

TEST_F(GitHistory, ARunKilledRightAfterACommitAndResumedCommitsNothingTwice) {
  auto before = snapshot(out);
  auto args = run_args({"-v"});
  args.insert(args.begin(), CODEHIVE_BIN);
  std::string run;
  auto committed = [](stream s, const std::string& l) {
    return s == stream::err && l.find(" tracker: committed ") != std::string::npos;
  };
  {
    killable_process p{args};
    auto line = p.kill_when(committed, run_timeout_ms);
    ASSERT_TRUE(line) << "no commit was logged:\n" << p.tail();
    run = run_id_of(p.tail(400));
    ASSERT_FALSE(run.empty()) << p.tail();
  }
  // Killed once more after the fix's commit (later in the run), then resumed to the end.
  std::vector<std::string> resume{CODEHIVE_BIN,
                                  "resume",
                                  run,
                                  "--store",
                                  store.string(),
                                  "--config",
                                  (dir / "codehive.json").string(),
                                  "-v"};
  {
    killable_process p{resume};
    auto line = p.kill_when(
      [](stream s, const std::string& l) {
        return s == stream::err && l.find("task=fix:1:1 tracker: committed") != std::string::npos;
      },
      run_timeout_ms);
    if (!line) {
      ASSERT_EQ(p.wait_exit(run_timeout_ms), 0) << p.tail();  // ended before the fix's commit
    }
  }
  killable_process last{resume};
  int rc = last.wait_exit(run_timeout_ms);
  ASSERT_EQ(rc, 0) << last.tail();
  auto commits = commits_of(run);
  EXPECT_EQ(tasks_of(commits), expected_tasks) << describe(commits);
  EXPECT_TRUE(dirty().empty());
  EXPECT_EQ(snapshot(out).at("js/app.js"), "function greet() {\n  alert(shout('Hello'));\n}\n");
  auto u = run_codehive({"undo", run, "--out", out.string()});
  ASSERT_EQ(u.exit_code, 0) << u.output;
  EXPECT_EQ(snapshot(out), before);
}

TEST_F(GitHistory, GitFlagMakesAPlainFolderARepositoryWithItsFilesAsTheFirstCommit) {
  fs::remove_all(out / ".git");
  auto before = snapshot(out);
  auto plain = run_codehive({"diff", "any", "--out", out.string()});
  EXPECT_EQ(plain.exit_code, 2) << plain.output;  // no repository, no history
  auto r = run_codehive(run_args({"--git"}), run_timeout_ms);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(vcs::is_repository(out));
  auto run = run_id_of(r.output);
  auto commits = commits_of(run);
  EXPECT_EQ(tasks_of(commits), expected_tasks) << describe(commits);
  auto u = run_codehive({"undo", run, "--out", out.string()});
  ASSERT_EQ(u.exit_code, 0) << u.output;
  EXPECT_EQ(snapshot(out), before);
}

TEST_F(GitHistory, RunBranchModeCommitsOnCodehiveRun) {
  write_config(",\"git\":{\"branch\":\"run\"}");
  auto r = run_codehive(run_args(), run_timeout_ms);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto run = run_id_of(r.output);
  auto repo = vcs::repository::open(out);
  ASSERT_TRUE(repo);
  std::string ref;
  auto commits = repo->run_commits(run, &ref);
  ASSERT_TRUE(commits);
  EXPECT_EQ(ref, "refs/heads/codehive/" + run);
  EXPECT_EQ(tasks_of(*commits), expected_tasks) << describe(*commits);
  auto bad = run_codehive(
    {"run", "x", "--out", (dir / "other").string(), "--config",
     (write_config(",\"git\":{\"branch\":\"main\"}"), (dir / "codehive.json").string())});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("branch must be"), std::string::npos) << bad.output;
}
