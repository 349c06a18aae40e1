// codehive's command line: `ping`, `run` and `resume` (single node), and the
// store's `runs`, `status`, `export`, `fsck`. Options map 1:1 to the option
// structs of nodes/commands.hpp; the work happens in the command functions.
#include <cstdio>

#include <CLI/CLI.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include "nodes/cluster.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/usage.hpp"

int main(int argc, char** argv) {
  using namespace codehive;
  // Every logger, the default one included: messages carry text from models
  // and servers, whose escape sequences must not reach the terminal.
  spdlog::set_formatter(make_log_formatter());
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
  ping_cmd->add_option("--config", ping.config,
                       "config file whose request shape (context size, structured output, "
                       "thinking) the ping uses (default: $CODEHIVE_CONFIG, else configs/codehive.json)");
  ping_cmd->add_option("--timeout", ping.timeout_s, "seconds to wait for the answer")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);

  // Flags shared by the node commands (coordinator, worker, run --coordinator).
  auto add_cluster_opts = [](CLI::App* cmd, cluster_flags& f, bool heartbeats) {
    cmd->add_option("--token-file", f.token_file,
                    "file holding the join token (shared secret; default: $CODEHIVE_JOIN_TOKEN, "
                    "else the config's cluster.token_file)");
    cmd->add_option("--tls-cert", f.tls_cert, "PEM certificate of this node (TLS between nodes)");
    cmd->add_option("--tls-key", f.tls_key, "PEM private key of this node");
    cmd->add_option("--tls-ca", f.tls_ca, "PEM file of the CA certificates to trust");
    if (heartbeats) {
      cmd->add_option("--heartbeat-ms", f.heartbeat_ms,
                      "heartbeat interval in ms (default: the config's "
                      "cluster.heartbeat_interval_ms, shipped as 1000; 0: off)")
        ->check(CLI::Range(0, 3600000));
      cmd->add_option("--timeout-ms", f.timeout_ms,
                      "drop a node silent this long, in ms (default: the config's "
                      "cluster.connection_timeout_ms, shipped as 5000); a coordinator "
                      "allows a node that has shown long gaps up to 3x its longest, at "
                      "most 10x this")
        ->check(CLI::Range(0, 3600000));
    }
  };

  // --http and friends (nodes/http/api_server.hpp).
  auto add_http_opts = [](CLI::App* cmd, http_flags& f, bool linger) {
    cmd->add_option("--http", f.listen,
                    "serve the HTTP API, /metrics and the dashboard on HOST:PORT (HOST defaults to "
                    "127.0.0.1; PORT 0: the OS picks; the URL is printed as `http: URL`)");
    cmd->add_option("--http-token-file", f.token_file,
                    "file holding the bearer token HTTP clients must send (else $CODEHIVE_HTTP_TOKEN); "
                    "required when --http listens beyond loopback");
    if (linger)
      cmd->add_option("--http-linger", f.linger_s,
                      "keep serving HTTP this many seconds after the run ended (Ctrl-C ends it sooner)")
        ->check(CLI::Range(0.0, 86400.0));
  };

  run_options run;
  auto* run_cmd = app.add_subcommand(
    "run", "Build a project from a request: on this machine (all actors in one process), or on a coordinator (--coordinator H:P)");
  run_cmd->add_option("REQUEST", run.request,
                      "what to build, e.g. \"a kanban board in HTML/CSS/JS\" (optional with --demo)");
  run_cmd->add_option("--out", run.out,
                      "output folder (created if missing; default with --demo: ./demo-out); one "
                      "that holds a project is changed in place: .gitignore is respected, files "
                      "the plan does not touch stay as they are");
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
  run_cmd->add_option("--store", run.store,
                      "run store folder (default: $CODEHIVE_STORE, the config's store.path, "
                      "else ~/.local/share/codehive/store)");
  run_cmd->add_option("--coordinator", run.coordinator,
                      "HOST:PORT of a `codehive coordinator`: submit the run there and follow its "
                      "progress; the coordinator's models, coders and store are used. The results "
                      "come to --out on this machine: each file version as it lands, checked "
                      "against its hash, deletions too, and at the end whatever was missed (run "
                      "the same command again after a lost connection to follow the run); where "
                      "--out is a git repository (or with --git) each version is committed there. "
                      "The coordinator works in a folder of its own (its --workspaces)");
  add_cluster_opts(run_cmd, run.cluster, false);
  add_http_opts(run_cmd, run.http, true);
  run_cmd->add_flag("--git", run.git,
                    "make --out a git repository if it is none (its files so far become one "
                    "commit); where --out is one, every accepted edit is committed anyway "
                    "(config git.commit, git.branch: \"current\" or \"run\" = codehive/RUN)");
  run_cmd->add_flag("--allow-dirty", run.allow_dirty,
                    "start even though the --out repository has uncommitted changes (default: "
                    "refuse, exit 2); they stay uncommitted, except in a file the run edits: "
                    "that file as you left it is committed first, in a commit of its own "
                    "(\"codehive: your uncommitted changes to PATH\"), which undo keeps");
  run_cmd->add_flag("--approve-plan", run.approve_plan,
                    "stop after planning until the plan is approved: on a terminal it is shown, "
                    "$EDITOR can edit generated_files/tasks.json, and y/n decides; otherwise "
                    "`codehive approve RUN`, the HTTP API or the dashboard's button does (an "
                    "HTTP server on 127.0.0.1 starts if --http is not given; with --coordinator, "
                    "the coordinator's --http). A rejected plan ends the run with exit 7");
  run_cmd->add_flag("--new", run.fresh,
                    "start a new run even if an unfinished run of the same request and --out "
                    "folder is in the store (default: continue that run)");

  run_options resume;
  auto* resume_cmd = app.add_subcommand(
    "resume", "Continue a run that was stopped (crash, kill, budget, model failure) where it "
              "stopped; done work is not asked for again");
  resume_cmd->add_option("RUN", resume.resume_id, "run id (see `codehive runs`)")->required();
  resume_cmd->add_option("--store", resume.store, "run store folder (as for run)");
  resume_cmd->add_option("--config", resume.config, "config file (as for run)");
  resume_cmd->add_option("--coders", resume.coders, "number of coder actors (default: as the run had)")
    ->check(CLI::Range(1, 256));
  resume_cmd->add_option("--fixers", resume.fixers, "number of fixer actors (default: as the run had)")
    ->check(CLI::Range(1, 256));
  resume_cmd->add_option("--planner", resume.planner, "large model SPEC (default: as the run had)");
  resume_cmd->add_option("--coder", resume.coder, "small model SPEC (default: as the run had)");
  resume_cmd->add_option("--max-tokens", resume.max_tokens,
                         "new token budget of the whole run, tokens already used included")
    ->check(CLI::PositiveNumber);
  resume_cmd->add_option("--max-cost", resume.max_cost,
                         "new cost budget in USD of the whole run, cost so far included")
    ->check(CLI::PositiveNumber);
  resume_cmd->add_option("--max-time", resume.max_time,
                         "time budget in seconds for this continuation")
    ->check(CLI::PositiveNumber);
  resume_cmd->add_flag("--demo", resume.demo,
                       "the run was a demo: start the simulator again and point every model at it");
  resume_cmd->add_flag("-v,--verbose", resume.verbose, "log every event, also on a terminal");
  add_http_opts(resume_cmd, resume.http, true);
  resume_cmd->add_flag("--allow-dirty", resume.allow_dirty,
                       "continue even though the --out repository has uncommitted changes that are "
                       "not the run's own");

  approve_options approve;
  auto* approve_cmd = app.add_subcommand(
    "approve", "Approve (or --reject) the plan a `run --approve-plan` waits on, through that "
               "process's HTTP API (the run store admits one process); the run checks an edited "
               "plan as a model's plan: exit 0 taken, 2 refused (with the reason) or unreachable");
  approve_cmd->add_option("RUN", approve.run_id, "run id (printed by `run`)")->required();
  approve_cmd->add_option("--http", approve.http,
                          "HOST:PORT of the run's HTTP API (its `http: URL` line)")
    ->required();
  approve_cmd->add_option("--http-token-file", approve.token_file,
                          "file holding the bearer token (else $CODEHIVE_HTTP_TOKEN)");
  approve_cmd->add_option("--plan", approve.plan_file,
                          "send this plan (tasks.json form) instead of the run's own "
                          "generated_files/tasks.json as it is now");
  approve_cmd->add_flag("--reject", approve.reject, "reject the plan: the run ends (exit 7)");
  approve_cmd->add_option("--reason", approve.reason, "why (with --reject; stored with the run)");

  coordinator_options coord;
  auto* coord_cmd = app.add_subcommand(
    "coordinator",
    "Run a coordinator node: the run store, planners, reviewer, file tracker and validator of "
    "every run; workers join it with their coders and fixers, `codehive run --coordinator` "
    "submits runs. Continues the store's running runs at start. SIGTERM/SIGINT stop it");
  coord_cmd->add_option("--listen", coord.listen,
                        "HOST:PORT to listen on (HOST defaults to 127.0.0.1, e.g. --listen :7300; "
                        "PORT 0: the OS picks)")
    ->required();
  coord_cmd->add_option("--config", coord.config, "config file (as for run)");
  coord_cmd->add_option("--store", coord.store, "run store folder (as for run)");
  coord_cmd->add_option("--planner", coord.planner,
                        "large model SPEC for planner, reviewer and escalations");
  coord_cmd->add_option("--coder", coord.coder,
                        "small model SPEC for the summarizer and local coders/fixers");
  coord_cmd->add_option("--coders", coord.coders,
                        "local coder actors per run (default 0: workers do the coding)")
    ->check(CLI::Range(0, 256));
  coord_cmd->add_option("--fixers", coord.fixers, "local fixer actors per run (default 0)")
    ->check(CLI::Range(0, 256));
  add_cluster_opts(coord_cmd, coord.cluster, true);
  add_http_opts(coord_cmd, coord.http, false);
  coord_cmd->add_option("--workspaces", coord.workspaces,
                        "folder under which runs submitted with `run --coordinator` work, one "
                        "folder per client folder (validators and commands run there; the "
                        "results are copied to the client); default: \"workspaces\" beside the "
                        "store");
  coord_cmd->add_option("--port-file", coord.port_file,
                        "write the bound port to this file (\"PORT\\n\", atomically)");
  coord_cmd->add_flag("-v,--verbose", coord.verbose, "debug logging");

  worker_options worker;
  auto* worker_cmd = app.add_subcommand(
    "worker",
    "Run a worker node: coder and fixer actors bound to this machine's model server, offered "
    "to a coordinator (joins with the token; reconnects and rejoins when the coordinator is "
    "lost). SIGTERM/SIGINT stop it");
  worker_cmd->add_option("--join", worker.join, "HOST:PORT of the coordinator")->required();
  worker_cmd->add_option("--coders", worker.coders, "coder actors on this node")
    ->required()
    ->check(CLI::Range(0, 256));
  worker_cmd->add_option("--coder", worker.coder,
                         "model SPEC of this node's model server, e.g. "
                         "ollama://127.0.0.1:11434/qwen2.5-coder:7b")
    ->required();
  worker_cmd->add_option("--fixers", worker.fixers, "fixer actors on this node (default 1)")
    ->check(CLI::Range(0, 256));
  worker_cmd->add_option("--name", worker.name, "node name in logs (default: hostname-pid)");
  worker_cmd->add_option("--config", worker.config, "config file (as for run)");
  add_cluster_opts(worker_cmd, worker.cluster, true);
  worker_cmd->add_flag("-v,--verbose", worker.verbose, "debug logging");

  store_query_options query;
  auto add_store_opts = [&query](CLI::App* cmd) {
    cmd->add_option("--store", query.store, "run store folder (as for run)");
    cmd->add_option("--config", query.config, "config file (for its store.path)");
  };
  auto* runs_cmd = app.add_subcommand(
    "runs", "List the runs in the store: id, request, state, files, tokens, cost, age");
  add_store_opts(runs_cmd);
  runs_cmd->add_flag("--json", query.json, "print JSON instead of a table");
  auto* status_cmd = app.add_subcommand(
    "status", "Show one run: its tasks, review rounds, and usage per role and per model");
  status_cmd->add_option("RUN", query.run_id, "run id (see `codehive runs`)")->required();
  add_store_opts(status_cmd);
  status_cmd->add_flag("--json", query.json, "print JSON instead of tables");
  status_cmd->add_flag("--watch", query.watch,
                       "follow the run live (tasks by state, workers, tokens/s, cost, phase), "
                       "read from the store every second: redrawn in place on a terminal, one "
                       "line per change otherwise; ends when the run does (its status, exit 0) "
                       "or on Ctrl-C (exit 130)");
  auto* export_cmd = app.add_subcommand(
    "export", "Write a run's project and its four generated_files exports, from the store alone "
              "(or, with --coordinator H:P, fetched from that coordinator's store)");
  export_cmd->add_option("RUN", query.run_id, "run id (see `codehive runs`)")->required();
  export_cmd->add_option("--out", query.out, "folder to write (created; must be empty)")->required();
  add_store_opts(export_cmd);
  export_cmd->add_option("--coordinator", query.coordinator,
                         "HOST:PORT of a `codehive coordinator`: fetch the run from its store "
                         "(running or ended), each file checked against its hash");
  add_cluster_opts(export_cmd, query.cluster, false);
  auto* fsck_cmd = app.add_subcommand(
    "fsck", "Check the store's consistency (every done task has its file version, no dangling "
            "references, checksums); exit 0 clean, 1 problems found");
  fsck_cmd->add_option("RUN", query.run_id, "run id (default: every run)");
  add_store_opts(fsck_cmd);
  auto* undo_cmd = app.add_subcommand(
    "undo",
    "Take a run's git commits back out of its output folder: one new revert commit, the "
    "files as they were before the run (refused when later commits or uncommitted changes "
    "touch the same lines)");
  undo_cmd->add_option("RUN", query.run_id, "run id (see `codehive runs`)")->required();
  undo_cmd->add_option("--out", query.out,
                       "the run's output folder (default: the one the store recorded)");
  add_store_opts(undo_cmd);
  auto* diff_cmd = app.add_subcommand(
    "diff",
    "Show a run's git commits in its output folder, oldest first, each with its unified diff");
  diff_cmd->add_option("RUN", query.run_id, "run id (see `codehive runs`)")->required();
  diff_cmd->add_option("--out", query.out,
                       "the run's output folder (default: the one the store recorded)");
  add_store_opts(diff_cmd);
  app.footer(
    "Exit codes: 0 done and validators clean; 1 done with unresolved findings; 2 bad usage or\n"
    "config; 3 model server unreachable or failing; 4 budget or deadline hit; 5 internal error;\n"
    "6 the output folder or the run store refused a write (disk full, read-only; resumable);\n"
    "7 the plan was rejected (run --approve-plan); 130 stopped by Ctrl-C or SIGTERM\n"
    "(`codehive resume RUN` continues it).\n"
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
    if (*run_cmd && !run.coordinator.empty() && !run.http.listen.empty())
      return usage_error("run", "--http serves a run of this process; with --coordinator give "
                                "--http to the coordinator instead");
    if (*approve_cmd)
      return approve_command(approve);
    if (*run_cmd)
      return run.coordinator.empty() ? run_command(std::move(run))
                                     : remote_run_command(std::move(run));
    if (*coord_cmd)
      return coordinator_command(coord);
    if (*worker_cmd)
      return worker_command(worker);
    if (*resume_cmd)
      return resume_command(std::move(resume));
    if (*runs_cmd)
      return runs_command(query);
    if (*status_cmd)
      return status_command(query);
    if (*export_cmd)
      return query.coordinator.empty() ? export_command(query) : remote_export_command(query);
    if (*fsck_cmd)
      return fsck_command(query);
    if (*undo_cmd)
      return undo_command(query);
    if (*diff_cmd)
      return diff_command(query);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "codehive: internal error: %s\n", e.what());
    return exit_code::internal;
  }
  return exit_code::usage;
}
