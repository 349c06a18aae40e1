#include "actors/run_restore.hpp"

#include <algorithm>
#include <cstdlib>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/run_config.hpp"
#include "common/json_read.hpp"
#include "storage/run_store.hpp"

namespace codehive {

bool is_fix_task(const std::string& id) {
  return id.rfind(fix_task_prefix, 0) == 0;
}

std::string fix_task_id(int round, int n) {
  return std::string{fix_task_prefix} + std::to_string(round) + ":" + std::to_string(n);
}

namespace {

/// The fields a stored task and a message's task name alike, copied as they are.
template <class From, class To>
void copy_common_task_fields(const From& from, To& to) {
  to.id = from.id;
  to.path = from.path;
  to.description = from.description;
  to.instructions = from.instructions;
  to.depends_on = from.depends_on;
  to.context_paths = from.context_paths;
}

}  // namespace

store::task_spec to_store(const msg::file_task& t) {
  store::task_spec s;
  copy_common_task_fields(t, s);
  s.action = std::string{to_string(t.action)};
  s.type = t.type.empty() ? "file" : t.type;
  s.edit = std::string{to_string(t.edit)};
  return s;
}

msg::file_task from_store(const store::task_spec& s) {
  msg::file_task t;
  copy_common_task_fields(s, t);
  // The store refuses any other action when it writes one; "" is an old "create".
  t.action = msg::parse_task_action(s.action).value_or(msg::task_action::create);
  t.type = s.type;
  // The store holds what a checked plan had: a hint or "".
  t.edit = msg::parse_edit_hint(s.edit).value_or(msg::edit_kind::none);
  return t;
}

graph_task_spec graph_spec_of(const msg::file_task& t) {
  return {t.id, t.path, t.depends_on, t.type != "folder"};
}

store::review_issue to_store(const msg::review_issue& issue) {
  return {issue.file, issue.problem, issue.instructions};
}

msg::review_issue from_store(const store::review_issue& issue, int round) {
  msg::review_issue out;
  out.file = issue.file;
  out.problem = issue.problem;
  out.instructions = issue.instructions;
  out.round = round;
  return out;
}

store::task_spec fix_task_spec(const msg::review_issue& issue, const std::string& id) {
  store::task_spec s;
  s.id = id;
  s.action = "update";
  s.type = "file";
  s.path = issue.file;
  s.description = issue.problem;
  s.instructions = issue.instructions;
  s.edit = std::string{to_string(issue.edit)};  // a hint or "" (parse_edit_hint)
  return s;
}

std::string findings_to_json(const std::vector<msg::finding>& findings) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto str = [&w](const std::string& x) {
    w.String(x.c_str(), static_cast<rapidjson::SizeType>(x.size()));
  };
  w.StartArray();
  for (const auto& f : findings) {
    w.StartObject();
    w.Key("check");
    str(f.check);
    w.Key("file");
    str(f.file);
    w.Key("line");
    w.Int(f.line);
    w.Key("message");
    str(f.message);
    w.EndObject();
  }
  w.EndArray();
  return {buf.GetString(), buf.GetSize()};
}

std::vector<msg::finding> findings_from_json(const std::string& json) {
  std::vector<msg::finding> out;
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError() || !d.IsArray())
    return out;
  for (const auto& v : d.GetArray()) {
    if (!v.IsObject())
      continue;
    msg::finding f;
    f.check = json_string(v, "check");
    f.file = json_string(v, "file");
    f.message = json_string(v, "message");
    if (auto it = v.FindMember("line"); it != v.MemberEnd() && it->value.IsInt())
      f.line = it->value.GetInt();
    out.push_back(std::move(f));
  }
  return out;
}

int worker_index(const std::string& label) {
  if (label == "large-model")
    return -2;
  if (label.rfind("coder-", 0) == 0) {
    auto n = std::atoi(label.c_str() + 6);
    return n > 0 ? n - 1 : -1;
  }
  return -1;
}

std::map<std::string, msg::usage> usage_from_ledger(const std::vector<store::ledger_entry>& ledger) {
  std::map<std::string, msg::usage> out;
  for (const auto& e : ledger) {
    auto& u = out[e.use.role];
    u.role = e.use.role;
    u.prompt_tokens += e.use.prompt_tokens;
    u.completion_tokens += e.use.completion_tokens;
    u.latency_ms += e.use.latency.count();
    u.cost_usd += e.use.cost_usd;
    u.calls += 1;
  }
  return out;
}

msg::applied_file applied_of(const store::file_version& f) {
  msg::applied_file a;
  a.path = f.path;
  a.changed_in_run = !f.task_id.empty();
  // Found in the folder when the run started and never touched: version 0.
  a.version = !a.changed_in_run && f.version == 1 ? 0 : static_cast<std::int64_t>(f.version);
  a.summary = f.summary;
  a.hash = f.hash;
  a.bytes = static_cast<std::int64_t>(f.size);
  a.modified_ms = f.at_ms;
  a.deleted = f.deleted;
  return a;
}

namespace {

/// The run's settings as `codehive run` stored them (config_json).
void apply_config(const std::string& json, planner_run& run) {
  auto stored = run_settings_from_json(json);
  run.out_dir = stored.out_dir;
  run.max_rounds = stored.max_rounds;
  run.limits.max_tokens = stored.max_tokens;
  run.limits.max_cost_usd = stored.max_cost_usd;
  run.limits.max_time_ms = static_cast<std::int64_t>(stored.max_time_s * 1000);
}

const char* planner_state_of(store::run_state s) {
  switch (s) {
    case store::run_state::running:
      return "running";
    case store::run_state::done:
      return "done";
    case store::run_state::budget_stopped:
    case store::run_state::deadline_stopped:
      return "budget";
    case store::run_state::cancelled:
      return "cancelled";
    case store::run_state::failed:
      break;
  }
  return "failed";
}

/// Replays one plan task's stored history on the graph, so retry counts,
/// escalation and the last worker come back as they were.
void replay(task_graph& g, std::size_t i, const store::task_record& t, const retry_policy& policy) {
  for (const auto& h : t.history) {
    switch (h.to) {
      case store::task_state::assigned:
        g.mark_running(i, worker_index(h.worker));
        break;
      case store::task_state::done:
        g.mark_done(i);
        break;
      case store::task_state::failed:
        if (t.spec.action == to_string(msg::task_action::remove))
          g.fail(i);
        else
          g.record_failure(i, policy);
        break;
      case store::task_state::pending:
        g.requeue(i);  // assigned -> pending; after failed -> pending the graph already is
        break;
    }
  }
}

task_timing timings_of(const store::task_record& t) {
  task_timing r;
  for (const auto& h : t.history) {
    if (h.to == store::task_state::assigned) {
      r.started_ms = h.at_ms;
      break;
    }
  }
  r.attempts = t.attempts;
  r.worker = t.worker;
  r.last_error = t.last_reason.empty() ? t.last_error_code : t.last_reason;
  if (t.state == store::task_state::done || t.state == store::task_state::failed)
    r.finished_ms = t.finished_ms;
  return r;
}


int fix_number(const std::string& id) {
  auto colon = id.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(id.c_str() + colon + 1);
}

int fix_round(const std::string& id) {
  return std::atoi(id.c_str() + std::string{fix_task_prefix}.size());
}

bool restore_plan(const store::run_snapshot& snap, const retry_policy& policy, restored_run& out,
                  std::string& error) {
  auto& run = out.run;
  std::vector<const store::task_record*> plan;
  for (const auto& t : snap.tasks)
    if (!is_fix_task(t.spec.id))
      plan.push_back(&t);
  if (plan.empty())
    return true;
  out.planned = true;
  std::vector<graph_task_spec> specs;
  for (const auto* t : plan) {
    run.tasks.push_back(from_store(t->spec));
    specs.push_back(graph_spec_of(run.tasks.back()));
  }
  auto graph = task_graph::build(specs, error);
  if (!graph) {
    error = "the stored plan of run " + run.run_id + " does not build a task graph: " + error;
    return false;
  }
  for (std::size_t i = 0; i < plan.size(); ++i) {
    replay(*graph, i, *plan[i], policy);
    run.task_records.push_back(timings_of(*plan[i]));
    if (plan[i]->state == store::task_state::assigned)
      out.in_flight.push_back(plan[i]->spec.id);
  }
  run.graph = std::move(graph);
  return true;
}

void restore_rounds(const store::run_snapshot& snap, restored_run& out) {
  auto& run = out.run;
  std::map<int, std::vector<const store::task_record*>> fixes;  // by round
  for (const auto& t : snap.tasks)
    if (is_fix_task(t.spec.id))
      fixes[fix_round(t.spec.id)].push_back(&t);
  for (const auto& r : snap.rounds) {
    round_record rec;
    rec.round = static_cast<int>(r.round);
    rec.validation.findings = findings_from_json(r.findings_json);
    rec.issues = static_cast<int>(r.issues.size());
    for (const auto* f : fixes[rec.round]) {
      rec.fixes_applied += f->state == store::task_state::done ? 1 : 0;
      rec.fixes_failed += f->state == store::task_state::failed ? 1 : 0;
    }
    for (const auto& i : r.issues) {
      run.issues.push_back(from_store(i, rec.round));
      // The decision on a round's issues was taken once its fix tasks exist;
      // the last round without them is decided again by the planner.
      bool decided = rec.round < static_cast<int>(snap.rounds.back().round)
                     || !fixes[rec.round].empty();
      if (decided)
        run.issue_seen[i.file + "|" + i.problem] += 1;
    }
    run.round = rec.round;
    run.open_findings = rec.validation.findings;
    run.rounds.push_back(std::move(rec));
  }
  if (!snap.rounds.empty()) {
    auto last = static_cast<int>(snap.rounds.back().round);
    out.last_round_fixes.round = last;
    for (const auto* f : fixes[last])
      out.last_round_fixes.fixes.push_back(*f);
    std::sort(out.last_round_fixes.fixes.begin(), out.last_round_fixes.fixes.end(),
              [](const auto& a, const auto& b) {
                return fix_number(a.spec.id) < fix_number(b.spec.id);
              });
  }
}

}  // namespace

std::optional<restored_run> restore_run(const store::run_store& s, const std::string& run_id,
                                        const retry_policy& policy, std::string& error) {
  auto snap = s.load_run(run_id);
  if (!snap) {
    error = snap.err().describe();
    return std::nullopt;
  }
  restored_run out;
  auto& run = out.run;
  run.run_id = run_id;
  run.request = snap->run.request;
  run.started_ms = snap->run.created_ms;
  apply_config(snap->run.config_json, run);
  if (snap->run.state != store::run_state::running) {
    run.state = planner_state_of(snap->run.state);
    // The planner's finer states, as its exit codes tell them apart.
    if (run.state == "done" && snap->run.exit_code == 1)
      run.state = "unresolved";
    else if (run.state == "failed" && snap->run.exit_code == 3)
      run.state = "model_failure";
    run.phase = msg::run_phase::finished;
    run.exit_code = snap->run.exit_code;
    run.message = snap->run.state_reason;
    run.finished_ms = snap->run.updated_ms;
    out.stored_exit_code = snap->run.exit_code;
  }
  if (!restore_plan(*snap, policy, out, error))
    return std::nullopt;
  restore_rounds(*snap, out);
  for (const auto& f : snap->files) {
    auto a = applied_of(f);
    if (a.changed_in_run)
      run.changed_paths.insert(a.path);
    run.files.push_back(std::move(a));
  }
  for (const auto& [role, t] : snap->ledger_by_role) {
    msg::usage u;
    u.role = role;
    u.prompt_tokens = t.prompt_tokens;
    u.completion_tokens = t.completion_tokens;
    u.latency_ms = t.latency_ms;
    u.cost_usd = t.cost_usd;
    u.calls = static_cast<std::int32_t>(t.calls);
    run.usage_by_role[role] = u;
  }
  return out;
}

}  // namespace codehive
