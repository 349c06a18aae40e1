// The help tells the truth: the commands that exist, none of the later ones.
#include <gtest/gtest.h>

#include "tests/cli/process.hpp"

using codehive::test::run_codehive;

TEST(Help, ListsTheCommandsThatExist) {
  auto r = run_codehive({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* cmd : {"ping", "run", "resume", "runs", "status", "export", "fsck", "Exit codes"})
    EXPECT_NE(r.output.find(cmd), std::string::npos) << cmd << " missing:\n" << r.output;
  // Not built yet (issue 5): --help must not promise them.
  for (const char* later : {"coordinator", "worker"})
    EXPECT_EQ(r.output.find(later), std::string::npos) << later << " listed:\n" << r.output;
}

TEST(Help, RunHelpListsItsOptions) {
  auto r = run_codehive({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* opt : {"--out", "--config", "--coders", "--fixers", "--planner", "--coder",
                          "--max-rounds", "--demo", "--max-tokens", "--max-cost", "--max-time"})
    EXPECT_NE(r.output.find(opt), std::string::npos) << opt << " missing:\n" << r.output;
}

TEST(Usage, BadUsageIsExit2) {
  EXPECT_EQ(run_codehive({}).exit_code, 2);
  EXPECT_EQ(run_codehive({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_codehive({"run", "x"}).exit_code, 2);  // no --out
  EXPECT_EQ(run_codehive({"run", "x", "--out", "/tmp/codehive-x", "--coders", "0"}).exit_code, 2);
  EXPECT_EQ(run_codehive({"run", "x", "--out", "/tmp/codehive-x", "--planner", "ftp://nope"}).exit_code, 2);
  EXPECT_EQ(run_codehive({"run", "x", "--out", "/tmp/codehive-x", "--config", "/nonexistent.json"}).exit_code, 2);
  EXPECT_EQ(run_codehive({"ping"}).exit_code, 2);
  EXPECT_EQ(run_codehive({"ping", "nonsense"}).exit_code, 2);
}
