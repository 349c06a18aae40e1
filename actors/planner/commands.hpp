// What the run controller asks its shell (the planner actor) to do. The
// controller never talks to an actor, a model or a timer itself: it appends
// commands, and the shell carries each out and reports the answer back as an
// event (the controller method named in each comment). Store writes are not
// commands: the controller makes them itself, synced, before it emits any
// command that depends on them ("written before anyone is told").
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "llm/types.hpp"
#include "messages/messages.hpp"

namespace codehive::planner {

/// Slot number that means "the coder bound to the large model" (escalation).
inline constexpr int escalation_slot = -2;
/// Slot number of work that needs no model (a planned folder).
inline constexpr int no_slot = -3;

/// The tracker's records of every file. Answer: on_files_listed / on_start_failed.
struct list_files {};

/// One planning call to the large model. Answer: on_plan_reply (matching `call`).
struct ask_plan {
  std::uint64_t call = 0;
  llm::chat_request request;
};

/// Read the content of `paths` for the job `ticket` (its target first).
/// Answer: on_files_read / on_read_failed.
struct read_files {
  std::uint64_t ticket = 0;
  std::vector<std::string> paths;
};

/// One file task to a coder slot (escalation_slot: the large model's coder).
/// Answer: on_edit_made / on_edit_failed.
struct ask_coder {
  std::uint64_t ticket = 0;
  int slot = 0;
  msg::code_request request;
};

/// One review issue to a fixer slot. Answer: on_edit_made / on_edit_failed.
struct ask_fixer {
  std::uint64_t ticket = 0;
  int slot = 0;
  msg::fix_request request;
};

/// Give an edit to the file tracker. Answer: on_applied / on_apply_failed.
struct apply_edit {
  std::uint64_t ticket = 0;
  msg::file_edit edit;
};

/// Run the validators on these files. Answer: on_validated / on_validation_failed.
struct validate {
  std::vector<std::string> paths;
};

/// Read the files the review needs. Answer: on_review_files / on_review_read_failed.
struct read_review_files {
  std::vector<std::string> paths;
};

/// Ask the reviewer. Answer: on_reviewed / on_review_failed.
struct review {
  msg::review_request request;
};

/// Write generated_files/* (fire and forget; a later write supersedes it).
struct write_exports {
  std::vector<msg::export_file> files;
};

/// The exports changed: call on_exports_due after `delay_ms`. Rendering them
/// costs O(tasks), so they are written at most once per delay, not once per
/// task; the final ones are written by `deliver`.
struct schedule_exports {
  std::int64_t delay_ms = 0;
};

/// Tell the progress sink (fire and forget).
struct report_progress {
  msg::progress_event event;
};

/// The run is over: wait (bounded) for pending summaries and the summarizer's
/// usage. Answer: on_final_records (with nothing, if the tracker does not answer).
struct collect_final_records {};

/// Write the final exports (bounded wait), then deliver the result to whoever
/// asked for the run. Nothing follows.
struct deliver {
  std::vector<msg::export_file> exports;
  msg::run_result result;
};

/// A version of `path` landed (a task or a fix): have the validator check it
/// now, while the others are coded, so the round's validate finds its
/// findings cached. Fire and forget; nothing waits for it.
struct precheck {
  std::string path;
  std::string hash;
};

using command = std::variant<list_files, ask_plan, read_files, ask_coder, ask_fixer, apply_edit,
                             validate, read_review_files, review, write_exports, schedule_exports,
                             report_progress, collect_final_records, deliver, precheck>;

/// Why a request failed, as the controller needs it (built by the shell from
/// the caf::error, so the controller stays free of CAF).
struct failure {
  std::string reason;      ///< human-readable, fed back to models and logs
  std::string code;        ///< stable code for the store ("bad_answer", "edit_refused", ...)
  bool transport = false;  ///< the model server is unreachable or failing (not the answer)
  bool local_io = false;   ///< the output folder or the run store said no
  msg::usage use;          ///< what the failed work cost
};

/// A planning call's outcome (the shell classifies the model client's error).
struct plan_answer {
  std::uint64_t call = 0;
  bool ok = false;
  std::string content;  ///< the plan's JSON text when ok
  failure problem;      ///< when !ok: transport (fatal) or an answer to re-ask about
  msg::usage use;
};

}  // namespace codehive::planner
