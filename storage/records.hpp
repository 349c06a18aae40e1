// Plain data kept by the run store: runs, tasks, file versions, review rounds,
// ledger entries (model calls) and events. No RocksDB and no JSON library in
// this header; storage/README.md documents how each is laid out on disk.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/types.hpp"

namespace codehive::store {

// -- task state machine ------------------------------------------------------

/// pending -> assigned -> done | failed; failed -> pending (retry);
/// assigned -> pending (worker lost). Nothing else.
enum class task_state { pending, assigned, done, failed };

const char* to_string(task_state s) noexcept;
std::optional<task_state> parse_task_state(std::string_view s) noexcept;
/// True when the state machine allows `from -> to`.
bool legal_transition(task_state from, task_state to) noexcept;

// -- runs --------------------------------------------------------------------

/// running -> any other state; a stopped/failed/done run -> running (resume).
enum class run_state { running, done, failed, budget_stopped, deadline_stopped, cancelled };

const char* to_string(run_state s) noexcept;
std::optional<run_state> parse_run_state(std::string_view s) noexcept;

struct run_record {
  std::string id;            ///< "20261121-155900-ab12" (UTC time + 4 hex): sorts by creation time
  std::string request;       ///< the user's request text
  std::string config_json;   ///< the run's configuration, JSON object text
  run_state state = run_state::running;
  std::string state_reason;  ///< why the last state change happened ("" if none given)
  int exit_code = -1;        ///< the CLI exit code of the last stop (-1: none yet / running)
  std::int64_t created_ms = 0;  ///< ms since the Unix epoch (UTC)
  std::int64_t updated_ms = 0;
};

// -- tasks -------------------------------------------------------------------

/// One planned file task (configs/schemas/plan.json, one item of "tasks").
struct task_spec {
  std::string id;
  std::string action = "create";  ///< create | update | delete
  std::string type = "file";      ///< file | folder
  std::string path;
  std::string description;
  std::string instructions;
  std::vector<std::string> depends_on;
  std::vector<std::string> context_paths;
  std::string edit;               ///< whole | html_section | search_replace | "" (unset)
};

/// What the caller says about a transition; every field is optional.
struct transition_info {
  std::string worker;      ///< -> assigned: who works on it ("node-2/coder-3")
  std::string reason;      ///< free text: "worker lost", "retry 2", "validator said ..."
  std::string error_code;  ///< -> failed: a stable code ("timeout", "bad_json", ...)
  std::string file_hash;   ///< -> done: the file version the task produced (sha256 hex)
};

/// Shorthands (g++ 12 warns about designated initializers that leave fields out):
///   store.transition(run, "t1", task_state::assigned, by_worker("node2/coder1"));
inline transition_info by_worker(std::string worker) {
  transition_info i;
  i.worker = std::move(worker);
  return i;
}
inline transition_info because(std::string reason, std::string error_code = {}) {
  transition_info i;
  i.reason = std::move(reason);
  i.error_code = std::move(error_code);
  return i;
}
inline transition_info producing(std::string file_hash) {
  transition_info i;
  i.file_hash = std::move(file_hash);
  return i;
}

/// One transition of a batch (run_store::transitions): task `task` moves to `to`.
struct task_move {
  std::string task;
  task_state to = task_state::pending;
  transition_info info;
};

/// One entry of a task's history.
struct task_transition {
  task_state from = task_state::pending;
  task_state to = task_state::pending;
  std::int64_t at_ms = 0;
  int attempt = 0;  ///< the task's attempt count after this transition
  std::string worker;
  std::string reason;
  std::string error_code;
};

struct task_record {
  task_spec spec;
  std::uint32_t plan_index = 0;  ///< order in which the plan listed it (load_run sorts by it)
  task_state state = task_state::pending;
  int attempts = 0;              ///< number of times it was assigned
  std::string worker;            ///< current/last worker ("" while never assigned)
  std::string last_error_code;   ///< of the last failure
  std::string last_reason;
  std::string file_hash;         ///< set by the -> done transition when given
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t assigned_ms = 0;  ///< last -> assigned
  std::int64_t finished_ms = 0;  ///< last -> done | failed
  std::vector<task_transition> history;
};

// -- files -------------------------------------------------------------------

/// Extra facts stored with a file version.
struct file_meta {
  std::string task_id;  ///< the task or review issue that produced it ("" if none)
  std::string summary;  ///< the file tracker's one-line summary
};

inline file_meta from_task(std::string task_id, std::string summary = {}) {
  file_meta m;
  m.task_id = std::move(task_id);
  m.summary = std::move(summary);
  return m;
}

/// One version of one path (content lives in the blob it names).
struct file_version {
  std::string path;
  std::uint64_t version = 0;  ///< 1, 2, 3 ... per run and path
  std::string hash;           ///< sha256 hex of the content ("" for a delete marker)
  std::uint64_t size = 0;
  bool deleted = false;       ///< a delete marker: the path no longer exists
  std::string task_id;
  std::string summary;
  std::int64_t at_ms = 0;
};

struct file_content {
  file_version meta;
  std::string content;
};

// -- reviews -----------------------------------------------------------------

struct review_issue {
  std::string file;
  std::string problem;
  std::string instructions;
};

struct review_round {
  std::uint32_t round = 0;     ///< 1, 2, ...
  std::vector<review_issue> issues;
  std::string findings_json = "[]";  ///< the validators' findings, JSON text (any value)
  std::int64_t at_ms = 0;      ///< set by the store when written
};

// -- ledger (one entry per model call) ---------------------------------------

struct ledger_entry {
  llm::usage use;               ///< role, model, tokens, latency, cost, attempts
  std::string outcome = "ok";   ///< "ok" | "error"
  std::string error_code;       ///< stable code when outcome is "error"
  std::string task_id;          ///< "" when the call belongs to no task (planning, review)
  int attempt = 0;              ///< the task attempt this call served
  std::uint64_t seq = 0;        ///< set by the store
  std::int64_t at_ms = 0;       ///< set by the store
};

struct ledger_totals {
  std::uint64_t calls = 0;
  std::uint64_t failed_calls = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t latency_ms = 0;  ///< sum over calls
  double cost_usd = 0;

  /// Counts one call of the ledger in.
  void add(const ledger_entry& e) {
    ++calls;
    if (e.outcome != "ok") ++failed_calls;
    prompt_tokens += e.use.prompt_tokens;
    completion_tokens += e.use.completion_tokens;
    latency_ms += e.use.latency.count();
    cost_usd += e.use.cost_usd;
  }
};

// -- events ------------------------------------------------------------------

struct event {
  std::uint64_t seq = 0;     ///< 1, 2, 3 ... per run, no gaps
  std::string type;          ///< "run_created", "plan", "task", "file", "review", "run_state", or a caller's
  std::string data_json;     ///< JSON text
  std::int64_t at_ms = 0;
};

// -- whole run ---------------------------------------------------------------

struct run_snapshot {
  run_record run;
  std::vector<task_record> tasks;    ///< plan order
  std::vector<file_version> files;   ///< current version of every path, delete markers included
  std::vector<review_round> rounds;  ///< by round number
  ledger_totals ledger_total;
  std::map<std::string, ledger_totals> ledger_by_role;
  std::map<std::string, ledger_totals> ledger_by_model;
  std::uint64_t last_event_seq = 0;
};

/// One thing fsck found wrong.
struct fsck_problem {
  std::string kind;    ///< "dangling_blob", "task_file_missing", "events_gap", "bad_record",
                       ///< "checksum", "options", "manifest", "wal", ... (storage/README.md)
  std::string where;   ///< "files/v/<path>#3", "tasks/<id>", "events/#17"
  std::string detail;  ///< human readable
};

}  // namespace codehive::store
