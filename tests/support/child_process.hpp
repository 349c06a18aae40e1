// The one way the tests start a program: a child process in its own process
// group (a kill takes down what it spawned too), stdin on /dev/null, default
// signal dispositions and an empty signal mask whatever the test runner set,
// and its output where the caller wants it (log files or pipes).
//
//   child_process p({CODEHIVE_BIN, "run", ...}, {.output = child_output::one_file, .log = dir / "run.log"});
//   auto code = p.wait_exit(60000);  // nullopt: still running after 60 s
//   if (!code) p.kill();             // SIGKILL to the group, reaped
//
// The suites' own helpers (node_process, killable_process, run_process,
// run_codehive, sim_process) are built on it. No gtest here.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace codehive::test {

/// Where the child's stdout and stderr go.
enum class child_output {
  one_file,   ///< both to `log` (created, or appended to with append_log)
  two_files,  ///< stdout to `log` + ".out", stderr to `log` + ".err"
  one_pipe,   ///< both to one pipe: out_fd()
  two_pipes,  ///< out_fd() and err_fd()
};

struct child_options {
  child_output output = child_output::one_file;
  std::filesystem::path log{};  ///< for the file outputs
  bool append_log = false;    ///< one_file: append instead of truncating
  /// Set in the child's environment; an empty value unsets the variable.
  std::map<std::string, std::string> env{};
  std::filesystem::path cwd{};   ///< "" keeps ours
  bool die_with_parent = false;  ///< SIGKILL when the test process dies (PR_SET_PDEATHSIG)
};

/// Our environment with `changes` applied ("" unsets), as "K=V" strings:
/// made before a fork, because setenv is not safe between fork and exec in a
/// process with threads (pty_process forks on its own and uses it too).
std::vector<std::string> child_environment(const std::map<std::string, std::string>& changes);
/// The null-terminated char* array execve wants, pointing into `strings`.
std::vector<char*> exec_pointers(std::vector<std::string>& strings);

class child_process {
 public:
  /// Starts argv[0]: a path, or a name looked up in PATH. Throws
  /// std::runtime_error when it cannot make the pipes, open the logs or fork.
  child_process(const std::vector<std::string>& argv, const child_options& opts);
  /// SIGKILL to the group and reaped if it still runs; open pipes closed.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// The read ends of the pipes (-1 when not piped, or after close_out/close_err).
  int out_fd() const noexcept { return out_fd_; }
  int err_fd() const noexcept { return err_fd_; }
  void close_out();
  void close_err();

  /// Sends `sig` to the child's process group and the child. False once reaped.
  bool signal(int sig);
  /// SIGKILL (and SIGCONT, for a stopped one) to the group, reaped. Idempotent.
  void kill();
  /// True while the child has not ended (reaps it when it has).
  bool running();
  /// Waits up to timeout_ms for the child to end. Returns its exit code, -1 when a
  /// signal ended it; nullopt when it still runs after timeout_ms (it is NOT killed).
  std::optional<int> wait_exit(int timeout_ms);
  /// Waits for the end, without a limit; the exit code, -1 when signalled.
  int wait();
  bool reaped() const noexcept { return reaped_; }
  /// Exit code once reaped (-1: signalled or not reaped yet); the ending signal (0: none).
  int exit_code() const noexcept { return exit_code_; }
  int term_signal() const noexcept { return term_signal_; }

 private:
  void reap(bool block);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  int term_signal_ = 0;
};

/// The whole of a file, "" when it cannot be read.
std::string read_whole_file(const std::filesystem::path& p);

/// First of `names` found as an executable file in PATH (then /usr/sbin, /sbin,
/// /usr/bin, /bin); "" if none.
std::string find_program(const std::vector<std::string>& names);

}  // namespace codehive::test
