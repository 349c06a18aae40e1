#include "actors/exports.hpp"

#include <ctime>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "common/json_member.hpp"

namespace codehive {

namespace {

using writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void strings(writer& w, const char* key, const std::vector<std::string>& xs) {
  w.Key(key);
  w.StartArray();
  for (const auto& x : xs)
    w.String(x.c_str(), static_cast<rapidjson::SizeType>(x.size()));
  w.EndArray();
}

std::string done(rapidjson::StringBuffer& buf) {
  return std::string{buf.GetString(), buf.GetSize()} + "\n";
}

std::string task_state_of(const planner_run& run, std::size_t i) {
  if (run.graph && i < run.graph->size())
    return to_string(run.graph->at(i).state);
  return "pending";
}

void finding_obj(writer& w, const msg::finding& f) {
  w.StartObject();
  json_member(w, "check", f.check);
  json_member(w, "file", f.file);
  json_member(w, "line", static_cast<int>(f.line));
  json_member(w, "message", f.message);
  w.EndObject();
}

}  // namespace

std::string iso8601_utc(std::int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(epoch_ms % 1000));
  return out;
}

std::string tasks_json(const planner_run& run) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartArray();
  for (std::size_t i = 0; i < run.tasks.size(); ++i) {
    const auto& t = run.tasks[i];
    w.StartObject();
    json_member(w, "id", t.id);
    json_member(w, "action", std::string{to_string(t.action)});
    json_member(w, "type", t.type);
    json_member(w, "path", t.path);
    json_member(w, "description", t.description);
    json_member(w, "instructions", t.instructions);
    strings(w, "depends_on", t.depends_on);
    strings(w, "context_paths", t.context_paths);
    if (t.edit != msg::edit_kind::none)  // so an edited plan (run --approve-plan) keeps it
      json_member(w, "edit", std::string{to_string(t.edit)});
    json_member(w, "state", task_state_of(run, i));
    w.EndObject();
  }
  w.EndArray();
  return done(buf);
}

std::string code_review_json(const planner_run& run) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartArray();
  for (const auto& i : run.issues) {
    w.StartObject();
    json_member(w, "file", i.file);
    json_member(w, "problem", i.problem);
    json_member(w, "instructions", i.instructions);
    json_member(w, "round", static_cast<int>(i.round));
    w.EndObject();
  }
  w.EndArray();
  return done(buf);
}

std::string file_tracker_json(const planner_run& run) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  for (const auto& f : run.files) {
    if (f.deleted)
      continue;
    w.Key(f.path.c_str(), static_cast<rapidjson::SizeType>(f.path.size()));
    w.StartObject();
    json_member(w, "summary", f.summary);
    json_member(w, "lastModified", iso8601_utc(f.modified_ms));
    json_member(w, "version", f.version);
    w.EndObject();
  }
  w.EndObject();
  return done(buf);
}

std::string status_json(const planner_run& run, std::int64_t now_ms) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  json_member(w, "run_id", run.run_id);
  json_member(w, "state", run.state);
  json_member(w, "phase", std::string{to_string(run.phase)});
  if (run.exit_code >= 0)
    json_member(w, "exit_code", run.exit_code);
  json_member(w, "message", run.message);
  json_member(w, "request", run.request);
  json_member(w, "started", iso8601_utc(run.started_ms));
  if (run.finished_ms > 0)
    json_member(w, "finished", iso8601_utc(run.finished_ms));
  auto end = run.finished_ms > 0 ? run.finished_ms : now_ms;
  json_member(w, "elapsed_ms", end - run.started_ms);
  json_member(w, "plan_attempts", run.plan_attempts);
  json_member(w, "rounds", run.round);
  json_member(w, "max_rounds", run.max_rounds);
  w.Key("tasks");
  w.StartArray();
  for (std::size_t i = 0; i < run.tasks.size(); ++i) {
    const auto& t = run.tasks[i];
    w.StartObject();
    json_member(w, "id", t.id);
    json_member(w, "path", t.path);
    json_member(w, "state", task_state_of(run, i));
    if (i < run.task_records.size()) {
      const auto& r = run.task_records[i];
      json_member(w, "attempts", r.attempts);
      json_member(w, "worker", r.worker);
      if (run.graph)
        json_member(w, "escalated", run.graph->at(i).escalated);
      if (r.started_ms > 0)
        json_member(w, "started", iso8601_utc(r.started_ms));
      if (r.finished_ms > 0) {
        json_member(w, "finished", iso8601_utc(r.finished_ms));
        json_member(w, "duration_ms", r.finished_ms - r.started_ms);
      }
      if (!r.last_error.empty())
        json_member(w, "last_error", r.last_error);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("usage");
  w.StartObject();
  for (const auto& [role, u] : run.usage_by_role) {
    w.Key(role.c_str());
    w.StartObject();
    json_member(w, "model", u.model);
    json_member(w, "calls", static_cast<int>(u.calls));
    json_member(w, "prompt_tokens", u.prompt_tokens);
    json_member(w, "completion_tokens", u.completion_tokens);
    json_member(w, "tokens", u.prompt_tokens + u.completion_tokens);
    json_member(w, "cost_usd", u.cost_usd);
    json_member(w, "latency_ms", u.latency_ms);
    w.EndObject();
  }
  w.EndObject();
  json_member(w, "total_tokens", run.total_tokens());
  json_member(w, "total_cost_usd", run.total_cost());
  w.Key("validation");
  w.StartArray();
  for (const auto& r : run.rounds) {
    w.StartObject();
    json_member(w, "round", r.round);
    json_member(w, "clean", r.validation.findings.empty());
    w.Key("findings");
    w.StartArray();
    for (const auto& f : r.validation.findings)
      finding_obj(w, f);
    w.EndArray();
    strings(w, "skipped", r.validation.skipped);
    json_member(w, "checked_files", static_cast<int>(r.validation.checked_files.size()));
    json_member(w, "elapsed_ms", r.validation.elapsed_ms);
    json_member(w, "issues", r.issues);
    json_member(w, "fixes_applied", r.fixes_applied);
    json_member(w, "fixes_failed", r.fixes_failed);
    w.EndObject();
  }
  w.EndArray();
  w.Key("open_findings");
  w.StartArray();
  for (const auto& f : run.open_findings)
    finding_obj(w, f);
  w.EndArray();
  strings(w, "changed_files", {run.changed_paths.begin(), run.changed_paths.end()});
  w.EndObject();
  return done(buf);
}

std::vector<msg::export_file> render_exports(const planner_run& run, std::int64_t now_ms) {
  return {{"tasks.json", tasks_json(run)},
          {"code_review.json", code_review_json(run)},
          {"file_tracker.json", file_tracker_json(run)},
          {"status.json", status_json(run, now_ms)}};
}

}  // namespace codehive
