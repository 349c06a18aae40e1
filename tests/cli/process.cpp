#include "tests/cli/process.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "tests/support/child_process.hpp"

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
  child_options opts{.output = child_output::one_pipe};
  if (!store_dir.empty())
    opts.env["CODEHIVE_STORE"] = store_dir + "/store";
  for (const auto& [k, v] : env)
    opts.env[k] = v;
  std::vector<std::string> argv{CODEHIVE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  {
    child_process child(argv, opts);
    // Read until every writer closed the pipe (what the command started too).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
      if (left <= 0) {
        res.timed_out = true;
        child.kill();
        break;
      }
      pollfd p{child.out_fd(), POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(left));
      if (n <= 0)
        continue;
      auto got = read(child.out_fd(), buf, sizeof buf);
      if (got <= 0)
        break;
      res.output.append(buf, static_cast<std::size_t>(got));
    }
    int code = child.wait();
    if (!res.timed_out && child.term_signal() == 0)
      res.exit_code = code;
  }
  if (!store_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(store_dir, ec);
  }
  return res;
}

}  // namespace codehive::test
