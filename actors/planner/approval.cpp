// Plan approval (`run --approve-plan`): the accepted plan is stored as a
// proposal (the event "plan_proposed" in the run's event log, not the task
// table), exported as generated_files/tasks.json, and nothing is coded until
// the user approves it, edited or not, or rejects it. The task table gets
// the plan only on approval, so a run stopped while it waits has a proposal
// and no plan: continuing it waits again (continue_approval), whichever
// process picks it up and whether or not it asked for approval.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "actors/exports.hpp"
#include "actors/planner/controller.hpp"
#include "actors/planner/plan_events.hpp"
#include "storage/run_store.hpp"

namespace codehive::planner {

namespace {

/// tasks.json is a bare array; a plan answer is {"tasks": [...]}.
std::string as_plan_object(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[')
    return "{\"tasks\":" + text + "}";
  return text;
}

/// {"edited": e, "reason": r, "plan": <plan object>} (plan only when given).
std::string event_json(const std::string& plan_object, bool edited, const std::string& reason) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  w.Key("edited");
  w.Bool(edited);
  w.Key("reason");
  w.String(reason.c_str(), static_cast<rapidjson::SizeType>(reason.size()));
  if (!plan_object.empty()) {
    w.Key("plan");
    w.RawValue(plan_object.c_str(), plan_object.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return buf.GetString();
}

/// The "plan" member of a stored approval event, as JSON text ("" if none).
std::string plan_of(const std::string& data) {
  rapidjson::Document doc;
  doc.Parse(data.c_str(), data.size());
  if (doc.HasParseError() || !doc.IsObject())
    return {};
  auto it = doc.FindMember("plan");
  if (it == doc.MemberEnd() || !it->value.IsObject())
    return {};
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  it->value.Accept(w);
  return buf.GetString();
}

}  // namespace

void controller::await_approval(std::vector<msg::file_task> tasks, task_graph graph,
                                bool store_it) {
  for (std::size_t i = 0; i < tasks.size(); ++i)
    tasks[i].path = graph.at(i).spec.path;  // normalized, as accept_plan stores them
  run_.replace_tasks(std::move(tasks));
  run_.graph = std::move(graph);
  run_.task_records.assign(run_.tasks.size(), {});
  proposed_text_ = tasks_json(run_);
  if (store_it
      && !stored(
        [&] {
          return store_.append_event(run_.run_id, proposed_event,
                                     event_json("{\"tasks\":" + proposed_text_ + "}", false, {}));
        },
        "proposed plan"))
    return;
  enter_phase(msg::run_phase::awaiting_approval, std::to_string(run_.tasks.size()) + " tasks wait for approval");
  awaiting_approval_ = true;
  spdlog::info("run={} task=plan planner: plan of {} tasks waits for approval", run_.run_id,
               run_.tasks.size());
  // The user edits this file: written now, not on the exports timer.
  emit(write_exports{render_exports(run_, now())});
  progress(msg::progress_kind::awaiting_approval, {}, {},
           std::to_string(run_.tasks.size()) + " tasks wait for approval");
}

msg::plan_verdict controller::approval_state() const {
  msg::plan_verdict v;
  v.waiting = awaiting_approval_ && !stopping_;
  v.tasks = static_cast<std::int32_t>(run_.tasks.size());
  if (!v.waiting) {
    v.message = "no plan waits for approval";
    return v;
  }
  // A summary for a terminal: one line per task, the first ones.
  constexpr std::size_t shown = 40;
  v.message = std::to_string(run_.tasks.size()) + " tasks wait for approval:";
  for (std::size_t i = 0; i < run_.tasks.size() && i < shown; ++i) {
    const auto& t = run_.tasks[i];
    v.message += "\n  " + t.id + "  " + std::string{to_string(t.action)} + " " + t.path;
    if (!t.depends_on.empty()) {
      v.message += "  (after";
      for (const auto& d : t.depends_on)
        v.message += " " + d;
      v.message += ")";
    }
  }
  if (run_.tasks.size() > shown)
    v.message += "\n  ... and " + std::to_string(run_.tasks.size() - shown) + " more";
  return v;
}

msg::plan_verdict controller::on_plan_approved(const std::optional<std::string>& edited) {
  if (!awaiting_approval_ || stopping_)
    return approval_state();
  std::optional<checked_plan> plan;
  plan_verdict verdict;
  if (edited && *edited != proposed_text_) {
    std::string reason;
    plan = check_plan(as_plan_object(*edited), reason);
    // The user's edit fits the project as a model's plan must (no update of
    // a file it lacks, no deletes the request does not ask for): the proposal
    // was checked, the edit was not.
    if (plan) {
      verdict = fits_project(*plan);
      reason = verdict.problem;
      if (!reason.empty())
        plan.reset();
    }
    if (!plan) {
      spdlog::warn("run={} task=plan planner: edited plan refused: {}", run_.run_id, reason);
      progress(msg::progress_kind::approval_refused, {}, {}, reason);
      auto v = approval_state();
      v.message = "the edited plan was refused: " + reason + "; the plan still waits";
      return v;
    }
    for (std::size_t i = 0; i < plan->tasks.size(); ++i)
      plan->tasks[i].path = plan->graph->at(i).spec.path;  // normalized, to compare
  } else {
    plan = checked_plan{run_.tasks, run_.graph};
  }
  // Whitespace or a rewritten file with the same tasks is no edit.
  const bool changed = plan->tasks != run_.tasks;
  // Stored with the plan itself: a stop between this and the task table
  // continues with the approved plan, not the proposal.
  planner_run approved;
  approved.tasks = plan->tasks;
  auto text = "{\"tasks\":" + tasks_json(approved) + "}";
  if (!stored([&] { return store_.append_event(run_.run_id, approved_event, event_json(text, changed, {})); },
              "plan approval"))
    return approval_state();
  if (!note_plan(verdict))
    return approval_state();
  awaiting_approval_ = false;
  approval_required_ = false;
  spdlog::info("run={} task=plan planner: plan approved{} ({} tasks)", run_.run_id,
               changed ? " as edited" : "", plan->tasks.size());
  msg::plan_verdict v;
  v.accepted = true;
  v.tasks = static_cast<std::int32_t>(plan->tasks.size());
  v.message = std::string{"plan approved"} + (changed ? " as edited" : "") + ": "
              + std::to_string(v.tasks) + " tasks";
  for (const auto& note : verdict.notes)
    v.message += "; note: " + note;
  accept_plan(std::move(plan->tasks), std::move(*plan->graph));
  return v;
}

msg::plan_verdict controller::on_plan_rejected(const std::string& why) {
  if (!awaiting_approval_ || stopping_)
    return approval_state();
  // Stored before the end, so resuming asks for a new plan, not this one.
  if (!stored([&] { return store_.append_event(run_.run_id, rejected_event, event_json({}, false, why)); },
              "plan rejection"))
    return approval_state();
  awaiting_approval_ = false;
  spdlog::info("run={} task=plan planner: plan rejected{}{}", run_.run_id,
               why.empty() ? "" : ": ", why);
  finish(outcome::plan_rejected, "the plan was rejected" + (why.empty() ? "" : ": " + why)
                                   + "; nothing was coded; `codehive resume " + run_.run_id
                                   + "` asks for a new plan");
  msg::plan_verdict v;
  v.accepted = true;
  v.message = run_.message;
  return v;
}

bool controller::continue_approval() {
  auto events = store_.read_events(run_.run_id);
  if (!events)
    return false;
  const store::event* last = last_plan_decision(*events);
  if (last == nullptr || last->type == rejected_event)
    return false;
  std::string reason;
  auto plan = check_plan(plan_of(last->data_json), reason);
  if (!plan) {
    spdlog::warn("run={} stored {} unusable ({}): asking for a new plan", run_.run_id, last->type,
                 reason);
    return false;
  }
  run_.plan_attempts = 1;
  if (last->type == approved_event) {
    approval_required_ = false;  // approved: only the task table was missing
    accept_plan(std::move(plan->tasks), std::move(*plan->graph));
    return true;
  }
  spdlog::info("run={} continuing: the stored plan still waits for approval", run_.run_id);
  approval_required_ = true;
  await_approval(std::move(plan->tasks), std::move(*plan->graph), false);
  return true;
}

}  // namespace codehive::planner
