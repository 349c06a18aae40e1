// A real `codehive run --approve-plan` against llm-sim's approval scenario
// (tests/support/approval_scenario.hpp), shared by the approve command's tests
// and `status --watch`'s: its folders, its config (browser check off, the
// source tree's prompts and schemas) and its command line, and the wait for
// the plan to wait.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "tests/cluster/node_process.hpp"
#include "tests/support/configs.hpp"
#include "tests/support/sim_process.hpp"

namespace codehive::test {

struct approval_run_fixture : ::testing::Test {
  temp_dir dir{"codehive-approval-run"};
  std::filesystem::path out = dir / "out";
  std::filesystem::path store = dir / "store";
  std::map<std::string, std::string> env{{"CODEHIVE_HTTP_TOKEN", ""}};

  std::string config() const { return write_plain_config(dir.path()); }

  std::vector<std::string> run_args(const sim_process& sim) const {
    auto port = std::to_string(sim.port());
    return {CODEHIVE_BIN, "run", "two notes", "--approve-plan", "--out", out.string(),
            "--store", store.string(), "--config", config(), "--planner",
            "openai://127.0.0.1:" + port + "/v1/big", "--coder",
            "ollama://127.0.0.1:" + port + "/small", "--coders", "2"};
  }

  /// The run id and "127.0.0.1:PORT" of its HTTP API, once its plan waits
  /// ({} after a failed expectation).
  std::pair<std::string, std::string> wait_for_approval(cluster_test::node_process& run) {
    static const std::regex id_re{R"(^codehive (\S+): )"};
    static const std::regex http_re{R"(^http: http://127\.0\.0\.1:(\d+)/$)"};
    auto http = run.wait_line(http_re, 60000);
    EXPECT_TRUE(http) << "awaited the line \"http: URL\" within 60 s\n" << run.tail();
    // The prompt's line on stdout (the log's "plan ... waits for approval" on
    // stderr comes first, before the hint is printed).
    EXPECT_TRUE(run.wait_text("waits for approval; edit", 120000))
      << "awaited \"waits for approval; edit\" within 120 s\n" << run.tail();
    auto id = run.wait_line(id_re, 1000);
    EXPECT_TRUE(id) << run.tail();
    if (!http || !id)
      return {};
    std::smatch m;
    std::regex_search(*id, m, id_re);
    std::string run_id = m[1];
    std::regex_search(*http, m, http_re);
    return {run_id, "127.0.0.1:" + m[1].str()};
  }
};

}  // namespace codehive::test
