#include "tests/demo/run_process.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "tests/support/child_process.hpp"

namespace codehive::demo_test {

namespace fs = std::filesystem;

std::string find_in_path(const std::vector<std::string>& names) { return test::find_program(names); }

process_result run_process(const std::vector<std::string>& argv, int timeout_ms, const fs::path& cwd) {
  char log_template[] = "/tmp/codehive-demo-proc-XXXXXX";
  int log_fd = ::mkstemp(log_template);
  if (log_fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
  ::close(log_fd);
  const fs::path log_path = log_template;

  process_result result;
  const auto start = std::chrono::steady_clock::now();
  {
    test::child_process child(argv, {.output = test::child_output::one_file, .log = log_path, .cwd = cwd});
    auto code = child.wait_exit(timeout_ms);
    if (!code) {
      result.timed_out = true;
      child.kill();
    } else if (child.term_signal() == 0) {
      result.exit_code = *code;
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.output = test::read_whole_file(log_path);
  std::error_code ec;
  fs::remove(log_path, ec);
  return result;
}

}  // namespace codehive::demo_test
