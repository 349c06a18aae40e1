// Shared helpers for the workspace suites: a fresh temp directory per test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace codehive::ws::test {

/// A test fixture owning a fresh directory: `dir` (scratch) with `root`
/// (the output folder) inside it, so "outside the root" is observable.
class temp_dir_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ws-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    root = dir / "out";
    std::filesystem::create_directories(root);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  static void put(const std::filesystem::path& p, const std::string& content) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f << content;
  }
  static std::string get(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  std::filesystem::path dir;
  std::filesystem::path root;
};

}  // namespace codehive::ws::test
