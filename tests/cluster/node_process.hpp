// A long-running child process for the cluster tests (coordinator, worker, `codehive run`,
// llm-sim inside a network namespace, the deploy script). Unlike a pipe, its stdout and
// stderr go to two log files, so several chatty processes can run side by side without one
// of them blocking on a full pipe while the test waits on another.
//
//   node_process w({CODEHIVE_BIN, "worker", "--join", addr, ...}, dir / "w1");
//   ASSERT_TRUE(w.wait_line(std::regex("joined coordinator"), 15000)) << w.tail();
//   w.signal(SIGSTOP);   // freeze it (socket stays open)
//   ...
//   w.kill();            // SIGCONT + SIGKILL to its process group, reaped
//
// The child runs in its own process group with stdin on /dev/null, and gets SIGKILL when
// the test process dies (PR_SET_PDEATHSIG), so a crashed test leaves nothing behind.
// No gtest here.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace codehive::cluster_test {

class node_process {
 public:
  /// Starts argv[0] (an absolute path). stdout goes to `log_base` + ".out", stderr to
  /// `log_base` + ".err". `env` entries are set (an empty value unsets the variable).
  /// Throws std::runtime_error when it cannot fork or open the logs.
  node_process(const std::vector<std::string>& argv, const std::filesystem::path& log_base,
               const std::map<std::string, std::string>& env = {});
  /// SIGCONT + SIGKILL to the process group if the child still runs; reaps it.
  ~node_process();
  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  pid_t pid() const noexcept { return child_.pid(); }
  const std::string& name() const noexcept { return name_; }

  /// What it wrote so far: stdout only, stderr only, both (stdout first).
  std::string out() const;
  std::string err() const;
  std::string text() const { return out() + err(); }
  /// The last `n` lines of stdout and of stderr, labelled, for failure messages.
  std::string tail(std::size_t n = 40) const;

  /// Polls both logs until a line matches `re` (std::regex_search) and returns that line;
  /// nullopt when timeout_ms passed or the process ended without such a line.
  std::optional<std::string> wait_line(const std::regex& re, int timeout_ms);
  /// Same, with a plain substring.
  std::optional<std::string> wait_text(const std::string& needle, int timeout_ms);
  /// True when some line written so far matches.
  bool has_line(const std::regex& re) const;

  /// Sends `sig` to the child's process group (and the child). False when already reaped.
  bool signal(int sig) { return child_.signal(sig); }
  /// SIGCONT + SIGKILL to the group, reaped. Idempotent.
  void kill() { child_.kill(); }
  /// True while the child has not ended (reaps it when it has).
  bool running() { return child_.running(); }
  /// Waits up to timeout_ms for the child to end. Returns its exit code; -1 when a
  /// signal ended it; nullopt when it still runs after timeout_ms (it is NOT killed).
  std::optional<int> wait_exit(int timeout_ms) { return child_.wait_exit(timeout_ms); }
  /// Exit code once reaped (-1: signalled or not reaped yet); the ending signal (0: none).
  int exit_code() const noexcept { return child_.exit_code(); }
  int term_signal() const noexcept { return child_.term_signal(); }

 private:
  /// Polls both logs until a line satisfies `match`; see wait_line.
  template <class Match>
  std::optional<std::string> wait_for(Match match, int timeout_ms);

  std::string name_;
  std::filesystem::path out_path_, err_path_;
  test::child_process child_;
};

/// Runs a command to completion (logs under log_base); returns its exit code, -1 when
/// signalled or killed after timeout_ms; `output` gets stdout + stderr.
int run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& log_base,
               int timeout_ms, std::string* output = nullptr,
               const std::map<std::string, std::string>& env = {});

using test::find_program;

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
int pick_free_port();

}  // namespace codehive::cluster_test
