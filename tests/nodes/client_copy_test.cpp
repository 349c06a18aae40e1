// The client's copy of a coordinator run's results (nodes/client_copy.hpp), without a
// coordinator: the versions it is handed are checked against their hashes and the path
// rules, an older version never replaces a newer one, deletions are carried out, and in a
// git repository each version the run wrote becomes exactly one commit.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <vector>
#include <sstream>
#include <string>

#include "actors/task_graph.hpp"
#include "nodes/client_copy.hpp"
#include "nodes/run_files.hpp"
#include "storage/run_store.hpp"
#include "workspace/sha256.hpp"

using namespace codehive;
namespace fs = std::filesystem;

namespace {

struct scratch {
  fs::path path;
  scratch() {
    std::string tmpl = (fs::temp_directory_path() / "codehive-client-copy-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

msg::file_copy version(const std::string& path, std::int64_t v, const std::string& content,
                       const std::string& task = "t1") {
  msg::file_copy c;
  c.run_id = "run-1";
  c.path = path;
  c.version = v;
  c.content = content;
  c.has_content = true;
  c.hash = ws::sha256_hex(content);
  c.task_id = task;
  c.model = "qwen2.5-coder:7b";
  c.summary = "the page";
  return c;
}

}  // namespace

TEST(ClientCopy, WritesAVersionWhoseContentMatchesItsHashOnly) {
  scratch dir;
  client_copy copy{dir.path, std::nullopt, false};
  copy.apply(version("index.html", 1, "<h1>v1</h1>\n"));
  EXPECT_EQ(slurp(dir.path / "index.html"), "<h1>v1</h1>\n");
  auto bad = version("index.html", 2, "<h1>v2</h1>\n");
  bad.content = "<h1>tampered</h1>\n";
  copy.apply(bad);
  EXPECT_EQ(slurp(dir.path / "index.html"), "<h1>v1</h1>\n") << "a damaged copy was written";
  EXPECT_EQ(copy.refused(), 1u);
  EXPECT_EQ(copy.written(), 1u);
}

// A project's binary file is kept in the coordinator's store as found (a NUL
// byte, whatever its extension): its copy on the client is written as it is,
// as `codehive export` writes it.
TEST(ClientCopy, WritesAStoredBinaryFileAsItIs) {
  scratch dir;
  client_copy copy{dir.path, std::nullopt, false};
  const std::string bytes("a\0b", 3);
  copy.apply(version("notes.txt", 1, bytes));
  EXPECT_EQ(slurp(dir.path / "notes.txt"), bytes);
  EXPECT_EQ(copy.refused(), 0u);
  EXPECT_EQ(copy.written(), 1u);
}

TEST(ClientCopy, NeverWritesOutsideTheFolderNorIntoTheExports) {
  scratch dir;
  fs::create_directories(dir.path / "out");
  client_copy copy{dir.path / "out", std::nullopt, false};
  copy.apply(version("../escaped.txt", 1, "x\n"));
  copy.apply(version("/etc/escaped.txt", 1, "x\n"));
  copy.apply(version("generated_files/status.json", 1, "{}\n"));
  EXPECT_FALSE(fs::exists(dir.path / "escaped.txt"));
  EXPECT_FALSE(fs::exists(dir.path / "out" / "generated_files" / "status.json"));
  EXPECT_EQ(copy.refused(), 3u);
}

TEST(ClientCopy, KeepsTheNewerVersionAndCarriesOutDeletions) {
  scratch dir;
  client_copy copy{dir.path, std::nullopt, false};
  copy.apply(version("js/app.js", 3, "v3\n"));
  copy.apply(version("js/app.js", 2, "v2\n"));  // a push overtaken by a fetch
  EXPECT_EQ(slurp(dir.path / "js" / "app.js"), "v3\n");
  msg::file_copy gone;
  gone.run_id = "run-1";
  gone.path = "js/app.js";
  gone.version = 4;
  gone.deleted = true;
  gone.task_id = "t9";
  copy.apply(gone);
  EXPECT_FALSE(fs::exists(dir.path / "js" / "app.js"));
  EXPECT_EQ(copy.refused(), 0u);
}

TEST(ClientCopy, RefusesTheFilesOfAnotherRun) {
  scratch dir;
  client_copy copy{dir.path, std::nullopt, false};
  copy.apply(version("a.txt", 1, "a\n"));
  auto other = version("b.txt", 1, "b\n");
  other.run_id = "run-2";
  copy.apply(other);
  EXPECT_FALSE(fs::exists(dir.path / "b.txt"));
  EXPECT_EQ(copy.refused(), 1u);
}

TEST(ClientCopy, CommitsEachVersionOnceInAGitRepository) {
  scratch dir;
  auto repo = vcs::repository::init(dir.path, "run-1");
  ASSERT_TRUE(repo) << repo.err().describe();
  std::string err;
  auto history = open_client_history(dir.path, true, false, false, err);
  ASSERT_TRUE(history.has_value()) << err;
  client_copy copy{dir.path, std::move(history), false};
  copy.apply(version("index.html", 1, "<p>1</p>\n"));
  copy.apply(version("index.html", 2, "<p>2</p>\n", "fix:1:1"));
  copy.apply(version("index.html", 2, "<p>2</p>\n", "fix:1:1"));  // pushed, then fetched again
  EXPECT_EQ(copy.commits(), 2u);
  auto reopened = vcs::repository::open(dir.path);
  ASSERT_TRUE(reopened);
  auto keys = reopened->committed_keys("run-1");
  ASSERT_TRUE(keys) << keys.err().describe();
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_TRUE(keys->count(vcs::commit_key("fix:1:1", 2)));
  auto dirty = reopened->dirty_paths();
  ASSERT_TRUE(dirty);
  EXPECT_TRUE(dirty->empty()) << "the copy left uncommitted changes";
}

TEST(ClientCopy, AFolderWithUncommittedChangesIsRefusedUnlessAllowed) {
  scratch dir;
  ASSERT_TRUE(vcs::repository::init(dir.path, "run-0"));
  std::ofstream{dir.path / "notes.txt"} << "mine\n";
  std::string err;
  EXPECT_FALSE(open_client_history(dir.path, true, false, false, err).has_value());
  EXPECT_NE(err.find("uncommitted changes"), std::string::npos) << err;
  EXPECT_TRUE(open_client_history(dir.path, true, false, true, err).has_value()) << err;
  scratch plain;
  EXPECT_FALSE(open_client_history(plain.path, true, false, false, err).has_value());
  EXPECT_TRUE(err.empty()) << "no repository and none asked for is no error: " << err;
}

// A coordinator's fetch answer is capped in bytes (binary files of 8 MiB, 64 to a request,
// would make one message of half a gigabyte): the client asks again for what an answer left
// out until every file has come, and a file larger than the cap still comes, alone.
TEST(ClientCopy, FetchesEveryFileThroughAnswersCappedInBytes) {
  scratch dir;
  auto st = store::run_store::open(dir.path / "store");
  ASSERT_TRUE(st) << st.err().describe();
  auto run = (*st)->create_run("three files", "{}");
  ASSERT_TRUE(run);
  const std::map<std::string, std::string> files = {
    {"a.txt", std::string(10, 'a')}, {"b.txt", std::string(10, 'b')}, {"c.bin", std::string(40, 'c')}};
  for (const auto& [path, content] : files)
    ASSERT_TRUE((*st)->put_file_version(*run, path, content));

  const std::size_t cap = 15;  // one 10-byte file fits, two do not; the 40-byte one never fits
  retry_policy policy;
  std::vector<std::size_t> answer_sizes;
  auto ask = [&](const msg::fetch_files& req, std::string&) -> std::optional<msg::fetched_files> {
    auto answer = fetch_run_files(**st, policy, req, cap);
    answer_sizes.push_back(answer.files.size());
    return answer;
  };
  msg::fetch_files base;
  base.run_id = *run;
  std::map<std::string, std::string> got;
  std::string error;
  ASSERT_TRUE(fetch_in_batches(
    ask, base, {"a.txt", "b.txt", "c.bin"}, 64,
    [&](const msg::file_copy& f) {
      EXPECT_TRUE(f.has_content) << f.path;
      got[f.path] = f.content;
    },
    error))
    << error;
  EXPECT_EQ(got, files);
  EXPECT_EQ(answer_sizes, (std::vector<std::size_t>{1, 1, 1}));
}

TEST(ClientCopy, AFetchAnswerWithNoneOfTheFilesAskedForIsAnErrorNotALoop) {
  int asked = 0;
  auto ask = [&](const msg::fetch_files&, std::string&) -> std::optional<msg::fetched_files> {
    ++asked;
    msg::fetched_files empty;
    empty.ok = true;
    return empty;
  };
  std::string error;
  EXPECT_FALSE(fetch_in_batches(ask, msg::fetch_files{}, {"gone.txt"}, 64,
                                [](const msg::file_copy&) {}, error));
  EXPECT_EQ(asked, 1);
  EXPECT_NE(error.find("none of the 1 files asked for (the first: gone.txt)"), std::string::npos)
    << error;
}
