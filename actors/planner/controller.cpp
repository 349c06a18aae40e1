// The run controller's frame: starting a run, the end of a run (one outcome,
// one table), progress events, exports, and the store-write helper every part
// uses. See controller.hpp for the parts.
#include "actors/planner/controller.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>

#include <spdlog/spdlog.h>

#include "actors/exports.hpp"
#include "actors/planner/context_map.hpp"
#include "actors/run_restore.hpp"
#include "storage/run_store.hpp"
#include "workspace/path_rules.hpp"

namespace codehive::planner {

controller::controller(std::shared_ptr<const pipeline_settings> settings, store::run_store& store,
                       std::string model, clock_fn clock)
  : settings_(std::move(settings)), store_(store), model_(std::move(model)),
    clock_(std::move(clock)) {
}

std::int64_t controller::now() const {
  if (clock_)
    return clock_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::vector<command> controller::take_commands() {
  // The end of an event: its transitions are durable before any of its
  // commands goes out (a failed commit has replaced them with the end's).
  commit_moves();
  moves_lost_ = false;
  std::vector<command> out;
  out.swap(out_);
  return out;
}

void controller::emit(command c) {
  if (moves_lost_)
    return;  // the event's transitions were not stored: nothing may act on them
  out_.push_back(std::move(c));
}

void controller::exports_changed() {
  // A task's completion costs O(1) here; the O(tasks) render happens at most
  // once per exports_delay_ms() (on_exports_due), and once at the end.
  exports_dirty_ = true;
  if (!exports_scheduled_ && !stopping_) {
    exports_scheduled_ = true;
    emit(schedule_exports{exports_delay_ms()});
  }
}

std::int64_t controller::exports_delay_ms() const {
  // The render costs O(tasks) and a run lasts O(tasks): a fixed interval
  // would make the exports' cost per task grow with the plan.
  auto per_tasks = static_cast<std::int64_t>(run_.tasks.size())
                   * settings_->exports_interval_per_task_us / 1000;
  return std::max(settings_->exports_interval_ms, per_tasks);
}

void controller::on_exports_due() {
  exports_scheduled_ = false;
  if (!exports_dirty_ || stopping_ || !active_)
    return;  // the end of the run writes them anyway
  exports_dirty_ = false;
  emit(write_exports{render_exports(run_, now())});
}

void controller::progress(msg::progress_kind kind, std::string task_id, std::string path,
                          std::string detail) {
  if (!report_progress_ || !active_)
    return;  // e.g. a worker offered before the run started
  msg::progress_event ev;
  ev.run_id = run_.run_id;
  ev.kind = kind;
  ev.task_id = std::move(task_id);
  ev.path = std::move(path);
  ev.detail = std::move(detail);
  if (run_.graph) {
    ev.tasks_done = run_.graph->count(graph_task_state::done);
    ev.tasks_total = static_cast<std::int32_t>(run_.graph->size());
  }
  ev.coders_busy = pool_.busy_coders() + escalations_in_flight_;
  ev.round = run_.round;
  std::tie(ev.tokens, ev.cost_usd) = spent();
  ev.elapsed_ms = now() - run_.started_ms;
  ev.coder_tokens_per_s = run_.coder_tokens_per_s;
  emit(report_progress{std::move(ev)});
}

void controller::enter_phase(msg::run_phase phase, const std::string& detail) {
  if (run_.phase == phase)
    return;  // e.g. a plan asked for again
  if (!commit_moves())
    return;
  auto at = now();
  const std::string name{to_string(phase)};
  phases_.enter(name, at);
  run_.phase = phase;
  // Only a record (the summary, `status --watch`): a store that refuses it
  // stops the run at its next state change, not here in the middle of one.
  if (auto e = store_.append_event(run_.run_id, phase_event,
                                   phase_event_json(name, detail, phases_.totals(at)));
      !e)
    spdlog::warn("run={} run store: cannot record the phase {}: {}", run_.run_id, name,
                 e.err().describe());
}

bool controller::store_failed(const std::string& why, const char* what) {
  // Nearly always the disk (full, read-only, gone): the store refuses every
  // later write too, and what it holds is consistent, so the run resumes
  // once there is room.
  finish(outcome::local_io, std::string{"run store: cannot record the "} + what + ": " + why);
  return false;
}

// Staged, not written: one synced batch per event instead of one per move
// (a task's done and the freed coder's next assignment: one fsync, not two).
// A move can then only fail at commit_moves, which drops every command of
// the event and ends the run, so the callers need no early legality check:
// what they change after a staged move (graph, jobs, slots) is acted on by
// no command, and the store keeps the state a resumed run starts from. (An
// illegal move is a controller bug the store refuses, as it did before.) Only
// the run's final exports, rendered from memory, may show the lost event's
// moves; a resume settles those tasks from the store (a done whose version
// landed is done, an assignment is asked again).
bool controller::move_task(const std::string& id, store::task_state to,
                           const store::transition_info& info) {
  if (moves_lost_)
    return false;
  staged_.push_back({id, to, info});
  return true;
}

void controller::announce(std::string line, bool warn) {
  announced_.emplace_back(std::move(line), warn);
}

bool controller::commit_moves() {
  if (moves_lost_)
    return false;
  auto lines = std::move(announced_);
  announced_.clear();
  auto moves = std::move(staged_);
  staged_.clear();
  if (!moves.empty()) {
    if (auto r = store_.transitions(run_.run_id, moves); !r) {
      if (stopping_) {
        // Ended earlier: the end's commands wait in out_, and while stopping
        // no command acts on a transition (a late done is only kept for a resume).
        spdlog::warn("run={} run store: cannot record the task states after the end: {}",
                     run_.run_id, r.err().describe());
        return false;
      }
      out_.clear();  // the event's commands act on transitions the store lacks
      store_failed(r.err().describe(), "task state");
      moves_lost_ = true;  // after the end's own commands
      return false;
    }
  }
  for (const auto& [line, warn] : lines) {
    if (warn)
      spdlog::warn("{}", line);
    else
      spdlog::info("{}", line);
  }
  return true;
}

/// Related files: content first (in the order given) while it fits in the
/// settings' budget, then a map of the rest of the project (one-line
/// summaries, planned files included, so the model names things
/// consistently), capped at context_map_entries: files the instructions
/// (`hint`) name first, then the target's folder, then the rest in plan order;
/// within each, files before planned tasks. The cap keeps a prompt the same
/// size whatever the size of the project, and the first two are looked up
/// (context_map), so building it costs O(map entries), not O(project).
std::vector<msg::context_file> controller::build_context(std::vector<msg::context_file> files,
                                                         const msg::context_file& target,
                                                         const std::string& hint) {
  std::vector<msg::context_file> out;
  std::set<std::string> listed{target.path};
  std::size_t budget = settings_->context_chars;
  budget = target.content.size() < budget ? budget - target.content.size() : 0;
  for (auto& f : files) {
    if (!listed.insert(f.path).second)
      continue;
    if (f.has_content && f.content.size() <= budget) {
      budget -= f.content.size();
    } else {
      f.has_content = false;
      f.content.clear();
    }
    out.push_back(std::move(f));
  }
  auto room = settings_->context_map_entries;
  auto add_file = [&](std::size_t i) {
    const auto& rec = run_.files[i];
    if (!rec.deleted && listed.insert(rec.path).second) {
      out.push_back({rec.path, rec.summary, {}, false});
      --room;
    }
  };
  auto add_task = [&](std::size_t i) {
    const auto& t = run_.tasks[i];
    if (t.action != msg::task_action::remove && listed.insert(t.path).second) {
      out.push_back({t.path, "(planned) " + t.description, {}, false});
      --room;
    }
  };
  auto add_all = [&](const std::vector<std::size_t>& places, auto add) {
    for (auto i : places) {
      if (room == 0)
        return;
      add(i);
    }
  };
  context_map_.refresh(run_);
  // Rank 0: what the instructions name, merged into file and plan order.
  context_map::places named;
  for (auto name : names_in(hint))
    if (const auto* p = context_map_.named(name)) {
      named.files.insert(named.files.end(), p->files.begin(), p->files.end());
      named.tasks.insert(named.tasks.end(), p->tasks.begin(), p->tasks.end());
    }
  for (auto* v : {&named.files, &named.tasks}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  add_all(named.files, add_file);
  add_all(named.tasks, add_task);
  // Rank 1: the target's folder.
  if (const auto* p = context_map_.in_folder(folder_of(target.path))) {
    add_all(p->files, add_file);
    add_all(p->tasks, add_task);
  }
  // Rank 2: the rest in plan order; only a project smaller than the map, or
  // one whose first entries are all listed already, reads far here.
  for (std::size_t i = 0; i < run_.files.size() && room > 0; ++i)
    add_file(i);
  for (std::size_t i = 0; i < run_.tasks.size() && room > 0; ++i)
    add_task(i);
  return out;
}

// -- start ----------------------------------------------------------------------

void controller::add_local_slots(std::size_t coders, std::size_t fixers) {
  pool_.add("local", coders, fixers);
  seen_["local"].joined_ms = now();
}

bool controller::start(const msg::run_request& req, bool report) {
  if (active_)
    return false;
  active_ = true;
  stopping_ = false;
  report_progress_ = report;
  run_ = planner_run{};
  run_.run_id = req.run_id;
  run_.request = req.request;
  run_.out_dir = req.out_dir;
  run_.limits = req.limits;
  run_.max_rounds = req.max_rounds;
  run_.started_ms = now();
  phases_ = phase_clock{};
  phases_.enter(std::string{to_string(run_.phase)}, run_.started_ms);  // "starting": until planning or resuming
  approval_required_ = req.approve_plan;
  awaiting_approval_ = false;
  spdlog::info("run={} planner: start: {} coders, {} fixers, max {} rounds, out {}", req.run_id,
               pool_.live_coders(), pool_.live_fixers(), req.max_rounds, req.out_dir);
  emit(list_files{});
  return true;
}

void controller::on_files_listed(std::vector<msg::applied_file> files) {
  if (stopping_)
    return;
  run_.files = std::move(files);
  run_.reindex_files();
  start_or_continue();
}

void controller::on_start_failed(const failure& f) {
  finish(outcome::failed, "file tracker unavailable: " + f.reason);
}

void controller::on_cancel() {
  if (!active_ || stopping_)
    return;
  finish(outcome::cancelled,
         "stopped by the user; `codehive resume " + run_.run_id + "` continues it");
}

void controller::on_deadline() {
  if (!active_ || stopping_)
    return;
  finish(outcome::deadline,
         "time budget of " + std::to_string(run_.limits.max_time_ms / 1000) + " s reached");
}

// -- the end ------------------------------------------------------------------------

void controller::finish(outcome o, std::string message) {
  if (stopping_)
    return;
  // The event's transitions before the run's end; a failed commit ends the
  // run itself (local_io).
  if (!commit_moves())
    return;
  stopping_ = true;
  outcome_ = o;
  const auto& row = row_of(o);
  run_.state = std::string{row.shown};
  run_.exit_code = row.exit_code;
  run_.message = std::move(message);
  run_.phase = msg::run_phase::finished;
  run_.finished_ms = now();
  phases_.stop(run_.finished_ms);
  // Before the run's state, which stays the last event of a finished run. No
  // persisted(): the store may be why the run ends, and this is only a record.
  if (auto e = store_.append_event(run_.run_id, phase_event,
                                   phase_event_json(std::string{to_string(run_.phase)}, run_.state,
                                                    phases_.totals(run_.finished_ms)));
      !e)
    spdlog::debug("run={} run store: cannot record the last phase: {}", run_.run_id,
                  e.err().describe());
  if (auto s = store_.set_run_state(run_.run_id, row.stored, run_.message, run_.exit_code); !s)
    spdlog::error("run={} run store: cannot record the end of the run: {}", run_.run_id,
                  s.err().describe());
  if (row.exit_code == 0)
    spdlog::info("run={} finished: {} ({})", run_.run_id, run_.state, run_.message);
  else
    spdlog::warn("run={} finished: {} (exit {}): {}", run_.run_id, run_.state, row.exit_code,
                 run_.message);
  progress(msg::progress_kind::finished, {}, {}, run_.message);
  // Summaries may still be on their way: the shell waits (bounded) for them.
  emit(collect_final_records{});
}

namespace {

int unresolved_count(const planner_run& run) {
  int n = static_cast<int>(run.open_findings.size());
  if (!run.rounds.empty())
    n += run.rounds.back().issues;
  if (run.graph)
    n += run.graph->count(graph_task_state::failed) + run.graph->count(graph_task_state::skipped);
  return n;
}

}  // namespace

void controller::on_final_records(std::optional<std::vector<msg::applied_file>> files,
                                  std::optional<msg::usage> summarizer) {
  if (!active_)
    return;
  if (files) {
    run_.files = std::move(*files);
    run_.reindex_files();
  }
  // The ledger has every call of every session of this run.
  if (auto ledger = store_.read_ledger(run_.run_id); ledger)
    run_.usage_by_role = usage_from_ledger(*ledger);
  else if (summarizer && summarizer->calls > 0)
    run_.usage_by_role["summarizer"] = *summarizer;
  msg::run_result res;
  res.run_id = run_.run_id;
  res.state = outcome_;
  res.exit_code = run_.exit_code;
  res.message = run_.message;
  res.rounds = run_.round;
  res.unresolved = unresolved_count(run_);
  res.phases = phases_.totals(run_.finished_ms);
  exports_dirty_ = false;
  emit(deliver{render_exports(run_, now()), std::move(res)});
  active_ = false;
}

}  // namespace codehive::planner
