// Issue 16: an output folder that fills during a run. The run stops cleanly
// (exit 6, local I/O, not a model failure), the store says `failed (exit 6)`
// with the cause, and once space is freed `codehive resume` finishes it: the
// folder ends equal to the demo's app, byte for byte.
//
// Needs a small filesystem: a tmpfs mounted on the output folder (root,
// CAP_SYS_ADMIN). Where mounting is not permitted the test is skipped, saying why.
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/crash/fast_demo.hpp"
#include "tests/crash/killable_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/sim_process.hpp"

namespace fs = std::filesystem;
using codehive::crash_test::fast_demo;
using codehive::crash_test::killable_process;
using codehive::test::temp_dir;

namespace {

constexpr int finish_timeout_ms = 300000;  // a demo run on a loaded 2-core machine

struct outcome {
  int exit_code = -1;
  std::string output;
};

outcome codehive_run(const fs::path& home, const fast_demo& demo, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/env", "-u", "CODEHIVE_STORE", "HOME=" + home.string(),
                                "CODEHIVE_DEMO_DIR=" + demo.path().string(), CODEHIVE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  killable_process p(argv);
  outcome o;
  o.exit_code = p.wait_exit(finish_timeout_ms);
  o.output = p.tail(40);
  return o;
}

std::string slurp(const fs::path& p) {
  return codehive::test::read_whole_file(p);
}

TEST(OutputFull, ARunIntoAFullFolderStopsWithExit6AndResumesOnceSpaceIsFreed) {
  temp_dir dir("codehive-output-full");
  const fs::path out = dir.path() / "out";
  const fs::path home = dir.path() / "home";
  const fs::path store = dir.path() / "store";
  fs::create_directories(out);
  fs::create_directories(home);
  // 24 KiB: the plan's first files fit, the demo's 45 KB do not.
  if (::mount("tmpfs", out.c_str(), "tmpfs", 0, "size=24k") != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs here (" << std::strerror(errno) << "): needs root";
  struct unmount {
    fs::path at;
    ~unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } guard{out};
  fast_demo demo;

  auto first = codehive_run(home, demo, {"run", "--demo", "--out", out.string(), "--store", store.string()});
  ASSERT_EQ(first.exit_code, 6) << "a full output folder is a local I/O failure (exit 6)\n" << first.output;
  EXPECT_NE(first.output.find("local_io_failure (exit 6)"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("No space left on device"), std::string::npos) << first.output;
  EXPECT_EQ(first.output.find("model_failure"), std::string::npos) << first.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(first.output, m, std::regex{R"(codehive ([0-9]{8}-[0-9]{6}-[0-9a-f]{4}): )"}))
    << first.output;
  const std::string run_id = m[1];

  auto listed = codehive_run(home, demo, {"runs", "--store", store.string()});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(std::regex_search(listed.output, std::regex{run_id + R"( .* failed \(exit 6\))"})) << listed.output;

  // Space is freed: the filesystem grows, as a user deleting files would make room.
  ASSERT_EQ(::mount("tmpfs", out.c_str(), "tmpfs", MS_REMOUNT, "size=16m"), 0) << std::strerror(errno);
  auto resumed = codehive_run(home, demo, {"resume", run_id, "--store", store.string()});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const fs::path app = fs::path{CODEHIVE_SOURCE_DIR} / "configs" / "demo" / "app";
  for (const auto& e : fs::recursive_directory_iterator(app)) {
    if (!e.is_regular_file())
      continue;
    auto rel = fs::relative(e.path(), app);
    EXPECT_EQ(slurp(out / rel), slurp(e.path())) << rel << " differs from the demo's app after the resume";
  }
}

}  // namespace
