#include "tests/cli/process.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace codehive::test {

process_result run_codehive(const std::vector<std::string>& args, int timeout_ms,
                            const std::vector<std::pair<std::string, std::string>>& env) {
  process_result res;
  // Each call gets its own run store unless the test names one (--store wins
  // over CODEHIVE_STORE): tests run in parallel and never touch ~/.local.
  bool own_store = std::none_of(env.begin(), env.end(),
                                [](const auto& kv) { return kv.first == "CODEHIVE_STORE"; });
  std::string store_dir;
  if (own_store) {
    char tmpl[] = "/tmp/codehive-cli-store-XXXXXX";
    if (mkdtemp(tmpl) != nullptr)
      store_dir = tmpl;
  }
  int fds[2];
  if (pipe(fds) != 0)
    return res;
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (!store_dir.empty())
      setenv("CODEHIVE_STORE", (store_dir + "/store").c_str(), 1);
    for (const auto& [k, v] : env)
      setenv(k.c_str(), v.c_str(), 1);
    std::vector<std::string> all{CODEHIVE_BIN};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0) {
      res.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left));
    if (n <= 0)
      continue;
    auto got = read(fds[0], buf, sizeof buf);
    if (got <= 0)
      break;
    res.output.append(buf, static_cast<std::size_t>(got));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!store_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(store_dir, ec);
  }
  if (!res.timed_out && WIFEXITED(status))
    res.exit_code = WEXITSTATUS(status);
  return res;
}

}  // namespace codehive::test
