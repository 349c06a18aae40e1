#include "workspace/subprocess.hpp"
#include "workspace/landlock.hpp"
#include "workspace/spawn_attr.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

#include <spdlog/spdlog.h>

extern char** environ;

namespace codehive::ws {

namespace {

using clock = std::chrono::steady_clock;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void append_tail(std::string& buf, const char* data, std::size_t n, std::size_t max) {
  buf.append(data, n);
  if (buf.size() > 2 * max + 4096) buf.erase(0, buf.size() - max);
}

/// A child's stdin, stdout and stderr pipes (close-on-exec), and the one way
/// run_subprocess and line_process start a child on them. The parent's ends
/// are `in[1]`, `out[0]`, `err[0]`; whatever is still open is closed at the
/// end of the scope, so an early return leaks nothing.
struct child_pipes {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};

  child_pipes() = default;
  child_pipes(const child_pipes&) = delete;
  child_pipes& operator=(const child_pipes&) = delete;
  ~child_pipes() {
    for (int* p : {in, out, err}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
  }

  /// Without `with_stdin` the child reads /dev/null.
  status open(bool with_stdin) {
    if ((with_stdin && ::pipe2(in, O_CLOEXEC) != 0) || ::pipe2(out, O_CLOEXEC) != 0
        || ::pipe2(err, O_CLOEXEC) != 0)
      return fail(errc::spawn_failed, std::string("cannot create pipes: ") + std::strerror(errno));
    return ok();
  }

  /// posix_spawn of `exe` on these pipes, in its own process group
  /// (child_spawn_attr), in `cwd` unless empty; then closes the child's ends
  /// here. 0 or the error number.
  int spawn(pid_t& pid, const char* exe, char* const* argv, char* const* envp,
            const std::filesystem::path& cwd) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in[0] >= 0)
      posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    if (!cwd.empty())
      posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
    child_spawn_attr attr;
    int rc = ::posix_spawn(&pid, exe, &fa, attr.get(), argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close_child_ends();
    return rc;
  }

  void close_child_ends() {
    close_fd(in[0]);
    close_fd(out[1]);
    close_fd(err[1]);
  }

  /// The parent's ends, non-blocking.
  void parent_ends_nonblocking() {
    for (int fd : {in[1], out[0], err[0]})
      if (fd >= 0)
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  /// Hands an end over: the caller closes it from now on.
  static int take(int& fd) {
    int x = fd;
    fd = -1;
    return x;
  }
};

/// Blocks SIGPIPE in the calling thread for its lifetime (writes to a dead
/// child's stdin then fail with EPIPE instead of killing the process).
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~sigpipe_guard() {
    if (!was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&set_, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_{}, old_{};
  bool was_pending_ = false;
};


/// What the child of spawn_isolated reports through its status pipe.
struct child_report {
  int stage = 0;  ///< 1: namespaces (err: unshare's errno, 0 = isolated), 2: exec/chdir failed, 3: Landlock
  int err = 0;
};

void write_report(int fd, int stage, int err) {
  child_report r{stage, err};
  [[maybe_unused]] auto n = ::write(fd, &r, sizeof r);
}

void write_text(const char* file, const char* text) {
  int fd = ::open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] auto n = ::write(fd, text, std::strlen(text));
  ::close(fd);
}

/// Brings the loopback interface of a new network namespace up (it starts
/// down): a test suite may serve and call itself on 127.0.0.1. System calls
/// only (runs between fork and exec).
void loopback_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ::ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  ::close(s);
}

/// Everything the forked child needs, prepared before fork(): between fork
/// and exec the child of a threaded parent may only make system calls.
struct isolated_spawn {
  const char* exe = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int in_fd = -1;  ///< -1: /dev/null
  int out_fd = -1;
  int err_fd = -1;
  const char* cwd = nullptr;
  std::string uid_map, gid_map;
  bool new_network = true;  ///< unshare user + network namespaces
  int confine_fd = -1;      ///< a Landlock ruleset to apply (write_confinement), or -1
  /// SIGTERM to the child when this process dies (a background server):
  /// posix_spawn cannot ask for that, so such a child is forked here too.
  pid_t die_with = -1;
};

/// fork + unshare(CLONE_NEWUSER | CLONE_NEWNET) + exec: posix_spawn cannot
/// give a child namespaces of its own (nor a parent-death signal: die_with). The child's network is its own
/// loopback only (brought up), nothing of ours is reachable. The new user namespace maps our uid
/// and gid to themselves (tools that compare owners keep working) and makes
/// the network namespace possible without privileges; where neither is
/// permitted the child runs with the network it has, and `isolation` says why.
/// Same process group, signal and descriptor setup as child_spawn_attr.
/// Returns the pid, or -1 with `spawn_errno` set.
pid_t spawn_isolated(const isolated_spawn& sp, int& spawn_errno, std::string& isolation) {
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) {
    spawn_errno = errno;
    return -1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    spawn_errno = errno;
    ::close(status[0]);
    ::close(status[1]);
    return -1;
  }
  if (pid == 0) {
    if (sp.die_with > 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != sp.die_with)  // died before prctl took effect
        ::_exit(127);
    }
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    int in = sp.in_fd >= 0 ? sp.in_fd : ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(sp.out_fd, 1);
    ::dup2(sp.err_fd, 2);
    if (sp.new_network) {
      int err = 0;
      if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
        write_text("/proc/self/setgroups", "deny");
        write_text("/proc/self/uid_map", sp.uid_map.c_str());
        write_text("/proc/self/gid_map", sp.gid_map.c_str());
      } else if (err = errno; ::unshare(CLONE_NEWNET) == 0) {
        err = 0;  // privileged enough for a network namespace alone
      }
      if (err == 0) loopback_up();
      write_report(status[1], 1, err);
    }
    if (sp.confine_fd >= 0)
      if (int err = confine_self(sp.confine_fd); err != 0)
        write_report(status[1], 3, err);
    if (sp.cwd && ::chdir(sp.cwd) != 0) {
      write_report(status[1], 2, errno);
      ::_exit(127);
    }
    ::execve(sp.exe, sp.argv, sp.envp);
    write_report(status[1], 2, errno);
    ::_exit(127);
  }
  ::close(status[1]);
  child_report r;
  spawn_errno = 0;
  while (true) {
    auto n = ::read(status[0], &r, sizeof r);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof r)) break;  // EOF: exec succeeded
    if (r.stage == 1 && r.err != 0) isolation = std::string("unshare: ") + std::strerror(r.err);
    if (r.stage == 3) isolation += (isolation.empty() ? "" : "; ") + std::string("landlock: ") + std::strerror(r.err);
    if (r.stage == 2) spawn_errno = r.err;
  }
  ::close(status[0]);
  if (spawn_errno != 0) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return -1;
  }
  return pid;
}

}  // namespace

std::optional<std::filesystem::path> find_on_path(std::string_view name) {
  if (name.empty()) return std::nullopt;
  auto executable = [](const std::filesystem::path& p) {
    struct stat st{};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string_view::npos) {
    std::filesystem::path p{std::string(name)};
    if (executable(p)) return p;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");  // the program lookup's, not a codehive setting
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t i = 0;
  while (i <= dirs.size()) {
    std::size_t j = dirs.find(':', i);
    if (j == std::string_view::npos) j = dirs.size();
    std::string_view d = dirs.substr(i, j - i);
    i = j + 1;
    std::filesystem::path p = std::filesystem::path(d.empty() ? "." : std::string(d)) / std::string(name);
    if (executable(p)) return p;
  }
  return std::nullopt;
}

namespace {

/// A program to exec: argv[0] found on PATH, and the argument vector (it
/// points into `args`, which must outlive it).
struct exec_args {
  std::filesystem::path exe;
  std::vector<char*> argv;
};

result<exec_args> exec_args_for(const std::vector<std::string>& args) {
  if (args.empty()) return fail(errc::spawn_failed, "no program given");
  auto exe = find_on_path(args[0]);
  if (!exe) return fail(errc::spawn_failed, "program not found: " + args[0]);
  exec_args out{*exe, {}};
  for (const auto& a : args) out.argv.push_back(const_cast<char*>(a.c_str()));
  out.argv.push_back(nullptr);
  return out;
}

}  // namespace

std::string tail_lines(std::string_view text, std::size_t max_lines) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::size_t pos = text.size();
  std::size_t lines = 0;
  while (pos > 0) {
    std::size_t nl = text.rfind('\n', pos - 1);
    ++lines;
    if (nl == std::string_view::npos) {
      pos = 0;
      break;
    }
    if (lines == max_lines) {
      pos = nl + 1;
      break;
    }
    pos = nl;
  }
  return std::string(text.substr(pos));
}

result<subprocess_result> run_subprocess(const subprocess_options& opts) {
  auto program = exec_args_for(opts.argv);
  if (!program) return std::move(program).err();
  auto* exe = &program->exe;
  auto& argv = program->argv;

  std::vector<std::string> env_store;
  std::vector<char*> envp;
  for (char** e = opts.clean_env ? nullptr : environ; e && *e; ++e) {
    std::string_view kv(*e);
    bool overridden = false;
    for (const auto& [k, v] : opts.env)
      if (kv.size() > k.size() && kv.compare(0, k.size(), k) == 0 && kv[k.size()] == '=') overridden = true;
    if (!overridden) env_store.emplace_back(kv);
  }
  for (const auto& [k, v] : opts.env) env_store.push_back(k + "=" + v);
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);

  bool feed = !opts.stdin_data.empty();
  child_pipes pipes;
  if (auto opened = pipes.open(feed); !opened)
    return std::move(opened).err();

  sigpipe_guard guard;
  auto start = clock::now();
  pid_t pid = -1;
  int rc = 0;
  subprocess_result res;
  if (opts.no_network || !opts.write_only_beneath.empty()) {
    std::string unconfined;
    write_confinement confinement;
    if (!opts.write_only_beneath.empty())
      confinement = write_confinement::prepare(opts.write_only_beneath, unconfined);
    isolated_spawn sp;
    sp.new_network = opts.no_network;
    sp.confine_fd = confinement.fd();
    sp.exe = exe->c_str();
    sp.argv = argv.data();
    sp.envp = envp.data();
    sp.in_fd = pipes.in[0];
    sp.out_fd = pipes.out[1];
    sp.err_fd = pipes.err[1];
    sp.cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str();
    sp.uid_map = std::to_string(::getuid()) + " " + std::to_string(::getuid()) + " 1";
    sp.gid_map = std::to_string(::getgid()) + " " + std::to_string(::getgid()) + " 1";
    pid = spawn_isolated(sp, rc, res.isolation);
    if (!unconfined.empty())
      res.isolation += (res.isolation.empty() ? "" : "; ") + unconfined;
    pipes.close_child_ends();
  } else {
    rc = pipes.spawn(pid, exe->c_str(), argv.data(), envp.data(), opts.cwd);
  }
  if (rc != 0) {
    std::string where = opts.cwd.empty() ? "" : " in " + opts.cwd.string();
    return fail(errc::spawn_failed, "cannot start " + opts.argv[0] + where + ": " + std::strerror(rc));
  }
  pipes.parent_ends_nonblocking();
  // From here the loop below owns the parent's ends (and closes them).
  int in[2] = {-1, child_pipes::take(pipes.in[1])};
  int out[2] = {child_pipes::take(pipes.out[0]), -1};
  int err[2] = {child_pipes::take(pipes.err[0]), -1};

  std::size_t fed = 0;
  auto deadline = start + opts.timeout;
  bool exited = false;     // leader has exited (not yet reaped)
  bool killed = false;
  clock::time_point drain_deadline{};
  char buf[65536];
  while (true) {
    if (!exited) {
      siginfo_t si{};
      si.si_pid = 0;
      if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
        exited = true;
        ::kill(-pid, SIGKILL);  // leftovers of the group (background jobs) hold our pipes
        drain_deadline = clock::now() + std::chrono::seconds(1);
      }
    }
    auto now = clock::now();
    if (!exited && now >= deadline && !res.timed_out) {
      res.timed_out = true;
      ::kill(-pid, SIGTERM);
      deadline = now + std::chrono::milliseconds(500);  // grace before SIGKILL
    } else if (!exited && res.timed_out && now >= deadline && !killed) {
      killed = true;
      ::kill(-pid, SIGKILL);
    }
    if (out[0] < 0 && err[0] < 0 && exited) break;
    if (exited && now >= drain_deadline) break;
    pollfd fds[3];
    int nfds = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in[1] >= 0) {
      idx_in = nfds;
      fds[nfds++] = {in[1], POLLOUT, 0};
    }
    if (out[0] >= 0) {
      idx_out = nfds;
      fds[nfds++] = {out[0], POLLIN, 0};
    }
    if (err[0] >= 0) {
      idx_err = nfds;
      fds[nfds++] = {err[0], POLLIN, 0};
    }
    int wait_ms = 20;
    if (nfds > 0) ::poll(fds, static_cast<nfds_t>(nfds), wait_ms);
    else ::poll(nullptr, 0, wait_ms);
    if (idx_in >= 0 && (fds[idx_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(in[1], opts.stdin_data.data() + fed, opts.stdin_data.size() - fed);
      if (n > 0) fed += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || fed >= opts.stdin_data.size()) close_fd(in[1]);
    }
    auto pump = [&](int idx, int& fd, std::string& into) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
          append_tail(into, buf, static_cast<std::size_t>(n), opts.max_output_bytes);
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        close_fd(fd);  // EOF or error
        return;
      }
    };
    pump(idx_out, out[0], res.out);
    pump(idx_err, err[0], res.err);
  }
  close_fd(in[1]);
  close_fd(out[0]);
  close_fd(err[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st)) res.exit_code = WEXITSTATUS(st);
  else if (WIFSIGNALED(st)) res.term_signal = WTERMSIG(st);
  for (auto* s : {&res.out, &res.err})
    if (s->size() > opts.max_output_bytes) s->erase(0, s->size() - opts.max_output_bytes);
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
  return res;
}

result<subprocess_result> run_shell(std::string_view command, const std::filesystem::path& cwd,
                                    std::chrono::milliseconds timeout) {
  subprocess_options o;
  o.argv = {"/bin/sh", "-c", std::string(command)};
  o.cwd = cwd;
  o.timeout = timeout;
  return run_subprocess(o);
}

}  // namespace codehive::ws

namespace codehive::ws {

namespace {

/// A temporary folder for HOME and TMPDIR, removed with its contents.
struct scratch_home {
  std::filesystem::path path;
  scratch_home() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "codehive-cmd-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path = tmpl;
  }
  ~scratch_home() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

result<subprocess_result> run_sandboxed_shell(std::string_view command, const std::filesystem::path& cwd,
                                              std::chrono::milliseconds timeout, const sandbox_options& sandbox) {
  subprocess_options o;
  o.argv = {"/bin/sh", "-c", std::string(command)};
  o.cwd = cwd;
  o.timeout = timeout;
  o.clean_env = true;
  o.no_network = sandbox.no_network;
  // The child's own variables, passed on as they are here (not codehive settings).
  auto pass = [&](const std::string& name, const char* fallback) {
    if (const char* v = std::getenv(name.c_str())) o.env.emplace_back(name, v);
    else if (fallback) o.env.emplace_back(name, fallback);
  };
  pass("PATH", "/usr/local/bin:/usr/bin:/bin");
  pass("LANG", "C.UTF-8");
  pass("LC_ALL", nullptr);
  pass("TERM", "dumb");
  pass("TZ", nullptr);
  for (const auto& name : sandbox.env_allow)
    if (name != "HOME" && name != "TMPDIR") pass(name, nullptr);
  scratch_home home;
  auto h = home.path.empty() ? cwd.string() : home.path.string();
  o.env.emplace_back("HOME", h);
  o.env.emplace_back("TMPDIR", h);
  if (sandbox.confine_writes)
    o.write_only_beneath = {cwd, home.path.empty() ? cwd : home.path};
  auto r = run_subprocess(o);
  if (r && !r->isolation.empty()) {
    static std::once_flag said;
    std::call_once(said, [&] {
      spdlog::warn("validator commands run less contained than intended: this machine does not let a child "
                   "drop its network or confine its writes ({})",
                   r->isolation);
    });
  }
  return r;
}

const std::string& network_isolation_unavailable() {
  static const std::string reason = [] {
    subprocess_options o;
    o.argv = {"/bin/true"};
    o.clean_env = true;
    o.no_network = true;
    o.timeout = std::chrono::seconds(30);
    auto r = run_subprocess(o);
    if (!r) return "cannot start a child: " + r.err().reason;
    return r->isolation;
  }();
  return reason;
}

}  // namespace codehive::ws

namespace codehive::ws {

result<std::unique_ptr<line_process>> line_process::start(const std::vector<std::string>& args,
                                                          const std::filesystem::path& cwd) {
  auto program = exec_args_for(args);
  if (!program) return std::move(program).err();
  auto* exe = &program->exe;
  auto& argv = program->argv;
  child_pipes pipes;
  if (auto opened = pipes.open(true); !opened)
    return std::move(opened).err();
  pid_t pid = -1;
  if (int rc = pipes.spawn(pid, exe->c_str(), argv.data(), environ, cwd); rc != 0)
    return fail(errc::spawn_failed, "cannot start " + args[0] + ": " + std::strerror(rc));
  pipes.parent_ends_nonblocking();
  std::unique_ptr<line_process> p(new line_process());
  p->pid_ = pid;
  p->in_ = child_pipes::take(pipes.in[1]);
  p->out_ = child_pipes::take(pipes.out[0]);
  p->errfd_ = child_pipes::take(pipes.err[0]);
  return p;
}

line_process::~line_process() { kill_now(); }

std::string line_process::stderr_tail() const { return tail_lines(err_, 5); }

void line_process::kill_now() {
  close_fd(in_);
  close_fd(out_);
  close_fd(errfd_);
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

result<std::string> line_process::ask(std::string_view request, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return fail(errc::io_error, "the checker process is not running");
  sigpipe_guard guard;
  std::string line(request);
  line += '\n';
  std::size_t fed = 0;
  auto deadline = clock::now() + timeout;
  char buf[65536];
  auto give_up = [&](std::string why) -> result<std::string> {
    // Killed, not kept: a late answer would be taken for the next request's.
    kill_now();
    auto tail = stderr_tail();
    return fail(errc::io_error, tail.empty() ? why : why + " (stderr: " + tail + ")");
  };
  while (true) {
    auto nl = pending_.find('\n');
    if (nl != std::string::npos && fed == line.size()) {
      std::string answer = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return answer;
    }
    auto now = clock::now();
    if (now >= deadline) return give_up("no answer within " + std::to_string(timeout.count()) + " ms");
    pollfd fds[3];
    int n = 0, idx_in = -1, idx_out = -1, idx_err = -1;
    if (fed < line.size()) {
      idx_in = n;
      fds[n++] = {in_, POLLOUT, 0};
    }
    if (out_ >= 0) {
      idx_out = n;
      fds[n++] = {out_, POLLIN, 0};
    }
    if (errfd_ >= 0) {
      idx_err = n;
      fds[n++] = {errfd_, POLLIN, 0};
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<long long>(left + 1, 1000)));
    if (idx_in >= 0 && (fds[idx_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(in_, line.data() + fed, line.size() - fed);
      if (w > 0) fed += static_cast<std::size_t>(w);
      else if (w < 0 && errno != EAGAIN && errno != EINTR) return give_up("cannot write to the checker process");
    }
    if (idx_err >= 0 && (fds[idx_err].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(errfd_, buf, sizeof buf);
      if (r > 0) append_tail(err_, buf, static_cast<std::size_t>(r), 16 * 1024);
      else if (r == 0 || (errno != EAGAIN && errno != EINTR)) close_fd(errfd_);
    }
    if (idx_out >= 0 && (fds[idx_out].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(out_, buf, sizeof buf);
      if (r > 0) pending_.append(buf, static_cast<std::size_t>(r));
      else if (r == 0 || (errno != EAGAIN && errno != EINTR)) return give_up("the checker process exited");
    }
  }
}

}  // namespace codehive::ws

namespace codehive::ws {

result<background_process> background_process::start(const std::vector<std::string>& args,
                                                     const std::filesystem::path& log_file) {
  auto program = exec_args_for(args);
  if (!program) return std::move(program).err();
  auto* exe = &program->exe;
  auto& argv = program->argv;
  int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) return fail(errc::spawn_failed, "cannot write " + log_file.string() + ": " + std::strerror(errno));
  isolated_spawn sp;
  sp.exe = exe->c_str();
  sp.argv = argv.data();
  sp.envp = environ;
  sp.out_fd = log;
  sp.err_fd = log;
  sp.new_network = false;
  sp.die_with = ::getpid();
  int rc = 0;
  std::string isolation;
  pid_t pid = spawn_isolated(sp, rc, isolation);
  ::close(log);
  if (pid < 0) return fail(errc::spawn_failed, "cannot start " + args[0] + ": " + std::strerror(rc));
  background_process p;
  p.pid_ = pid;
  return p;
}

background_process::background_process(background_process&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }

background_process& background_process::operator=(background_process&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

background_process::~background_process() { stop(); }

bool background_process::exited() {
  if (pid_ <= 0) return true;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) != pid_) return false;
  pid_ = -1;
  return true;
}

void background_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  auto deadline = clock::now() + grace;
  while (clock::now() < deadline) {
    if (exited()) return;
    ::poll(nullptr, 0, 20);
  }
  ::kill(pid_, SIGKILL);
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace codehive::ws
