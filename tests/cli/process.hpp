// Runs the codehive binary as a child process with a timeout and captures
// its combined output.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace codehive::test {

struct process_result {
  int exit_code = -1;  ///< -1: killed (timeout) or signalled
  bool timed_out = false;
  std::string output;  ///< stdout and stderr, interleaved
};

process_result run_codehive(const std::vector<std::string>& args, int timeout_ms = 120000,
                            const std::vector<std::pair<std::string, std::string>>& env = {});

}  // namespace codehive::test
