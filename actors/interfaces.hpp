// Every actor interface of codehive, in one place (the three whose handles
// travel between nodes are in messages/handles.hpp). Handles are typed: a
// message an actor does not declare here does not compile at the sender.
// Internal handlers (llm_reply, deadline) are listed too because the HTTP
// loop's callback and delayed_send reach the actor through this handle.
#pragma once

#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/type_ids.hpp"

namespace codehive {

// progress_actor, coder_actor and fixer_actor travel inside messages between
// nodes, so they are declared in messages/handles.hpp (included through
// messages/type_ids.hpp).

/// Reviewer: changed files plus findings in, issues out.
using reviewer_actor = caf::typed_actor<
  // Ask the large model to review; empty issue list means clean.
  caf::replies_to<msg::review_request>::with<msg::review_result>,
  // Internal: a model answer.
  caf::reacts_to<msg::llm_reply>>;

/// Validator: runs the workspace checks on the output folder (detached: it
/// blocks on subprocesses).
using validator_actor = caf::typed_actor<
  // Check these files (empty: every file) and report findings; findings of
  // file versions checked before (precheck) are reused while they match.
  caf::replies_to<atom::validate, std::vector<std::string>>::with<msg::validation_report>,
  // A file version landed: check it now and cache its findings by content.
  caf::reacts_to<msg::precheck_file>>;

/// File tracker: the only writer of the output folder (detached: disk I/O).
using file_tracker_actor = caf::typed_actor<
  // Apply an edit (or deletion) atomically; replies with the file's record.
  caf::replies_to<msg::file_edit>::with<msg::applied_file>,
  // All file records (existing files found at start included).
  caf::replies_to<atom::list>::with<std::vector<msg::applied_file>>,
  // Current content and summary of these files (absent: has_content=false).
  caf::replies_to<atom::read, std::vector<std::string>>::with<std::vector<msg::context_file>>,
  // Wait until pending summaries are in, then reply with all records.
  caf::replies_to<atom::flush>::with<std::vector<msg::applied_file>>,
  // Model usage of the summarizer so far.
  caf::replies_to<atom::usage>::with<msg::usage>,
  // Write generated_files/<name> for each export file.
  caf::replies_to<atom::exports, std::vector<msg::export_file>>::with<bool>,
  // Internal: a summarizer answer.
  caf::reacts_to<msg::llm_reply>>;

/// Planner: supervises one run from request to result.
using planner_actor = caf::typed_actor<
  // Plan, code, validate, review, fix; replies when the run ends (any way).
  caf::replies_to<msg::run_request>::with<msg::run_result>,
  // Internal: a model answer (planning calls).
  caf::reacts_to<msg::llm_reply>,
  // Internal: the run's time budget is over.
  caf::reacts_to<atom::deadline>,
  // Internal: time to write the exports if they changed (a delayed_send).
  caf::reacts_to<atom::exports>,
  // Internal: time to publish the live view held back since the last one.
  caf::reacts_to<atom::live>,
  // The user stopped the run (Ctrl-C, SIGTERM): finish as cancelled; the
  // store keeps everything and `codehive resume RUN` continues it.
  caf::reacts_to<atom::cancel>,
  // A worker node's coders and fixers join the pool (at start or mid-run:
  // they get work at once). The planner monitors them; when their node is
  // lost, their tasks in flight go back to the queue.
  caf::reacts_to<msg::worker_offer>,
  // The coordinator's registry saw a worker's connection drop (sent with
  // high priority, ahead of the replies queued here): its requests in
  // flight go back to the queue now, not when the slots' own down messages
  // get their turn.
  caf::reacts_to<msg::worker_lost>,
  // The user's word on a plan that waits for approval (run --approve-plan):
  // approve (with the plan file's text, maybe edited), reject, or query.
  caf::replies_to<msg::plan_decision>::with<msg::plan_verdict>>;

/// The coordinator's published actor: workers join here, clients submit runs.
using registry_actor = caf::typed_actor<
  // A worker introduces itself; refused (accepted=false, with the reason) on
  // a wrong token or protocol. Accepted offers go to every active planner.
  caf::replies_to<msg::join_request>::with<msg::join_reply>,
  // Run a request on this coordinator (or continue a stored run); progress
  // events go to submit_run.progress; replies when the run ends.
  caf::replies_to<msg::submit_run>::with<msg::run_result>,
  // The files of a stored run (hashes, or contents), for `export --coordinator`
  // and a client completing its copy; refused (ok=false) on a wrong token.
  caf::replies_to<msg::fetch_files>::with<msg::fetched_files>>;

}  // namespace codehive
