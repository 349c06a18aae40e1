#include "tests/cluster/node_process.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace codehive::cluster_test {

namespace fs = std::filesystem;

namespace {

using clock_type = std::chrono::steady_clock;
using test::read_whole_file;

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
      err_path_(log_base.string() + ".err"),
      child_(argv, {.output = test::child_output::two_files, .log = log_base, .env = env, .die_with_parent = true}) {}

node_process::~node_process() { kill(); }

std::string node_process::out() const { return read_whole_file(out_path_); }
std::string node_process::err() const { return read_whole_file(err_path_); }

std::string node_process::tail(std::size_t n) const {
  return "--- " + name_ + " stdout (last lines) ---\n" + last_lines(out(), n) + "--- " + name_ +
         " stderr (last lines) ---\n" + last_lines(err(), n);
}

bool node_process::has_line(const std::regex& re) const {
  for (const auto& line : split_lines(text()))
    if (std::regex_search(line, re)) return true;
  return false;
}

template <class Match>
std::optional<std::string> node_process::wait_for(Match match, int timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const bool was_running = running();
    for (const auto& line : split_lines(text()))
      if (match(line)) return line;
    if (!was_running || clock_type::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

std::optional<std::string> node_process::wait_line(const std::regex& re, int timeout_ms) {
  return wait_for([&](const std::string& line) { return std::regex_search(line, re); }, timeout_ms);
}

std::optional<std::string> node_process::wait_text(const std::string& needle, int timeout_ms) {
  return wait_for([&](const std::string& line) { return line.find(needle) != std::string::npos; }, timeout_ms);
}

int run_to_end(const std::vector<std::string>& argv, const fs::path& log_base, int timeout_ms,
               std::string* output, const std::map<std::string, std::string>& env) {
  node_process p(argv, log_base, env);
  auto code = p.wait_exit(timeout_ms);
  if (!code) p.kill();
  if (output) *output = p.text();
  return code.value_or(-1);
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
