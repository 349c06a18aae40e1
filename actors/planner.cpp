// Planner: supervises one run. Asks the large model for a plan (re-asking with
// the reason when the plan is unusable), keeps the task graph, hands ready
// tasks to free coders (longest remaining path first), retries failed tasks on
// another coder and escalates to the large model, then runs validate -> review
// -> fix rounds until clean, the round limit, or a stuck issue. Stops on the
// token/cost/time budget. All run state lives in state.run (run_state.hpp).
//
// Durability: every state change (plan, task assigned/done/failed, review
// round, fix tasks, the run's end) is written to the run store, synced, BEFORE
// any actor is told or any log line says so. That is why the planner is
// detached: it waits for those writes on its own thread. A run_request for a
// run the store already holds continues it (start_or_continue).
#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <tuple>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/answers.hpp"
#include "actors/exports.hpp"
#include "actors/prompts.hpp"
#include "actors/run_restore.hpp"
#include "actors/run_state.hpp"
#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "actors/worker_pool.hpp"
#include "llm/client.hpp"
#include "messages/error.hpp"
#include "storage/run_store.hpp"
#include "workspace/path_rules.hpp"

namespace codehive {

namespace {

constexpr int escalation_worker = -2;

struct fix_item {
  msg::review_issue issue;
  std::string fix_id;
};

struct planner_state {
  static inline const char* name = "planner";
  client_ptr large;
  settings_ptr settings;
  planner_team team;
  run_state run;
  caf::typed_response_promise<msg::run_result> rp;
  bool active = false;
  bool stopping = false;
  std::uint64_t next_call = 1;
  std::uint64_t plan_call = 0;
  worker_pool pool;                                 // coders and fixers of every node
  std::uint64_t next_ticket = 0;
  std::map<std::uint64_t, std::size_t> open_tasks;   // ticket -> task waiting for its coder
  std::map<std::uint64_t, fix_item> open_fixes;      // ticket -> fix waiting for its fixer
  int tasks_in_flight = 0;
  int escalations_in_flight = 0;
  std::map<std::string, std::deque<fix_item>> fix_queue;  // per file: one fix at a time
  std::set<std::string> fixing_files;
  int fixes_in_flight = 0;
  bool deadline_hit = false;  // the budget stop came from --max-time
  bool said_waiting = false;  // "no coder available" was logged (until a worker joins)
};

using self_ptr = planner_actor::stateful_pointer<planner_state>;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

void finish(self_ptr self, std::string state, int exit_code, std::string message);

/// Tokens and cost of the whole run so far: the store's ledger has every
/// call of every session and role (the summarizer's included); the planner's
/// own sums stand in only if the store cannot answer.
std::pair<std::int64_t, double> spent(const planner_state& st) {
  if (auto t = st.team.store->ledger_total(st.run.run_id); t)
    return {t->prompt_tokens + t->completion_tokens, t->cost_usd};
  return {st.run.total_tokens(), st.run.total_cost()};
}

void progress(self_ptr self, std::string kind, std::string task_id = {}, std::string path = {},
              std::string detail = {}) {
  auto& st = self->state;
  if (!st.team.progress || !st.active)
    return;  // e.g. a worker offered before the run started
  msg::progress_event ev;
  ev.run_id = st.run.run_id;
  ev.kind = std::move(kind);
  ev.task_id = std::move(task_id);
  ev.path = std::move(path);
  ev.detail = std::move(detail);
  if (st.run.graph) {
    ev.tasks_done = st.run.graph->count(task_state::done);
    ev.tasks_total = static_cast<std::int32_t>(st.run.graph->size());
  }
  ev.coders_busy = st.pool.busy_coders() + st.escalations_in_flight;
  ev.round = st.run.round;
  std::tie(ev.tokens, ev.cost_usd) = spent(st);
  ev.elapsed_ms = now_ms() - st.run.started_ms;
  self->send(st.team.progress, std::move(ev));
}

void write_exports(self_ptr self) {
  auto& st = self->state;
  self->request(st.team.tracker, caf::infinite, atom::exports_v, render_exports(st.run, now_ms()))
    .then([](bool) {}, [](caf::error&) {});
}

/// Adds usage; false (and the run finishing) when a budget is exceeded.
bool account(self_ptr self, const std::string& role, const msg::usage& u) {
  auto& st = self->state;
  if (u.calls > 0 || u.prompt_tokens > 0 || u.completion_tokens > 0) {
    auto& total = st.run.usage_by_role[role];
    add_usage(total, u);
    total.role = role;
  }
  if (st.stopping)
    return false;
  const auto& b = st.run.limits;
  if (b.max_tokens <= 0 && b.max_cost_usd <= 0)
    return true;
  auto [tokens, cost] = spent(st);
  if (b.max_tokens > 0 && tokens > b.max_tokens) {
    finish(self, "budget", 4,
           "token budget exceeded: " + std::to_string(tokens) + " tokens used, limit "
             + std::to_string(b.max_tokens));
    return false;
  }
  if (b.max_cost_usd > 0 && cost > b.max_cost_usd) {
    finish(self, "budget", 4,
           "cost budget exceeded: $" + std::to_string(cost) + " spent, limit $"
             + std::to_string(b.max_cost_usd));
    return false;
  }
  return true;
}

void remember(run_state& run, const msg::applied_file& f) {
  for (auto& x : run.files) {
    if (x.path == f.path) {
      x = f;
      return;
    }
  }
  run.files.push_back(f);
}

bool transport_failure(const caf::error& err) {
  return is(err, ec::model_unreachable) || is(err, ec::model_failed);
}

std::string why(const caf::error& err) {
  auto r = reason_of(err);
  return r.empty() ? describe(err) : r;
}

/// A stable code for the store ("bad_answer", "edit_refused", ...).
std::string code_of(const caf::error& err) {
  if (err.category() == error_category)
    return to_string(static_cast<ec>(err.code()));
  return "error";
}

/// True when the store write worked; otherwise the run stops (exit 5):
/// going on without the store would lose exactly what it is there for.
template <class Result>
bool persisted(self_ptr self, const Result& r, const char* what) {
  if (r)
    return true;
  finish(self, "failed", 5, std::string{"run store: cannot record the "} + what + ": "
                              + r.err().describe());
  return false;
}

bool move_task(self_ptr self, const std::string& id, store::task_state to,
               const store::transition_info& info = {}) {
  auto& st = self->state;
  return persisted(self, st.team.store->transition(st.run.run_id, id, to, info), "task state");
}

/// Related files: content first (in the order given) while it fits in the
/// settings' budget, then one-line summaries of every other file we know of,
/// planned files included, so the model names things consistently.
std::vector<msg::context_file> build_context(const planner_state& st,
                                             std::vector<msg::context_file> files,
                                             const msg::context_file& target) {
  std::vector<msg::context_file> out;
  std::set<std::string> listed{target.path};
  std::size_t budget = st.settings->context_chars;
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
  for (const auto& rec : st.run.files) {
    if (rec.deleted || !listed.insert(rec.path).second)
      continue;
    out.push_back({rec.path, rec.summary, {}, false});
  }
  for (const auto& t : st.run.tasks) {
    if (t.action == "delete" || !listed.insert(t.path).second)
      continue;
    out.push_back({t.path, "(planned) " + t.description, {}, false});
  }
  return out;
}

void add_unique(std::vector<std::string>& xs, const std::string& p) {
  auto norm = ws::normalize_relative(p);
  if (!norm)
    return;
  for (const auto& x : xs)
    if (x == *norm)
      return;
  xs.push_back(*norm);
}

// -- planning -----------------------------------------------------------------

void ask_plan(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  st.run.phase = "planning";
  st.run.plan_attempts += 1;
  auto id = st.next_call++;
  st.plan_call = id;
  spdlog::info("run={} task=plan planner: asking {} for a plan (attempt {})", st.run.run_id,
               st.large->config().spec.model, st.run.plan_attempts);
  progress(self, "plan", {}, {}, "asking for a plan");
  auto handle = caf::actor_cast<planner_actor>(self);
  st.large->chat(plan_prompt(*st.settings, st.run.request, st.run.files, reason),
                 [handle, id](llm::result<llm::chat_response> r) {
                   caf::anon_send(handle, make_reply(id, "planner", std::move(r)));
                 });
}

void dispatch(self_ptr self);

void accept_plan(self_ptr self, std::vector<msg::file_task> tasks, task_graph graph) {
  auto& st = self->state;
  std::vector<store::task_spec> specs;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].path = graph.at(i).spec.path;  // normalized
    specs.push_back(to_store(tasks[i]));
  }
  if (!persisted(self, st.team.store->put_plan(st.run.run_id, specs), "plan"))
    return;
  st.run.tasks = std::move(tasks);
  st.run.graph = std::move(graph);
  st.run.task_records.assign(st.run.tasks.size(), {});
  st.run.phase = "coding";
  spdlog::info("run={} task=plan planner: plan accepted: {} tasks", st.run.run_id,
               st.run.tasks.size());
  for (const auto& t : st.run.tasks)
    spdlog::info("run={} task={} planned: {} {} (depends on: {})", st.run.run_id, t.id, t.action,
                 t.path, t.depends_on.size());
  progress(self, "plan", {}, {}, std::to_string(st.run.tasks.size()) + " tasks");
  write_exports(self);
  dispatch(self);
}

void on_plan_reply(self_ptr self, msg::llm_reply& r) {
  auto& st = self->state;
  st.plan_call = 0;
  if (!account(self, "planner", r.use))
    return;
  std::string reason;
  if (!r.ok) {
    auto code = classify(r.error_code);
    if (code != ec::bad_answer) {
      finish(self, "model_failure", 3, "planner model failed: " + r.error_message);
      return;
    }
    reason = r.error_message;
  } else if (auto plan = parse_plan(r.content); !plan) {
    reason = plan.error;
  } else {
    std::vector<task_spec> specs;
    std::string err;
    for (const auto& t : *plan.value) {
      specs.push_back({t.id, t.path, t.depends_on});
      if (is_fix_task(t.id))
        err = "task id '" + t.id + "' is reserved (ids starting with 'fix:' name review fixes)";
    }
    if (!err.empty()) {
      reason = err;
    } else if (auto graph = task_graph::build(specs, err); graph) {
      accept_plan(self, std::move(*plan.value), std::move(*graph));
      return;
    }
    reason = err;
  }
  spdlog::warn("run={} task=plan planner: plan refused: {}", st.run.run_id, reason);
  if (st.run.plan_attempts >= st.settings->plan_attempts) {
    finish(self, "model_failure", 3,
           "no usable plan after " + std::to_string(st.run.plan_attempts)
             + " attempts; last problem: " + reason);
    return;
  }
  ask_plan(self, "the plan was refused: " + reason);
}

// -- coding -------------------------------------------------------------------
//
// A task in flight holds a ticket from assignment until its coder replies;
// the coder's slot is busy for exactly that long. When a worker node is lost
// (lose_node) its tickets are withdrawn and the tasks go back to the queue; a
// reply that comes later anyway finds no ticket and is dropped. Once the coder
// has replied, the task no longer depends on the worker.

std::string worker_label(const planner_state& st, int worker) {
  if (worker == escalation_worker)
    return "large-model";
  return st.pool.coders.at(static_cast<std::size_t>(worker)).label;
}

/// A worker node's model calls happen on its own model server, out of reach
/// of this process's ledger writer: the planner records them from the usage
/// the reply carries (all attempts of the request in one entry).
void record_remote_usage(self_ptr self, const std::string& node, const msg::usage& u,
                         const std::string& task_id, bool ok) {
  auto& st = self->state;
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
  if (auto r = st.team.store->append_ledger(st.run.run_id, e); !r)
    spdlog::warn("run={} task={} run store: cannot record {}'s model usage: {}", st.run.run_id,
                 task_id, node, r.err().describe());
}

std::string node_of_coder(const planner_state& st, int worker) {
  return worker == escalation_worker ? "local"
                                     : st.pool.coders.at(static_cast<std::size_t>(worker)).node;
}

/// True (and the ticket withdrawn, the slot freed) when this reply is the one
/// the task waits for; false for a reply from a slot given up since.
bool take_reply(planner_state& st, int worker, std::uint64_t ticket) {
  auto it = st.open_tasks.find(ticket);
  if (it == st.open_tasks.end())
    return false;
  st.open_tasks.erase(it);
  if (worker == escalation_worker) {
    st.escalations_in_flight -= 1;
  } else {
    auto& slot = st.pool.coders.at(static_cast<std::size_t>(worker));
    if (slot.ticket == ticket) {
      slot.busy = false;
      slot.ticket = 0;
    }
  }
  return true;
}

void task_failed(self_ptr self, std::size_t idx, const caf::error& err) {
  auto& st = self->state;
  st.tasks_in_flight -= 1;
  if (st.stopping)
    return;
  auto& rec = st.run.task_records[idx];
  const auto& task = st.run.tasks[idx];
  rec.last_error = why(err);
  if (transport_failure(err)) {
    finish(self, "model_failure", 3,
           "model server failed on task " + task.id + " (" + task.path + "): " + rec.last_error);
    return;
  }
  if (!move_task(self, task.id, store::task_state::failed,
                 store::because(rec.last_error, code_of(err))))
    return;
  // A deletion involves no model: asking again elsewhere cannot help.
  auto decision = task.action == "delete" ? (st.run.graph->fail(idx), retry_decision::give_up)
                                          : st.run.graph->record_failure(idx, st.settings->retry);
  if (decision != retry_decision::give_up
      && !move_task(self, task.id, store::task_state::pending, store::because(to_string(decision))))
    return;
  spdlog::warn("run={} task={} {} failed on {}: {} -> {}", st.run.run_id, task.id, task.path,
               rec.worker, rec.last_error, to_string(decision));
  progress(self, decision == retry_decision::give_up ? "task_failed" : "task_retry", task.id,
           task.path, rec.last_error);
  if (decision == retry_decision::give_up)
    rec.finished_ms = now_ms();
  write_exports(self);
  dispatch(self);
}

void task_done(self_ptr self, std::size_t idx, const msg::applied_file& f) {
  auto& st = self->state;
  st.tasks_in_flight -= 1;
  // Recorded even when the run is stopping (a budget hit by this very answer):
  // the edit was paid for and is on disk, a resume must not ask for it again.
  if (!move_task(self, st.run.tasks[idx].id, store::task_state::done, store::producing(f.hash)))
    return;
  st.run.graph->mark_done(idx);
  auto& rec = st.run.task_records[idx];
  rec.finished_ms = now_ms();
  remember(st.run, f);
  st.run.changed_paths.insert(f.path);
  if (st.stopping)
    return;
  const auto& task = st.run.tasks[idx];
  spdlog::info("run={} task={} done: {} v{} by {} in {} ms", st.run.run_id, task.id, f.path,
               f.version, rec.worker, rec.finished_ms - rec.started_ms);
  progress(self, "task_done", task.id, task.path, f.summary);
  write_exports(self);
  dispatch(self);
}

void apply_edit(self_ptr self, std::size_t idx, msg::file_edit e) {
  auto& st = self->state;
  self->request(st.team.tracker, caf::infinite, std::move(e))
    .then([self, idx](msg::applied_file& f) { task_done(self, idx, f); },
          [self, idx](caf::error& err) { task_failed(self, idx, err); });
}

/// Sends the task to its coder once the related files are read.
void ask_coder(self_ptr self, std::size_t idx, int worker, std::uint64_t ticket,
               std::vector<msg::context_file> files) {
  auto& st = self->state;
  msg::code_request req;
  req.run_id = st.run.run_id;
  req.request = st.run.request;
  req.task = st.run.tasks[idx];
  req.target = files.front();
  files.erase(files.begin());
  req.context = build_context(st, std::move(files), req.target);
  req.previous_error = st.run.task_records[idx].last_error;
  auto coder = worker == escalation_worker
                 ? st.team.escalation
                 : st.pool.coders.at(static_cast<std::size_t>(worker)).handle;
  auto role = worker == escalation_worker ? "coder_escalated" : "coder";
  self->request(coder, caf::infinite, std::move(req))
    .then(
      [self, idx, worker, ticket, role](msg::file_edit& e) {
        if (!take_reply(self->state, worker, ticket))
          return;
        record_remote_usage(self, node_of_coder(self->state, worker), e.use,
                            self->state.run.tasks[idx].id, true);
        // Applied even past the budget: it is paid for (task_done keeps it).
        account(self, role, e.use);
        apply_edit(self, idx, std::move(e));
      },
      [self, idx, worker, ticket, role](caf::error& err) {
        if (!take_reply(self->state, worker, ticket))
          return;
        record_remote_usage(self, node_of_coder(self->state, worker), usage_of(err),
                            self->state.run.tasks[idx].id, false);
        if (!account(self, role, usage_of(err))) {
          self->state.tasks_in_flight -= 1;
          return;
        }
        task_failed(self, idx, err);
      });
}

void start_task(self_ptr self, std::size_t idx, int worker) {
  auto& st = self->state;
  auto& graph = *st.run.graph;
  auto label = worker_label(st, worker);
  if (!move_task(self, st.run.tasks[idx].id, store::task_state::assigned, store::by_worker(label)))
    return;
  graph.mark_running(idx, worker);
  auto& rec = st.run.task_records[idx];
  rec.attempts += 1;
  if (rec.started_ms == 0)
    rec.started_ms = now_ms();
  rec.worker = label;
  auto ticket = ++st.next_ticket;
  st.open_tasks[ticket] = idx;
  if (worker == escalation_worker) {
    st.escalations_in_flight += 1;
  } else {
    auto& slot = st.pool.coders.at(static_cast<std::size_t>(worker));
    slot.busy = true;
    slot.ticket = ticket;
  }
  st.tasks_in_flight += 1;
  const auto& task = st.run.tasks[idx];
  spdlog::info("run={} task={} start: {} {} on {} (attempt {})", st.run.run_id, task.id,
               task.action, task.path, rec.worker, rec.attempts);
  progress(self, "task_start", task.id, task.path, rec.worker);
  if (task.action == "delete") {
    take_reply(st, worker, ticket);  // no model involved
    msg::file_edit e;
    e.run_id = st.run.run_id;
    e.task_id = task.id;
    e.path = task.path;
    e.action = "delete";
    apply_edit(self, idx, std::move(e));
    return;
  }
  std::vector<std::string> paths{task.path};
  for (const auto& p : graph.dependency_paths(idx))
    add_unique(paths, p);
  for (const auto& p : task.context_paths)
    add_unique(paths, p);
  self->request(st.team.tracker, caf::infinite, atom::read_v, paths)
    .then(
      [self, idx, worker, ticket](std::vector<msg::context_file>& files) {
        auto& st = self->state;
        if (st.open_tasks.count(ticket) == 0)
          return;  // its worker was lost meanwhile; the task is queued again
        if (st.stopping) {
          take_reply(st, worker, ticket);
          st.tasks_in_flight -= 1;
          return;
        }
        ask_coder(self, idx, worker, ticket, std::move(files));
      },
      [self, idx, worker, ticket](caf::error& err) {
        if (!take_reply(self->state, worker, ticket))
          return;
        task_failed(self, idx, err);
      });
}

void start_round(self_ptr self);

void dispatch(self_ptr self) {
  auto& st = self->state;
  if (st.stopping || !st.run.graph)
    return;
  auto& graph = *st.run.graph;
  bool again = true;
  while (again) {
    again = false;
    for (auto idx : graph.ready()) {
      if (st.stopping)
        return;  // a store write failed
      const auto& task = st.run.tasks[idx];
      if (task.type == "folder") {
        // Folders appear with their files; nothing to ask a model.
        if (!move_task(self, task.id, store::task_state::assigned, store::by_worker("folder"))
            || !move_task(self, task.id, store::task_state::done))
          return;
        graph.mark_done(idx);
        st.run.task_records[idx].finished_ms = now_ms();
        again = true;
        continue;
      }
      const auto& node = graph.at(idx);
      if (node.escalated) {
        start_task(self, idx, escalation_worker);
        continue;
      }
      int pick = st.pool.free_coder(node.last_worker);
      if (pick < 0)
        continue;  // all coders busy (or none joined yet); escalated tasks may still go
      start_task(self, idx, pick);
    }
  }
  if (graph.finished() && st.tasks_in_flight == 0) {
    start_round(self);
  } else if (st.tasks_in_flight == 0 && st.pool.live_coders() == 0 && !st.said_waiting) {
    // A coordinator without local coders, or every worker lost: say so once.
    st.said_waiting = true;
    spdlog::warn("run={} no coder available: waiting for a worker to join", st.run.run_id);
    progress(self, "waiting", {}, {}, "no coder available: waiting for a worker to join");
  }
}

// -- review rounds --------------------------------------------------------------

std::vector<std::string> live_changed_paths(const run_state& run) {
  std::vector<std::string> out;
  for (const auto& p : run.changed_paths) {
    bool deleted = false;
    for (const auto& f : run.files)
      if (f.path == p && f.deleted)
        deleted = true;
    if (!deleted)
      out.push_back(p);
  }
  return out;
}

int unresolved_count(const run_state& run) {
  int n = static_cast<int>(run.open_findings.size());
  if (!run.rounds.empty())
    n += run.rounds.back().issues;
  if (run.graph)
    n += run.graph->count(task_state::failed) + run.graph->count(task_state::skipped);
  return n;
}

void pump_fixes(self_ptr self);

/// The fix no longer occupies its file (one fix per file at a time).
void fix_finished(self_ptr self, const std::string& file) {
  auto& st = self->state;
  st.fixing_files.erase(file);
  st.fixes_in_flight -= 1;
}

/// As take_reply, for fixers.
bool take_fix_reply(planner_state& st, int fixer, std::uint64_t ticket) {
  auto it = st.open_fixes.find(ticket);
  if (it == st.open_fixes.end())
    return false;
  st.open_fixes.erase(it);
  auto& slot = st.pool.fixers.at(static_cast<std::size_t>(fixer));
  if (slot.ticket == ticket) {
    slot.busy = false;
    slot.ticket = 0;
  }
  return true;
}

/// Related files of a fix: the file's plan neighbours (dependencies, context,
/// and the tasks depending on it); without a plan entry, the other changed files.
std::vector<std::string> fix_context_paths(const planner_state& st, const std::string& file) {
  std::vector<std::string> paths{file};
  bool planned = false;
  if (st.run.graph) {
    for (std::size_t i = 0; i < st.run.tasks.size(); ++i) {
      const auto& t = st.run.tasks[i];
      if (t.path == file) {
        planned = true;
        for (const auto& p : st.run.graph->dependency_paths(i))
          add_unique(paths, p);
        for (const auto& p : t.context_paths)
          add_unique(paths, p);
      } else {
        for (const auto& p : st.run.graph->dependency_paths(i))
          if (p == file)
            add_unique(paths, t.path);
      }
    }
  }
  if (!planned)
    for (const auto& p : live_changed_paths(st.run))
      add_unique(paths, p);
  return paths;
}

/// A fix the tracker could not apply, or a fixer that gave no usable edit.
void fix_failed(self_ptr self, const fix_item& item, const std::string& reason,
                const std::string& code) {
  auto& st = self->state;
  if (!move_task(self, item.fix_id, store::task_state::failed, store::because(reason, code)))
    return;
  st.run.rounds.back().fixes_failed += 1;
  spdlog::warn("run={} task={} fix failed: {}", st.run.run_id, item.fix_id, reason);
  progress(self, "fix_failed", item.fix_id, item.issue.file, reason);
  pump_fixes(self);
}

void apply_fix(self_ptr self, const fix_item& item, msg::file_edit e) {
  self->request(self->state.team.tracker, caf::infinite, std::move(e))
    .then(
      [self, item](msg::applied_file& f) {
        auto& st = self->state;
        fix_finished(self, item.issue.file);
        // Recorded even when stopping: the fix was paid for (as task_done).
        if (!move_task(self, item.fix_id, store::task_state::done, store::producing(f.hash)))
          return;
        remember(st.run, f);
        st.run.changed_paths.insert(f.path);
        st.run.rounds.back().fixes_applied += 1;
        if (st.stopping)
          return;
        spdlog::info("run={} task={} fix applied: {} v{}", st.run.run_id, item.fix_id, f.path,
                     f.version);
        progress(self, "fix_done", item.fix_id, f.path, f.summary);
        pump_fixes(self);
      },
      [self, item](caf::error& err) {
        fix_finished(self, item.issue.file);
        if (!self->state.stopping)
          fix_failed(self, item, "the tracker refused the edit: " + why(err), code_of(err));
      });
}

void ask_fixer(self_ptr self, const fix_item& item, int fixer, std::uint64_t ticket,
               std::vector<msg::context_file> files) {
  auto& st = self->state;
  msg::fix_request req;
  req.run_id = st.run.run_id;
  req.fix_id = item.fix_id;
  req.request = st.run.request;
  req.issue = item.issue;
  req.target = files.front();
  files.erase(files.begin());
  req.related = build_context(st, std::move(files), req.target);
  self->request(st.pool.fixers.at(static_cast<std::size_t>(fixer)).handle, caf::infinite,
                std::move(req))
    .then(
      [self, item, fixer, ticket](msg::file_edit& e) {
        if (!take_fix_reply(self->state, fixer, ticket))
          return;
        record_remote_usage(self, self->state.pool.fixers.at(static_cast<std::size_t>(fixer)).node,
                            e.use, item.fix_id, true);
        account(self, "fixer", e.use);  // applied even past the budget: it is paid for
        apply_fix(self, item, std::move(e));
      },
      [self, item, fixer, ticket](caf::error& err) {
        if (!take_fix_reply(self->state, fixer, ticket))
          return;
        record_remote_usage(self, self->state.pool.fixers.at(static_cast<std::size_t>(fixer)).node,
                            usage_of(err), item.fix_id, false);
        fix_finished(self, item.issue.file);
        if (!account(self, "fixer", usage_of(err)))
          return;
        if (transport_failure(err)) {
          finish(self, "model_failure", 3, "fixer model failed: " + why(err));
          return;
        }
        fix_failed(self, item, why(err), code_of(err));
      });
}

void start_fix(self_ptr self, fix_item item, int fixer) {
  auto& st = self->state;
  auto& slot = st.pool.fixers.at(static_cast<std::size_t>(fixer));
  if (!move_task(self, item.fix_id, store::task_state::assigned, store::by_worker(slot.label)))
    return;
  auto ticket = ++st.next_ticket;
  st.open_fixes[ticket] = item;
  slot.busy = true;
  slot.ticket = ticket;
  st.fixing_files.insert(item.issue.file);
  st.fixes_in_flight += 1;
  const auto& file = item.issue.file;
  spdlog::info("run={} task={} fix: {} on {}: {}", st.run.run_id, item.fix_id, file, slot.label,
               item.issue.problem);
  progress(self, "fix_start", item.fix_id, file, item.issue.problem);
  self->request(st.team.tracker, caf::infinite, atom::read_v, fix_context_paths(st, file))
    .then(
      [self, item, fixer, ticket](std::vector<msg::context_file>& files) {
        auto& st = self->state;
        if (st.open_fixes.count(ticket) == 0)
          return;  // its worker was lost meanwhile; the fix is queued again
        if (st.stopping) {
          take_fix_reply(st, fixer, ticket);
          fix_finished(self, item.issue.file);
          return;
        }
        ask_fixer(self, item, fixer, ticket, std::move(files));
      },
      [self, item, fixer, ticket](caf::error& err) {
        if (!take_fix_reply(self->state, fixer, ticket))
          return;
        fix_finished(self, item.issue.file);
        fix_failed(self, item, "cannot read the files for the fix: " + why(err), code_of(err));
      });
}

void pump_fixes(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  for (auto& [file, queue] : st.fix_queue) {
    if (queue.empty() || st.fixing_files.count(file) > 0)
      continue;
    int free = st.pool.free_fixer();
    if (free < 0)
      break;  // all busy, or none joined yet: a free or joining fixer pumps again
    auto item = std::move(queue.front());
    queue.pop_front();
    start_fix(self, std::move(item), free);
  }
  bool queued = false;
  for (const auto& [file, queue] : st.fix_queue)
    queued = queued || !queue.empty();
  if (!queued && st.fixes_in_flight == 0) {
    st.fix_queue.clear();
    write_exports(self);
    start_round(self);
  }
}

std::string issue_key(const msg::review_issue& i) {
  return i.file + "|" + i.problem;
}

void decide(self_ptr self, std::vector<msg::review_issue> issues);

void on_reviewed(self_ptr self, msg::review_result& result) {
  auto& st = self->state;
  if (!account(self, "reviewer", result.use))
    return;
  auto& round = st.run.rounds.back();
  std::vector<msg::review_issue> issues;
  for (auto& i : result.issues) {
    auto norm = ws::normalize_relative(i.file);
    if (!norm) {
      spdlog::warn("run={} task=review dropping issue for unusable path '{}'", st.run.run_id,
                   i.file);
      continue;
    }
    i.file = *norm;
    i.round = st.run.round;
    issues.push_back(std::move(i));
  }
  // Findings the reviewer did not turn into issues still need fixing.
  if (issues.empty()) {
    for (const auto& f : round.validation.findings) {
      if (f.file.empty())
        continue;
      msg::review_issue i;
      i.file = f.file;
      i.problem = "[" + f.check + "] " + f.message;
      i.instructions = "Fix the problem the automatic check '" + f.check + "' reported"
                       + (f.line > 0 ? " at line " + std::to_string(f.line) : std::string{})
                       + ": " + f.message + ". Change only what is needed.";
      i.round = st.run.round;
      issues.push_back(std::move(i));
    }
  }
  store::review_round stored;
  stored.round = static_cast<std::uint32_t>(st.run.round);
  for (const auto& i : issues)
    stored.issues.push_back({i.file, i.problem, i.instructions});
  stored.findings_json = findings_to_json(round.validation.findings);
  if (!persisted(self, st.team.store->put_review_round(st.run.run_id, stored), "review round"))
    return;
  round.issues = static_cast<int>(issues.size());
  for (const auto& i : issues)
    st.run.issues.push_back(i);
  spdlog::info("run={} task=review round {}: {} findings, {} issues", st.run.run_id,
               st.run.round, round.validation.findings.size(), issues.size());
  progress(self, "review", {}, {}, std::to_string(issues.size()) + " issues");
  write_exports(self);
  decide(self, std::move(issues));
}

/// What the last round's issues mean: finished (clean, or unresolved at the
/// round limit / with an issue that keeps coming back), or fix tasks, which
/// are stored before any fixer hears of them.
void decide(self_ptr self, std::vector<msg::review_issue> issues) {
  auto& st = self->state;
  auto& round = st.run.rounds.back();
  if (issues.empty() && round.validation.findings.empty()) {
    auto failed = st.run.graph->count(task_state::failed) + st.run.graph->count(task_state::skipped);
    if (failed > 0)
      finish(self, "unresolved", 1,
             std::to_string(failed) + " task(s) could not be completed; the rest is clean");
    else
      finish(self, "done", 0, "all files written; validators and reviewer are clean");
    return;
  }
  if (issues.empty()) {
    finish(self, "unresolved", 1,
           std::to_string(round.validation.findings.size())
             + " validator finding(s) without a file to fix");
    return;
  }
  if (st.run.round - 1 >= st.run.max_rounds) {
    finish(self, "unresolved", 1,
           std::to_string(issues.size()) + " issue(s) left after " + std::to_string(st.run.max_rounds)
             + " fix round(s)");
    return;
  }
  for (const auto& i : issues) {
    auto seen = ++st.run.issue_seen[issue_key(i)];
    if (seen > st.settings->same_issue_limit) {
      finish(self, "unresolved", 1,
             "the same issue in " + i.file + " came back unchanged "
               + std::to_string(seen - 1) + " times; stopping: " + i.problem);
      return;
    }
  }
  st.run.phase = "fixing";
  std::vector<fix_item> items;
  std::vector<store::task_spec> specs;
  for (auto& i : issues) {
    auto id = fix_task_id(st.run.round, static_cast<int>(items.size()) + 1);
    specs.push_back(fix_task_spec(i, id));
    items.push_back({std::move(i), std::move(id)});
  }
  if (!persisted(self, st.team.store->put_plan(st.run.run_id, specs), "fix tasks"))
    return;
  for (auto& item : items)
    st.fix_queue[item.issue.file].push_back(std::move(item));
  pump_fixes(self);
}

void review(self_ptr self) {
  auto& st = self->state;
  st.run.phase = "reviewing";
  progress(self, "review", {}, {}, "reviewing");
  self->request(st.team.tracker, caf::infinite, atom::read_v, live_changed_paths(st.run))
    .then(
      [self](std::vector<msg::context_file>& files) {
        auto& st = self->state;
        if (st.stopping)
          return;
        msg::review_request req;
        req.run_id = st.run.run_id;
        req.request = st.run.request;
        req.round = st.run.round;
        // Content while it fits the large model's window, summaries after.
        auto budget = st.settings->review_chars;
        for (auto& f : files) {
          if (f.has_content && f.content.size() <= budget) {
            budget -= f.content.size();
          } else if (f.has_content) {
            f.has_content = false;
            f.content.clear();
          }
        }
        req.files = std::move(files);
        req.findings = st.run.rounds.back().validation.findings;
        self->request(st.team.reviewer, caf::infinite, std::move(req))
          .then([self](msg::review_result& r) { on_reviewed(self, r); },
                [self](caf::error& err) {
                  if (!account(self, "reviewer", usage_of(err)))
                    return;
                  if (transport_failure(err))
                    finish(self, "model_failure", 3, "reviewer model failed: " + why(err));
                  else
                    finish(self, "unresolved", 1, "the reviewer gave no usable answer: " + why(err));
                });
      },
      [self](caf::error& err) { finish(self, "failed", 5, "cannot read files: " + why(err)); });
}

void start_round(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  auto files = live_changed_paths(st.run);
  if (files.empty()) {
    finish(self, "model_failure", 3, "no file could be written: every task failed");
    return;
  }
  st.run.round += 1;
  st.run.rounds.push_back({});
  st.run.rounds.back().round = st.run.round;
  st.run.phase = "validating";
  spdlog::info("run={} task=review round {}: validating {} files", st.run.run_id, st.run.round,
               files.size());
  progress(self, "validate", {}, {}, "round " + std::to_string(st.run.round));
  self->request(st.team.validator, caf::infinite, atom::validate_v, std::move(files))
    .then(
      [self](msg::validation_report& rep) {
        auto& st = self->state;
        if (st.stopping)
          return;
        for (const auto& f : rep.findings)
          spdlog::info("run={} task=validate finding [{}] {}:{}: {}", st.run.run_id, f.check,
                       f.file, f.line, f.message);
        st.run.open_findings = rep.findings;
        st.run.rounds.back().validation = std::move(rep);
        review(self);
      },
      [self](caf::error& err) { finish(self, "failed", 5, "validator failed: " + why(err)); });
}

// -- the end ----------------------------------------------------------------------

void deliver(self_ptr self) {
  auto& st = self->state;
  msg::run_result res;
  res.run_id = st.run.run_id;
  res.state = st.run.state;
  res.exit_code = st.run.exit_code;
  res.message = st.run.message;
  res.rounds = st.run.round;
  res.unresolved = unresolved_count(st.run);
  st.rp.deliver(std::move(res));
  st.active = false;
}

store::run_state stored_state(const planner_state& st) {
  const auto& s = st.run.state;
  if (s == "done" || s == "unresolved")
    return store::run_state::done;
  if (s == "budget")
    return st.deadline_hit ? store::run_state::deadline_stopped : store::run_state::budget_stopped;
  if (s == "cancelled")
    return store::run_state::cancelled;
  return store::run_state::failed;  // model_failure, failed: resumable
}

void finish(self_ptr self, std::string state, int exit_code, std::string message) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  st.run.state = std::move(state);
  st.run.exit_code = exit_code;
  st.run.message = std::move(message);
  st.run.phase = "finished";
  st.run.finished_ms = now_ms();
  if (auto s = st.team.store->set_run_state(st.run.run_id, stored_state(st), st.run.message,
                                            st.run.exit_code);
      !s)
    spdlog::error("run={} run store: cannot record the end of the run: {}", st.run.run_id,
                  s.err().describe());
  if (exit_code == 0)
    spdlog::info("run={} finished: {} ({})", st.run.run_id, st.run.state, st.run.message);
  else
    spdlog::warn("run={} finished: {} (exit {}): {}", st.run.run_id, st.run.state, exit_code,
                 st.run.message);
  progress(self, "finished", {}, {}, st.run.message);
  // Summaries may still be on their way; wait (bounded) so the exports have them.
  auto write_and_deliver = [self] {
    auto& st = self->state;
    self->request(st.team.tracker, std::chrono::seconds(30), atom::exports_v,
                  render_exports(st.run, now_ms()))
      .then([self](bool) { deliver(self); }, [self](caf::error&) { deliver(self); });
  };
  self->request(st.team.tracker, std::chrono::seconds(60), atom::flush_v)
    .then(
      [self, write_and_deliver](std::vector<msg::applied_file>& files) {
        self->state.run.files = std::move(files);
        self->request(self->state.team.tracker, std::chrono::seconds(10), atom::usage_v)
          .then(
            [self, write_and_deliver](msg::usage& u) {
              auto& st = self->state;
              // The ledger has every call of every session of this run.
              if (auto ledger = st.team.store->read_ledger(st.run.run_id); ledger)
                st.run.usage_by_role = usage_from_ledger(*ledger);
              else if (u.calls > 0)
                st.run.usage_by_role["summarizer"] = u;
              write_and_deliver();
            },
            [write_and_deliver](caf::error&) { write_and_deliver(); });
      },
      [write_and_deliver](caf::error&) { write_and_deliver(); });
}

// -- worker nodes ------------------------------------------------------------------

/// New or freed capacity: hand out whatever waits in the current phase.
void put_to_work(self_ptr self) {
  auto& st = self->state;
  if (!st.active || st.stopping)
    return;
  if (st.run.phase == "coding")
    dispatch(self);
  else if (st.run.phase == "fixing")
    pump_fixes(self);
}

/// Everything `node` was doing goes back to the queue (stored first); its
/// slots take no more work. A node that rejoins comes back as new slots.
void lose_node(self_ptr self, const std::string& node, const std::string& why_lost) {
  auto& st = self->state;
  auto tickets = st.pool.lose_node(node);
  spdlog::warn("run={} worker {} lost: {}; {} request(s) in flight go back to the queue",
               st.run.run_id.empty() ? "-" : st.run.run_id, node, why_lost, tickets.size());
  progress(self, "worker_lost", {}, {}, node);
  for (auto ticket : tickets) {
    if (auto t = st.open_tasks.find(ticket); t != st.open_tasks.end()) {
      auto idx = t->second;
      st.open_tasks.erase(t);
      st.tasks_in_flight -= 1;
      const auto& task = st.run.tasks[idx];
      if (!move_task(self, task.id, store::task_state::pending,
                     store::because("worker " + node + " lost")))
        return;
      st.run.graph->requeue(idx);
      spdlog::info("run={} task={} {} queued again (worker {} lost)", st.run.run_id, task.id,
                   task.path, node);
    } else if (auto f = st.open_fixes.find(ticket); f != st.open_fixes.end()) {
      auto item = std::move(f->second);
      st.open_fixes.erase(f);
      fix_finished(self, item.issue.file);
      if (!move_task(self, item.fix_id, store::task_state::pending,
                     store::because("worker " + node + " lost")))
        return;
      spdlog::info("run={} task={} fix queued again (worker {} lost)", st.run.run_id,
                   item.fix_id, node);
      st.fix_queue[item.issue.file].push_front(std::move(item));
    }
  }
  put_to_work(self);
}

/// New or freed capacity: hand out whatever waits.


void on_offer(self_ptr self, msg::worker_offer& offer) {
  auto& st = self->state;
  // A node that rejoins (its old connection gone) replaces its old slots.
  bool known = false;
  for (const auto& s : st.pool.coders)
    known = known || (s.node == offer.node && s.alive);
  for (const auto& s : st.pool.fixers)
    known = known || (s.node == offer.node && s.alive);
  if (known)
    lose_node(self, offer.node, "it joined again");
  std::vector<coder_actor> coders;
  for (auto& p : offer.coders)
    if (auto h = caf::actor_cast<coder_actor>(p))
      coders.push_back(h);
  std::vector<fixer_actor> fixers;
  for (auto& p : offer.fixers)
    if (auto h = caf::actor_cast<fixer_actor>(p))
      fixers.push_back(h);
  for (const auto& h : coders)
    self->monitor(h);
  for (const auto& h : fixers)
    self->monitor(h);
  st.pool.add(offer.node, coders, fixers);
  st.said_waiting = false;
  spdlog::info("run={} worker {} offers {} coders and {} fixers ({}); {} coders, {} fixers in all",
               st.run.run_id.empty() ? "-" : st.run.run_id, offer.node, coders.size(), fixers.size(), offer.model,
               st.pool.live_coders(), st.pool.live_fixers());
  progress(self, "worker_joined", {}, {}, offer.node);
  put_to_work(self);
}

// -- continuing a stored run ------------------------------------------------------

/// Current version of every path the store knows for this run, by path.
std::map<std::string, store::file_version> stored_files(self_ptr self) {
  auto& st = self->state;
  std::map<std::string, store::file_version> out;
  if (auto files = st.team.store->list_files(st.run.run_id, true); files)
    for (auto& f : *files)
      out[f.path] = std::move(f);
  return out;
}

/// A task (or fix) the crash left `assigned`: done if its edit reached the
/// store (the tracker writes the store before the disk), else back in the queue.
bool settle_in_flight(self_ptr self, const std::string& id, const std::string& path,
                      const std::map<std::string, store::file_version>& files, bool& landed) {
  auto it = files.find(path);
  landed = it != files.end() && it->second.task_id == id;
  if (landed)
    return move_task(self, id, store::task_state::done, store::producing(it->second.hash));
  return move_task(self, id, store::task_state::pending,
                   store::because("in flight when the run stopped; asked again"));
}

/// The last stored round: decide on its issues again if its fix tasks were
/// never stored, else queue its unfinished fixes.
void continue_rounds(self_ptr self, const fix_progress& fx,
                     const std::map<std::string, store::file_version>& files) {
  auto& st = self->state;
  if (st.run.rounds.empty()) {
    start_round(self);
    return;
  }
  if (fx.fixes.empty()) {
    std::vector<msg::review_issue> issues;
    for (const auto& i : st.run.issues)
      if (i.round == st.run.round)
        issues.push_back(i);
    decide(self, std::move(issues));
    return;
  }
  st.run.phase = "fixing";
  for (const auto& f : fx.fixes) {
    if (f.state == store::task_state::done || f.state == store::task_state::failed)
      continue;
    if (f.state == store::task_state::assigned) {
      bool landed = false;
      if (!settle_in_flight(self, f.spec.id, f.spec.path, files, landed))
        return;
      if (landed) {
        st.run.rounds.back().fixes_applied += 1;
        continue;
      }
    }
    msg::review_issue issue;
    issue.file = f.spec.path;
    issue.problem = f.spec.description;
    issue.instructions = f.spec.instructions;
    issue.edit_kind = f.spec.edit;
    issue.round = st.run.round;
    st.fix_queue[issue.file].push_back({std::move(issue), f.spec.id});
  }
  pump_fixes(self);
}

/// Plans a new run, or picks up a stored one where it stopped: done tasks stay
/// done, tasks in flight at the stop are asked for again, the review rounds
/// go on from the last one stored.
void start_or_continue(self_ptr self) {
  auto& st = self->state;
  std::string err;
  auto restored = restore_run(*st.team.store, st.run.run_id, st.settings->retry, err);
  if (!restored) {
    finish(self, "failed", 5, "cannot read the run from the store: " + err);
    return;
  }
  st.run.usage_by_role = std::move(restored->run.usage_by_role);
  if (!restored->planned) {
    ask_plan(self, {});
    return;
  }
  auto& r = restored->run;
  st.run.plan_attempts = 1;
  st.run.tasks = std::move(r.tasks);
  st.run.graph = std::move(r.graph);
  st.run.task_records = std::move(r.task_records);
  st.run.round = r.round;
  st.run.rounds = std::move(r.rounds);
  st.run.issues = std::move(r.issues);
  st.run.issue_seen = std::move(r.issue_seen);
  st.run.open_findings = std::move(r.open_findings);
  st.run.changed_paths = std::move(r.changed_paths);
  auto files = stored_files(self);
  auto& graph = *st.run.graph;
  for (const auto& id : restored->in_flight) {
    auto idx = graph.index_of(id);
    if (!idx)
      continue;
    graph.requeue(*idx);
    bool landed = false;
    if (!settle_in_flight(self, id, st.run.tasks[*idx].path, files, landed))
      return;
    if (landed) {
      graph.mark_done(*idx);
      st.run.task_records[*idx].finished_ms = files[st.run.tasks[*idx].path].at_ms;
    }
  }
  auto done = graph.count(task_state::done);
  spdlog::info("run={} continuing: {} of {} tasks done, {} were in flight, {} review round(s) "
               "stored",
               st.run.run_id, done, graph.size(), restored->in_flight.size(), st.run.round);
  progress(self, "plan", {}, {},
           "continuing: " + std::to_string(done) + "/" + std::to_string(graph.size()) + " done");
  if (!graph.finished()) {
    st.run.phase = "coding";
    write_exports(self);
    dispatch(self);
    return;
  }
  continue_rounds(self, restored->last_round_fixes, files);
}

planner_actor::behavior_type planner(self_ptr self, client_ptr large, settings_ptr settings,
                                     planner_team team) {
  auto& st = self->state;
  st.large = std::move(large);
  st.settings = std::move(settings);
  st.team = std::move(team);
  st.pool.add("local", st.team.coders, st.team.fixers);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto node = self->state.pool.node_of(dm.source);
    if (!node.empty() && node != "local")
      lose_node(self, node, "its connection was lost (" + to_string(dm.reason) + ")");
  });
  return {
    [self](msg::run_request& req) -> caf::typed_response_promise<msg::run_result> {
      auto& st = self->state;
      auto rp = self->make_response_promise<msg::run_result>();
      if (st.active) {
        rp.deliver(make_error(ec::internal, "this planner is already running a run"));
        return rp;
      }
      st.active = true;
      st.rp = rp;
      st.run = run_state{};
      st.run.run_id = req.run_id;
      st.run.request = req.request;
      st.run.out_dir = req.out_dir;
      st.run.limits = req.limits;
      st.run.max_rounds = req.max_rounds;
      st.run.started_ms = now_ms();
      spdlog::info("run={} planner: start: {} coders, {} fixers, max {} rounds, out {}",
                   req.run_id, st.team.coders.size(), st.team.fixers.size(), req.max_rounds,
                   req.out_dir);
      if (req.limits.max_time_ms > 0)
        self->delayed_send(self, std::chrono::milliseconds(req.limits.max_time_ms),
                           atom::deadline_v);
      self->request(st.team.tracker, caf::infinite, atom::list_v)
        .then(
          [self](std::vector<msg::applied_file>& files) {
            self->state.run.files = std::move(files);
            start_or_continue(self);
          },
          [self](caf::error& err) {
            finish(self, "failed", 5, "file tracker unavailable: " + why(err));
          });
      return rp;
    },
    [self](msg::llm_reply& r) {
      auto& st = self->state;
      if (st.stopping || r.call_id != st.plan_call)
        return;
      on_plan_reply(self, r);
    },
    [self](msg::worker_offer& offer) { on_offer(self, offer); },
    [self](atom::cancel) {
      auto& st = self->state;
      if (!st.active || st.stopping)
        return;
      finish(self, "cancelled", 130,
             "stopped by the user; `codehive resume " + st.run.run_id + "` continues it");
    },
    [self](atom::deadline) {
      auto& st = self->state;
      if (!st.active || st.stopping)
        return;
      st.deadline_hit = true;
      finish(self, "budget", 4,
             "time budget of " + std::to_string(st.run.limits.max_time_ms / 1000) + " s reached");
    },
  };
}

}  // namespace

planner_actor spawn_planner(caf::actor_system& sys, client_ptr large, settings_ptr settings,
                            planner_team team) {
  return sys.spawn<caf::detached>(planner, std::move(large), std::move(settings), std::move(team));
}

}  // namespace codehive
