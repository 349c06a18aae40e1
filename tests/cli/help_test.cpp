// The help tells the truth: the commands that exist, none of the later ones.
#include <cstdlib>
#include <gtest/gtest.h>

#include "tests/cli/process.hpp"

using codehive::test::run_codehive;

TEST(Help, ListsTheCommandsThatExist) {
  auto r = run_codehive({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* cmd : {"ping", "run", "resume", "runs", "status", "export", "fsck",
                          "coordinator", "worker", "Exit codes"})
    EXPECT_NE(r.output.find(cmd), std::string::npos) << cmd << " missing:\n" << r.output;
}

TEST(Help, NodeCommandsListTheirOptions) {
  auto c = run_codehive({"coordinator", "--help"});
  EXPECT_EQ(c.exit_code, 0) << c.output;
  for (const char* opt : {"--listen", "--store", "--planner", "--coder", "--coders", "--fixers",
                          "--token-file", "--tls-cert", "--tls-key", "--tls-ca", "--heartbeat-ms",
                          "--timeout-ms", "--port-file", "--workspaces"})
    EXPECT_NE(c.output.find(opt), std::string::npos) << opt << " missing:\n" << c.output;
  auto w = run_codehive({"worker", "--help"});
  EXPECT_EQ(w.exit_code, 0) << w.output;
  for (const char* opt : {"--join", "--coders", "--coder", "--fixers", "--name", "--token-file",
                          "--heartbeat-ms", "--timeout-ms"})
    EXPECT_NE(w.output.find(opt), std::string::npos) << opt << " missing:\n" << w.output;
  auto r = run_codehive({"run", "--help"});
  for (const char* opt : {"--coordinator", "--token-file", "--tls-ca"})
    EXPECT_NE(r.output.find(opt), std::string::npos) << opt << " missing:\n" << r.output;
  auto e = run_codehive({"export", "--help"});
  for (const char* opt : {"--coordinator", "--token-file", "--tls-ca", "--out"})
    EXPECT_NE(e.output.find(opt), std::string::npos) << opt << " missing:\n" << e.output;
}

TEST(Usage, NodeCommandsNeedAJoinToken) {
  if (std::getenv("CODEHIVE_JOIN_TOKEN") != nullptr)
    GTEST_SKIP() << "CODEHIVE_JOIN_TOKEN is set in this environment";
  auto c = run_codehive({"coordinator", "--listen", ":0", "--store", "/tmp/codehive-no-token"});
  EXPECT_EQ(c.exit_code, 2) << c.output;
  EXPECT_NE(c.output.find("a join token is required"), std::string::npos) << c.output;
  auto w = run_codehive({"worker", "--join", ":7300", "--coders", "1", "--coder",
                         "ollama://127.0.0.1:11434/m"});
  EXPECT_EQ(w.exit_code, 2) << w.output;
  auto r = run_codehive({"run", "--coordinator", ":7300", "x", "--out", "/tmp/codehive-x"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("a join token is required"), std::string::npos) << r.output;
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
