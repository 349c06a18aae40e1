// The coding phase: ready tasks go to free coders (longest remaining path
// first, the least-loaded node first), a failed task is retried on another
// coder and then escalated to the large model, and the review rounds start
// when every task has ended. Every transition is stored before the command
// that acts on it is handed out (the event's transitions in one batch:
// controller::commit_moves).
#include <spdlog/spdlog.h>

#include "actors/planner/controller.hpp"
#include "actors/planner/paths.hpp"
#include "storage/run_store.hpp"

namespace codehive::planner {

// -- slots and jobs -------------------------------------------------------------

std::string controller::slot_label(int slot) const {
  if (slot == escalation_slot)
    return "large-model";
  if (slot == no_slot)
    return "folder";
  return pool_.coders().at(static_cast<std::size_t>(slot)).label;
}

std::string controller::slot_node(const job& j) const {
  if (j.slot == escalation_slot || j.slot == no_slot)
    return "local";
  const auto& slots = j.what == job::kind::task ? pool_.coders() : pool_.fixers();
  return slots.at(static_cast<std::size_t>(j.slot)).node;
}

controller::job* controller::find_job(std::uint64_t ticket, bool replied) {
  auto it = jobs_.find(ticket);
  if (it == jobs_.end() || it->second.replied != replied)
    return nullptr;  // withdrawn (its node was lost) or not at that stage
  return &it->second;
}

/// The job of `ticket` at that stage, removed from the jobs in flight.
std::optional<controller::job> controller::take_job(std::uint64_t ticket, bool replied) {
  auto* j = find_job(ticket, replied);
  if (!j)
    return std::nullopt;
  auto out = std::move(*j);
  jobs_.erase(ticket);
  return out;
}

/// The slot is free again (its request answered, given up, or not needed).
void controller::free_slot(std::uint64_t ticket, const job& j) {
  if (j.slot == no_slot)
    return;
  if (j.slot == escalation_slot) {
    escalations_in_flight_ -= 1;
    return;
  }
  if (j.what == job::kind::task)
    pool_.release_coder(j.slot, ticket);
  else
    pool_.release_fixer(j.slot, ticket);
}

/// A worker node's model calls happen on its own model server, out of reach
/// of this process's ledger writer: the planner records them from the usage
/// the reply carries (all attempts of the request in one entry).
void controller::record_remote_usage(const std::string& node, const msg::usage& u,
                                     const std::string& task_id, bool ok) {
  if (node == "local" || (u.calls == 0 && u.prompt_tokens == 0 && u.completion_tokens == 0))
    return;
  store::ledger_entry e;
  e.use.role = u.role;
  e.use.model = u.model.empty() ? node : u.model;
  e.use.prompt_tokens = u.prompt_tokens;
  e.use.completion_tokens = u.completion_tokens;
  e.use.latency = std::chrono::milliseconds{u.latency_ms};
  e.use.cost_usd = u.cost_usd;
  e.use.attempts = std::max(1, static_cast<int>(u.calls));
  e.outcome = ok ? "ok" : "error";
  e.task_id = task_id;
  if (!commit_moves())
    return;
  if (auto r = store_.append_ledger(run_.run_id, e); !r)
    spdlog::warn("run={} task={} run store: cannot record {}'s model usage: {}", run_.run_id,
                 task_id, node, r.err().describe());
}

// -- dispatch ---------------------------------------------------------------------

void controller::dispatch() {
  if (stopping_ || !run_.graph)
    return;
  auto& graph = *run_.graph;
  // Ready tasks in critical-path order; while every coder is busy only those
  // that need none (folders, escalations) are visited, so an event costs what
  // it starts, not the number of ready tasks (10,000 at the start of a flat
  // plan). A deletion frees its coder at once: the walk goes on over all.
  std::optional<std::size_t> after;
  while (auto next = graph.next_ready(after, pool_.has_free_coder())) {
    auto idx = *next;
    after = idx;
    if (stopping_)
      return;  // a store write failed
    const auto& task = run_.tasks[idx];
    if (task.type == "folder") {
      // No model: the tracker makes (or deletes) the folder.
      start_task(idx, no_slot);
      continue;
    }
    const auto& node = graph.at(idx);
    if (node.escalated) {
      start_task(idx, escalation_slot);
      continue;
    }
    int pick = pool_.free_coder(node.last_worker);
    if (pick < 0)
      continue;  // all coders busy (or none joined yet); escalated tasks may still go
    start_task(idx, pick);
  }
  if (graph.finished() && tasks_in_flight_ == 0) {
    start_round();
  } else if (tasks_in_flight_ == 0 && pool_.live_coders() == 0 && !said_waiting_) {
    // A coordinator without local coders, or every worker lost: say so once.
    said_waiting_ = true;
    spdlog::warn("run={} no coder available: waiting for a worker to join", run_.run_id);
    progress(msg::progress_kind::waiting, {}, {}, "no coder available: waiting for a worker to join");
  }
}

void controller::start_task(std::size_t idx, int slot) {
  auto& graph = *run_.graph;
  auto label = slot_label(slot);
  if (!move_task(run_.tasks[idx].id, store::task_state::assigned, store::by_worker(label)))
    return;
  graph.mark_running(idx, slot);
  auto& rec = run_.task_records[idx];
  rec.attempts += 1;
  if (rec.started_ms == 0)
    rec.started_ms = now();
  rec.worker = label;
  auto ticket = ++next_ticket_;
  job j;
  j.task = idx;
  j.slot = slot;
  if (slot == escalation_slot) {
    escalations_in_flight_ += 1;
  } else if (slot != no_slot) {
    pool_.occupy_coder(slot, ticket);
  }
  tasks_in_flight_ += 1;
  const auto& task = run_.tasks[idx];
  announce(fmt::format("run={} task={} start: {} {} on {} (attempt {})", run_.run_id, task.id,
                       to_string(task.action), task.path, rec.worker, rec.attempts));
  progress(msg::progress_kind::task_start, task.id, task.path, rec.worker);
  if (task.action == msg::task_action::remove || task.type == "folder") {
    free_slot(ticket, j);  // no model involved
    j.replied = true;
    jobs_[ticket] = j;
    msg::file_edit e;
    e.run_id = run_.run_id;
    e.task_id = task.id;
    e.path = task.path;
    e.action = task.action == msg::task_action::remove ? msg::task_action::remove : msg::task_action::create;
    if (task.type == "folder")
      e.kind = msg::edit_kind::folder;
    emit(apply_edit{ticket, std::move(e)});
    return;
  }
  jobs_[ticket] = j;
  std::vector<std::string> paths{task.path};
  for (const auto& p : graph.dependency_paths(idx))
    add_unique(paths, p);
  for (const auto& p : task.context_paths)
    add_unique(paths, p);
  emit(read_files{ticket, std::move(paths)});
}

// -- answers ------------------------------------------------------------------------

void controller::on_files_read(std::uint64_t ticket, std::vector<msg::context_file> files) {
  auto* j = find_job(ticket, false);
  if (!j)
    return;  // its worker was lost meanwhile; the work is queued again
  if (stopping_) {
    auto gone = *take_job(ticket, false);
    free_slot(ticket, gone);
    if (gone.what == job::kind::task)
      tasks_in_flight_ -= 1;
    else
      fix_finished(gone.issue.file);
    return;
  }
  if (j->what == job::kind::task)
    ask_coder_for(ticket, std::move(files));
  else
    ask_fixer_for(ticket, std::move(files));
}

void controller::on_read_failed(std::uint64_t ticket, const failure& f) {
  auto taken = take_job(ticket, false);
  if (!taken)
    return;
  auto& gone = *taken;
  free_slot(ticket, gone);
  if (gone.what == job::kind::task) {
    task_failed(gone.task, f);
  } else {
    fix_finished(gone.issue.file);
    fix_failed({gone.issue, gone.fix_id}, "cannot read the files for the fix: " + f.reason, f.code);
  }
}

void controller::ask_coder_for(std::uint64_t ticket, std::vector<msg::context_file> files) {
  const auto& j = jobs_.at(ticket);
  msg::code_request req;
  req.run_id = run_.run_id;
  req.request = run_.request;
  req.task = run_.tasks[j.task];
  req.target = files.front();
  files.erase(files.begin());
  req.context = build_context(std::move(files), req.target,
                              req.task.description + "\n" + req.task.instructions);
  req.previous_error = run_.task_records[j.task].last_error;
  emit(ask_coder{ticket, j.slot, std::move(req)});
}

void controller::on_edit_made(std::uint64_t ticket, msg::file_edit edit) {
  auto* j = find_job(ticket, false);
  if (!j)
    return;  // a reply from a slot given up since
  free_slot(ticket, *j);
  j->replied = true;
  if (j->slot != escalation_slot && j->slot != no_slot)  // the large model is no node's
    heard_from(slot_node(*j), &edit.use);
  if (j->what == job::kind::task) {
    record_remote_usage(slot_node(*j), edit.use, run_.tasks[j->task].id, true);
    // Applied even past the budget: it is paid for (task_done keeps it).
    account(j->slot == escalation_slot ? "coder_escalated" : "coder", edit.use);
  } else {
    record_remote_usage(slot_node(*j), edit.use, j->fix_id, true);
    account("fixer", edit.use);  // applied even past the budget: it is paid for
  }
  emit(apply_edit{ticket, std::move(edit)});
}

void controller::on_edit_failed(std::uint64_t ticket, const failure& f) {
  auto taken = take_job(ticket, false);
  if (!taken)
    return;
  auto& gone = *taken;
  free_slot(ticket, gone);
  if (gone.slot != escalation_slot && gone.slot != no_slot)
    heard_from(slot_node(gone), &f.use);
  if (gone.what == job::kind::task) {
    record_remote_usage(slot_node(gone), f.use, run_.tasks[gone.task].id, false);
    if (!account(gone.slot == escalation_slot ? "coder_escalated" : "coder", f.use)) {
      tasks_in_flight_ -= 1;
      return;
    }
    task_failed(gone.task, f);
    return;
  }
  record_remote_usage(slot_node(gone), f.use, gone.fix_id, false);
  fix_finished(gone.issue.file);
  if (!account("fixer", f.use))
    return;
  if (f.transport) {
    finish(outcome::model_failure, "fixer model failed: " + f.reason);
    return;
  }
  fix_failed({gone.issue, gone.fix_id}, f.reason, f.code);
}

void controller::on_applied(std::uint64_t ticket, const msg::applied_file& file) {
  auto taken = take_job(ticket, true);
  if (!taken)
    return;
  auto& gone = *taken;
  if (gone.what == job::kind::task) {
    task_done(gone.task, file);
    return;
  }
  fix_applied(gone, file);
}

void controller::on_apply_failed(std::uint64_t ticket, const failure& f) {
  auto taken = take_job(ticket, true);
  if (!taken)
    return;
  auto& gone = *taken;
  if (gone.what == job::kind::task) {
    task_failed(gone.task, f);
    return;
  }
  fix_not_applied(gone, f);
}

// -- a task's end -------------------------------------------------------------------

void controller::task_failed(std::size_t idx, const failure& f) {
  tasks_in_flight_ -= 1;
  if (stopping_)
    return;
  auto& rec = run_.task_records[idx];
  const auto& task = run_.tasks[idx];
  rec.last_error = f.reason;
  if (f.transport) {
    finish(outcome::model_failure,
           "model server failed on task " + task.id + " (" + task.path + "): " + rec.last_error);
    return;
  }
  if (f.local_io) {
    // The output folder said no (full, read-only): another coder cannot help.
    finish(outcome::local_io, "cannot write " + task.path + ": " + rec.last_error);
    return;
  }
  if (!move_task(task.id, store::task_state::failed, store::because(rec.last_error, f.code)))
    return;
  // A deletion or a folder involves no model: asking again elsewhere cannot help.
  auto decision = task.action == msg::task_action::remove || task.type == "folder"
                    ? (run_.graph->fail(idx), retry_decision::give_up)
                                          : run_.graph->record_failure(idx, settings_->retry);
  if (decision != retry_decision::give_up
      && !move_task(task.id, store::task_state::pending, store::because(to_string(decision))))
    return;
  announce(fmt::format("run={} task={} {} failed on {}: {} -> {}", run_.run_id, task.id, task.path,
                       rec.worker, rec.last_error, to_string(decision)),
           true);
  progress(decision == retry_decision::give_up ? msg::progress_kind::task_failed
                                                   : msg::progress_kind::task_retry, task.id, task.path,
           rec.last_error);
  if (decision == retry_decision::give_up)
    rec.finished_ms = now();
  exports_changed();
  dispatch();
}

void controller::task_done(std::size_t idx, const msg::applied_file& f) {
  tasks_in_flight_ -= 1;
  // Recorded even when the run is stopping (a budget hit by this very answer):
  // the edit was paid for and is on disk, a resume must not ask for it again.
  if (!move_task(run_.tasks[idx].id, store::task_state::done, store::producing(f.hash)))
    return;
  run_.graph->mark_done(idx);
  auto& rec = run_.task_records[idx];
  rec.finished_ms = now();
  const auto& task = run_.tasks[idx];
  if (task.type != "folder") {  // a folder is no file to validate or review
    run_.remember(f);
    run_.changed_paths.insert(f.path);
  }
  if (stopping_)
    return;
  if (task.type != "folder" && !f.hash.empty())  // a deletion leaves nothing to check
    emit(precheck{f.path, f.hash});
  announce(fmt::format("run={} task={} done: {} v{} by {} in {} ms", run_.run_id, task.id, f.path,
                       f.version, rec.worker, rec.finished_ms - rec.started_ms));
  progress(msg::progress_kind::task_done, task.id, task.path, f.summary);
  exports_changed();
  dispatch();
}

}  // namespace codehive::planner
