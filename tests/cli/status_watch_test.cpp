// `codehive status RUN --watch` as a real process beside a real run (its
// output a pipe, not a terminal: one line per change). The run waits for plan
// approval first, so the watch sees it running before it ends, whatever the
// machine's speed; then it is approved and the watch follows it to the end.
// Every wait has a generous deadline and names what it waits for.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "tests/cli/approval_run.hpp"
#include "tests/cli/process.hpp"
#include "tests/cluster/node_process.hpp"
#include "tests/support/approval_scenario.hpp"
#include "tests/support/sim_process.hpp"

using codehive::cluster_test::node_process;
using codehive::test::run_codehive;
using codehive::test::sim_process;
using codehive::test::temp_dir;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string l; std::getline(in, l);)
    if (!l.empty())
      out.push_back(l);
  return out;
}

}  // namespace

using StatusWatch = codehive::test::approval_run_fixture;

TEST_F(StatusWatch, FollowsARunFromItsWaitingPlanToItsEndAndExits0) {
  auto sim = sim_process::start(codehive::test::approval_scenario);
  node_process run(run_args(sim), dir / "logs" / "run", env);
  const auto [id, http] = wait_for_approval(run);
  ASSERT_FALSE(id.empty()) << "the run's plan did not come to wait for approval\n" << run.tail();

  node_process watch({CODEHIVE_BIN, "status", id, "--watch", "--store", store.string()},
                     dir / "logs" / "watch");
  ASSERT_TRUE(watch.wait_text("awaiting approval", 60000))
    << "awaited the watch's line for the waiting plan within 60 s\n" << watch.tail();
  EXPECT_TRUE(watch.running()) << "the run has not ended: the watch goes on\n" << watch.tail();

  auto approved = run_codehive({"approve", id, "--http", http}, 60000);
  ASSERT_EQ(approved.exit_code, 0) << approved.output;

  auto code = watch.wait_exit(150000);
  ASSERT_TRUE(code) << "awaited the watch's end within 150 s of the approval\n" << watch.tail();
  EXPECT_EQ(*code, 0) << watch.tail();
  auto run_code = run.wait_exit(60000);
  ASSERT_TRUE(run_code) << run.tail();
  EXPECT_EQ(*run_code, 0) << run.tail();

  auto lines = lines_of(watch.out());
  ASSERT_GE(lines.size(), 3u) << watch.out();
  EXPECT_GT(std::set<std::string>(lines.begin(), lines.end()).size(), 1u) << watch.out();
  EXPECT_NE(lines.front().find("running"), std::string::npos) << watch.out();
  EXPECT_NE(lines.front().find("awaiting approval"), std::string::npos) << watch.out();
  // The end: the last change line, the run's status, and one line that says so.
  EXPECT_EQ(lines.back(), "run " + id + " ended: done (exit 0)") << watch.out();
  EXPECT_NE(watch.out().find("done (exit 0)  "), std::string::npos)
    << "the last change line names the end\n" << watch.out();
  EXPECT_NE(watch.out().find("tasks 2/2 done"), std::string::npos) << watch.out();
  EXPECT_NE(watch.out().find("usage by role"), std::string::npos)
    << "the final status follows\n" << watch.out();
}

TEST_F(StatusWatch, AnUnknownRunIsTheExitCodeStatusGivesAndWatchWithJsonIsUsage) {
  auto sim = sim_process::start(codehive::test::approval_scenario);
  {
    node_process run(run_args(sim), dir / "logs" / "run", env);
    ASSERT_TRUE(run.wait_text("waits for approval", 120000))
      << "awaited \"waits for approval\" within 120 s\n" << run.tail();
    run.kill();  // a store with a run in it is all this test needs
  }
  auto plain = run_codehive({"status", "no-such-run", "--store", store.string()}, 60000);
  auto watched = run_codehive({"status", "no-such-run", "--watch", "--store", store.string()}, 60000);
  EXPECT_EQ(plain.exit_code, 2) << plain.output;
  EXPECT_EQ(watched.exit_code, plain.exit_code) << watched.output;
  EXPECT_NE(watched.output.find("no run no-such-run"), std::string::npos) << watched.output;

  auto json = run_codehive({"status", "no-such-run", "--watch", "--json", "--store", store.string()}, 60000);
  EXPECT_EQ(json.exit_code, 2) << json.output;
  EXPECT_NE(json.output.find("--watch"), std::string::npos) << json.output;
}
