// The test-support helpers themselves.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/sim/sim_test_util.hpp"

using codehive::test::sim_process;
using codehive::test::temp_dir;

TEST(SimSupport, TempDirIsRemovedAtTeardown) {
  std::filesystem::path p;
  {
    temp_dir d("sim-support");
    p = d.path();
    d.write("a/b.txt", "hello");
    EXPECT_EQ(d.read("a/b.txt"), "hello");
    EXPECT_TRUE(std::filesystem::exists(p / "a" / "b.txt"));
    temp_dir moved = std::move(d);
    EXPECT_EQ(moved.path(), p);
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(SimSupport, StartFailureThrowsWithTheReason) {
  try {
    sim_process::start(R"({"rules": 5})");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("rules"), std::string::npos) << e.what();
  }
}

TEST(SimSupport, HttpGetReportsConnectionFailure) {
  int port = 0;
  {
    auto sim = sim_process::start(R"({})");
    port = sim.port();
  }  // stopped
  auto r = codehive::test::http_get("http://127.0.0.1:" + std::to_string(port), "/api/tags", {}, 1000);
  EXPECT_EQ(r.status, -1);
  EXPECT_FALSE(r.error.empty());
}

TEST(SimSupport, MoveKeepsOneOwner) {
  auto a = sim_process::start(R"({})");
  const int port = a.port();
  sim_process b = std::move(a);
  EXPECT_EQ(b.port(), port);
  EXPECT_EQ(codehive::test::http_get(b.base_url(), "/v1/models").status, 200);
}

namespace {

/// An exited process not yet reaped by its new parent (init may be slow to reap).
bool is_zombie(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

}  // namespace

TEST(SimSupport, SimulatorStopsWhenItsParentDies) {
  // A child process starts a simulator and dies without cleaning up (as a
  // crashing test would); the simulator must notice and exit.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    try {
      auto* sim = new sim_process(sim_process::start(R"({})"));  // leaked on purpose
      const pid_t pid = sim->pid();
      if (::write(fds[1], &pid, sizeof pid) != sizeof pid) ::_exit(2);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);  // no destructors
  }
  ::close(fds[1]);
  pid_t sim_pid = -1;
  const auto n = ::read(fds[0], &sim_pid, sizeof sim_pid);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof sim_pid));
  ASSERT_GT(sim_pid, 0);
  // The orphan is no child of ours: poll until the pid is gone.
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = ::kill(sim_pid, 0) != 0 || is_zombie(sim_pid);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string stat;
  if (!gone) {
    std::ifstream in("/proc/" + std::to_string(sim_pid) + "/stat");
    std::getline(in, stat);
    ::kill(sim_pid, SIGKILL);
  }
  EXPECT_TRUE(gone) << "llm-sim " << sim_pid << " outlived its parent: " << stat;
}
