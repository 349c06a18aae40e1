#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace codehive::test {

namespace fs = std::filesystem;

std::vector<std::string> child_environment(const std::map<std::string, std::string>& changes) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv{*e};
    auto key = kv.substr(0, kv.find('='));
    if (changes.count(key) == 0) out.push_back(std::move(kv));
  }
  for (const auto& [k, v] : changes)
    if (!v.empty()) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> exec_pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

namespace {

int open_log(const fs::path& p, bool append) {
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) throw std::runtime_error("cannot open the log " + p.string() + ": " + std::strerror(errno));
  return fd;
}

/// A pipe whose ends are closed on exec (the child dup2s its end first).
void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
}

void close_all(std::initializer_list<int> fds) {
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
}

}  // namespace

child_process::child_process(const std::vector<std::string>& argv_in, const child_options& opts) {
  if (argv_in.empty()) throw std::invalid_argument("child_process: empty argv");
  // The child's stdout and stderr (write ends) and our read ends.
  int child_out = -1, child_err = -1, read_out = -1, read_err = -1;
  try {
    switch (opts.output) {
      case child_output::one_file:
        child_out = open_log(opts.log, opts.append_log);
        break;
      case child_output::two_files:
        child_out = open_log(opts.log.string() + ".out", false);
        child_err = open_log(opts.log.string() + ".err", false);
        break;
      case child_output::one_pipe:
      case child_output::two_pipes: {
        int p[2];
        make_pipe(p);
        read_out = p[0];
        child_out = p[1];
        if (opts.output == child_output::two_pipes) {
          make_pipe(p);
          read_err = p[0];
          child_err = p[1];
        }
        break;
      }
    }
  } catch (...) {
    close_all({child_out, child_err, read_out, read_err});
    throw;
  }
  if (child_err < 0) child_err = child_out;

  std::vector<std::string> argv = argv_in;
  auto args = exec_pointers(argv);
  std::vector<std::string> env = child_environment(opts.env);
  auto envp = exec_pointers(env);
  const bool search = argv[0].find('/') == std::string::npos;
  const std::string exec_failed = "exec " + argv[0] + ": ";
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) {
    close_all({child_out, child_err == child_out ? -1 : child_err, read_out, read_err});
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);
    if (opts.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) _exit(127);
    }
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(child_out, STDOUT_FILENO);
    ::dup2(child_err, STDERR_FILENO);
    if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) _exit(126);
    if (search)
      ::execvpe(args[0], args.data(), envp.data());
    else
      ::execve(args[0], args.data(), envp.data());
    const std::string msg = exec_failed + std::strerror(errno) + "\n";
    (void)!::write(STDERR_FILENO, msg.data(), msg.size());
    _exit(127);
  }
  ::setpgid(pid_, pid_);  // also from here: no race with an early signal()
  close_all({child_out, child_err == child_out ? -1 : child_err});
  out_fd_ = read_out;
  err_fd_ = read_err;
}

child_process::~child_process() {
  kill();
  close_out();
  close_err();
}

void child_process::close_out() {
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
}

void child_process::close_err() {
  if (err_fd_ >= 0) ::close(err_fd_);
  err_fd_ = -1;
}

bool child_process::signal(int sig) {
  if (reaped_ || pid_ <= 0) return false;
  ::kill(-pid_, sig);
  ::kill(pid_, sig);
  return true;
}

void child_process::kill() {
  if (reaped_ || pid_ <= 0) return;
  signal(SIGKILL);
  signal(SIGCONT);
  reap(true);
}

void child_process::reap(bool block) {
  if (reaped_ || pid_ <= 0) return;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return;
  reaped_ = true;
  if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) term_signal_ = WTERMSIG(status);
}

bool child_process::running() {
  reap(false);
  return !reaped_;
}

std::optional<int> child_process::wait_exit(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return term_signal_ != 0 ? -1 : exit_code_;
}

int child_process::wait() {
  reap(true);
  return term_signal_ != 0 ? -1 : exit_code_;
}

std::string read_whole_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string find_program(const std::vector<std::string>& names) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string d;
    while (std::getline(ss, d, ':'))
      if (!d.empty()) dirs.push_back(d);
  }
  for (const char* extra : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) dirs.emplace_back(extra);
  for (const auto& n : names)
    for (const auto& d : dirs) {
      const fs::path p = fs::path(d) / n;
      std::error_code ec;
      if (::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p, ec)) return p.string();
    }
  return {};
}

}  // namespace codehive::test
