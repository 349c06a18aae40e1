// Shared helpers for the workspace suites: a fresh temp directory per test, and the
// checks of a validation report's findings.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "workspace/validators.hpp"

namespace codehive::ws::test {

/// What a finding must be; an empty field (line 0) is not checked.
struct expected_finding {
  std::string check;
  std::string file;
  int line = 0;
  std::string says;  ///< a part of its message
};

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

  /// Every finding and skipped check of `r`, one a line, for failure messages.
  static std::string describe(const validation_report& r) {
    std::string s;
    for (const auto& f : r.findings)
      s += f.file + ":" + std::to_string(f.line) + " [" + f.check + "] " + f.message + "\n";
    for (const auto& k : r.skipped)
      s += "skipped [" + k.check + "] " + k.reason + "\n";
    return s;
  }

  /// `r` holds exactly one finding, and it is `want`. A failed count is fatal (call through
  /// ASSERT_NO_FATAL_FAILURE to stop the test there).
  static void expect_only_finding(const validation_report& r, const expected_finding& want) {
    ASSERT_EQ(r.findings.size(), 1u) << describe(r);
    const auto& f = r.findings[0];
    if (!want.check.empty())
      EXPECT_EQ(f.check, want.check) << describe(r);
    if (!want.file.empty())
      EXPECT_EQ(f.file, want.file) << describe(r);
    if (want.line != 0)
      EXPECT_EQ(f.line, want.line) << describe(r);
    if (!want.says.empty())
      EXPECT_NE(f.message.find(want.says), std::string::npos) << describe(r);
  }

  /// `r` skipped exactly one check: `check` (unless empty), saying `says` (unless empty).
  static void expect_only_skipped(const validation_report& r, const std::string& check,
                                  const std::string& says = "") {
    ASSERT_EQ(r.skipped.size(), 1u) << describe(r);
    if (!check.empty())
      EXPECT_EQ(r.skipped[0].check, check) << describe(r);
    if (!says.empty())
      EXPECT_NE(r.skipped[0].reason.find(says), std::string::npos) << describe(r);
  }

  std::filesystem::path dir;
  std::filesystem::path root;
};

}  // namespace codehive::ws::test
