// codehive's command line: `ping` and `run` (single node). Options map 1:1
// to run_options/ping_options; the work happens in commands.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "nodes/commands.hpp"

int main(int argc, char** argv) {
  using namespace codehive;
  CLI::App app{"codehive: turns a plain request into a working multi-file project.\n"
               "A large model plans and reviews; small models write and fix files in parallel."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "codehive 0.1.0");

  ping_options ping;
  auto* ping_cmd = app.add_subcommand(
    "ping", "Check a model server: health check plus one chat round trip (exit 3 if it fails)");
  ping_cmd->add_option("SPEC", ping.spec,
                       "model SPEC: ollama://host:port/model or openai://host:port/v1/model")
    ->required();
  ping_cmd->add_option("--prompt", ping.prompt, "text to send")->capture_default_str();
  ping_cmd->add_option("--api-key-env", ping.api_key_env,
                       "environment variable holding the API key (openai; default OPENAI_API_KEY)");
  ping_cmd->add_option("--timeout", ping.timeout_s, "seconds to wait for the answer")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);

  run_options run;
  auto* run_cmd = app.add_subcommand(
    "run", "Build a project from a request, on this machine (all actors in one process)");
  run_cmd->add_option("REQUEST", run.request,
                      "what to build, e.g. \"a kanban board in HTML/CSS/JS\" (optional with --demo)");
  run_cmd->add_option("--out", run.out, "output folder (created if missing; default with --demo: ./demo-out)");
  run_cmd->add_option("--config", run.config,
                      "config file (default: configs/codehive.json of this installation)");
  run_cmd->add_option("--coders", run.coders, "number of coder actors (default: the config's run.coders, shipped as 4)")
    ->check(CLI::Range(1, 256));
  run_cmd->add_option("--fixers", run.fixers, "number of fixer actors (default: the config's run.fixers, shipped as 2)")
    ->check(CLI::Range(1, 256));
  run_cmd->add_option("--planner", run.planner,
                      "large model SPEC for planner, reviewer and escalations");
  run_cmd->add_option("--coder", run.coder, "small model SPEC for coders, fixers and summaries");
  run_cmd->add_option("--max-rounds", run.max_rounds,
                      "fix rounds after the first review (default: the config's run.max_rounds, shipped as 3; 0: review only)")
    ->check(CLI::Range(0, 100));
  run_cmd->add_flag("--demo", run.demo,
                    "offline demo: start the simulator llm-sim with the scripted scenario "
                    "configs/demo/scenario.json and point every model at it");
  run_cmd->add_option("--max-tokens", run.max_tokens, "token budget of the run (exit 4 when hit)")
    ->check(CLI::PositiveNumber);
  run_cmd->add_option("--max-cost", run.max_cost, "cost budget in USD (exit 4 when hit)")
    ->check(CLI::PositiveNumber);
  run_cmd->add_option("--max-time", run.max_time, "time budget in seconds (exit 4 when hit)")
    ->check(CLI::PositiveNumber);
  run_cmd->add_flag("-v,--verbose", run.verbose, "log every event, also on a terminal");
  app.footer(
    "Exit codes: 0 done and validators clean; 1 done with unresolved findings; 2 bad usage or\n"
    "config; 3 model server unreachable or failing; 4 budget or deadline hit; 5 internal error.\n"
    "Outputs: the project in --out, plus --out/generated_files/{tasks,code_review,\n"
    "file_tracker,status}.json.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_code::usage;
  }
  try {
    if (*ping_cmd)
      return ping_command(ping);
    if (*run_cmd)
      return run_command(std::move(run));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "codehive: internal error: %s\n", e.what());
    return exit_code::internal;
  }
  return exit_code::usage;
}
