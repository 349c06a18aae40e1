#include "actors/exports.hpp"

#include <ctime>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace codehive {

namespace {

using writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void kv(writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void kv(writer& w, const char* key, std::int64_t value) {
  w.Key(key);
  w.Int64(value);
}

void kv(writer& w, const char* key, int value) {
  w.Key(key);
  w.Int(value);
}

void kv(writer& w, const char* key, double value) {
  w.Key(key);
  w.Double(value);
}

void kv(writer& w, const char* key, bool value) {
  w.Key(key);
  w.Bool(value);
}

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
  kv(w, "check", f.check);
  kv(w, "file", f.file);
  kv(w, "line", static_cast<int>(f.line));
  kv(w, "message", f.message);
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
    kv(w, "id", t.id);
    kv(w, "action", std::string{to_string(t.action)});
    kv(w, "type", t.type);
    kv(w, "path", t.path);
    kv(w, "description", t.description);
    kv(w, "instructions", t.instructions);
    strings(w, "depends_on", t.depends_on);
    strings(w, "context_paths", t.context_paths);
    if (t.edit != msg::edit_kind::none)  // so an edited plan (run --approve-plan) keeps it
      kv(w, "edit", std::string{to_string(t.edit)});
    kv(w, "state", task_state_of(run, i));
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
    kv(w, "file", i.file);
    kv(w, "problem", i.problem);
    kv(w, "instructions", i.instructions);
    kv(w, "round", static_cast<int>(i.round));
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
    kv(w, "summary", f.summary);
    kv(w, "lastModified", iso8601_utc(f.modified_ms));
    kv(w, "version", f.version);
    w.EndObject();
  }
  w.EndObject();
  return done(buf);
}

std::string status_json(const planner_run& run, std::int64_t now_ms) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  kv(w, "run_id", run.run_id);
  kv(w, "state", run.state);
  kv(w, "phase", std::string{to_string(run.phase)});
  if (run.exit_code >= 0)
    kv(w, "exit_code", run.exit_code);
  kv(w, "message", run.message);
  kv(w, "request", run.request);
  kv(w, "started", iso8601_utc(run.started_ms));
  if (run.finished_ms > 0)
    kv(w, "finished", iso8601_utc(run.finished_ms));
  auto end = run.finished_ms > 0 ? run.finished_ms : now_ms;
  kv(w, "elapsed_ms", end - run.started_ms);
  kv(w, "plan_attempts", run.plan_attempts);
  kv(w, "rounds", run.round);
  kv(w, "max_rounds", run.max_rounds);
  w.Key("tasks");
  w.StartArray();
  for (std::size_t i = 0; i < run.tasks.size(); ++i) {
    const auto& t = run.tasks[i];
    w.StartObject();
    kv(w, "id", t.id);
    kv(w, "path", t.path);
    kv(w, "state", task_state_of(run, i));
    if (i < run.task_records.size()) {
      const auto& r = run.task_records[i];
      kv(w, "attempts", r.attempts);
      kv(w, "worker", r.worker);
      if (run.graph)
        kv(w, "escalated", run.graph->at(i).escalated);
      if (r.started_ms > 0)
        kv(w, "started", iso8601_utc(r.started_ms));
      if (r.finished_ms > 0) {
        kv(w, "finished", iso8601_utc(r.finished_ms));
        kv(w, "duration_ms", r.finished_ms - r.started_ms);
      }
      if (!r.last_error.empty())
        kv(w, "last_error", r.last_error);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("usage");
  w.StartObject();
  for (const auto& [role, u] : run.usage_by_role) {
    w.Key(role.c_str());
    w.StartObject();
    kv(w, "model", u.model);
    kv(w, "calls", static_cast<int>(u.calls));
    kv(w, "prompt_tokens", u.prompt_tokens);
    kv(w, "completion_tokens", u.completion_tokens);
    kv(w, "tokens", u.prompt_tokens + u.completion_tokens);
    kv(w, "cost_usd", u.cost_usd);
    kv(w, "latency_ms", u.latency_ms);
    w.EndObject();
  }
  w.EndObject();
  kv(w, "total_tokens", run.total_tokens());
  kv(w, "total_cost_usd", run.total_cost());
  w.Key("validation");
  w.StartArray();
  for (const auto& r : run.rounds) {
    w.StartObject();
    kv(w, "round", r.round);
    kv(w, "clean", r.validation.findings.empty());
    w.Key("findings");
    w.StartArray();
    for (const auto& f : r.validation.findings)
      finding_obj(w, f);
    w.EndArray();
    strings(w, "skipped", r.validation.skipped);
    kv(w, "checked_files", static_cast<int>(r.validation.checked_files.size()));
    kv(w, "elapsed_ms", r.validation.elapsed_ms);
    kv(w, "issues", r.issues);
    kv(w, "fixes_applied", r.fixes_applied);
    kv(w, "fixes_failed", r.fixes_failed);
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
