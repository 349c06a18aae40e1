#include "tests/demo/run_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace codehive::demo_test {

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string find_in_path(const std::vector<std::string>& names) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  for (const auto& name : names) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) continue;
      fs::path candidate = fs::path(dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate))
        return candidate.string();
    }
  }
  return {};
}

process_result run_process(const std::vector<std::string>& argv, int timeout_ms, const fs::path& cwd) {
  if (argv.empty()) throw std::invalid_argument("run_process: empty argv");
  char log_template[] = "/tmp/codehive-demo-proc-XXXXXX";
  int log_fd = ::mkstemp(log_template);
  if (log_fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
  const fs::path log_path = log_template;

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: own process group (so a timeout kills its children too), default signals.
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
    if (argv[0].find('/') != std::string::npos)
      ::execv(args[0], args.data());
    else
      ::execvp(args[0], args.data());
    _exit(127);
  }
  ::setpgid(pid, pid);
  ::close(log_fd);

  process_result result;
  const auto deadline = start + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) {
      status = -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.timed_out && status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.output = slurp(log_path);
  std::error_code ec;
  fs::remove(log_path, ec);
  return result;
}

}  // namespace codehive::demo_test
