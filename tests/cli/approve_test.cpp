// `codehive run --approve-plan` and `codehive approve RUN` as real processes
// against llm-sim: the run stops after planning (nothing coded), an edited
// plan the run refuses is reported with the reason, an edited valid plan
// approved with `codehive approve` is what gets built; a run killed while
// its plan waits waits again when resumed (no new plan asked), and a
// rejected plan ends it with exit 7. Without a terminal the run prints how to
// approve; on a pseudo-terminal (pty_process) it asks, runs $EDITOR on the
// plan and takes y or n typed there. Every wait has a generous deadline and
// names what it waits for.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/cli/approval_run.hpp"
#include "tests/cli/process.hpp"
#include "tests/cluster/node_process.hpp"
#include "tests/support/approval_scenario.hpp"
#include "tests/support/pty_process.hpp"
#include "tests/support/sim_process.hpp"

using codehive::cluster_test::node_process;
using namespace codehive::test;

namespace {

/// The user's edit: bye.txt dropped, thanks.txt added after hello.
const std::string edited_plan = R"json([
  {"id":"hello","action":"create","type":"file","path":"hello.txt","description":"a greeting",
   "instructions":"Say hello.","depends_on":[]},
  {"id":"thanks","path":"thanks.txt","description":"thanks","instructions":"Say thanks.",
   "depends_on":["hello"]}])json";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p};
  return {std::istreambuf_iterator<char>{in}, {}};
}

/// Polls `p` until it holds `text` (the tracker writes the exports on its
/// own thread, after the run says the plan waits); false after `timeout_ms`.
bool wait_for_text(const std::filesystem::path& p, const std::string& text, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (slurp(p).find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

std::string output_of(node_process& run) {
  return run.text();
}
std::string output_of(pty_process& run) {
  return run.output();
}

/// The run ends within 120 s of the rejection with exit 7, its output naming the
/// rejection and `reason`; nothing was coded into `out`.
template <class Run>
void expect_rejected(Run& run, const std::string& reason, sim_process& sim,
                     const std::filesystem::path& out) {
  auto code = run.wait_exit(120000);
  ASSERT_TRUE(code) << "awaited the run's end within 120 s of the rejection\n" << run.tail();
  EXPECT_EQ(*code, 7) << run.tail();
  EXPECT_NE(output_of(run).find("plan_rejected"), std::string::npos) << run.tail();
  EXPECT_NE(output_of(run).find(reason), std::string::npos) << run.tail();
  EXPECT_EQ(sim.count_role("coder"), 0);
  EXPECT_FALSE(std::filesystem::exists(out / "hello.txt"));
}

using approve_fixture = codehive::test::approval_run_fixture;

}  // namespace

using ApproveCommand = approve_fixture;

TEST_F(ApproveCommand, AnEditedPlanApprovedWithTheApproveCommandIsWhatGetsBuilt) {
  auto sim = sim_process::start(codehive::test::approval_scenario);
  node_process run(run_args(sim), dir / "logs" / "run", env);
  auto [id, http] = wait_for_approval(run);
  ASSERT_FALSE(id.empty()) << run.tail();

  // Nothing coded; the proposal is exported for the user.
  EXPECT_EQ(sim.count_role("coder"), 0);
  EXPECT_FALSE(std::filesystem::exists(out / "hello.txt"));
  auto plan_file = out / "generated_files" / "tasks.json";
  ASSERT_TRUE(wait_for_text(plan_file, "bye.txt", 60000))
    << "awaited the exported plan within 60 s: " << slurp(plan_file);
  EXPECT_NE(run.text().find("codehive approve " + id + " --http " + http), std::string::npos)
    << "the run says how to approve\n" << run.tail();

  // An edit the run refuses: the reason, and the plan still waits.
  dir.write("cycle.json", R"([{"id":"a","path":"a.txt","depends_on":["b"]},)"
                          R"({"id":"b","path":"b.txt","depends_on":["a"]}])");
  auto refused = run_codehive({"approve", id, "--http", http, "--plan",
                               (dir / "cycle.json").string()}, 60000);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("refused"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("cycle"), std::string::npos) << refused.output;
  EXPECT_TRUE(run.running());

  // The user edits the exported file; `approve` sends nothing: the run reads it.
  { std::ofstream{plan_file} << edited_plan; }
  auto approved = run_codehive({"approve", id, "--http", http}, 60000);
  EXPECT_EQ(approved.exit_code, 0) << approved.output;
  EXPECT_NE(approved.output.find("approved as edited: 2 tasks"), std::string::npos)
    << approved.output;

  auto code = run.wait_exit(180000);
  ASSERT_TRUE(code) << "awaited the run's end within 180 s of the approval\n" << run.tail();
  EXPECT_EQ(*code, 0) << run.tail();
  EXPECT_EQ(slurp(out / "hello.txt"), "hello\n");
  EXPECT_EQ(slurp(out / "thanks.txt"), "thanks\n");
  EXPECT_FALSE(std::filesystem::exists(out / "bye.txt")) << "dropped from the plan";
  EXPECT_EQ(sim.count_role_path("coder", "bye.txt"), 0);
  EXPECT_EQ(sim.count_role("planner"), 1);
  EXPECT_NE(slurp(plan_file).find("thanks.txt"), std::string::npos);

  // The run is over: nobody answers for it any more.
  auto late = run_codehive({"approve", id, "--http", http}, 60000);
  EXPECT_EQ(late.exit_code, 2) << late.output;
}

TEST_F(ApproveCommand, AResumedRunWaitsAgainAndARejectedPlanEndsWithExit7) {
  auto sim = sim_process::start(codehive::test::approval_scenario);
  std::string id;
  {
    node_process run(run_args(sim), dir / "logs" / "run", env);
    auto waiting = wait_for_approval(run);
    id = waiting.first;
    ASSERT_FALSE(id.empty()) << run.tail();
    run.kill();  // the terminal closed, the machine rebooted, ...
  }
  ASSERT_EQ(sim.count_role("planner"), 1);
  // Meanwhile `codehive status` says what the run waits for (issue 13).
  auto status = run_codehive({"status", id, "--store", store.string()}, 60000);
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("plan     waits for approval"), std::string::npos) << status.output;

  // `resume` keeps --approve-plan from the store and waits on the stored plan.
  node_process resumed({CODEHIVE_BIN, "resume", id, "--store", store.string(), "--config",
                        config()},
                       dir / "logs" / "resume", env);
  auto [again, http] = wait_for_approval(resumed);
  ASSERT_EQ(again, id) << resumed.tail();
  EXPECT_EQ(sim.count_role("planner"), 1) << "the stored plan is offered, not a new one";
  EXPECT_EQ(sim.count_role("coder"), 0);

  auto rejected = run_codehive({"approve", id, "--http", http, "--reject", "--reason",
                                "wrong notes"}, 60000);
  EXPECT_EQ(rejected.exit_code, 0) << rejected.output;
  expect_rejected(resumed, "wrong notes", sim, out);
}

TEST_F(ApproveCommand, UsageErrorsAreExit2) {
  auto r = run_codehive({"approve", "some-run", "--http", "127.0.0.1:1", "--reason", "x"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--reason goes with --reject"), std::string::npos) << r.output;
  r = run_codehive({"approve", "some-run", "--http", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cannot reach"), std::string::npos) << r.output;
  r = run_codehive({"approve", "some-run", "--http", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run_codehive({"approve", "some-run", "--http", "127.0.0.1:1", "--reject", "--plan",
                    (dir / "none.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(ApproveHelp, TheHelpNamesTheCommandAndTheFlags) {
  auto top = run_codehive({"--help"});
  EXPECT_NE(top.output.find("approve"), std::string::npos) << top.output;
  EXPECT_NE(top.output.find("7 the plan was rejected"), std::string::npos) << top.output;
  auto run = run_codehive({"run", "--help"});
  EXPECT_NE(run.output.find("--approve-plan"), std::string::npos) << run.output;
  auto a = run_codehive({"approve", "--help"});
  EXPECT_EQ(a.exit_code, 0) << a.output;
  for (const char* opt : {"--http", "--http-token-file", "--plan", "--reject", "--reason"})
    EXPECT_NE(a.output.find(opt), std::string::npos) << opt << " missing:\n" << a.output;
}

// -- on a terminal -------------------------------------------------------------------------

namespace {

const std::string prompt = "Approve this plan? [y]es, [e]dit it in $EDITOR, [n]o (reject): ";

struct approve_on_terminal : approve_fixture {
  /// The environment of a person at a terminal whose $EDITOR is `editor`.
  std::map<std::string, std::string> terminal_env(const std::string& editor) const {
    auto e = env;
    e["TERM"] = "xterm";
    e["EDITOR"] = editor;
    e["VISUAL"] = "";  // it would win over EDITOR
    return e;
  }

  /// An "editor" that writes cycle.json over the file it is given on its
  /// first call and the user's edit on every later one, and counts its calls.
  std::string scripted_editor() const {
    dir.write("cycle.json", R"([{"id":"a","path":"a.txt","depends_on":["b"]},)"
                            R"({"id":"b","path":"b.txt","depends_on":["a"]}])");
    dir.write("edited.json", edited_plan);
    auto d = dir.path().string();
    auto script = dir.write("editor.sh", "#!/bin/sh\n"
                                         "n=$(cat '" + d + "/editor.calls' 2>/dev/null || echo 0)\n"
                                         "n=$((n + 1)); echo $n > '" + d + "/editor.calls'\n"
                                         "if [ $n -eq 1 ]; then cp '" + d + "/cycle.json' \"$1\"; "
                                         "else cp '" + d + "/edited.json' \"$1\"; fi\n");
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    return script.string();
  }

  /// Waits for the prompt after offset `from`; the offset past it.
  std::size_t wait_prompt(pty_process& run, std::size_t from, const char* when) {
    auto at = run.wait_text(prompt, 120000, from);
    EXPECT_TRUE(at) << "awaited the approval prompt " << when << " within 120 s\n" << run.tail();
    return at.value_or(std::string::npos);
  }
};

}  // namespace

using ApproveOnTheTerminal = approve_on_terminal;

// The user edits the plan in $EDITOR twice: the first edit (a cycle) is
// refused on approval with the reason and asked about again; the second is
// approved with y and is what gets built.
TEST_F(ApproveOnTheTerminal, AnEditInTheEditorIsCheckedAndTheApprovedEditIsBuilt) {
  auto sim = sim_process::start(codehive::test::approval_scenario);
  pty_process run(run_args(sim), terminal_env(scripted_editor()));
  auto plan_file = out / "generated_files" / "tasks.json";

  auto at = wait_prompt(run, 0, "after planning");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(run.output().find("plan file: " + plan_file.string()), std::string::npos) << run.tail();
  EXPECT_EQ(sim.count_role("coder"), 0) << "nothing is coded while the plan waits";

  run.type("e\n");  // the first edit: a cycle
  at = wait_prompt(run, at, "after the first edit");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(slurp(plan_file).find("\"a.txt\""), std::string::npos) << "the editor wrote the plan file";
  run.type("y\n");
  at = wait_prompt(run, at, "after the refused approval");
  ASSERT_NE(at, std::string::npos);
  auto refusal = run.output();
  EXPECT_NE(refusal.find("the edited plan was refused"), std::string::npos) << run.tail();
  EXPECT_NE(refusal.find("cycle"), std::string::npos) << run.tail();
  EXPECT_NE(refusal.find("the plan still waits"), std::string::npos) << run.tail();
  EXPECT_EQ(sim.count_role("coder"), 0) << "a refused edit starts nothing";

  run.type("e\n");  // the second edit: bye.txt dropped, thanks.txt added
  at = wait_prompt(run, at, "after the second edit");
  ASSERT_NE(at, std::string::npos);
  run.type("y\n");
  EXPECT_TRUE(run.wait_text("approved as edited: 2 tasks", 60000, at))
      << "awaited the approval of the edited plan within 60 s\n" << run.tail();

  auto code = run.wait_exit(180000);
  ASSERT_TRUE(code) << "awaited the run's end within 180 s of the approval\n" << run.tail();
  EXPECT_EQ(*code, 0) << run.tail();
  EXPECT_EQ(slurp(dir / "editor.calls"), "2\n");
  EXPECT_EQ(slurp(out / "hello.txt"), "hello\n");
  EXPECT_EQ(slurp(out / "thanks.txt"), "thanks\n");
  EXPECT_FALSE(std::filesystem::exists(out / "bye.txt")) << "dropped from the plan";
  EXPECT_EQ(sim.count_role_path("coder", "bye.txt"), 0);
  EXPECT_EQ(sim.count_role_path("coder", "thanks.txt"), 1);
  EXPECT_EQ(sim.count_role("planner"), 1) << "the edit is used, not a new plan";
  EXPECT_NE(slurp(plan_file).find("thanks.txt"), std::string::npos);
}

// n at the prompt rejects the plan: nothing is coded and the run ends with 7.
TEST_F(ApproveOnTheTerminal, NoAtThePromptRejectsThePlanWithExit7) {
  auto sim = sim_process::start(codehive::test::approval_scenario);
  pty_process run(run_args(sim), terminal_env("/bin/false"));
  ASSERT_NE(wait_prompt(run, 0, "after planning"), std::string::npos);
  run.type("n\n");
  expect_rejected(run, "rejected on the terminal", sim, out);
}
