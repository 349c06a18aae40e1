// The output folder pinned once (ws::pin_root) gets the same rules as a
// folder named by path: the file tracker pins it at start, so what changes
// in the folder afterwards (a symlink planted, the folder removed) must be
// seen at every later resolve, not only at pin time.
#include <gtest/gtest.h>

#include "workspace/file_ops.hpp"
#include "workspace/path_rules.hpp"
#include "ws_test_util.hpp"

namespace ws = codehive::ws;
using ws::errc;

namespace {

class pinned_root : public ws::test::temp_dir_test {};

}  // namespace

TEST_F(pinned_root, resolves_as_the_path_root_does_and_names_the_last_components_type) {
  put(root / "css/site.css", "a{}");
  auto pinned = ws::pin_root(root);
  EXPECT_EQ(pinned.canonical, std::filesystem::canonical(root));
  auto file = ws::resolve_in_root(pinned, "./css//site.css");
  ASSERT_TRUE(file.ok()) << file.err().describe();
  EXPECT_EQ(file->relative, "css/site.css");
  EXPECT_EQ(file->absolute, std::filesystem::canonical(root) / "css/site.css");
  EXPECT_EQ(file->type, std::filesystem::file_type::regular);
  EXPECT_EQ(ws::resolve_in_root(pinned, "css")->type, std::filesystem::file_type::directory);
  EXPECT_EQ(ws::resolve_in_root(pinned, "css/new.css")->type,
            std::filesystem::file_type::not_found);
  EXPECT_EQ(ws::resolve_in_root(pinned, "js/app.js")->type, std::filesystem::file_type::not_found);
  EXPECT_EQ(ws::resolve_in_root(pinned, "../x").err().code, errc::outside_root);
  EXPECT_EQ(ws::resolve_in_root(pinned, "css/site.css/x").err().code, errc::bad_path);
}

TEST_F(pinned_root, a_symlink_planted_after_pinning_is_refused) {
  auto pinned = ws::pin_root(root);
  std::filesystem::create_directories(dir / "elsewhere");
  std::filesystem::create_directory_symlink(dir / "elsewhere", root / "link");
  EXPECT_EQ(ws::resolve_in_root(pinned, "link/x.txt").err().code, errc::symlink);
  EXPECT_EQ(ws::write_file(pinned, "link/x.txt", "x").err().code, errc::symlink);
  EXPECT_FALSE(std::filesystem::exists(dir / "elsewhere/x.txt"));
  put(dir / "secret.txt", "s");
  std::filesystem::create_symlink(dir / "secret.txt", root / "s.txt");
  EXPECT_EQ(ws::read_file_if_exists(pinned, "s.txt").err().code, errc::symlink);
  EXPECT_EQ(ws::write_file(pinned, "s.txt", "overwritten").err().code, errc::symlink);
  EXPECT_EQ(ws::delete_file(pinned, "s.txt").err().code, errc::symlink);
  EXPECT_EQ(get(dir / "secret.txt"), "s");
}

TEST_F(pinned_root, a_root_reached_through_a_symlink_is_pinned_at_its_real_folder) {
  std::filesystem::create_directory_symlink(root, dir / "root-link");
  auto pinned = ws::pin_root(dir / "root-link");
  EXPECT_EQ(pinned.canonical, std::filesystem::canonical(root));
  ASSERT_TRUE(ws::write_file(pinned, "a/b.txt", "b").ok());
  EXPECT_EQ(get(root / "a/b.txt"), "b");
  auto back = ws::read_file(pinned, "a/b.txt");
  ASSERT_TRUE(back.ok()) << back.err().describe();
  EXPECT_EQ(*back, "b");
}

TEST_F(pinned_root, a_folder_removed_after_pinning_is_missing_and_a_write_makes_it_again) {
  auto pinned = ws::pin_root(root);
  std::filesystem::remove_all(root);
  EXPECT_EQ(ws::resolve_in_root(pinned, "a.txt").err().code, errc::not_found);
  auto none = ws::read_file_if_exists(pinned, "a.txt");
  ASSERT_TRUE(none.ok()) << none.err().describe();
  EXPECT_FALSE(*none);
  ws::write_options no_create;
  no_create.create_root = false;
  EXPECT_EQ(ws::write_file(pinned, "a.txt", "a", no_create).err().code, errc::not_found);
  EXPECT_FALSE(std::filesystem::exists(root));
  ASSERT_TRUE(ws::write_file(pinned, "a.txt", "a").ok());
  EXPECT_EQ(get(root / "a.txt"), "a");
  EXPECT_TRUE(ws::write_file(pinned, "b/c.txt", "c").ok()) << "the same pin works again";
  EXPECT_EQ(get(root / "b/c.txt"), "c");
}

TEST_F(pinned_root, a_folder_missing_when_pinned_is_resolved_once_it_exists) {
  auto out = dir / "later";
  auto pinned = ws::pin_root(out);
  EXPECT_TRUE(pinned.canonical.empty());
  EXPECT_EQ(ws::resolve_in_root(pinned, "a.txt").err().code, errc::not_found);
  ASSERT_TRUE(ws::write_file(pinned, "a.txt", "a").ok());
  EXPECT_EQ(get(out / "a.txt"), "a");
  auto r = ws::resolve_in_root(pinned, "a.txt");
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->type, std::filesystem::file_type::regular);
  ASSERT_TRUE(ws::make_folder(pinned, "img").ok());
  EXPECT_TRUE(std::filesystem::is_directory(out / "img"));
  ASSERT_TRUE(ws::delete_empty_folder(pinned, "img").ok());
  EXPECT_FALSE(std::filesystem::exists(out / "img"));
}
