// The typed messages the actors exchange: plain structs with 0.17-style
// inspect() so CAF can serialize them (to another node, or in the round-trip
// tests). Every type here is listed once in messages/type_ids.hpp; a type
// missing there is silently dropped on the wire. Field order in inspect() is
// the wire format: append, never reorder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/outcome.hpp"
#include "messages/vocabulary.hpp"

namespace codehive::msg {

/// What one model call cost (or the sum of several).
struct usage {
  std::string role;                 ///< planner|coder|reviewer|fixer|summarizer
  std::string model;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t latency_ms = 0;
  double cost_usd = 0;
  std::int32_t calls = 0;           ///< model calls summed here (attempts included)
  double tokens_per_s = 0;          ///< generation speed of the latest call (0: unknown)
  bool operator==(const usage&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, usage& x) {
  return f(caf::meta::type_name("usage"), x.role, x.model, x.prompt_tokens, x.completion_tokens,
           x.latency_ms, x.cost_usd, x.calls, x.tokens_per_s);
}

/// Limits of one run; 0 means unlimited.
struct budget {
  std::int64_t max_tokens = 0;
  double max_cost_usd = 0;
  std::int64_t max_time_ms = 0;
  bool operator==(const budget&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, budget& x) {
  return f(caf::meta::type_name("budget"), x.max_tokens, x.max_cost_usd, x.max_time_ms);
}

/// The user's request, as the CLI hands it to the planner.
struct run_request {
  std::string run_id;
  std::string request;     ///< "a kanban board in HTML/CSS/JS"
  std::string out_dir;     ///< absolute path of the output folder
  std::int32_t max_rounds = 3;
  budget limits;
  bool approve_plan = false;  ///< wait for the user's approval after planning
  bool operator==(const run_request&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_request& x) {
  return f(caf::meta::type_name("run_request"), x.run_id, x.request, x.out_dir, x.max_rounds,
           x.limits, x.approve_plan);
}

/// One file task of a plan (configs/schemas/plan.json).
struct file_task {
  std::string id;
  task_action action = task_action::create;
  std::string type;          ///< file|folder
  std::string path;          ///< relative to the output folder
  std::string description;
  std::string instructions;
  std::vector<std::string> depends_on;     ///< task ids
  std::vector<std::string> context_paths;  ///< files whose content the coder sees
  edit_kind edit = edit_kind::none;  ///< preferred edit kind; none: the coder's choice
  bool operator==(const file_task&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_task& x) {
  return f(caf::meta::type_name("file_task"), x.id, by_name(x.action), x.type, x.path, x.description,
           x.instructions, x.depends_on, x.context_paths, by_name(x.edit));
}

/// A validated plan as the planner's model produced it.
struct plan {
  std::vector<file_task> tasks;
  usage use;
  bool operator==(const plan&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan& x) {
  return f(caf::meta::type_name("plan"), x.tasks, x.use);
}

/// A file as context for a model: its content when it fits, else its summary.
struct context_file {
  std::string path;
  std::string summary;
  std::string content;
  bool has_content = false;  ///< false: file absent or left out (summary only)
  bool operator==(const context_file&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, context_file& x) {
  return f(caf::meta::type_name("context_file"), x.path, x.summary, x.content, x.has_content);
}

/// Planner -> coder: everything a stateless coder needs for one file.
struct code_request {
  std::string run_id;
  std::string request;                 ///< the user's request, for the big picture
  file_task task;
  context_file target;                 ///< current content of task.path (has_content=false: new)
  std::vector<context_file> context;   ///< related files (content) and the rest (summaries)
  std::int32_t attempt = 1;
  std::string previous_error;          ///< why the last attempt failed, fed back to the model
  bool operator==(const code_request&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, code_request& x) {
  return f(caf::meta::type_name("code_request"), x.run_id, x.request, x.task, x.target, x.context,
           x.attempt, x.previous_error);
}

/// One SEARCH/REPLACE block of a search_replace edit.
struct replace_block {
  std::string search;
  std::string replace;
  bool operator==(const replace_block&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replace_block& x) {
  return f(caf::meta::type_name("replace_block"), x.search, x.replace);
}

/// Coder/fixer -> planner -> file tracker: one edit of one file
/// (configs/schemas/edit.json), or a deletion.
struct file_edit {
  std::string run_id;
  std::string task_id;   ///< task id, or "fix:<n>" for a fixer's edit
  std::string path;
  task_action action = task_action::create;
  edit_kind kind = edit_kind::none;  ///< none for a deletion
  std::string section;   ///< head|body (html_section)
  std::string content;   ///< whole / html_section
  std::vector<replace_block> blocks;
  std::string summary;   ///< optional one-line summary from the model
  usage use;             ///< what producing this edit cost
  bool operator==(const file_edit&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_edit& x) {
  return f(caf::meta::type_name("file_edit"), x.run_id, x.task_id, x.path, by_name(x.action),
           by_name(x.kind), x.section, x.content, x.blocks, x.summary, x.use);
}

/// File tracker's record of one file (reply to an applied edit, and listings).
struct applied_file {
  std::string path;
  std::int64_t version = 0;       ///< 0: existed before the run, untouched
  std::string summary;            ///< one line: what the file is for
  std::string hash;               ///< content hash (16 hex digits)
  std::int64_t bytes = 0;
  std::int64_t modified_ms = 0;   ///< unix epoch milliseconds
  bool deleted = false;
  bool changed_in_run = false;
  bool operator==(const applied_file&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, applied_file& x) {
  return f(caf::meta::type_name("applied_file"), x.path, x.version, x.summary, x.hash, x.bytes,
           x.modified_ms, x.deleted, x.changed_in_run);
}

/// One validator finding.
struct finding {
  std::string check;    ///< json|js_syntax|html_ref|html_handler|command|browser
  std::string file;     ///< "" for whole-project checks
  std::int32_t line = 0;
  std::string message;
  bool operator==(const finding&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, finding& x) {
  return f(caf::meta::type_name("finding"), x.check, x.file, x.line, x.message);
}

/// Validator -> planner: findings plus what was (not) checked.
struct validation_report {
  std::vector<finding> findings;
  std::vector<std::string> skipped;        ///< "node: not installed", ...
  std::vector<std::string> checked_files;
  std::int64_t elapsed_ms = 0;
  bool operator==(const validation_report&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, validation_report& x) {
  return f(caf::meta::type_name("validation_report"), x.findings, x.skipped, x.checked_files,
           x.elapsed_ms);
}

/// One reviewer issue (configs/schemas/review.json) with the round it came from.
struct review_issue {
  std::string file;
  std::string problem;
  std::string instructions;   ///< explicit, step by step
  edit_kind edit = edit_kind::none;  ///< suggested edit kind; none: no suggestion
  std::int32_t round = 0;
  bool operator==(const review_issue&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, review_issue& x) {
  return f(caf::meta::type_name("review_issue"), x.file, x.problem, x.instructions,
           by_name(x.edit), x.round);
}

/// Planner -> reviewer: the files changed in this run and the findings.
struct review_request {
  std::string run_id;
  std::string request;
  std::int32_t round = 0;
  std::vector<context_file> files;   ///< changed files (content)
  std::vector<finding> findings;
  bool operator==(const review_request&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, review_request& x) {
  return f(caf::meta::type_name("review_request"), x.run_id, x.request, x.round, x.files,
           x.findings);
}

/// Reviewer -> planner. An empty list means clean.
struct review_result {
  std::vector<review_issue> issues;
  usage use;
  bool operator==(const review_result&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, review_result& x) {
  return f(caf::meta::type_name("review_result"), x.issues, x.use);
}

/// Planner -> fixer: one issue with the file's content and related files.
struct fix_request {
  std::string run_id;
  std::string fix_id;                 ///< "fix:<round>:<n>"
  std::string request;
  review_issue issue;
  context_file target;                ///< current content of issue.file
  std::vector<context_file> related;
  std::int32_t attempt = 1;
  std::string previous_error;
  bool operator==(const fix_request&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fix_request& x) {
  return f(caf::meta::type_name("fix_request"), x.run_id, x.fix_id, x.request, x.issue, x.target,
           x.related, x.attempt, x.previous_error);
}

/// Planner -> progress sink: something happened in the run.
struct progress_event {
  std::string run_id;
  progress_kind kind = progress_kind::plan;
  std::string task_id;
  std::string path;
  std::string detail;
  std::int32_t tasks_done = 0;
  std::int32_t tasks_total = 0;
  std::int32_t coders_busy = 0;
  std::int32_t round = 0;
  std::int64_t tokens = 0;
  double cost_usd = 0;
  std::int64_t elapsed_ms = 0;
  double coder_tokens_per_s = 0;  ///< one coder's recent generation speed (0: none yet)
  bool operator==(const progress_event&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, progress_event& x) {
  return f(caf::meta::type_name("progress_event"), x.run_id, by_name(x.kind), x.task_id, x.path,
           x.detail,
           x.tasks_done, x.tasks_total, x.coders_busy, x.round, x.tokens, x.cost_usd, x.elapsed_ms,
           x.coder_tokens_per_s);
}

/// A model's answer delivered to the actor that asked (sent from the HTTP
/// loop's thread with anon_send; the actor matches it by call_id).
struct llm_reply {
  std::uint64_t call_id = 0;
  bool ok = false;
  std::string content;          ///< extracted JSON text when ok
  std::int32_t error_code = 0;  ///< llm::errc value when !ok
  std::string error_message;
  usage use;
  bool operator==(const llm_reply&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, llm_reply& x) {
  return f(caf::meta::type_name("llm_reply"), x.call_id, x.ok, x.content, x.error_code,
           x.error_message, x.use);
}

/// A file of the run's exports (generated_files/<name>), written by the tracker.
struct export_file {
  std::string name;
  std::string content;
  bool operator==(const export_file&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, export_file& x) {
  return f(caf::meta::type_name("export_file"), x.name, x.content);
}

/// Seconds spent in one phase of a run (planning, coding, validating,
/// reviewing, fixing, ...), in milliseconds. A field of run_result only, so
/// not in the type-ID block (nested types serialize through their inspect).
struct phase_time {
  std::string phase;
  std::int64_t ms = 0;
  bool operator==(const phase_time&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, phase_time& x) {
  return f(caf::meta::type_name("phase_time"), x.phase, x.ms);
}

/// Planner -> CLI: how the run ended. exit_code follows the CLI contract.
struct run_result {
  std::string run_id;
  run_outcome state = run_outcome::failed;
  std::int32_t exit_code = 5;
  std::string message;
  std::int32_t rounds = 0;
  std::int32_t unresolved = 0;   ///< open findings + issues at the end
  /// Time per phase over every session of the run, in the order first entered.
  std::vector<phase_time> phases;
  bool operator==(const run_result&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_result& x) {
  return f(caf::meta::type_name("run_result"), x.run_id, by_name(x.state), x.exit_code, x.message,
           x.rounds, x.unresolved, x.phases);
}

/// CLI or HTTP API -> planner: the user's word on a plan that waits for
/// approval (`run --approve-plan`), or just the question whether one waits.
struct plan_decision {
  std::string run_id;
  plan_action action = plan_action::query;
  bool has_plan = false;
  std::string plan;     ///< approve: the (possibly edited) plan, tasks.json's text
  bool operator==(const plan_decision&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan_decision& x) {
  return f(caf::meta::type_name("plan_decision"), x.run_id, by_name(x.action), x.has_plan,
           x.plan);
}

/// Planner -> CLI or HTTP API: the answer to a plan_decision.
struct plan_verdict {
  bool waiting = false;   ///< a plan waits for approval (after this decision)
  bool accepted = false;  ///< the decision was taken (approved or rejected)
  std::string message;    ///< what happened, or why the edited plan was refused
  std::int32_t tasks = 0; ///< tasks of the waiting (or approved) plan
  bool operator==(const plan_verdict&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan_verdict& x) {
  return f(caf::meta::type_name("plan_verdict"), x.waiting, x.accepted, x.message, x.tasks);
}

/// Planner -> validator: a version of `path` just landed (a task or a fix);
/// check it now, in parallel with the coding of the others, and keep its
/// findings for the round's validation. Fire and forget.
struct precheck_file {
  std::string path;
  std::string hash;  ///< sha256 of the version that landed (for the log)
  bool operator==(const precheck_file&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, precheck_file& x) {
  return f(caf::meta::type_name("precheck_file"), x.path, x.hash);
}

// -- results where the user is ----------------------------------------------------

/// Coordinator -> client: one version of one project file of a run, pushed to
/// the clients following the run as the file tracker applies it (and sent as
/// the answer to fetch_files). The client checks the content against `hash`
/// before it writes anything.
struct file_copy {
  std::string run_id;
  std::string path;          ///< relative to the output folder
  std::int64_t version = 0;  ///< the run store's version of `path` (0: there before the run)
  std::string hash;          ///< sha256 (hex) of `content`
  bool deleted = false;      ///< the run deleted the file: the client deletes its copy
  bool has_content = false;  ///< false: a listing entry (hash only)
  std::string content;
  std::string task_id;       ///< the task or fix that wrote this version ("" : found)
  std::string model;         ///< the model that wrote it (for the commit message)
  std::string summary;       ///< one line: what the file is for
  bool operator==(const file_copy&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_copy& x) {
  return f(caf::meta::type_name("file_copy"), x.run_id, x.path, x.version, x.hash, x.deleted,
           x.has_content, x.content, x.task_id, x.model, x.summary);
}

/// Client -> coordinator: the files of a stored run (`codehive export RUN
/// --coordinator`, and a client's final check that its copy is complete).
struct fetch_files {
  std::string token;               ///< the shared join secret
  std::string run_id;
  bool content = false;            ///< false: hashes only
  std::vector<std::string> paths;  ///< empty: every file of the run, plus the exports
  bool operator==(const fetch_files&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_files& x) {
  return f(caf::meta::type_name("fetch_files"), x.token, x.run_id, x.content, x.paths);
}

/// Coordinator -> client: the answer to fetch_files.
struct fetched_files {
  bool ok = false;
  std::string message;               ///< why not (wrong token, no such run, store error)
  std::string state;                 ///< the run's stored state: running|done|failed|...
  std::vector<file_copy> files;      ///< deletions included
  std::vector<export_file> exports;  ///< generated_files/* (when paths was empty)
  bool operator==(const fetched_files&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetched_files& x) {
  return f(caf::meta::type_name("fetched_files"), x.ok, x.message, x.state, x.files, x.exports);
}

}  // namespace codehive::msg
