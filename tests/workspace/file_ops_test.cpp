#include "workspace/file_ops.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ws_test_util.hpp"

namespace ws = codehive::ws;
using ws::errc;

namespace {

class file_ops : public ws::test::temp_dir_test {
 protected:
  std::vector<std::string> all_entries() const {
    std::vector<std::string> names;
    for (auto& e : std::filesystem::recursive_directory_iterator(root))
      names.push_back(e.path().lexically_relative(root).string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace

TEST_F(file_ops, write_creates_parents_and_leaves_no_temp_files) {
  ASSERT_TRUE(ws::write_file(root, "js/lib/app.js", "let a = 1;\n").ok());
  EXPECT_EQ(get(root / "js/lib/app.js"), "let a = 1;\n");
  ASSERT_TRUE(ws::write_file(root, "js/lib/app.js", "let a = 2;\n").ok());  // overwrite
  EXPECT_EQ(get(root / "js/lib/app.js"), "let a = 2;\n");
  EXPECT_EQ(all_entries(), (std::vector<std::string>{"js", "js/lib", "js/lib/app.js"}));
}

TEST_F(file_ops, overwrite_keeps_the_file_mode) {
  put(root / "run.sh", "#!/bin/sh\n");
  std::filesystem::permissions(root / "run.sh", std::filesystem::perms::owner_all);
  ASSERT_TRUE(ws::write_file(root, "run.sh", "#!/bin/sh\necho hi\n").ok());
  EXPECT_EQ(std::filesystem::status(root / "run.sh").permissions(), std::filesystem::perms::owner_all);
  EXPECT_EQ(get(root / "run.sh"), "#!/bin/sh\necho hi\n");
}

TEST_F(file_ops, write_creates_a_missing_output_folder) {
  auto out = dir / "fresh" / "out";
  ASSERT_TRUE(ws::write_file(out, "index.html", "<p>x</p>").ok());
  EXPECT_EQ(get(out / "index.html"), "<p>x</p>");
}

TEST_F(file_ops, refuses_empty_oversize_and_nul_content) {
  EXPECT_EQ(ws::write_file(root, "a.txt", "").err().code, errc::empty_content);
  ws::write_options small;
  small.max_bytes = 10;
  EXPECT_EQ(ws::write_file(root, "a.txt", std::string(11, 'x'), small).err().code, errc::too_large);
  EXPECT_TRUE(ws::write_file(root, "a.txt", std::string(10, 'x'), small).ok());
  EXPECT_EQ(ws::write_file(root, "b.js", std::string("a\0b", 3)).err().code, errc::bad_content);
  EXPECT_TRUE(ws::write_file(root, "img.png", std::string("\x89PNG\0\0", 6)).ok());  // binary may hold NUL
  EXPECT_EQ(ws::write_file(root, "big.txt", std::string(ws::default_max_file_bytes + 1, 'x')).err().code,
            errc::too_large);
  EXPECT_FALSE(std::filesystem::exists(root / "b.js"));
  EXPECT_FALSE(std::filesystem::exists(root / "big.txt"));
  EXPECT_EQ(all_entries(), (std::vector<std::string>{"a.txt", "img.png"}));
}

TEST_F(file_ops, refuses_to_write_outside_or_through_symlinks) {
  put(dir / "outside.txt", "keep");
  EXPECT_EQ(ws::write_file(root, "../outside.txt", "pwned").err().code, errc::outside_root);
  EXPECT_EQ(ws::write_file(root, "/etc/passwd", "pwned").err().code, errc::bad_path);
  // A symlink inside the root pointing outside: writing through it is refused.
  std::filesystem::create_symlink(dir / "outside.txt", root / "link.txt");
  auto r = ws::write_file(root, "link.txt", "pwned");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::symlink);
  // A symlinked directory component.
  std::filesystem::create_directories(dir / "elsewhere");
  std::filesystem::create_directory_symlink(dir / "elsewhere", root / "sub");
  EXPECT_EQ(ws::write_file(root, "sub/x.txt", "pwned").err().code, errc::symlink);
  EXPECT_EQ(ws::write_file(root, "sub/deeper/x.txt", "pwned").err().code, errc::symlink);
  EXPECT_EQ(get(dir / "outside.txt"), "keep");
  EXPECT_TRUE(std::filesystem::is_empty(dir / "elsewhere"));
}

TEST_F(file_ops, refuses_to_replace_a_directory) {
  std::filesystem::create_directories(root / "d");
  EXPECT_EQ(ws::write_file(root, "d", "x").err().code, errc::not_regular_file);
}

TEST_F(file_ops, delete_outside_the_root_is_refused_and_the_file_survives) {
  put(dir / "x", "precious");
  // A plan asking to delete ../x.
  auto r = ws::delete_file(root, "../x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::outside_root);
  EXPECT_EQ(r.err().reason, "path escapes the output folder: ../x");
  EXPECT_EQ(get(dir / "x"), "precious");
  EXPECT_EQ(ws::delete_file(root, "a/../../x").err().code, errc::outside_root);
  EXPECT_EQ(get(dir / "x"), "precious");
}

TEST_F(file_ops, delete_removes_only_regular_files) {
  put(root / "a/b.txt", "x");
  put(dir / "target.txt", "keep");
  std::filesystem::create_symlink(dir / "target.txt", root / "l.txt");
  EXPECT_EQ(ws::delete_file(root, "a").err().code, errc::not_regular_file);
  EXPECT_EQ(ws::delete_file(root, "l.txt").err().code, errc::symlink);
  EXPECT_TRUE(std::filesystem::is_symlink(root / "l.txt"));
  EXPECT_EQ(get(dir / "target.txt"), "keep");
  EXPECT_EQ(ws::delete_file(root, "missing.txt").err().code, errc::not_found);
  ASSERT_TRUE(ws::delete_file(root, "a/b.txt").ok());
  EXPECT_FALSE(std::filesystem::exists(root / "a/b.txt"));
  EXPECT_TRUE(std::filesystem::is_directory(root / "a"));
}

TEST_F(file_ops, read_and_read_if_exists) {
  put(root / "a.txt", "hello");
  EXPECT_EQ(*ws::read_file(root, "a.txt"), "hello");
  EXPECT_EQ(ws::read_file(root, "nope.txt").err().code, errc::not_found);
  auto missing = ws::read_file_if_exists(root, "dir/nope.txt");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto present = ws::read_file_if_exists(root, "a.txt");
  ASSERT_TRUE(present.ok());
  EXPECT_EQ(present->value(), "hello");
  put(dir / "secret", "s");
  std::filesystem::create_symlink(dir / "secret", root / "s.txt");
  EXPECT_EQ(ws::read_file(root, "s.txt").err().code, errc::symlink);
  EXPECT_EQ(ws::read_file(root, "a.txt", 3).err().code, errc::too_large);
}

TEST_F(file_ops, list_files_skips_symlinks_and_vendor_folders) {
  put(root / "index.html", "x");
  put(root / "js/app.js", "x");
  put(root / "node_modules/lib/index.js", "x");
  put(root / ".git/HEAD", "x");
  put(dir / "outside/y.js", "x");
  std::filesystem::create_directory_symlink(dir / "outside", root / "linked");
  EXPECT_EQ(ws::list_files(root), (std::vector<std::string>{"index.html", "js/app.js"}));
}

// A process killed mid-write leaves ".codehive-tmp-PID-N" behind; a later
// start removes those of dead processes only.
TEST_F(file_ops, stale_temp_files_of_dead_writers_are_removed) {
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);  // reaped: the pid is free now
  auto stale = "js/.codehive-tmp-" + std::to_string(dead) + "-4";
  auto ours = ".codehive-tmp-" + std::to_string(::getpid()) + "-1";
  put(root / stale, "half a fi");
  put(root / ours, "in flight");
  put(root / ".codehive-tmp-notes.txt", "a user's file with an odd name");
  put(root / "js/app.js", "let a;");
  auto removed = ws::remove_stale_temp_files(root);
  EXPECT_EQ(removed, (std::vector<std::string>{stale}));
  EXPECT_FALSE(std::filesystem::exists(root / stale));
  EXPECT_TRUE(std::filesystem::exists(root / ours));
  EXPECT_TRUE(std::filesystem::exists(root / ".codehive-tmp-notes.txt"));
  EXPECT_TRUE(std::filesystem::exists(root / "js/app.js"));
}

TEST(content_hash, is_stable_fnv1a_64) {
  EXPECT_EQ(ws::content_hash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(ws::content_hash_hex("a"), "af63dc4c8601ec8c");  // FNV-1a 64 test vector
  EXPECT_EQ(ws::content_hash_hex("foobar"), "85944171f73967e8");
  EXPECT_NE(ws::content_hash("abc"), ws::content_hash("acb"));
}
