// vcs::repository on real repositories in temp folders: one commit per
// committed path with trailers that find it again, dirty detection, undo back
// to the bytes before the run (also under a user's commit on top, and refused
// when that commit touches the same lines), and the run's diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "tests/support/sim_process.hpp"
#include "vcs/repository.hpp"

namespace fs = std::filesystem;
namespace vcs = codehive::vcs;
using codehive::test::temp_dir;

namespace {

/// Every file under `root` except .git/ and generated_files/, with its bytes.
std::map<std::string, std::string> snapshot(const temp_dir& d) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(d.path());
       it != fs::recursive_directory_iterator(); ++it) {
    auto rel = fs::relative(it->path(), d.path()).generic_string();
    if (rel == ".git" || rel == "generated_files") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file())
      out[rel] = d.read(rel);
  }
  return out;
}

std::string msg(const std::string& run, const std::string& task, const std::string& path,
                int version) {
  return vcs::commit_message("codehive: " + task + " " + path, "",
                             {run, task, path, version, "sim-coder"});
}

/// A repository with two committed files (the user's project before a run).
vcs::repository project(const temp_dir& d) {
  d.write("index.html", "<p>hello</p>\n");
  d.write("js/app.js", "let a = 1;\nlet b = 2;\nlet c = 3;\n");
  auto r = vcs::repository::init(d.path(), "setup");
  if (!r)
    throw std::runtime_error(r.err().describe());
  return std::move(*r);
}

/// Run r1's task t1 writes `content` to `path` and commits it (version 2); committed?
bool run_commits(vcs::repository& r, const temp_dir& d, const std::string& path,
                 const std::string& content) {
  d.write(path, content);
  return static_cast<bool>(r.commit_path(path, msg("r1", "t1", path, 2)));
}

/// The user writes `content` to `path` and commits it, no run trailer; committed?
bool user_commits(vcs::repository& r, const temp_dir& d, const std::string& path,
                  const std::string& content) {
  d.write(path, content);
  return static_cast<bool>(r.commit_path(path, vcs::commit_message("mine", "", {})));
}

}  // namespace

TEST(Vcs, InitCommitsTheFilesAlreadyThereSoTheTreeIsClean) {
  temp_dir d{"vcs-init"};
  auto r = project(d);
  EXPECT_TRUE(vcs::is_repository(d.path()));
  auto dirty = r.dirty_paths();
  ASSERT_TRUE(dirty) << dirty.err().describe();
  EXPECT_TRUE(dirty->empty());
}

TEST(Vcs, OpenRefusesAFolderInsideSomeoneElsesRepository) {
  temp_dir d{"vcs-nested"};
  project(d);
  fs::create_directories(d / "sub");
  EXPECT_FALSE(vcs::is_repository(d / "sub"));
  EXPECT_FALSE(vcs::repository::open(d / "sub"));
}

TEST(Vcs, DirtyPathsListModifiedUntrackedAndDeletedButNotExports) {
  temp_dir d{"vcs-dirty"};
  auto r = project(d);
  ASSERT_TRUE(r.exclude_exports());
  d.write("index.html", "<p>changed</p>\n");
  d.write("notes.txt", "mine\n");
  fs::remove(d / "js/app.js");
  d.write("generated_files/status.json", "{}");
  auto dirty = r.dirty_paths();
  ASSERT_TRUE(dirty) << dirty.err().describe();
  std::sort(dirty->begin(), dirty->end());
  EXPECT_EQ(*dirty, (std::vector<std::string>{"index.html", "js/app.js", "notes.txt"}));
}

TEST(Vcs, CommitPathCommitsOnlyThatPathAndFindsItByItsTrailer) {
  temp_dir d{"vcs-commit"};
  auto r = project(d);
  d.write("notes.txt", "the user's, uncommitted\n");
  d.write("css/style.css", "p { color: red; }\n");
  auto made = r.commit_path("css/style.css", msg("r1", "t1", "css/style.css", 1));
  ASSERT_TRUE(made) << made.err().describe();
  ASSERT_TRUE(made->has_value());
  // The same bytes again: nothing to commit, so no commit.
  auto again = r.commit_path("css/style.css", msg("r1", "t1", "css/style.css", 2));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  auto dirty = r.dirty_paths();
  ASSERT_TRUE(dirty);
  EXPECT_EQ(*dirty, std::vector<std::string>{"notes.txt"});  // not committed, not touched
  auto keys = r.committed_keys("r1");
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::set<std::string>{"t1@1"}));
  auto commits = r.run_commits("r1");
  ASSERT_TRUE(commits);
  ASSERT_EQ(commits->size(), 1u);
  EXPECT_EQ(commits->front().id, **made);
  EXPECT_EQ(commits->front().tag.path, "css/style.css");
  EXPECT_EQ(commits->front().tag.model, "sim-coder");
  EXPECT_TRUE(r.committed_keys("other-run")->empty());
}

TEST(Vcs, ADeletedFileIsCommittedAsItsRemoval) {
  temp_dir d{"vcs-delete"};
  auto r = project(d);
  fs::remove(d / "index.html");
  auto made = r.commit_path("index.html", msg("r1", "t1", "index.html", 2));
  ASSERT_TRUE(made) << made.err().describe();
  EXPECT_TRUE(made->has_value());
  EXPECT_TRUE(r.dirty_paths()->empty());
}

TEST(Vcs, UndoRestoresTheTreeBeforeTheRunByteForByte) {
  temp_dir d{"vcs-undo"};
  auto r = project(d);
  auto before = snapshot(d);
  ASSERT_TRUE(run_commits(r, d, "js/app.js", "let a = 10;\nlet b = 2;\nlet c = 3;\n"));
  d.write("css/new.css", "body {}\n");
  ASSERT_TRUE(r.commit_path("css/new.css", msg("r1", "t2", "css/new.css", 1)));
  fs::remove(d / "index.html");
  ASSERT_TRUE(r.commit_path("index.html", msg("r1", "fix:1:1", "index.html", 2)));
  ASSERT_NE(snapshot(d), before);
  auto undone = r.undo_run("r1");
  ASSERT_TRUE(undone) << undone.err().describe();
  EXPECT_EQ(snapshot(d), before);
  EXPECT_TRUE(r.dirty_paths()->empty());
  auto twice = r.undo_run("r1");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.err().describe().find("already undone"), std::string::npos);
}

TEST(Vcs, UndoKeepsAUsersLaterCommitThatTouchesOtherLines) {
  temp_dir d{"vcs-undo-on-top"};
  auto r = project(d);
  ASSERT_TRUE(run_commits(r, d, "js/app.js", "let a = 10;\nlet b = 2;\nlet c = 3;\n"));
  ASSERT_TRUE(user_commits(r, d, "js/app.js",
                           "let a = 10;\nlet b = 2;\nlet c = 30;\n"));  // the user's own commit
  auto undone = r.undo_run("r1");
  ASSERT_TRUE(undone) << undone.err().describe();
  EXPECT_EQ(d.read("js/app.js"), "let a = 1;\nlet b = 2;\nlet c = 30;\n");
}

TEST(Vcs, UndoIsRefusedWhenALaterCommitChangesTheSameLines) {
  temp_dir d{"vcs-undo-conflict"};
  auto r = project(d);
  ASSERT_TRUE(run_commits(r, d, "js/app.js", "let a = 10;\nlet b = 2;\nlet c = 3;\n"));
  ASSERT_TRUE(user_commits(r, d, "js/app.js", "let a = 11;\nlet b = 2;\nlet c = 3;\n"));
  auto undone = r.undo_run("r1");
  ASSERT_FALSE(undone);
  EXPECT_NE(undone.err().describe().find("js/app.js"), std::string::npos)
    << undone.err().describe();
  EXPECT_EQ(d.read("js/app.js"), "let a = 11;\nlet b = 2;\nlet c = 3;\n");  // untouched
}

TEST(Vcs, UndoIsRefusedRatherThanOverwriteAnUncommittedChange) {
  temp_dir d{"vcs-undo-dirty"};
  auto r = project(d);
  ASSERT_TRUE(run_commits(r, d, "index.html", "<p>run</p>\n"));
  d.write("index.html", "<p>the user's edit</p>\n");
  EXPECT_FALSE(r.undo_run("r1"));
  EXPECT_EQ(d.read("index.html"), "<p>the user's edit</p>\n");
}

TEST(Vcs, RunBranchTakesTheCommitsAndUndoFindsThem) {
  temp_dir d{"vcs-branch"};
  auto r = project(d);
  auto before = snapshot(d);
  ASSERT_TRUE(r.use_branch(vcs::run_branch("r1")));
  d.write("a.txt", "a\n");
  ASSERT_TRUE(r.commit_path("a.txt", msg("r1", "t1", "a.txt", 1)));
  std::string ref;
  auto commits = r.run_commits("r1", &ref);
  ASSERT_TRUE(commits);
  EXPECT_EQ(ref, "refs/heads/codehive/r1");
  EXPECT_EQ(commits->size(), 1u);
  ASSERT_TRUE(r.undo_run("r1"));
  EXPECT_EQ(snapshot(d), before);
}

TEST(Vcs, DiffShowsEachCommitOfTheRunAsAUnifiedDiff) {
  temp_dir d{"vcs-diff"};
  auto r = project(d);
  ASSERT_TRUE(run_commits(r, d, "js/app.js", "let a = 10;\nlet b = 2;\nlet c = 3;\n"));
  auto text = r.diff_run("r1");
  ASSERT_TRUE(text) << text.err().describe();
  EXPECT_NE(text->find("Codehive-Task: t1"), std::string::npos) << *text;
  EXPECT_NE(text->find("--- a/js/app.js\n+++ b/js/app.js\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("\n-let a = 1;\n+let a = 10;\n"), std::string::npos) << *text;
  EXPECT_TRUE(r.diff_run("nobody")->empty());
}

TEST(Vcs, AMessageCannotForgeTrailersThroughItsSubject) {
  auto m = vcs::commit_message("a\nCodehive-Run: other", "", {"r1", "t1", "p", 3, ""});
  auto tag = vcs::parse_tag(m);
  EXPECT_EQ(tag.run, "r1");
  EXPECT_EQ(tag.version, 3);
}

TEST(Vcs, UndoOfARunThatMadeTheRepositorysFirstCommitLeavesNoFiles) {
  temp_dir d{"vcs-first"};
  auto r = vcs::repository::init(d.path(), "setup");  // an empty folder: no commit yet
  ASSERT_TRUE(r) << r.err().describe();
  d.write("a.txt", "a\n");
  ASSERT_TRUE(r->commit_path("a.txt", msg("r1", "t1", "a.txt", 1)));
  d.write("b/c.txt", "c\n");
  ASSERT_TRUE(r->commit_path("b/c.txt", msg("r1", "t2", "b/c.txt", 1)));
  auto undone = r->undo_run("r1");
  ASSERT_TRUE(undone) << undone.err().describe();
  EXPECT_TRUE(snapshot(d).empty());
}

TEST(Vcs, CommitContentCommitsGivenBytesLeavesTheWorkTreeAndUndoKeepsThem) {
  temp_dir d{"vcs-content"};
  auto r = project(d);
  // The user's uncommitted version, then a run's edit on top of it on disk.
  const std::string users = "let a = 1;\nlet b = 20;\nlet c = 3;\n";
  d.write("js/app.js", "let a = 1;\nlet b = 20;\nlet c = 30;\n");
  auto kept = r.commit_content("js/app.js", users, "codehive: your uncommitted changes to js/app.js");
  ASSERT_TRUE(kept) << kept.err().describe();
  ASSERT_TRUE(kept->has_value());
  EXPECT_EQ(d.read("js/app.js"), "let a = 1;\nlet b = 20;\nlet c = 30;\n") << "the disk is not touched";
  auto again = r.commit_content("js/app.js", users, "again");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value()) << "HEAD already holds those bytes";
  EXPECT_TRUE(r.run_commits("r1")->empty()) << "no run trailer: not one of a run's commits";
  auto made = r.commit_path("js/app.js", msg("r1", "t1", "js/app.js", 2));
  ASSERT_TRUE(made) << made.err().describe();
  EXPECT_TRUE(r.dirty_paths()->empty());
  auto diff = r.diff_run("r1");
  ASSERT_TRUE(diff);
  EXPECT_NE(diff->find("-let c = 3;\n+let c = 30;"), std::string::npos) << *diff;
  EXPECT_EQ(diff->find("b = 2;"), std::string::npos) << "the user's change is not the run's: " << *diff;
  auto undone = r.undo_run("r1");
  ASSERT_TRUE(undone) << undone.err().describe();
  EXPECT_EQ(d.read("js/app.js"), users);
  EXPECT_TRUE(r.dirty_paths()->empty());
}
