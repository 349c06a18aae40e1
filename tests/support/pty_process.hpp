// A child process on a pseudo-terminal, for what a program does only when a
// person sits at it (isatty on stdin and stdout): prompts, editors, progress
// lines. The test reads what the terminal shows and types answers.
//
//   pty_process p({CODEHIVE_BIN, "run", "...", "--approve-plan"}, {{"EDITOR", script}});
//   auto at = p.wait_text("Approve this plan?", 120000);   // where the match ends
//   p.type("y\n");
//   auto code = p.wait_exit(180000);
//
// Everything the child writes is read on a thread of its own (a child never
// blocks on a full terminal). The child runs as a session leader with the
// pty as its controlling terminal, gets SIGKILL when the test process dies
// (PR_SET_PDEATHSIG), and is killed and reaped by the destructor.
// No gtest here: failures to start throw std::runtime_error.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace codehive::test {

class pty_process {
 public:
  /// Starts argv[0] (an absolute path) on a new pty of 120x40. `env` entries
  /// are set in the child; an empty value unsets the variable.
  pty_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
  ~pty_process();
  pty_process(const pty_process&) = delete;
  pty_process& operator=(const pty_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// What the terminal showed so far (escape sequences and \r included).
  std::string output() const;
  /// The last `n` lines of output(), for failure messages.
  std::string tail(std::size_t n = 40) const;

  /// Waits until `needle` appears in the output at or after offset `from`;
  /// returns the offset just past it, nullopt when timeout_ms passed or the
  /// terminal closed (the child ended) first.
  std::optional<std::size_t> wait_text(const std::string& needle, int timeout_ms, std::size_t from = 0);

  /// Writes `keys` to the terminal, as typed ("y\n" is y and Enter).
  void type(const std::string& keys);

  /// Waits up to timeout_ms for the child to end; its exit code, -1 when a
  /// signal ended it, nullopt while it still runs (it is NOT killed).
  std::optional<int> wait_exit(int timeout_ms);

 private:
  void read_loop();

  pid_t pid_ = -1;
  int master_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
  bool closed_ = false;  ///< the terminal's other side is gone (EOF or EIO)
  bool stop_ = false;
  std::thread reader_;
};

}  // namespace codehive::test
