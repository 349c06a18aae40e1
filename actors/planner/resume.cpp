// Continuing a run the store already holds: done tasks stay done, tasks in
// flight at the stop are settled (done if their edit reached the store, else
// asked again), and the review rounds go on from the last one stored.
#include <spdlog/spdlog.h>

#include "actors/planner/controller.hpp"
#include "actors/run_restore.hpp"
#include "storage/run_store.hpp"

namespace codehive::planner {

/// Current version of every path the store knows for this run, by path.
controller::stored_files controller::current_files() const {
  stored_files out;
  if (auto files = store_.list_files(run_.run_id, true); files)
    for (auto& f : *files)
      out[f.path] = std::move(f);
  return out;
}

/// A task (or fix) the crash left `assigned`: done if its edit reached the
/// store (the tracker writes the store before the disk), else back in the queue.
bool controller::settle_in_flight(const std::string& id, const std::string& path,
                                  const stored_files& files, bool& landed) {
  auto it = files.find(path);
  landed = it != files.end() && it->second.task_id == id;
  if (landed)
    return move_task(id, store::task_state::done, store::producing(it->second.hash));
  return move_task(id, store::task_state::pending,
                   store::because("in flight when the run stopped; asked again"));
}

/// The last stored round: decide on its issues again if its fix tasks were
/// never stored, else queue its unfinished fixes.
void controller::continue_rounds(const std::vector<store::task_record>& fixes,
                                 const stored_files& files) {
  if (run_.rounds.empty()) {
    start_round();
    return;
  }
  if (fixes.empty()) {
    std::vector<msg::review_issue> issues;
    for (const auto& i : run_.issues)
      if (i.round == run_.round)
        issues.push_back(i);
    decide(std::move(issues));
    return;
  }
  enter_phase(msg::run_phase::fixing, "round " + std::to_string(run_.round) + ": continuing its fixes");
  for (const auto& f : fixes) {
    if (f.state == store::task_state::done || f.state == store::task_state::failed)
      continue;
    if (f.state == store::task_state::assigned) {
      bool landed = false;
      if (!settle_in_flight(f.spec.id, f.spec.path, files, landed))
        return;
      if (landed) {
        run_.rounds.back().fixes_applied += 1;
        continue;
      }
    }
    msg::review_issue issue;
    issue.file = f.spec.path;
    issue.problem = f.spec.description;
    issue.instructions = f.spec.instructions;
    issue.edit = msg::parse_edit_hint(f.spec.edit).value_or(msg::edit_kind::none);
    issue.round = run_.round;
    fix_queue_[issue.file].push_back({std::move(issue), f.spec.id});
  }
  pump_fixes();
}

/// Plans a new run, or picks up a stored one where it stopped.
void controller::start_or_continue() {
  std::string err;
  auto restored = restore_run(store_, run_.run_id, settings_->retry, err);
  if (!restored) {
    finish(outcome::failed, "cannot read the run from the store: " + err);
    return;
  }
  run_.usage_by_role = std::move(restored->run.usage_by_role);
  // Earlier sessions' time per phase, as their last phase event left it.
  if (auto events = store_.read_events(run_.run_id); events)
    if (auto last = last_phase(*events))
      phases_.seed(std::move(last->totals));
  if (!restored->planned) {
    if (continue_approval())  // a proposal waits for the user (run --approve-plan)
      return;
    ask_for_plan({});
    return;
  }
  auto& r = restored->run;
  run_.plan_attempts = 1;
  run_.replace_tasks(std::move(r.tasks));
  run_.graph = std::move(r.graph);
  run_.task_records = std::move(r.task_records);
  run_.round = r.round;
  run_.rounds = std::move(r.rounds);
  run_.issues = std::move(r.issues);
  run_.issue_seen = std::move(r.issue_seen);
  run_.open_findings = std::move(r.open_findings);
  run_.changed_paths = std::move(r.changed_paths);
  auto files = current_files();
  auto& graph = *run_.graph;
  for (const auto& id : restored->in_flight) {
    auto idx = graph.index_of(id);
    if (!idx)
      continue;
    graph.requeue(*idx);
    bool landed = false;
    if (!settle_in_flight(id, run_.tasks[*idx].path, files, landed))
      return;
    if (landed) {
      graph.mark_done(*idx);
      run_.task_records[*idx].finished_ms = files[run_.tasks[*idx].path].at_ms;
    }
  }
  auto done = graph.count(graph_task_state::done);
  spdlog::info("run={} continuing: {} of {} tasks done, {} were in flight, {} review round(s) "
               "stored",
               run_.run_id, done, graph.size(), restored->in_flight.size(), run_.round);
  progress(msg::progress_kind::plan, {}, {},
           "continuing: " + std::to_string(done) + "/" + std::to_string(graph.size()) + " done");
  if (!graph.finished()) {
    enter_phase(msg::run_phase::coding, "continuing: " + std::to_string(done) + "/"
                            + std::to_string(graph.size()) + " done");
    exports_changed();
    dispatch();
    return;
  }
  continue_rounds(restored->last_round_fixes.fixes, files);
}

}  // namespace codehive::planner
