#include "workspace/path_rules.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "ws_test_util.hpp"

namespace ws = codehive::ws;
using ws::errc;

namespace {

class path_rules : public ws::test::temp_dir_test {};

errc code_of(std::string_view rel) {
  auto r = ws::normalize_relative(rel);
  EXPECT_FALSE(r.ok()) << "accepted: " << rel;
  return r.ok() ? errc::io_error : r.err().code;
}

}  // namespace

TEST(path_normalize, normalizes_dot_segments_and_duplicate_slashes) {
  EXPECT_EQ(*ws::normalize_relative("./a//b/./c.txt"), "a/b/c.txt");
  EXPECT_EQ(*ws::normalize_relative("index.html"), "index.html");
  EXPECT_EQ(*ws::normalize_relative("css/"), "css");
  EXPECT_EQ(*ws::normalize_relative("a..b/..c/d.."), "a..b/..c/d..");  // dots inside names are fine
}

TEST(path_normalize, refuses_hostile_paths_with_specific_reasons) {
  EXPECT_EQ(code_of("../x"), errc::outside_root);
  EXPECT_EQ(ws::normalize_relative("../x").err().reason, "path escapes the output folder: ../x");
  EXPECT_EQ(code_of("a/../../x"), errc::outside_root);
  EXPECT_EQ(code_of("a/.."), errc::outside_root);  // even one that would stay inside
  EXPECT_EQ(code_of("/etc/passwd"), errc::bad_path);
  EXPECT_NE(ws::normalize_relative("/etc/passwd").err().reason.find("absolute"), std::string::npos);
  EXPECT_EQ(code_of(std::string_view("a\0b", 3)), errc::bad_path);
  EXPECT_NE(ws::normalize_relative(std::string_view("a\0b", 3)).err().reason.find("NUL"), std::string::npos);
  EXPECT_EQ(code_of("a\nb"), errc::bad_path);
  EXPECT_EQ(code_of("a\x1b[31m"), errc::bad_path);
  EXPECT_EQ(code_of("a\\b"), errc::bad_path);
  EXPECT_EQ(code_of("..\\x"), errc::bad_path);
  EXPECT_EQ(code_of(""), errc::bad_path);
  EXPECT_EQ(ws::normalize_relative("").err().reason, "empty path");
  EXPECT_EQ(code_of("."), errc::bad_path);
  EXPECT_EQ(code_of("./"), errc::bad_path);
  EXPECT_EQ(code_of("//"), errc::bad_path);
  EXPECT_NE(ws::normalize_relative(".").err().reason.find("output folder itself"), std::string::npos);
}

TEST(path_normalize, refuses_long_names_and_paths) {
  EXPECT_TRUE(ws::normalize_relative(std::string(255, 'a')).ok());
  EXPECT_EQ(code_of(std::string(300, 'a')), errc::bad_path);
  EXPECT_EQ(code_of("dir/" + std::string(256, 'b') + "/x"), errc::bad_path);
  std::string long_path;
  while (long_path.size() <= 4096) long_path += "abcdefgh/";
  EXPECT_EQ(code_of(long_path), errc::bad_path);
}

TEST_F(path_rules, resolves_inside_the_root) {
  auto r = ws::resolve_in_root(root, "./css//site.css");
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->relative, "css/site.css");
  EXPECT_EQ(r->absolute, std::filesystem::canonical(root) / "css/site.css");
}

TEST_F(path_rules, refuses_a_symlink_component_pointing_outside) {
  std::filesystem::create_directories(dir / "elsewhere");
  std::filesystem::create_directory_symlink(dir / "elsewhere", root / "link");
  auto r = ws::resolve_in_root(root, "link/x.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::symlink);
  EXPECT_NE(r.err().reason.find("link"), std::string::npos);
}

TEST_F(path_rules, refuses_a_symlink_even_inside_the_root) {
  std::filesystem::create_directories(root / "real");
  std::filesystem::create_directory_symlink(root / "real", root / "alias");
  EXPECT_EQ(ws::resolve_in_root(root, "alias/x").err().code, errc::symlink);
  ws::test::temp_dir_test::put(root / "a.txt", "x");
  std::filesystem::create_symlink(root / "a.txt", root / "b.txt");
  EXPECT_EQ(ws::resolve_in_root(root, "b.txt").err().code, errc::symlink);
  EXPECT_TRUE(ws::resolve_in_root(root, "real/x").ok());
}

TEST_F(path_rules, root_reached_through_a_symlink_is_fine) {
  std::filesystem::create_directory_symlink(root, dir / "root-link");
  auto r = ws::resolve_in_root(dir / "root-link", "a/b.txt");
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->absolute, std::filesystem::canonical(root) / "a/b.txt");
}

TEST_F(path_rules, a_file_used_as_a_directory_is_refused) {
  ws::test::temp_dir_test::put(root / "f", "x");
  EXPECT_EQ(ws::resolve_in_root(root, "f/g").err().code, errc::bad_path);
}

TEST_F(path_rules, missing_root_is_an_error_not_a_crash) {
  auto r = ws::resolve_in_root(dir / "nope", "a.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::not_found);
}

namespace {

std::string nested(std::size_t levels) {
  std::string p;
  for (std::size_t k = 0; k < levels; ++k) p += "d/";
  return p + "f.txt";
}

}  // namespace

// A path 2,040 folders deep (4 KB) did not resolve in 600 s (every prefix of
// every path was canonicalised): the limits refuse it at once, naming the
// limit, and resolution itself is a single walk.
TEST(path_normalize, refuses_paths_too_long_or_too_deep_naming_the_limit) {
  std::string deep_4k;
  for (int k = 0; k < 2040; ++k) deep_4k += "a/";
  deep_4k += "x";
  auto r = ws::normalize_relative(deep_4k);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().reason.find("max_path_bytes"), std::string::npos) << r.err().reason;
  EXPECT_NE(r.err().reason.find(std::to_string(ws::max_path_bytes)), std::string::npos) << r.err().reason;

  auto too_deep = nested(ws::max_path_depth);  // max_path_depth folders + the file
  ASSERT_LE(too_deep.size(), ws::max_path_bytes);
  auto d = ws::normalize_relative(too_deep);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.err().code, errc::bad_path);
  EXPECT_NE(d.err().reason.find("max_path_depth"), std::string::npos) << d.err().reason;
  EXPECT_TRUE(ws::normalize_relative(nested(ws::max_path_depth - 1)).ok());
}

TEST_F(path_rules, the_deepest_allowed_path_resolves_through_existing_folders) {
  auto rel = nested(ws::max_path_depth - 1);
  std::filesystem::create_directories(root / std::filesystem::path(rel).parent_path());
  auto r = ws::resolve_in_root(root, rel);
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->relative, rel);
  EXPECT_EQ(r->absolute, std::filesystem::canonical(root) / rel);
  // A symlink at the bottom of the deep chain is still found.
  std::filesystem::create_directory_symlink(dir, root / std::filesystem::path(rel).parent_path() / "up");
  auto s = ws::resolve_in_root(root, std::filesystem::path(rel).parent_path().string() + "/up");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, errc::symlink) << s.err().reason;
  // And a file in the middle of the chain used as a folder.
  EXPECT_TRUE(ws::resolve_in_root(root, "d/d/d/d").ok());  // a folder: fine
  put(root / "d/d/file", "x");
  EXPECT_EQ(ws::resolve_in_root(root, "d/d/file/g").err().code, errc::bad_path);
}
