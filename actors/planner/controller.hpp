// The run controller: everything the planner decides, with no actor system.
// Events go in (a method per answer the shell received), commands come out
// (take_commands(); commands.hpp). It owns the run's state (planner_run.hpp),
// the worker slots and the jobs in flight, and writes every state change to
// the run store, synced, before a command that acts on it is handed out: an
// event's task transitions are staged and go to the store in one batch (one
// sync) at take_commands(), or earlier, before any other store write.
//
// Its parts, one file each under actors/planner/:
//   controller.cpp  start, the end of the run (finish, deliver), progress, exports
//   planning.cpp    asking for a plan and accepting it
//   scheduler.cpp   the coding phase: ready tasks to free coders, replies, retries
//   rounds.cpp      validate -> review -> fix rounds, one fix per file at a time
//   budget.cpp      tokens and cost against the run's limits
//   nodes.cpp       workers joining and being lost (their jobs go back to the queue)
//   resume.cpp      continuing a run the store already holds
//   approval.cpp    a plan that waits for the user's approval (run --approve-plan)
//
// A job is one request to a coder or fixer slot: it holds a ticket from
// assignment until its slot replies. When a node is lost its tickets are
// withdrawn and the work is queued again; a reply that comes later anyway
// finds no ticket and is dropped. Once the slot has replied, the work no
// longer depends on the node (the edit goes to the tracker under its own ticket).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/live_view.hpp"
#include "actors/plan_checks.hpp"
#include "actors/planner/commands.hpp"
#include "actors/planner/context_map.hpp"
#include "actors/planner/phase_clock.hpp"
#include "actors/planner_run.hpp"
#include "actors/settings.hpp"
#include "actors/worker_pool.hpp"
#include "messages/outcome.hpp"
#include "storage/records.hpp"

namespace codehive::store {
class run_store;
}

namespace codehive::planner {

/// How a run ends: messages/outcome.hpp has the one table (name, exit code,
/// stored state).
using outcome = msg::run_outcome;
using msg::row_of;

class controller {
 public:
  using clock_fn = std::function<std::int64_t()>;  ///< unix epoch milliseconds

  /// `store` must outlive the controller. `model` names the large model in logs.
  controller(std::shared_ptr<const pipeline_settings> settings, store::run_store& store,
             std::string model, clock_fn clock = {});

  // -- events -----------------------------------------------------------------

  /// This node's own coder and fixer slots (before any run starts).
  void add_local_slots(std::size_t coders, std::size_t fixers);
  /// Starts (or continues, if the store holds it) a run. False if a run is
  /// already active (the caller refuses the request).
  bool start(const msg::run_request& req, bool report_progress);
  void on_files_listed(std::vector<msg::applied_file> files);
  void on_start_failed(const failure& f);

  void on_plan_reply(const plan_answer& answer);

  void on_files_read(std::uint64_t ticket, std::vector<msg::context_file> files);
  void on_read_failed(std::uint64_t ticket, const failure& f);
  void on_edit_made(std::uint64_t ticket, msg::file_edit edit);
  void on_edit_failed(std::uint64_t ticket, const failure& f);
  void on_applied(std::uint64_t ticket, const msg::applied_file& file);
  void on_apply_failed(std::uint64_t ticket, const failure& f);

  void on_validated(msg::validation_report report);
  void on_validation_failed(const failure& f);
  void on_review_files(std::vector<msg::context_file> files);
  void on_review_read_failed(const failure& f);
  void on_reviewed(msg::review_result result);
  void on_review_failed(const failure& f);

  /// A node offers `coders` coder and `fixers` fixer slots (appended to the
  /// pool; the shell keeps their handles in the same order). A node that is
  /// already known and alive is handled as lost first (it rejoined).
  void on_worker_offer(const std::string& node, std::size_t coders, std::size_t fixers,
                       const std::string& model);
  /// Everything the node was doing goes back to the queue, once.
  void on_node_lost(const std::string& node, const std::string& why);

  /// The delay asked for by schedule_exports is over: write them if changed.
  void on_exports_due();
  void on_cancel();
  void on_deadline();
  /// The tracker's final records and summarizer usage (absent: no answer).
  void on_final_records(std::optional<std::vector<msg::applied_file>> files,
                        std::optional<msg::usage> summarizer);

  /// The user approves the plan that waits (run --approve-plan). `edited`:
  /// the text of generated_files/tasks.json now; absent or unchanged: the
  /// plan as proposed. An edited plan is checked as a model's plan is; one
  /// that fails is refused with the reason and the plan keeps waiting.
  msg::plan_verdict on_plan_approved(const std::optional<std::string>& edited);
  /// The user rejects the waiting plan: the run ends as plan_rejected.
  msg::plan_verdict on_plan_rejected(const std::string& why);
  /// Whether a plan waits, and its size (for `approve` and the dashboard).
  msg::plan_verdict approval_state() const;

  // -- output -----------------------------------------------------------------

  /// The event's commands, once its staged task transitions are stored (one
  /// batch). When that write fails, the event's commands are dropped and the
  /// run ends as local_io: only the end's own commands come out.
  std::vector<command> take_commands();

  // -- inspection (tests, the shell) ------------------------------------------

  const planner_run& run() const noexcept { return run_; }
  const worker_pool& pool() const noexcept { return pool_; }
  bool active() const noexcept { return active_; }
  bool stopping() const noexcept { return stopping_; }
  bool awaiting_approval() const noexcept { return awaiting_approval_; }
  /// What the dashboard and /api/nodes show: nodes with their slots and
  /// load, the phase, the ready queue (live.cpp). `local_model` names this
  /// node's coder model, which the controller does not otherwise know.
  live_view view(const std::string& local_model) const;

 private:
  /// One request to a coder or fixer slot, or one edit on its way to the tracker.
  struct job {
    enum class kind { task, fix } what = kind::task;
    std::size_t task = 0;       ///< task index (kind::task)
    msg::review_issue issue;    ///< kind::fix
    std::string fix_id;         ///< kind::fix
    int slot = 0;               ///< coder/fixer slot, or escalation_slot
    bool replied = false;       ///< the slot answered: the node no longer matters
  };
  struct fix_item {
    msg::review_issue issue;
    std::string fix_id;
  };

  // controller.cpp
  void emit(command c);
  void progress(msg::progress_kind kind, std::string task_id = {}, std::string path = {},
                std::string detail = {});
  void exports_changed();
  /// How long the exports wait after a change: exports_interval_ms, longer
  /// for a large plan (exports_interval_per_task_us).
  std::int64_t exports_delay_ms() const;
  void finish(outcome o, std::string message);
  /// Moves the run to `phase` (no-op if it is there): times it, and keeps
  /// the change with `detail` (what the phase does) in the event log.
  void enter_phase(msg::run_phase phase, const std::string& detail);
  std::int64_t now() const;
  /// True when the store write worked; otherwise the run stops (exit 5):
  /// going on without the store would lose exactly what it is there for.
  template <class Result>
  bool persisted(const Result& r, const char* what) {
    return r ? true : store_failed(r.err().describe(), what);
  }
  bool store_failed(const std::string& why, const char* what);
  /// Every store write but a task move goes through here: the event's staged
  /// moves first (the store keeps the event's order), then `write()`; false,
  /// with the run ending, when either fails.
  template <class Write>
  bool stored(Write&& write, const char* what) {
    return commit_moves() && persisted(write(), what);
  }
  /// Stages a task transition for the event's batch (commit_moves). False
  /// only when a commit of this event failed already (the run is ending).
  bool move_task(const std::string& id, store::task_state to,
                 const store::transition_info& info = {});
  /// Writes the staged transitions in one batch. Called before every other
  /// store write (the store keeps the event's order) and at take_commands.
  /// False when it failed, now or earlier in this event: the event's
  /// commands are dropped and the run ends as local_io.
  bool commit_moves();
  /// A log line that announces a staged transition ("start:", "done:"):
  /// written once the event's batch is stored, so the log never runs ahead
  /// of the store (tests/crash reads it so), dropped when the commit fails.
  void announce(std::string line, bool warn = false);
  std::vector<msg::context_file> build_context(std::vector<msg::context_file> files,
                                               const msg::context_file& target,
                                               const std::string& hint);

  // planning.cpp
  struct checked_plan {
    std::vector<msg::file_task> tasks;
    std::optional<task_graph> graph;
  };
  /// A plan's JSON text checked as every plan is, the model's or the user's
  /// edit: shape, reserved ids, values the store takes, a graph that builds.
  std::optional<checked_plan> check_plan(const std::string& text, std::string& reason) const;
  /// A checked plan against the project the run changes (actors/plan_checks.hpp),
  /// the model's plan and the user's edit alike.
  plan_verdict fits_project(const checked_plan& plan) const;
  /// Keeps and shows the verdict's notes; false when the store failed.
  bool note_plan(const plan_verdict& verdict);
  void ask_for_plan(const std::string& reason);
  void accept_plan(std::vector<msg::file_task> tasks, task_graph graph);

  // approval.cpp
  /// Stores the proposal (unless it came from the store), exports it and
  /// says that it waits; nothing is coded until on_plan_approved.
  void await_approval(std::vector<msg::file_task> tasks, task_graph graph, bool store_it);
  /// A stored run with a proposal and no plan: waits again (or takes an
  /// approved one). False when the store holds no proposal to go on with.
  bool continue_approval();

  // scheduler.cpp
  void dispatch();
  void start_task(std::size_t idx, int slot);
  void ask_coder_for(std::uint64_t ticket, std::vector<msg::context_file> files);
  void task_failed(std::size_t idx, const failure& f);
  void task_done(std::size_t idx, const msg::applied_file& f);
  job* find_job(std::uint64_t ticket, bool replied);
  std::optional<job> take_job(std::uint64_t ticket, bool replied);
  void free_slot(std::uint64_t ticket, const job& j);
  std::string slot_label(int slot) const;
  std::string slot_node(const job& j) const;
  void record_remote_usage(const std::string& node, const msg::usage& u,
                           const std::string& task_id, bool ok);

  // rounds.cpp
  void start_round();
  void review_now();
  void decide(std::vector<msg::review_issue> issues);
  void pump_fixes();
  void start_fix(fix_item item, int slot);
  void ask_fixer_for(std::uint64_t ticket, std::vector<msg::context_file> files);
  void fix_failed(const fix_item& item, const std::string& reason, const std::string& code);
  void fix_finished(const std::string& file);
  void fix_applied(const job& fix, const msg::applied_file& file);
  void fix_not_applied(const job& fix, const failure& f);
  std::vector<std::string> fix_context_paths(const std::string& file) const;

  // budget.cpp
  std::pair<std::int64_t, double> spent() const;
  bool account(const std::string& role, const msg::usage& u);
  void note_speed(const std::string& role, const msg::usage& u);

  // nodes.cpp
  void put_to_work();

  // live.cpp
  /// What the live view keeps per node beyond the pool: when it offered and
  /// was last heard from, its calls and generation speed.
  struct node_seen {
    std::string model;
    std::int64_t joined_ms = 0;
    std::int64_t last_seen_ms = 0;
    double tokens_per_s = 0;
    std::int64_t calls = 0;
    std::int64_t completion_tokens = 0;
  };
  /// A message from `node` (a slot's reply, with the usage it carried).
  void heard_from(const std::string& node, const msg::usage* u);

  // resume.cpp
  using stored_files = std::map<std::string, store::file_version>;
  void start_or_continue();
  stored_files current_files() const;
  bool settle_in_flight(const std::string& id, const std::string& path, const stored_files& files,
                        bool& landed);
  void continue_rounds(const std::vector<store::task_record>& fixes, const stored_files& files);

  std::shared_ptr<const pipeline_settings> settings_;
  store::run_store& store_;
  std::string model_;
  clock_fn clock_;
  std::vector<command> out_;
  std::vector<store::task_move> staged_;  ///< this event's transitions, not yet stored
  bool moves_lost_ = false;  ///< this event's commit failed: its later commands are dropped
  std::vector<std::pair<std::string, bool>> announced_;  ///< announce(): line, warn

  planner_run run_;
  bool active_ = false;
  bool stopping_ = false;
  bool report_progress_ = true;
  outcome outcome_ = outcome::done;
  std::uint64_t next_call_ = 1;
  std::uint64_t plan_call_ = 0;
  worker_pool pool_;
  std::uint64_t next_ticket_ = 0;
  std::map<std::uint64_t, job> jobs_;  ///< ticket -> job (asked, or its edit being applied)
  int tasks_in_flight_ = 0;
  int escalations_in_flight_ = 0;
  std::map<std::string, std::deque<fix_item>> fix_queue_;  ///< per file: one fix at a time
  std::set<std::string> fixing_files_;
  int fixes_in_flight_ = 0;
  bool said_waiting_ = false;  ///< "no coder available" was said (until a worker joins)
  bool exports_dirty_ = false;
  bool exports_scheduled_ = false;
  bool approval_required_ = false;  ///< the next plan waits for the user (cleared on approval)
  bool awaiting_approval_ = false;
  std::string proposed_text_;       ///< tasks.json as exported for approval
  std::map<std::string, node_seen> seen_;  ///< by node name (live.cpp)
  phase_clock phases_;                     ///< time per phase, for run_result
  context_map context_map_;                ///< build_context's lookups into run_
};

}  // namespace codehive::planner
