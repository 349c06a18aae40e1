// Running a program: argument vector (no shell unless run_shell is used), a
// working directory, a timeout, captured stdout/stderr. The child gets its own
// process group; on timeout the whole group is killed (SIGTERM, then SIGKILL),
// and leftovers of the group are killed when the main child exits.
// Blocking: call it from a detached actor or a worker thread. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workspace/result.hpp"

namespace codehive::ws {

struct subprocess_options {
  std::vector<std::string> argv;    ///< argv[0] is looked up on PATH when it has no '/'
  std::filesystem::path cwd;        ///< empty: inherit
  std::chrono::milliseconds timeout{60000};
  std::string stdin_data;           ///< written to the child's stdin, then closed
  std::size_t max_output_bytes = 256 * 1024;  ///< per stream; the tail is kept
  std::vector<std::pair<std::string, std::string>> env;  ///< set/override in the child's environment
  /// The child starts from an empty environment: `env` is all it gets (no
  /// variable of ours, so no API key, leaks into it).
  bool clean_env = false;
  /// The child gets new user and network namespaces where the kernel allows
  /// it: no network but a loopback of its own (nothing of ours, not even on
  /// 127.0.0.1, is reachable). Where it does not, the child runs anyway and
  /// subprocess_result::isolation says why.
  bool no_network = false;
  /// Non-empty: the child may create, change or delete files only beneath
  /// these folders (and /dev), with Landlock where the kernel has it; reading
  /// is not restricted. Where it cannot be applied the child runs anyway and
  /// subprocess_result::isolation says why.
  std::vector<std::filesystem::path> write_only_beneath;
};

struct subprocess_result {
  int exit_code = -1;    ///< valid when term_signal == 0
  int term_signal = 0;   ///< signal that ended the child, 0 if it exited
  bool timed_out = false;
  std::string out;       ///< stdout (tail, if truncated)
  std::string err;       ///< stderr (tail, if truncated)
  std::chrono::milliseconds elapsed{0};
  /// With no_network / write_only_beneath: "" when the child ran as asked,
  /// else why not (e.g. "unshare: Operation not permitted", "landlock: ...").
  std::string isolation;
  bool success() const noexcept { return !timed_out && term_signal == 0 && exit_code == 0; }
};

/// errc::spawn_failed when the program cannot be started (not found, not
/// executable, bad cwd); otherwise a result, whatever the exit status.
result<subprocess_result> run_subprocess(const subprocess_options& opts);

/// `/bin/sh -c command` in `cwd`.
result<subprocess_result> run_shell(std::string_view command, const std::filesystem::path& cwd,
                                    std::chrono::milliseconds timeout);

/// How a command that runs generated code (a validator's `npm test`) is
/// contained: a minimal environment, the output folder as working directory,
/// no network where the machine allows it.
struct sandbox_options {
  /// Names of variables of ours the command may see besides the minimal set
  /// (PATH, LANG, LC_ALL, TERM, TZ). None by default: keys and tokens stay out.
  std::vector<std::string> env_allow;
  bool no_network = true;
  /// Writes only beneath the output folder and the scratch home (Landlock).
  bool confine_writes = true;
};

/// `/bin/sh -c command` in `cwd` with the environment reduced to PATH, LANG,
/// LC_ALL, TERM, TZ (those that are set) and the allowed names; HOME and
/// TMPDIR point to a fresh temporary folder (removed afterwards), so tools'
/// caches neither land in the output folder nor read the user's home; writes
/// anywhere else are refused where the kernel has Landlock.
result<subprocess_result> run_sandboxed_shell(std::string_view command, const std::filesystem::path& cwd,
                                              std::chrono::milliseconds timeout,
                                              const sandbox_options& sandbox = {});

/// Whether this machine lets a child drop its network (new user + network
/// namespaces); "" if so, else the reason. Probed once per process.
const std::string& network_isolation_unavailable();

/// A long-lived child that answers each request line with one line (a checker
/// that keeps its runtime warm across many files). Its own process group, like
/// every child of ours; the group is killed (SIGKILL) when the object goes, and
/// the child sees EOF on stdin if this process dies first. Not thread-safe: one
/// owner asks at a time.
class line_process {
 public:
  /// errc::spawn_failed when the program cannot be started.
  static result<std::unique_ptr<line_process>> start(const std::vector<std::string>& argv,
                                                     const std::filesystem::path& cwd = {});
  ~line_process();
  line_process(const line_process&) = delete;
  line_process& operator=(const line_process&) = delete;

  /// Sends `request` (one line, no '\n' inside) and waits for one answer line.
  /// errc::io_error when the child died, closed its output or did not answer
  /// within `timeout` (it is then killed: a late answer must not be taken for
  /// the next request's).
  result<std::string> ask(std::string_view request, std::chrono::milliseconds timeout);
  bool alive() const noexcept { return pid_ > 0; }
  /// The last lines the child wrote to stderr (for the log when it fails).
  std::string stderr_tail() const;

 private:
  line_process() = default;
  void kill_now();
  int pid_ = -1;
  int in_ = -1, out_ = -1, errfd_ = -1;
  std::string pending_;  ///< stdout bytes after the last answer line
  std::string err_;
};

/// A long-lived child that serves in the background (a simulator): stdin
/// /dev/null, stdout and stderr into a log file, its own process group like
/// every child of ours, and SIGTERM when this process dies however it dies
/// (PR_SET_PDEATHSIG): it never outlives us. Stopped when the object goes.
class background_process {
 public:
  /// errc::spawn_failed when the program cannot be started.
  static result<background_process> start(const std::vector<std::string>& argv, const std::filesystem::path& log_file);
  background_process(background_process&& other) noexcept;
  background_process& operator=(background_process&& other) noexcept;
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;
  ~background_process();

  /// The child has ended (it is reaped then); false while it runs.
  bool exited();
  /// SIGTERM, then SIGKILL after `grace`; idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(3));

 private:
  background_process() = default;
  int pid_ = -1;
};

/// First executable `name` on $PATH (or `name` itself when it contains '/').
std::optional<std::filesystem::path> find_on_path(std::string_view name);

/// Last `max_lines` lines of `text` (for findings).
std::string tail_lines(std::string_view text, std::size_t max_lines);

}  // namespace codehive::ws
