// The CLI's subcommands, as functions returning the process exit code
// (0 ok, 1 unresolved findings, 2 bad usage/config, 3 model server
// unreachable or failing, 4 budget or deadline, 5 internal error; 130
// stopped by Ctrl-C or SIGTERM). Each is defined in nodes/commands/ (the
// store's runs, status, export and fsck in nodes/commands/inspect.cpp).
#pragma once

#include <optional>
#include <string>

#include "nodes/cluster.hpp"
#include "nodes/http/api_server.hpp"

namespace codehive {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int unresolved = 1;
inline constexpr int usage = 2;
inline constexpr int model = 3;
inline constexpr int budget = 4;
inline constexpr int internal = 5;
inline constexpr int local_io = 6;  ///< output folder or run store refused a write; resumable
inline constexpr int plan_rejected = 7;  ///< run --approve-plan: the user rejected the plan
inline constexpr int interrupted = 130;  ///< Ctrl-C / SIGTERM (the shell's 128 + SIGINT); resumable
}  // namespace exit_code

struct ping_options {
  std::string spec;
  std::string prompt = "Reply with the single word: pong";
  std::string api_key_env;
  std::string config;  ///< the run's config file: ping uses its request shape per role
  double timeout_s = 60;
};

int ping_command(const ping_options& opts);

struct run_options {
  std::string request;
  std::string out;
  std::string config;
  std::optional<int> coders;
  std::optional<int> fixers;
  std::optional<std::string> planner;
  std::optional<std::string> coder;
  std::optional<int> max_rounds;
  std::optional<long long> max_tokens;
  std::optional<double> max_cost;
  std::optional<double> max_time;
  std::string store;          ///< --store DIR ("" = resolve_store_path's order)
  bool fresh = false;         ///< --new: never continue an unfinished run of the same folder
  bool demo = false;
  bool verbose = false;
  bool approve_plan = false;  ///< --approve-plan: stop after planning until the user approves
  std::string resume_id;      ///< set by `resume RUN`: continue that run
  std::string coordinator;    ///< --coordinator H:P: submit the run there and follow it
  cluster_flags cluster;      ///< --token-file, --tls-* (with --coordinator)
  http_flags http;            ///< --http, --http-token-file, --http-linger
  bool git = false;           ///< --git: make --out a git repository (else: commit where it is one)
  bool allow_dirty = false;   ///< --allow-dirty: start although --out has uncommitted changes
};

int run_command(run_options opts);

/// `codehive approve RUN --http H:P`: the user's word on a plan that a
/// `run --approve-plan` waits on, sent to that process's HTTP API.
struct approve_options {
  std::string run_id;
  std::string http;        ///< HOST:PORT of the run's HTTP API
  std::string token_file;  ///< bearer token file (else $CODEHIVE_HTTP_TOKEN)
  std::string plan_file;   ///< --plan: send this plan (else the run reads its tasks.json)
  bool reject = false;
  std::string reason;      ///< --reason (with --reject)
};

int approve_command(const approve_options& o);

/// `codehive resume RUN`: the run options with resume_id set; model specs and
/// budgets given here override the stored ones.
int resume_command(run_options opts);

/// `codehive coordinator --listen H:P`: hosts the store, planners, reviewer,
/// tracker and validator of every run; workers join, clients submit runs.
struct coordinator_options {
  std::string listen = "127.0.0.1:0";
  std::string config;
  std::string store;
  std::optional<std::string> planner;
  std::optional<std::string> coder;
  int coders = 0;             ///< local coders (default none: workers do the coding)
  int fixers = 0;             ///< local fixers
  cluster_flags cluster;
  std::string port_file;      ///< write the bound port here ("PORT\n", atomically)
  /// Where runs submitted from other machines work: one folder per client
  /// folder ("" = "workspaces" beside the store).
  std::string workspaces;
  bool verbose = false;
  http_flags http;            ///< --http, --http-token-file
};

int coordinator_command(const coordinator_options& o);

/// `codehive worker --join H:P --coders N --coder SPEC`: coder and fixer
/// actors bound to this machine's model server, offered to a coordinator.
struct worker_options {
  std::string join;
  int coders = 1;
  int fixers = 1;
  std::string coder;
  std::string name;           ///< "" = hostname-pid
  std::string config;
  cluster_flags cluster;
  bool verbose = false;
};

int worker_command(const worker_options& o);

/// `codehive run --coordinator H:P`: submits the run and follows it.
int remote_run_command(run_options o);

/// Options shared by the commands that only read (or check) the store.
struct store_query_options {
  std::string store;   ///< --store DIR
  std::string config;  ///< --config F (for store.path)
  std::string run_id;  ///< RUN (status, export, fsck; fsck: "" = every run)
  std::string out;     ///< export --out DIR
  bool json = false;   ///< --json: machine-readable output (runs, status)
  bool watch = false;  ///< status --watch: the live view until the run ends
  std::string coordinator;  ///< export --coordinator H:P: fetch the run from that coordinator
  cluster_flags cluster;    ///< --token-file, --tls-* (with --coordinator)
};

/// `codehive runs`: a table of every run (id, request, state, files, tokens, cost, age).
int runs_command(const store_query_options& o);
/// `codehive status RUN`: tasks, review rounds, usage per role and per model;
/// with --watch the live view until the run ends (nodes/status_watch.*).
int status_command(const store_query_options& o);
/// `codehive export RUN --out DIR`: the project and the four exports, from the store alone.
int export_command(const store_query_options& o);
/// `codehive export RUN --coordinator H:P --out DIR`: the run's files and
/// exports fetched from a coordinator (nodes/remote_run.cpp).
int remote_export_command(const store_query_options& o);
/// `codehive fsck [RUN]`: the store's consistency check (exit 0 clean, 1 problems found).
int fsck_command(const store_query_options& o);
/// `codehive undo RUN`: one revert commit taking the run's commits back out
/// (nodes/git_commands.cpp).
int undo_command(const store_query_options& o);
/// `codehive diff RUN`: the run's commits with their unified diffs.
int diff_command(const store_query_options& o);

}  // namespace codehive
