// A child process whose stdout and stderr are read line by line as they come, so a
// test can wait for a log line and SIGKILL the process right after it (crash tests).
//
//   killable_process p({CODEHIVE_BIN, "run", ...});
//   auto line = p.wait_line([](stream s, const std::string& l) {
//     return s == stream::err && l.find(" start: ") != std::string::npos;
//   }, 60000);
//   if (line) p.kill();            // SIGKILL to the whole process group, reaped
//   else      p.wait_exit(60000);  // it ended (or timed out) before the line came
//
// The child runs in its own process group (a kill also takes down what it spawned,
// e.g. `node --check`), with stdin on /dev/null. No threads: wait_line polls both
// pipes, so the kill follows the matching line within microseconds. No gtest here.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace codehive::crash_test {

enum class stream { out, err };

class killable_process {
 public:
  using predicate = std::function<bool(stream, const std::string&)>;

  /// Starts argv[0] (an absolute path). Throws std::runtime_error when it cannot fork.
  explicit killable_process(const std::vector<std::string>& argv);
  /// Kills (SIGKILL to the group) and reaps the child if it still runs.
  ~killable_process();
  killable_process(const killable_process&) = delete;
  killable_process& operator=(const killable_process&) = delete;

  pid_t pid() const noexcept { return child_.pid(); }

  /// Reads lines until one satisfies `pred` (returns it; lines after it stay unread),
  /// or both pipes reached EOF (the child ended: nullopt), or timeout_ms passed
  /// (nullopt, timed_out() true). Every line read is kept (lines()).
  std::optional<std::string> wait_line(const predicate& pred, int timeout_ms);

  /// The helper the crash tests are built on: wait for a line matching `pred`, then
  /// SIGKILL at once. Returns the matching line, or nullopt when the child ended or
  /// the time ran out first (then it is killed too, on timeout).
  std::optional<std::string> kill_when(const predicate& pred, int timeout_ms);

  /// SIGKILL to the child's process group; reaps it; drains what is left in the pipes.
  void kill();

  /// Reads everything until EOF and reaps the child. Returns its exit code, or -1 when
  /// it was killed by a signal or did not end within timeout_ms (then it is killed).
  int wait_exit(int timeout_ms);

  /// True once the child has been reaped.
  bool finished() const noexcept { return child_.reaped(); }
  /// Exit code once reaped (-1: signalled / not reaped yet).
  int exit_code() const noexcept { return child_.exit_code(); }
  /// Signal that ended it (0: none).
  int term_signal() const noexcept { return child_.term_signal(); }
  bool timed_out() const noexcept { return timed_out_; }

  const std::vector<std::string>& out_lines() const noexcept { return out_lines_; }
  const std::vector<std::string>& err_lines() const noexcept { return err_lines_; }
  /// Every line in arrival order, prefixed "out| " or "err| " (for failure messages).
  const std::vector<std::string>& lines() const noexcept { return all_lines_; }
  /// The last `n` lines of lines(), joined with newlines.
  std::string tail(std::size_t n = 40) const;

 private:
  struct pipe_state {
    int fd = -1;  ///< read end, owned by child_ until EOF closes it
    std::string partial;
  };
  /// Reads what is available (blocking up to wait_ms on poll); appends complete lines
  /// to `fresh`. Returns false when both pipes are at EOF.
  bool pump(int wait_ms, std::vector<std::pair<stream, std::string>>& fresh);
  void add_line(stream s, std::string line, std::vector<std::pair<stream, std::string>>& fresh);

  test::child_process child_;
  pipe_state out_, err_;
  std::vector<std::pair<stream, std::string>> pending_;  // read but not yet shown to a predicate
  std::vector<std::string> out_lines_, err_lines_, all_lines_;
  bool timed_out_ = false;
};

}  // namespace codehive::crash_test
