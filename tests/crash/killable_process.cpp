#include "tests/crash/killable_process.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace codehive::crash_test {

namespace {

using clock_type = std::chrono::steady_clock;

int ms_left(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

killable_process::killable_process(const std::vector<std::string>& argv)
    : child_(argv, {.output = test::child_output::two_pipes}) {
  out_.fd = child_.out_fd();
  err_.fd = child_.err_fd();
}

killable_process::~killable_process() = default;

void killable_process::add_line(stream s, std::string line,
                                std::vector<std::pair<stream, std::string>>& fresh) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  (s == stream::out ? out_lines_ : err_lines_).push_back(line);
  all_lines_.push_back((s == stream::out ? "out| " : "err| ") + line);
  fresh.emplace_back(s, std::move(line));
}

bool killable_process::pump(int wait_ms, std::vector<std::pair<stream, std::string>>& fresh) {
  pollfd fds[2];
  pipe_state* states[2];
  int n = 0;
  for (auto* p : {&out_, &err_}) {
    if (p->fd < 0) continue;
    fds[n] = {p->fd, POLLIN, 0};
    states[n] = p;
    ++n;
  }
  if (n == 0) return false;
  int r = ::poll(fds, n, wait_ms);
  if (r < 0) {
    if (errno == EINTR) return true;
    throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
  }
  for (int i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    auto& p = *states[i];
    const stream s = (&p == &out_) ? stream::out : stream::err;
    char buf[65536];
    ssize_t got = ::read(p.fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {  // EOF (or an error: treat alike)
      if (!p.partial.empty()) add_line(s, std::move(p.partial), fresh);
      p.partial.clear();
      if (s == stream::out)
        child_.close_out();
      else
        child_.close_err();
      p.fd = -1;
      continue;
    }
    p.partial.append(buf, static_cast<std::size_t>(got));
    std::size_t start = 0, nl;
    while ((nl = p.partial.find('\n', start)) != std::string::npos) {
      add_line(s, p.partial.substr(start, nl - start), fresh);
      start = nl + 1;
    }
    p.partial.erase(0, start);
  }
  return out_.fd >= 0 || err_.fd >= 0;
}

std::optional<std::string> killable_process::wait_line(const predicate& pred, int timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    while (!pending_.empty()) {
      auto [s, line] = std::move(pending_.front());
      pending_.erase(pending_.begin());
      if (pred(s, line)) return line;
    }
    if (out_.fd < 0 && err_.fd < 0) {
      child_.wait();
      return std::nullopt;
    }
    const int left = ms_left(deadline);
    if (left == 0) {
      timed_out_ = true;
      return std::nullopt;
    }
    pump(left, pending_);
  }
}

std::optional<std::string> killable_process::kill_when(const predicate& pred, int timeout_ms) {
  auto line = wait_line(pred, timeout_ms);
  if (line || timed_out_) kill();
  return line;
}

void killable_process::kill() {
  child_.kill();
  // Whatever is left in the pipes; the group is dead, so EOF comes at once (bounded
  // anyway, in case something outside the group still holds a pipe).
  const auto deadline = clock_type::now() + std::chrono::seconds(2);
  std::vector<std::pair<stream, std::string>> rest;
  while ((out_.fd >= 0 || err_.fd >= 0) && ms_left(deadline) > 0) pump(ms_left(deadline), rest);
}

int killable_process::wait_exit(int timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<std::pair<stream, std::string>> rest;
  while (out_.fd >= 0 || err_.fd >= 0) {
    const int left = ms_left(deadline);
    if (left == 0) {
      timed_out_ = true;
      kill();
      return -1;
    }
    pump(left, rest);
  }
  pending_.clear();
  // Pipes closed: the child is about to end (or already has). Wait for it, bounded.
  auto code = child_.wait_exit(ms_left(deadline));
  if (!code) {
    timed_out_ = true;
    kill();
    return -1;
  }
  return *code;
}

std::string killable_process::tail(std::size_t n) const {
  std::string out;
  std::size_t from = all_lines_.size() > n ? all_lines_.size() - n : 0;
  for (std::size_t i = from; i < all_lines_.size(); ++i) out += all_lines_[i] + "\n";
  return out;
}

}  // namespace codehive::crash_test
