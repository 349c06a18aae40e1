// Planning: ask the large model for a plan, re-ask with the reason when it is
// unusable (shape, reserved ids, a graph that does not build, a plan that does
// not fit the project: actors/plan_checks.hpp), store the plan before anyone
// acts on it.
#include <spdlog/spdlog.h>

#include "actors/answers.hpp"
#include "actors/plan_checks.hpp"
#include "actors/planner/controller.hpp"
#include "actors/prompts.hpp"
#include "actors/run_restore.hpp"
#include "storage/run_store.hpp"

namespace codehive::planner {

/// The plan's tasks (paths as the graph normalized them) against the project.
plan_verdict controller::fits_project(const checked_plan& plan) const {
  auto tasks = plan.tasks;
  for (std::size_t i = 0; i < tasks.size(); ++i)
    tasks[i].path = plan.graph->at(i).spec.path;
  return check_plan_against_project(tasks, run_.files, run_.request,
                                    settings_->max_unrequested_deletes);
}

bool controller::note_plan(const plan_verdict& verdict) {
  for (const auto& note : verdict.notes) {
    spdlog::warn("run={} task=plan planner: {}", run_.run_id, note);
    if (!stored([&] { return store_.append_event(run_.run_id, "plan_note", plan_event_json("note", note)); },
                "plan note"))
      return false;
    progress(msg::progress_kind::plan, {}, {}, note);
  }
  return true;
}

std::optional<controller::checked_plan> controller::check_plan(const std::string& text,
                                                              std::string& reason) const {
  auto plan = parse_plan(text);
  if (!plan) {
    reason = plan.error;
    return std::nullopt;
  }
  // Before the graph is built: its cost grows with the plan (issue 16).
  if (plan.value->size() > settings_->max_plan_tasks) {
    reason = "the plan has " + std::to_string(plan.value->size()) + " tasks, more than plan.max_tasks ("
             + std::to_string(settings_->max_plan_tasks) + "): plan fewer, larger files";
    return std::nullopt;
  }
  std::vector<graph_task_spec> specs;
  for (const auto& t : *plan.value) {
    specs.push_back(graph_spec_of(t));
    if (is_fix_task(t.id))
      reason = "task id '" + t.id + "' is reserved (ids starting with 'fix:' name review fixes)";
    else if (t.type != "file" && t.type != "folder")
      reason = "task '" + t.id + "': type must be file or folder";
    if (!reason.empty())
      return std::nullopt;
  }
  auto graph = task_graph::build(specs, reason);
  if (!graph)
    return std::nullopt;
  return checked_plan{std::move(*plan.value), std::move(graph)};
}

void controller::ask_for_plan(const std::string& reason) {
  enter_phase(msg::run_phase::planning, "asking " + model_ + " for a plan");
  run_.plan_attempts += 1;
  plan_call_ = next_call_++;
  spdlog::info("run={} task=plan planner: asking {} for a plan (attempt {})", run_.run_id, model_,
               run_.plan_attempts);
  progress(msg::progress_kind::plan, {}, {}, "asking for a plan");
  emit(ask_plan{plan_call_, plan_prompt(*settings_, run_.request, run_.files, reason)});
}

void controller::accept_plan(std::vector<msg::file_task> tasks, task_graph graph) {
  if (approval_required_) {
    await_approval(std::move(tasks), std::move(graph), true);
    return;
  }
  std::vector<store::task_spec> specs;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].path = graph.at(i).spec.path;  // normalized
    specs.push_back(to_store(tasks[i]));
  }
  if (!stored([&] { return store_.put_plan(run_.run_id, specs); }, "plan"))
    return;
  run_.replace_tasks(std::move(tasks));
  run_.graph = std::move(graph);
  run_.task_records.assign(run_.tasks.size(), {});
  enter_phase(msg::run_phase::coding, std::to_string(run_.tasks.size()) + " tasks");
  spdlog::info("run={} task=plan planner: plan accepted: {} tasks", run_.run_id,
               run_.tasks.size());
  for (const auto& t : run_.tasks)
    spdlog::info("run={} task={} planned: {} {} (depends on: {})", run_.run_id, t.id,
                 to_string(t.action), t.path, t.depends_on.size());
  progress(msg::progress_kind::plan, {}, {}, std::to_string(run_.tasks.size()) + " tasks");
  exports_changed();
  dispatch();
}

void controller::on_plan_reply(const plan_answer& r) {
  if (stopping_ || r.call != plan_call_)
    return;  // late, or from a planning call given up on
  plan_call_ = 0;
  if (!account("planner", r.use))
    return;
  std::string reason;
  if (!r.ok) {
    if (r.problem.transport) {
      finish(outcome::model_failure, "planner model failed: " + r.problem.reason);
      return;
    }
    reason = r.problem.reason;
  } else if (auto plan = check_plan(r.content, reason); plan) {
    auto verdict = fits_project(*plan);
    if (verdict.problem.empty()) {
      if (!note_plan(verdict))
        return;
      accept_plan(std::move(plan->tasks), std::move(*plan->graph));
      return;
    }
    reason = std::move(verdict.problem);
  }
  spdlog::warn("run={} task=plan planner: plan refused: {}", run_.run_id, reason);
  if (!stored(
        [&] {
          return store_.append_event(run_.run_id, "plan_refused",
                                     plan_event_json("reason", reason, run_.plan_attempts));
        },
        "plan refusal"))
    return;
  progress(msg::progress_kind::plan, {}, {}, "plan refused: " + reason);
  if (run_.plan_attempts >= settings_->plan_attempts) {
    finish(outcome::model_failure, "no usable plan after " + std::to_string(run_.plan_attempts)
                                     + " attempts; last problem: " + reason);
    return;
  }
  ask_for_plan("the plan was refused: " + reason);
}

}  // namespace codehive::planner
