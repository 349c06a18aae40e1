#include "nodes/http/api_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json_member.hpp"
#include "nodes/http/ttft_histogram.hpp"
#include "nodes/run_json.hpp"
#include "storage/run_store.hpp"

namespace codehive {

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Fix tasks ("fix:<round>:<n>", actors/run_restore.hpp) are listed apart
/// from the plan's tasks; spelled out here so the server needs no actor code.
bool is_fix(const std::string& id) { return std::string_view{id}.starts_with("fix:"); }

void str(json_writer& w, const char* key, std::string_view value) {
  json_member(w, key, value);
}

void totals(json_writer& w, const store::ledger_totals& t) {
  run_json::usage(w, t, run_json::with_tokens::yes);
}

struct task_counts {
  std::size_t total = 0, pending = 0, assigned = 0, done = 0, failed = 0;
  void count(store::task_state s) {
    ++total;
    switch (s) {
      case store::task_state::pending: ++pending; break;
      case store::task_state::assigned: ++assigned; break;
      case store::task_state::done: ++done; break;
      case store::task_state::failed: ++failed; break;
    }
  }
};

/// Plan tasks and fix tasks of a snapshot, counted by state.
std::pair<task_counts, task_counts> count_tasks(const store::run_snapshot& s) {
  task_counts plan, fixes;
  for (const auto& t : s.tasks) (is_fix(t.spec.id) ? fixes : plan).count(t.state);
  return {plan, fixes};
}

void counts_json(json_writer& w, const char* key, const task_counts& c) {
  w.Key(key);
  w.StartObject();
  w.Key("total"); w.Uint64(c.total);
  w.Key("pending"); w.Uint64(c.pending);
  w.Key("assigned"); w.Uint64(c.assigned);
  w.Key("done"); w.Uint64(c.done);
  w.Key("failed"); w.Uint64(c.failed);
  w.EndObject();
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void run_summary(json_writer& w, const store::run_record& r) {
  run_json::run_head(w, r, r.exit_code >= 0 ? std::optional<int>{r.exit_code} : std::nullopt);
  w.Key("started_ms"); w.Int64(r.created_ms);
  w.Key("updated_ms"); w.Int64(r.updated_ms);
}

void task_json(json_writer& w, const store::task_record& t, std::int64_t now) {
  w.StartObject();
  str(w, "id", t.spec.id);
  str(w, "action", t.spec.action);
  str(w, "type", t.spec.type);
  str(w, "path", t.spec.path);
  str(w, "description", t.spec.description);
  w.Key("depends_on");
  w.StartArray();
  for (const auto& d : t.spec.depends_on) w.String(d.c_str(), static_cast<rapidjson::SizeType>(d.size()));
  w.EndArray();
  str(w, "state", store::to_string(t.state));
  w.Key("attempts"); w.Int(t.attempts);
  // "node/coder-3" on a cluster, "coder-3" on one node.
  str(w, "worker", t.worker);
  auto slash = t.worker.find('/');
  str(w, "node", slash == std::string::npos ? std::string_view{} : std::string_view{t.worker}.substr(0, slash));
  str(w, "last_error_code", t.last_error_code);
  str(w, "last_reason", t.last_reason);
  str(w, "file_hash", t.file_hash);
  w.Key("created_ms"); w.Int64(t.created_ms);
  w.Key("updated_ms"); w.Int64(t.updated_ms);
  w.Key("assigned_ms"); w.Int64(t.assigned_ms);
  w.Key("finished_ms"); w.Int64(t.finished_ms);
  // Time on the last attempt: until it finished, or until now while assigned.
  std::int64_t busy = 0;
  if (t.assigned_ms > 0) {
    if (t.state == store::task_state::assigned) busy = now - t.assigned_ms;
    else if (t.finished_ms >= t.assigned_ms) busy = t.finished_ms - t.assigned_ms;
  }
  w.Key("work_ms"); w.Int64(busy);
  w.EndObject();
}

// -- Prometheus text -------------------------------------------------------------

std::string label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

/// Shortest text that reads back as `v` ("1.4", not "1.3999999999999999").
std::string number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

class prom {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const char* name, std::initializer_list<std::pair<const char*, std::string_view>> labels,
              double value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += label_value(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

constexpr std::array<store::task_state, 4> task_states{store::task_state::pending, store::task_state::assigned,
                                                       store::task_state::done, store::task_state::failed};
constexpr std::array<store::run_state, 6> run_states{
    store::run_state::running,          store::run_state::done,
    store::run_state::failed,           store::run_state::budget_stopped,
    store::run_state::deadline_stopped, store::run_state::cancelled};

std::size_t of_state(const task_counts& c, store::task_state s) {
  switch (s) {
    case store::task_state::pending: return c.pending;
    case store::task_state::assigned: return c.assigned;
    case store::task_state::done: return c.done;
    case store::task_state::failed: return c.failed;
  }
  return 0;
}

}  // namespace

std::string error_json(const std::string& text) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  str(w, "error", text);
  w.EndObject();
  return buf.GetString();
}

api_reply runs_reply(const store::run_store& st) {
  auto runs = st.list_runs();
  if (!runs) return {500, error_json("cannot list runs: " + runs.err().describe())};
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("runs");
  w.StartArray();
  for (const auto& r : *runs) {
    w.StartObject();
    run_summary(w, r);
    // A run whose records cannot be read still gets its row (with the reason).
    if (auto snap = st.load_run(r.id)) {
      auto [plan, fixes] = count_tasks(*snap);
      w.Key("tasks_done"); w.Uint64(plan.done);
      w.Key("tasks_total"); w.Uint64(plan.total);
      w.Key("fixes_done"); w.Uint64(fixes.done);
      w.Key("fixes_total"); w.Uint64(fixes.total);
      w.Key("rounds"); w.Uint64(snap->rounds.size());
      const auto& t = snap->ledger_total;
      w.Key("tokens"); w.Int64(t.prompt_tokens + t.completion_tokens);
      w.Key("cost_usd"); w.Double(t.cost_usd);
      w.Key("calls"); w.Uint64(t.calls);
    } else {
      str(w, "read_error", snap.err().describe());
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {200, buf.GetString()};
}

api_reply run_reply(const store::run_store& st, const std::string& id) {
  auto snap = st.load_run(id);
  if (!snap) {
    auto code = snap.err().code;
    if (code == store::errc::not_found || code == store::errc::invalid_argument)
      return {404, error_json("no run " + id)};
    return {500, error_json("cannot read run " + id + ": " + snap.err().describe())};
  }
  // The ledger again, for usage by role AND model (load_run sums each alone).
  std::map<std::pair<std::string, std::string>, store::ledger_totals> by_pair;
  if (auto ledger = st.read_ledger(id))
    for (const auto& e : *ledger) by_pair[{e.use.role, e.use.model}].add(e);
  auto now = now_ms();
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  run_summary(w, snap->run);
  w.Key("now_ms"); w.Int64(now);
  auto [plan, fixes] = count_tasks(*snap);
  counts_json(w, "task_counts", plan);
  counts_json(w, "fix_counts", fixes);
  run_json::tasks_and_fixes(
    w, snap->tasks, is_fix,
    [now](json_writer& w, const store::task_record& t) { task_json(w, t, now); });
  run_json::review_rounds(
    w, snap->rounds,
    [](json_writer& w, const store::review_round& r) {
      w.Key("at_ms");
      w.Int64(r.at_ms);
    },
    run_json::with_instructions::yes);
  w.Key("files"); w.Uint64(snap->files.size());
  w.Key("usage");
  totals(w, snap->ledger_total);
  run_json::usage_by(w, "usage_by_role", snap->ledger_by_role, run_json::with_tokens::yes);
  run_json::usage_by(w, "usage_by_model", snap->ledger_by_model, run_json::with_tokens::yes);
  w.Key("usage_by_role_model");
  w.StartArray();
  for (const auto& [key, t] : by_pair) {
    w.StartObject();
    str(w, "role", key.first);
    str(w, "model", key.second);
    w.Key("usage");
    totals(w, t);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {200, buf.GetString()};
}

namespace {

void version_json(json_writer& w, const store::file_version& v) {
  w.Key("version"); w.Uint64(v.version);
  str(w, "hash", v.hash);
  w.Key("size"); w.Uint64(v.size);
  w.Key("deleted"); w.Bool(v.deleted);
  str(w, "task_id", v.task_id);
  w.Key("at_ms"); w.Int64(v.at_ms);
}

/// 404 for an unknown run, 500 when the store cannot say; nullopt: it exists.
std::optional<api_reply> run_missing(const store::run_store& st, const std::string& id) {
  auto rec = st.get_run(id);
  if (rec) return std::nullopt;
  auto code = rec.err().code;
  if (code == store::errc::not_found || code == store::errc::invalid_argument)
    return api_reply{404, error_json("no run " + id)};
  return api_reply{500, error_json("cannot read run " + id + ": " + rec.err().describe())};
}

/// Text content as a JSON string, or null for a binary blob (a NUL byte).
void content_json(json_writer& w, const char* key, const store::run_store& st, const store::file_version& v) {
  w.Key(key);
  if (v.deleted || v.hash.empty()) {
    w.String("");
    return;
  }
  auto blob = st.get_blob(v.hash);
  if (!blob || blob->find('\0') != std::string::npos) {
    w.Null();
    return;
  }
  w.String(blob->data(), static_cast<rapidjson::SizeType>(blob->size()));
}

}  // namespace

api_reply files_reply(const store::run_store& st, const std::string& id) {
  if (auto missing = run_missing(st, id)) return *missing;
  auto files = st.list_files(id, true);
  if (!files) return {500, error_json("cannot list the files of run " + id + ": " + files.err().describe())};
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("files");
  w.StartArray();
  for (const auto& f : *files) {
    w.StartObject();
    str(w, "path", f.path);
    w.Key("versions");
    w.StartArray();
    if (auto history = st.file_history(id, f.path))
      for (const auto& v : *history) {
        w.StartObject();
        version_json(w, v);
        w.EndObject();
      }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {200, buf.GetString()};
}

api_reply file_version_reply(const store::run_store& st, const std::string& id, const std::string& path,
                             const std::string& version) {
  if (auto missing = run_missing(st, id)) return *missing;
  if (path.empty()) return {400, error_json("give the file as ?path=...")};
  std::uint64_t want = 0;  // 0: the latest
  if (!version.empty()) {
    auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), want);
    if (ec != std::errc{} || end != version.data() + version.size() || want == 0)
      return {400, error_json("version must be a number from 1 on, not " + version)};
  }
  auto history = st.file_history(id, path);
  if (!history || history->empty()) return {404, error_json("run " + id + " has no file " + path)};
  std::size_t at = history->size() - 1;
  if (want != 0) {
    auto it = std::find_if(history->begin(), history->end(),
                           [want](const store::file_version& v) { return v.version == want; });
    if (it == history->end())
      return {404, error_json(path + " has no version " + version + " in run " + id)};
    at = static_cast<std::size_t>(it - history->begin());
  }
  const auto& v = (*history)[at];
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  str(w, "run", id);
  str(w, "path", path);
  version_json(w, v);
  w.Key("versions"); w.Uint64(history->size());
  content_json(w, "content", st, v);
  w.Key("previous");
  if (at == 0) {
    w.Null();
  } else {
    w.StartObject();
    version_json(w, (*history)[at - 1]);
    content_json(w, "content", st, (*history)[at - 1]);
    w.EndObject();
  }
  w.EndObject();
  return {200, buf.GetString()};
}

api_reply nodes_reply(const live_views& views, std::int64_t now) {
  // By name: the registry's entry first, then every planner's, which knows
  // the load (a node serving two runs at once: its busy slots add up).
  struct merged {
    live_node node;
    bool from_planner = false;
    std::vector<std::string> runs;
  };
  std::map<std::string, merged> by_name;
  for (bool planner : {false, true})
    for (const auto& v : views) {
      if (!v || (v->source == "planner") != planner) continue;
      for (const auto& n : v->nodes) {
        auto& m = by_name[n.name];
        if (!m.from_planner && planner) {
          auto model = m.node.model;
          m.node = n;
          if (m.node.model.empty()) m.node.model = model;
          m.from_planner = true;
        } else if (m.node.name.empty()) {
          m.node = n;
        } else if (planner) {
          m.node.busy_coders += n.busy_coders;
          m.node.busy_fixers += n.busy_fixers;
          m.node.last_seen_ms = std::max(m.node.last_seen_ms, n.last_seen_ms);
          if (n.tokens_per_s > 0) m.node.tokens_per_s = n.tokens_per_s;
          m.node.calls += n.calls;
          m.node.completion_tokens += n.completion_tokens;
        }
        if (planner && !v->run_id.empty()) m.runs.push_back(v->run_id);
      }
    }
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("now_ms"); w.Int64(now);
  w.Key("nodes");
  w.StartArray();
  for (const auto& [name, m] : by_name) {
    const auto& n = m.node;
    w.StartObject();
    str(w, "name", n.name);
    str(w, "model", n.model);
    w.Key("alive"); w.Bool(n.alive);
    w.Key("coders"); w.Int(n.coders);
    w.Key("fixers"); w.Int(n.fixers);
    w.Key("busy_coders"); w.Int(n.busy_coders);
    w.Key("busy_fixers"); w.Int(n.busy_fixers);
    w.Key("tokens_per_s"); w.Double(n.tokens_per_s);
    w.Key("calls"); w.Int64(n.calls);
    w.Key("completion_tokens"); w.Int64(n.completion_tokens);
    w.Key("joined_ms"); w.Int64(n.joined_ms);
    w.Key("last_seen_ms"); w.Int64(n.last_seen_ms);
    // Since its last message (a reply or its offer). CAF's own heartbeats
    // drop a silent connection after cluster.connection_timeout_ms.
    w.Key("heartbeat_age_ms");
    if (n.last_seen_ms > 0) w.Int64(std::max<std::int64_t>(0, now - n.last_seen_ms));
    else w.Null();
    for (bool fixers : {false, true}) {
      w.Key(fixers ? "fixer_slots" : "coder_slots");
      w.StartArray();
      for (const auto& sl : fixers ? n.fixer_slots : n.coder_slots) {
        w.StartObject();
        str(w, "label", sl.label);
        w.Key("busy"); w.Bool(sl.busy);
        w.Key("alive"); w.Bool(sl.alive);
        w.EndObject();
      }
      w.EndArray();
    }
    w.Key("runs");
    w.StartArray();
    for (const auto& r : m.runs) w.String(r.c_str(), static_cast<rapidjson::SizeType>(r.size()));
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("runs");
  w.StartArray();
  for (const auto& v : views) {
    if (!v || v->source != "planner") continue;
    w.StartObject();
    str(w, "id", v->run_id);
    str(w, "phase", msg::to_string(v->phase));
    w.Key("ready_tasks"); w.Int64(v->ready_tasks);
    w.Key("tasks_in_flight"); w.Int64(v->tasks_in_flight);
    w.Key("fixes_queued"); w.Int64(v->fixes_queued);
    w.Key("coder_tokens_per_s"); w.Double(v->coder_tokens_per_s);
    w.Key("at_ms"); w.Int64(v->at_ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {200, buf.GetString()};
}

namespace {

/// One (role, model) series of a histogram: cumulative buckets, +Inf, sum, count.
template <std::size_t N>
void role_model_histogram(prom& p, const std::string& name, const std::pair<std::string, std::string>& key,
                          const std::array<double, N>& bounds, const std::array<std::uint64_t, N>& le,
                          std::uint64_t count, double sum) {
  const auto bucket = name + "_bucket";
  for (std::size_t i = 0; i < N; ++i)
    p.sample(bucket.c_str(), {{"role", key.first}, {"model", key.second}, {"le", number(bounds[i])}},
             static_cast<double>(le[i]));
  p.sample(bucket.c_str(), {{"role", key.first}, {"model", key.second}, {"le", "+Inf"}}, static_cast<double>(count));
  p.sample((name + "_sum").c_str(), {{"role", key.first}, {"model", key.second}}, sum);
  p.sample((name + "_count").c_str(), {{"role", key.first}, {"model", key.second}}, static_cast<double>(count));
}

}  // namespace

api_reply metrics_reply(const store::run_store& st, const live_views& views, const ttft_histogram* ttft) {
  auto runs = st.list_runs();
  if (!runs) return {500, "# cannot list runs: " + runs.err().describe() + "\n"};

  std::map<store::run_state, std::size_t> by_run_state;
  struct run_facts {
    std::string id;
    task_counts plan, fixes;
    store::ledger_totals total;
  };
  std::vector<run_facts> facts;
  // (role, model) -> sums over every run; outcome kept apart for calls.
  std::map<std::pair<std::string, std::string>, store::ledger_totals> by_pair;
  // Call latency histogram per (role, model): cumulative counts per bucket.
  static constexpr std::array<double, 11> buckets{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  std::map<std::pair<std::string, std::string>, std::array<std::uint64_t, buckets.size()>> latency;
  for (const auto& r : *runs) {
    ++by_run_state[r.state];
    auto snap = st.load_run(r.id);
    if (!snap) continue;  // unreadable: counted by state only
    auto [plan, fixes] = count_tasks(*snap);
    facts.push_back({r.id, plan, fixes, snap->ledger_total});
    if (auto ledger = st.read_ledger(r.id))
      for (const auto& e : *ledger) {
        by_pair[{e.use.role, e.use.model}].add(e);
        auto& h = latency[{e.use.role, e.use.model}];
        double secs = static_cast<double>(e.use.latency.count()) / 1000.0;
        for (std::size_t i = 0; i < buckets.size(); ++i)
          if (secs <= buckets[i]) ++h[i];
      }
  }

  prom p;
  p.family("codehive_runs", "gauge", "Runs in the store by state.");
  for (auto s : run_states) p.sample("codehive_runs", {{"state", store::to_string(s)}},
                                     static_cast<double>(by_run_state[s]));

  p.family("codehive_tasks", "gauge", "Plan tasks of every run in the store by state (fix tasks excluded).");
  for (auto s : task_states) {
    std::size_t n = 0;
    for (const auto& f : facts) n += of_state(f.plan, s);
    p.sample("codehive_tasks", {{"state", store::to_string(s)}}, static_cast<double>(n));
  }
  p.family("codehive_run_tasks", "gauge", "Tasks of one run by state; kind is plan or fix.");
  for (const auto& f : facts)
    for (auto s : task_states) {
      p.sample("codehive_run_tasks", {{"run", f.id}, {"kind", "plan"}, {"state", store::to_string(s)}},
               static_cast<double>(of_state(f.plan, s)));
      p.sample("codehive_run_tasks", {{"run", f.id}, {"kind", "fix"}, {"state", store::to_string(s)}},
               static_cast<double>(of_state(f.fixes, s)));
    }
  p.family("codehive_run_tokens_total", "counter", "Prompt plus completion tokens of one run.");
  for (const auto& f : facts)
    p.sample("codehive_run_tokens_total", {{"run", f.id}},
             static_cast<double>(f.total.prompt_tokens + f.total.completion_tokens));
  p.family("codehive_run_cost_usd_total", "counter", "Model cost of one run in USD (0 when unpriced).");
  for (const auto& f : facts) p.sample("codehive_run_cost_usd_total", {{"run", f.id}}, f.total.cost_usd);

  p.family("codehive_model_calls_total", "counter", "Model calls by role, model and outcome (every run).");
  for (const auto& [k, t] : by_pair) {
    p.sample("codehive_model_calls_total", {{"role", k.first}, {"model", k.second}, {"outcome", "ok"}},
             static_cast<double>(t.calls - t.failed_calls));
    p.sample("codehive_model_calls_total", {{"role", k.first}, {"model", k.second}, {"outcome", "error"}},
             static_cast<double>(t.failed_calls));
  }
  p.family("codehive_model_tokens_total", "counter", "Tokens by role, model and kind (prompt or completion).");
  for (const auto& [k, t] : by_pair) {
    p.sample("codehive_model_tokens_total", {{"role", k.first}, {"model", k.second}, {"kind", "prompt"}},
             static_cast<double>(t.prompt_tokens));
    p.sample("codehive_model_tokens_total", {{"role", k.first}, {"model", k.second}, {"kind", "completion"}},
             static_cast<double>(t.completion_tokens));
  }
  p.family("codehive_model_cost_usd_total", "counter", "Model cost in USD by role and model.");
  for (const auto& [k, t] : by_pair)
    p.sample("codehive_model_cost_usd_total", {{"role", k.first}, {"model", k.second}}, t.cost_usd);
  p.family("codehive_model_call_seconds_total", "counter",
           "Summed wall time of model calls by role and model (divide by calls for the mean).");
  for (const auto& [k, t] : by_pair)
    p.sample("codehive_model_call_seconds_total", {{"role", k.first}, {"model", k.second}},
             static_cast<double>(t.latency_ms) / 1000.0);
  p.family("codehive_model_call_duration_seconds", "histogram",
           "Wall time of model calls (retries included) by role and model, from the ledger.");
  for (const auto& [k, h] : latency) {
    const auto& t = by_pair[k];
    role_model_histogram(p, "codehive_model_call_duration_seconds", k, buckets, h, t.calls,
                         static_cast<double>(t.latency_ms) / 1000.0);
  }
  p.family("codehive_model_ttft_seconds", "histogram",
           "Time to first token of this process's model calls by role and model (streamed: the first "
           "token; else the first byte of the reply), since it started; not kept in the store.");
  if (ttft)
    for (const auto& [k, s] : ttft->snapshot())
      role_model_histogram(p, "codehive_model_ttft_seconds", k, ttft_histogram::bounds_s, s.le, s.count, s.sum_s);
  // -- live: the running planners' queues and the nodes they see ----------------
  p.family("codehive_ready_tasks", "gauge",
           "Tasks of a running run whose dependencies are done, waiting for a free coder (the queue).");
  p.family("codehive_tasks_in_flight", "gauge", "Tasks of a running run with a coder now.");
  p.family("codehive_fixes_queued", "gauge", "Review fixes of a running run waiting for a fixer.");
  std::map<std::string, std::pair<bool, std::pair<int, int>>> nodes;  // name -> alive, (busy, coders)
  for (const auto& v : views) {
    if (!v) continue;
    if (v->source == "planner" && !v->run_id.empty()) {
      p.sample("codehive_ready_tasks", {{"run", v->run_id}}, static_cast<double>(v->ready_tasks));
      p.sample("codehive_tasks_in_flight", {{"run", v->run_id}}, static_cast<double>(v->tasks_in_flight));
      p.sample("codehive_fixes_queued", {{"run", v->run_id}}, static_cast<double>(v->fixes_queued));
    }
    for (const auto& n : v->nodes) {
      auto& e = nodes[n.name];
      e.first = e.first || n.alive;
      if (v->source == "planner") e.second.first += n.busy_coders;
      e.second.second = std::max(e.second.second, n.coders);
    }
  }
  p.family("codehive_workers_up", "gauge",
           "Nodes with live coder or fixer slots (this node counts as \"local\" when it has coders).");
  std::size_t up = 0;
  for (const auto& [name, e] : nodes) up += e.first ? 1 : 0;
  p.sample("codehive_workers_up", {}, static_cast<double>(up));
  p.family("codehive_coder_slots", "gauge", "Live coder slots per node, busy or idle.");
  for (const auto& [name, e] : nodes) {
    p.sample("codehive_coder_slots", {{"node", name}, {"state", "busy"}}, static_cast<double>(e.second.first));
    p.sample("codehive_coder_slots", {{"node", name}, {"state", "idle"}},
             static_cast<double>(std::max(0, e.second.second - e.second.first)));
  }

  // -- the store's writes (this process's, since it started) ------------------
  auto wt = st.write_stats();
  p.family("codehive_store_write_duration_seconds", "histogram",
           "Wall time of the run store's writes (one RocksDB WriteBatch each, synced unless store.sync is false).");
  for (std::size_t i = 0; i < wt.le.size(); ++i)
    p.sample("codehive_store_write_duration_seconds_bucket", {{"le", number(store::write_timings::bounds_s[i])}},
             static_cast<double>(wt.le[i]));
  p.sample("codehive_store_write_duration_seconds_bucket", {{"le", "+Inf"}}, static_cast<double>(wt.count));
  p.sample("codehive_store_write_duration_seconds_sum", {}, wt.sum_s);
  p.sample("codehive_store_write_duration_seconds_count", {}, static_cast<double>(wt.count));
  return {200, p.take()};
}

}  // namespace codehive
