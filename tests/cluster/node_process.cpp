#include "tests/cluster/node_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

namespace codehive::cluster_test {

namespace fs = std::filesystem;

namespace {

using clock_type = std::chrono::steady_clock;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = nl + 1;
  }
  return lines;
}

std::string last_lines(const std::string& text, std::size_t n) {
  auto lines = split_lines(text);
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += lines[i] + "\n";
  return out;
}

}  // namespace

node_process::node_process(const std::vector<std::string>& argv, const fs::path& log_base,
                           const std::map<std::string, std::string>& env)
    : name_(log_base.filename().string()),
      out_path_(log_base.string() + ".out"),
      err_path_(log_base.string() + ".err") {
  if (argv.empty()) throw std::invalid_argument("node_process: empty argv");
  std::error_code ec;
  fs::create_directories(log_base.parent_path(), ec);
  const int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) {
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    throw std::runtime_error("node_process: cannot open the logs " + log_base.string() + ".{out,err}: " +
                             std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(out_fd);
    ::close(err_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    for (const auto& [k, v] : env) {
      if (v.empty()) ::unsetenv(k.c_str());
      else ::setenv(k.c_str(), v.c_str(), 1);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execv(args[0], args.data());
    const std::string msg = std::string("exec ") + args[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(STDERR_FILENO, msg.data(), msg.size());
    _exit(127);
  }
  ::setpgid(pid_, pid_);  // also from here: no race with an early signal()
  ::close(out_fd);
  ::close(err_fd);
}

node_process::~node_process() { kill(); }

std::string node_process::out() const { return slurp(out_path_); }
std::string node_process::err() const { return slurp(err_path_); }

std::string node_process::tail(std::size_t n) const {
  return "--- " + name_ + " stdout (last lines) ---\n" + last_lines(out(), n) + "--- " + name_ +
         " stderr (last lines) ---\n" + last_lines(err(), n);
}

bool node_process::has_line(const std::regex& re) const {
  for (const auto& line : split_lines(text()))
    if (std::regex_search(line, re)) return true;
  return false;
}

std::optional<std::string> node_process::wait_line(const std::regex& re, int timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const bool was_running = running();
    for (const auto& line : split_lines(text()))
      if (std::regex_search(line, re)) return line;
    if (!was_running || clock_type::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

std::optional<std::string> node_process::wait_text(const std::string& needle, int timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const bool was_running = running();
    for (const auto& line : split_lines(text()))
      if (line.find(needle) != std::string::npos) return line;
    if (!was_running || clock_type::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

bool node_process::signal(int sig) {
  if (reaped_ || pid_ <= 0) return false;
  ::kill(-pid_, sig);
  ::kill(pid_, sig);
  return true;
}

void node_process::kill() {
  if (reaped_ || pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  ::kill(-pid_, SIGCONT);
  ::kill(pid_, SIGCONT);
  reap(true);
}

void node_process::reap(bool block) {
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

bool node_process::running() {
  reap(false);
  return !reaped_;
}

std::optional<int> node_process::wait_exit(int timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (running()) {
    if (clock_type::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return term_signal_ != 0 ? -1 : exit_code_;
}

int run_to_end(const std::vector<std::string>& argv, const fs::path& log_base, int timeout_ms,
               std::string* output, const std::map<std::string, std::string>& env) {
  node_process p(argv, log_base, env);
  auto code = p.wait_exit(timeout_ms);
  if (!code) p.kill();
  if (output) *output = p.text();
  return code.value_or(-1);
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
      if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
  return {};
}

int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot pick a free port: " + why);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace codehive::cluster_test
