// The .gitignore matcher and the scan of a project codehive did not write:
// patterns one by one, then the committed fixture tests/fixtures/existing_site
// (ignored files, a negation, an anchored pattern, a nested .gitignore, a
// binary file, a file that is not UTF-8) and a file over the size limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <utility>
#include <vector>

#include <unistd.h>

#include "workspace/gitignore.hpp"
#include "workspace/project_scan.hpp"

namespace ws = codehive::ws;
namespace fs = std::filesystem;

TEST(Gitignore, GlobsStarQuestionClassAndDoubleStar) {
  using cases = std::vector<std::pair<const char*, const char*>>;  // (pattern, path)
  const cases matching{
    {"*.log", "debug.log"}, {"file?.txt", "file1.txt"}, {"img[0-9].png", "img7.png"},
    {"**/cache", "cache"},  {"**/cache", "a/b/cache"},  {"a/**/b", "a/b"},
    {"a/**/b", "a/x/y/b"},  {"out/**", "out/x/y.js"},   {"\\*literal", "*literal"}};
  const cases not_matching{{"*.log", "logs/debug.log"},  // * never crosses '/'
                           {"file?.txt", "file10.txt"}, {"img[!0-9].png", "img7.png"},
                           {"a/**/b", "a/x/y/c"},       {"out/**", "output/x.js"},
                           {"\\*literal", "xliteral"}};
  for (const auto& [pattern, path] : matching)
    EXPECT_TRUE(ws::glob_match(pattern, path)) << pattern << " ~ " << path;
  for (const auto& [pattern, path] : not_matching)
    EXPECT_FALSE(ws::glob_match(pattern, path)) << pattern << " ~ " << path;
}

TEST(Gitignore, CommentsNegationFoldersAndAnchoring) {
  ws::ignore_rules r;
  r.add("",
        "# a comment\n\n*.log\n!keep.log\nbuild/\n/secret.txt\ndocs/*.tmp\n\\#hash.txt\ntrail.txt  "
        " \n");
  EXPECT_TRUE(r.ignored("debug.log", false));
  EXPECT_TRUE(r.ignored("deep/er/debug.log", false));  // no slash: any depth
  EXPECT_FALSE(r.ignored("keep.log", false));          // negation: the last match wins
  EXPECT_TRUE(r.ignored("build", true));
  EXPECT_FALSE(r.ignored("build", false));  // a trailing '/' means folders only
  EXPECT_TRUE(r.ignored("secret.txt", false));
  EXPECT_FALSE(r.ignored("sub/secret.txt", false));  // leading '/': the root's only
  EXPECT_TRUE(r.ignored("docs/a.tmp", false));
  EXPECT_FALSE(r.ignored("x/docs/a.tmp", false));  // a middle '/' anchors too
  EXPECT_TRUE(r.ignored("#hash.txt", false));
  EXPECT_TRUE(r.ignored("trail.txt", false));  // trailing spaces are not part of it
  EXPECT_FALSE(r.ignored("index.html", false));
  EXPECT_FALSE(r.ignored("# a comment", false));
}

TEST(Gitignore, ANestedFileAppliesBelowItsFolderAndOverridesTheRoot) {
  ws::ignore_rules r;
  r.add("", "*.md\n");
  r.add("notes", "!keep.md\n/local.txt\n");
  EXPECT_TRUE(r.ignored("README.md", false));
  EXPECT_TRUE(r.ignored("notes/draft.md", false));
  EXPECT_FALSE(r.ignored("notes/keep.md", false));
  EXPECT_TRUE(r.ignored("notes/local.txt", false));
  EXPECT_FALSE(r.ignored("local.txt", false));  // not the root's
  EXPECT_FALSE(r.ignored("other/local.txt", false));
  EXPECT_TRUE(r.ignored("other/keep.md", false));  // the negation is notes/'s only
}

TEST(ProjectScan, Utf8Validation) {
  EXPECT_TRUE(ws::is_utf8("plain ascii"));
  EXPECT_TRUE(ws::is_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\x9e"));
  EXPECT_FALSE(ws::is_utf8("caf\xe9"));           // latin-1
  EXPECT_FALSE(ws::is_utf8("\xc3"));              // cut short
  EXPECT_FALSE(ws::is_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(ws::is_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(ws::is_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

}  // namespace

TEST(ProjectScan, TheFixtureProjectGivesItsSourceFilesOnly) {
  fs::path root = fs::path{CODEHIVE_SOURCE_DIR} / "tests/fixtures/existing_site";
  std::map<std::string, std::string> seen;
  auto report = ws::scan_project(
    root, [&](const std::string& path, std::string content) { seen[path] = std::move(content); });
  std::vector<std::string> expected{".gitignore",      "about.html",       "css/style.css",
                                    "docs/secret.txt", "index.html",       "js/app.js",
                                    "keep.log",        "notes/.gitignore", "notes/todo.md"};
  EXPECT_EQ(report.files, expected);
  ASSERT_EQ(seen.size(), expected.size());
  for (const auto& [path, content] : seen)
    EXPECT_EQ(content, slurp(root / path)) << path;
  // debug.log, dist/, secret.txt, notes/draft.md.
  EXPECT_EQ(report.ignored, 4u);
  std::map<std::string, std::string> skipped;
  for (const auto& s : report.skipped)
    skipped[s.path] = s.reason;
  EXPECT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped["logo.png"], "binary");
  EXPECT_EQ(skipped["data/latin1.txt"], "binary");
}

TEST(ProjectScan, FilesOverTheLimitEmptyFilesGitAndReservedFoldersAreLeftOut) {
  auto root = fs::temp_directory_path() / ("codehive-scan-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / ".git");
  fs::create_directories(root / "generated_files");
  fs::create_directories(root / "node_modules/x");
  auto put = [&](const std::string& rel, const std::string& content) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream{root / rel, std::ios::binary} << content;
  };
  put("big.js", std::string(ws::default_max_file_bytes + 1, 'x'));
  put("fits.js", std::string(ws::default_max_file_bytes, 'x'));
  put("empty.txt", "");
  put(".git/config", "[core]\n");
  put("generated_files/status.json", "{}");
  put("node_modules/x/index.js", "module.exports = 1;\n");
  put("sub/generated_files/kept.txt", "only the root's is codehive's\n");
  fs::create_symlink("fits.js", root / "link.js");
  ws::scan_options opts;
  opts.reserved_folders = {"generated_files"};
  std::vector<std::string> seen;
  auto report = ws::scan_project(
    root, [&](const std::string& p, std::string) { seen.push_back(p); }, opts);
  EXPECT_EQ(seen, (std::vector<std::string>{"fits.js", "sub/generated_files/kept.txt"}));
  ASSERT_EQ(report.skipped.size(), 2u);
  EXPECT_EQ(report.skipped[0].path, "big.js");
  EXPECT_NE(report.skipped[0].reason.find("too large"), std::string::npos);
  EXPECT_EQ(report.skipped[1].path, "empty.txt");
  fs::remove_all(root);
}

TEST(ProjectScan, BinaryFilesGoToOnBinaryUpToTheirOwnLimitWhenTheCallerKeepsThem) {
  auto root = fs::temp_directory_path() / ("codehive-scan-bin-" + std::to_string(::getpid()));
  fs::remove_all(root);
  auto put = [&](const std::string& rel, const std::string& content) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream{root / rel, std::ios::binary} << content;
  };
  std::string png{"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16};
  put("img/logo.png", png);
  // Bigger than a text file may be, within the binary limit; and one over it.
  put("img/photo.jpg", std::string(ws::default_max_file_bytes + 1, '\0'));
  put("img/huge.bin", std::string(3 * ws::default_max_file_bytes, '\0'));
  put("big.txt", std::string(ws::default_max_file_bytes + 1, 'x'));
  put("index.html", "<p>hi</p>\n");
  ws::scan_options opts;
  opts.max_binary_bytes = 2 * ws::default_max_file_bytes;
  std::map<std::string, std::string> binary;
  opts.on_binary = [&](const std::string& p, std::string content) { binary[p] = std::move(content); };
  std::vector<std::string> text;
  auto report = ws::scan_project(
    root, [&](const std::string& p, std::string) { text.push_back(p); }, opts);
  EXPECT_EQ(text, std::vector<std::string>{"index.html"});
  EXPECT_EQ(report.binary, (std::vector<std::string>{"img/logo.png", "img/photo.jpg"}));
  ASSERT_EQ(binary.size(), 2u);
  EXPECT_EQ(binary["img/logo.png"], png);
  EXPECT_EQ(binary["img/photo.jpg"].size(), ws::default_max_file_bytes + 1);
  std::map<std::string, std::string> skipped;
  for (const auto& s : report.skipped)
    skipped[s.path] = s.reason;
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped["big.txt"].find("too large"), std::string::npos) << skipped["big.txt"];
  EXPECT_NE(skipped["img/huge.bin"].find("too large"), std::string::npos);
  fs::remove_all(root);
}
