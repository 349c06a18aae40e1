#include "tests/support/pty_process.hpp"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "tests/support/child_process.hpp"

namespace codehive::test {

namespace {

using clock_type = std::chrono::steady_clock;

}  // namespace

pty_process::pty_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  if (argv.empty()) throw std::runtime_error("pty_process: no command");
  auto args = argv;
  auto envs = child_environment(env);
  auto arg_ptrs = exec_pointers(args);
  auto env_ptrs = exec_pointers(envs);
  winsize size{};
  size.ws_row = 40;
  size.ws_col = 120;
  const pid_t parent = ::getpid();
  pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
  if (pid_ < 0) throw std::runtime_error(std::string("pty_process: forkpty failed: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the test died before prctl
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP}) ::signal(sig, SIG_DFL);
    ::execve(arg_ptrs[0], arg_ptrs.data(), env_ptrs.data());
    ::_exit(127);
  }
  reader_ = std::thread([this] { read_loop(); });
}

pty_process::~pty_process() {
  if (!reaped_) {
    ::kill(-pid_, SIGKILL);  // the child leads its own session and process group
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
  }
  {
    std::lock_guard lock{mu_};
    stop_ = true;
  }
  if (reader_.joinable()) reader_.join();
  ::close(master_);
}

void pty_process::read_loop() {
  char buf[4096];
  for (;;) {
    {
      std::lock_guard lock{mu_};
      if (stop_) return;
    }
    pollfd p{master_, POLLIN, 0};
    // A short wait, so the destructor's stop is noticed.
    int ready = ::poll(&p, 1, 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;
    ssize_t n = ready > 0 ? ::read(master_, buf, sizeof buf) : -1;
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock{mu_};
    if (n <= 0) {  // EIO once no process holds the terminal any more
      closed_ = true;
      cv_.notify_all();
      return;
    }
    output_.append(buf, static_cast<std::size_t>(n));
    cv_.notify_all();
  }
}

std::string pty_process::output() const {
  std::lock_guard lock{mu_};
  return output_;
}

std::string pty_process::tail(std::size_t n) const {
  auto text = output();
  std::size_t at = text.size();
  for (std::size_t lines = 0; at > 0 && lines <= n;)
    if (text[--at] == '\n') ++lines;
  return "--- terminal (last lines) ---\n" + text.substr(at) + "\n";
}

std::optional<std::size_t> pty_process::wait_text(const std::string& needle, int timeout_ms, std::size_t from) {
  std::unique_lock lock{mu_};
  std::optional<std::size_t> found;
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    if (auto at = output_.find(needle, from); at != std::string::npos) found = at + needle.size();
    return found.has_value() || closed_;
  });
  return found;
}

void pty_process::type(const std::string& keys) {
  std::size_t done = 0;
  while (done < keys.size()) {
    ssize_t n = ::write(master_, keys.data() + done, keys.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("pty_process: write failed: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

std::optional<int> pty_process::wait_exit(int timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (!reaped_) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (r < 0 && errno != EINTR) throw std::runtime_error("pty_process: waitpid failed");
    if (clock_type::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return exit_code_;
}

}  // namespace codehive::test
