// Runs a program to completion as a child process, with a time limit, capturing
// its stdout and stderr together. Used by the demo tests to run `codehive` and
// `chromium` for real.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace codehive::demo_test {

struct process_result {
  int exit_code = -1;      ///< -1 when killed by a signal or the time limit
  bool timed_out = false;  ///< killed after timeout_ms
  double seconds = 0;      ///< wall time
  std::string output;      ///< stdout and stderr, interleaved
};

/// Runs argv[0] (an absolute path, or a name looked up in PATH) with the given
/// working directory ("" keeps ours). stdin is /dev/null. On timeout the whole
/// process group is killed with SIGKILL.
process_result run_process(const std::vector<std::string>& argv, int timeout_ms,
                           const std::filesystem::path& cwd = {});

/// First of `names` found as an executable file in PATH (test::find_program); "" if none.
std::string find_in_path(const std::vector<std::string>& names);

}  // namespace codehive::demo_test
