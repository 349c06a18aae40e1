// The commands that only read the run store: `runs`, `status`, `export` and
// `fsck`. They open the store read-only (no lock), so they work beside a
// running coordinator, and they never create, repair or reset a store: every
// way the store cannot be read ends in one line on stderr and exit 2.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "actors/exports.hpp"
#include "common/json_member.hpp"
#include "actors/planner/plan_events.hpp"
#include "actors/run_config.hpp"
#include "actors/run_restore.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/config.hpp"
#include "nodes/generated_files.hpp"
#include "nodes/run_json.hpp"
#include "nodes/status_watch.hpp"
#include "nodes/store_location.hpp"
#include "storage/run_store.hpp"
#include "workspace/file_ops.hpp"

namespace codehive {

namespace {

namespace fs = std::filesystem;
using json_writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// -- errors and opening ------------------------------------------------------

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// The config as `run` loads it (--config, else the default file), so that
/// its store.path and pipeline.retry apply here too.
std::optional<codehive_config> load_query_config(const char* cmd, const std::string& flag) {
  std::string err;
  auto cfg = load_config_for(flag, err);
  if (!cfg) usage_error(cmd, err);
  return cfg;
}

struct opened_store {
  codehive_config cfg;
  fs::path dir;
  std::unique_ptr<store::run_store> st;
};

/// Resolves and opens the store read-only. A missing (or empty) folder is
/// reported as such before the library's longer reasons, which name
/// foreign folders, damaged stores and newer schemas.
std::optional<opened_store> open_for_query(const char* cmd, const store_query_options& o) {
  auto cfg = load_query_config(cmd, o.config);
  if (!cfg) return std::nullopt;
  std::string err;
  auto dir = resolve_store_path(o.store, *cfg, err);
  if (!dir) {
    usage_error(cmd, err);
    return std::nullopt;
  }
  std::error_code ec;
  if (!fs::exists(*dir, ec)) {
    usage_error(cmd, "no store at " + dir->string()
                         + (o.store.empty() ? " (pass --store DIR or set CODEHIVE_STORE)" : ""));
    return std::nullopt;
  }
  auto st = open_store(*dir, /*read_only=*/true, cfg->store.sync, err);
  if (!st) {
    usage_error(cmd, err);
    return std::nullopt;
  }
  return opened_store{std::move(*cfg), *dir, std::move(st)};
}

/// The run's record; prints the "unknown run" message for not_found.
std::optional<store::run_record> find_run(const char* cmd, const opened_store& s,
                                          const std::string& id) {
  auto r = s.st->get_run(id);
  if (r) return std::move(*r);
  if (r.err().code == store::errc::not_found || r.err().code == store::errc::invalid_argument)
    usage_error(cmd, "no run " + id + " in " + s.dir.string() + " (see `codehive runs`)");
  else
    usage_error(cmd, "cannot read run " + id + ": " + r.err().describe());
  return std::nullopt;
}

// -- text helpers --------------------------------------------------------------

/// Code points in UTF-8 text (continuation bytes do not count), for column widths.
std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

/// One line of at most `max` code points: control characters become spaces,
/// and a cut (never inside a UTF-8 sequence) ends in "...".
std::string one_line(std::string_view s, std::size_t max) {
  std::string flat;
  flat.reserve(s.size());
  for (char c : s) flat += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (display_width(flat) <= max) return flat;
  std::string out;
  std::size_t points = 0;
  for (std::size_t i = 0; i < flat.size(); ++i) {
    auto c = static_cast<unsigned char>(flat[i]);
    if ((c & 0xC0) != 0x80 && ++points > max - 3) break;
    out += flat[i];
  }
  return out + "...";
}

std::string format_cost(double usd) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%.4f", usd);
  return buf;
}

/// "45s", "3m", "2h", "5d" since `then_ms`.
std::string format_age(std::int64_t then_ms, std::int64_t now) {
  std::int64_t s = std::max<std::int64_t>(0, (now - then_ms) / 1000);
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

/// A table printed with every column as wide as its widest cell; numeric
/// columns are right-aligned so digits line up.
class table {
 public:
  explicit table(std::vector<std::string> headers, std::vector<bool> right = {})
      : headers_(std::move(headers)), right_(std::move(right)) {
    right_.resize(headers_.size(), false);
  }
  void add(std::vector<std::string> row) {
    row.resize(headers_.size());
    rows_.push_back(std::move(row));
  }
  bool empty() const { return rows_.empty(); }
  void print(const char* indent = "") const {
    std::vector<std::size_t> width(headers_.size());
    for (std::size_t c = 0; c < headers_.size(); ++c) {
      width[c] = display_width(headers_[c]);
      for (const auto& r : rows_) width[c] = std::max(width[c], display_width(r[c]));
    }
    print_row(headers_, width, indent);
    for (const auto& r : rows_) print_row(r, width, indent);
  }

 private:
  void print_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& width,
                 const char* indent) const {
    std::string line = indent;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      std::string pad(width[c] - display_width(cells[c]), ' ');
      bool last = c + 1 == cells.size();
      line += right_[c] ? pad + cells[c] : cells[c] + (last ? "" : pad);
      if (!last) line += "  ";
    }
    std::printf("%s\n", line.c_str());
  }

  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// -- facts about a run -----------------------------------------------------------

/// The CLI exit code the run's last stop recorded (nullopt: running, or none).
std::optional<int> stored_exit_code(const store::run_record& run) {
  if (run.exit_code < 0) return std::nullopt;
  return run.exit_code;
}

std::string state_text(const store::run_record& run, std::optional<int> exit) {
  std::string s = store::to_string(run.state);
  if (exit) s += " (exit " + std::to_string(*exit) + ")";
  return s;
}

std::size_t live_files(const store::run_snapshot& snap) {
  return static_cast<std::size_t>(std::count_if(snap.files.begin(), snap.files.end(),
                                                [](const auto& f) { return !f.deleted; }));
}

std::int64_t tokens(const store::ledger_totals& t) { return t.prompt_tokens + t.completion_tokens; }

/// A string member of the run's config_json ("" when absent or not a string).
std::size_t findings_count(const std::string& findings_json) {
  rapidjson::Document d;
  d.Parse(findings_json.c_str(), findings_json.size());
  return (!d.HasParseError() && d.IsArray()) ? d.Size() : 0;
}

std::string last_error(const store::task_record& t) {
  if (t.last_error_code.empty()) return {};
  return t.last_reason.empty() ? t.last_error_code : t.last_error_code + ": " + t.last_reason;
}

// -- JSON helpers ----------------------------------------------------------------


void print_json(const rapidjson::StringBuffer& buf) { std::printf("%s\n", buf.GetString()); }

// -- runs ------------------------------------------------------------------------

struct run_row {
  store::run_record run;
  std::size_t files = 0;
  store::ledger_totals totals;
  std::optional<int> exit;
};

/// One row per run; a run whose records cannot be read still gets a row (its
/// record), with the reason on stderr, so one bad run does not hide the rest.
std::vector<run_row> collect_runs(const store::run_store& st,
                                  const std::vector<store::run_record>& runs) {
  std::vector<run_row> rows;
  for (const auto& r : runs) {
    run_row row{r, 0, {}, stored_exit_code(r)};
    if (auto snap = st.load_run(r.id)) {
      row.files = live_files(*snap);
      row.totals = snap->ledger_total;
          } else {
      std::fprintf(stderr, "codehive runs: run %s: %s (try `codehive fsck %s`)\n", r.id.c_str(),
                   snap.err().describe().c_str(), r.id.c_str());
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void print_runs_json(const std::vector<run_row>& rows, std::int64_t now) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartArray();
  for (const auto& r : rows) {
    w.StartObject();
    run_json::run_head(w, r.run, r.exit);
    w.Key("files"); w.Uint64(r.files);
    w.Key("tokens"); w.Int64(tokens(r.totals));
    w.Key("prompt_tokens"); w.Int64(r.totals.prompt_tokens);
    w.Key("completion_tokens"); w.Int64(r.totals.completion_tokens);
    w.Key("cost_usd"); w.Double(r.totals.cost_usd);
    w.Key("created_ms"); w.Int64(r.run.created_ms);
    w.Key("updated_ms"); w.Int64(r.run.updated_ms);
    json_member(w, "age", format_age(r.run.created_ms, now));
    w.EndObject();
  }
  w.EndArray();
  print_json(buf);
}

void print_runs_table(const std::vector<run_row>& rows, std::int64_t now) {
  table t{{"ID", "REQUEST", "STATE", "FILES", "TOKENS", "COST", "AGE"},
          {false, false, false, true, true, true, true}};
  for (const auto& r : rows)
    t.add({r.run.id, one_line(r.run.request, 40), state_text(r.run, r.exit),
           std::to_string(r.files), std::to_string(tokens(r.totals)),
           format_cost(r.totals.cost_usd), format_age(r.run.created_ms, now)});
  t.print();
}

// -- status ----------------------------------------------------------------------

void print_task_table(const std::vector<const store::task_record*>& tasks) {
  table t{{"ID", "ACTION", "PATH", "STATE", "ATTEMPTS", "WORKER", "LAST ERROR"},
          {false, false, false, false, true, false, false}};
  for (const auto* k : tasks)
    t.add({k->spec.id, k->spec.action, k->spec.path, store::to_string(k->state),
           std::to_string(k->attempts), k->worker, one_line(last_error(*k), 60)});
  t.print("  ");
}

void print_usage_table(const char* title, const char* key_header,
                       const std::map<std::string, store::ledger_totals>& by,
                       const store::ledger_totals& total) {
  std::printf("\n%s\n", title);
  table t{{key_header, "CALLS", "FAILED", "PROMPT", "COMPLETION", "COST", "LATENCY"},
          {false, true, true, true, true, true, true}};
  auto row = [&t](const std::string& name, const store::ledger_totals& u) {
    t.add({name, std::to_string(u.calls), std::to_string(u.failed_calls),
           std::to_string(u.prompt_tokens), std::to_string(u.completion_tokens),
           format_cost(u.cost_usd), std::to_string(u.latency_ms) + "ms"});
  };
  for (const auto& [name, u] : by) row(name.empty() ? "(none)" : name, u);
  row("total", total);
  t.print("  ");
}

void print_status_text(const store::run_snapshot& s, std::optional<int> exit, std::int64_t now) {
  const auto& r = s.run;
  std::string state = state_text(r, exit);
  if (!r.state_reason.empty()) state += ": " + r.state_reason;
  std::printf("run      %s\n", r.id.c_str());
  std::printf("request  %s\n", one_line(r.request, 200).c_str());
  std::printf("state    %s\n", state.c_str());
  std::printf("created  %s (%s ago)\n", iso8601_utc(r.created_ms).c_str(),
              format_age(r.created_ms, now).c_str());
  std::printf("updated  %s (%s ago)\n", iso8601_utc(r.updated_ms).c_str(),
              format_age(r.updated_ms, now).c_str());
  if (auto out = run_settings_from_json(r.config_json).out_dir; !out.empty())
    std::printf("out      %s\n", out.c_str());

  std::vector<const store::task_record*> plan, fixes;
  for (const auto& t : s.tasks) (is_fix_task(t.spec.id) ? fixes : plan).push_back(&t);
  std::printf("\ntasks (%zu)\n", plan.size());
  if (plan.empty()) std::printf("  (no plan yet)\n");
  else print_task_table(plan);
  if (!fixes.empty()) {
    std::printf("\nfixes (%zu)\n", fixes.size());
    print_task_table(fixes);
  }

  std::printf("\nreview rounds (%zu)\n", s.rounds.size());
  if (!s.rounds.empty()) {
    table t{{"ROUND", "ISSUES", "FINDINGS"}, {true, true, true}};
    for (const auto& rr : s.rounds)
      t.add({std::to_string(rr.round), std::to_string(rr.issues.size()),
             std::to_string(findings_count(rr.findings_json))});
    t.print("  ");
    for (const auto& rr : s.rounds)
      for (const auto& i : rr.issues)
        std::printf("  round %u: %s: %s\n", rr.round, i.file.c_str(),
                    one_line(i.problem, 100).c_str());
  }

  print_usage_table("usage by role", "ROLE", s.ledger_by_role, s.ledger_total);
  print_usage_table("usage by model", "MODEL", s.ledger_by_model, s.ledger_total);
}

void write_task_json(json_writer& w, const store::task_record& t) {
  w.StartObject();
  json_member(w, "id", t.spec.id);
  json_member(w, "action", t.spec.action);
  json_member(w, "type", t.spec.type);
  json_member(w, "path", t.spec.path);
  json_member(w, "state", store::to_string(t.state));
  w.Key("attempts"); w.Int(t.attempts);
  json_member(w, "worker", t.worker);
  json_member(w, "last_error_code", t.last_error_code);
  json_member(w, "last_reason", t.last_reason);
  json_member(w, "file_hash", t.file_hash);
  w.EndObject();
}

void print_status_json(const store::run_snapshot& s, std::optional<int> exit) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  const auto& r = s.run;
  w.StartObject();
  run_json::run_head(w, r, exit);
  w.Key("created_ms"); w.Int64(r.created_ms);
  w.Key("updated_ms"); w.Int64(r.updated_ms);
  json_member(w, "out_dir", run_settings_from_json(r.config_json).out_dir);
  run_json::tasks_and_fixes(w, s.tasks, is_fix_task, write_task_json);
  run_json::review_rounds(
    w, s.rounds,
    [](json_writer& w, const store::review_round& rr) {
      w.Key("findings");
      w.Uint64(findings_count(rr.findings_json));
    },
    run_json::with_instructions::no);
  w.Key("files"); w.Uint64(live_files(s));
  w.Key("usage");
  run_json::usage(w, s.ledger_total, run_json::with_tokens::no);
  run_json::usage_by(w, "usage_by_role", s.ledger_by_role, run_json::with_tokens::no);
  run_json::usage_by(w, "usage_by_model", s.ledger_by_model, run_json::with_tokens::no);
  w.EndObject();
  print_json(buf);
}

// -- export ----------------------------------------------------------------------

/// The export target must be absent or an empty folder: never mix a run into
/// (or overwrite) someone's files.
bool check_export_dir(const fs::path& out) {
  std::error_code ec;
  auto st = fs::symlink_status(out, ec);
  if (ec || !fs::exists(st)) return true;
  if (!fs::is_directory(st)) {
    usage_error("export", out.string() + " exists and is not a folder");
    return false;
  }
  if (fs::directory_iterator(out, ec) != fs::directory_iterator{} || ec) {
    usage_error("export", out.string() + " is not empty; choose a new or empty folder");
    return false;
  }
  return true;
}

/// Says which files of the project the store does not hold (the scan left
/// them out: too large, empty, unreadable) and where they are: the export
/// cannot rebuild them. From the run's last "files_left_out" event.
void note_left_out(const store::run_store& st, const std::string& run) {
  auto events = st.read_events(run);
  if (!events) return;
  const store::event* last = nullptr;
  for (const auto& e : *events)
    if (e.type == "files_left_out") last = &e;
  if (!last) return;
  rapidjson::Document doc;
  doc.Parse(last->data_json.c_str(), last->data_json.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("files") || !doc["files"].IsArray()) return;
  std::string folder = doc.HasMember("folder") && doc["folder"].IsString() ? doc["folder"].GetString() : "";
  const auto& files = doc["files"];
  std::fprintf(stderr,
               "codehive export: note: %u file(s) of the project are not in the store and were not exported "
               "(copy them from %s if you need them):\n",
               files.Size(), folder.empty() ? "the project folder" : folder.c_str());
  for (const auto& f : files.GetArray())
    if (f.IsObject() && f.HasMember("path") && f["path"].IsString())
      std::fprintf(stderr, "  %s: %s\n", f["path"].GetString(),
                   f.HasMember("reason") && f["reason"].IsString() ? f["reason"].GetString() : "left out");
}

/// Writes the run's current files; returns how many, or nullopt after a failure.
std::optional<std::size_t> export_project_files(const store::run_store& st, const std::string& run,
                                                const fs::path& out) {
  auto files = st.list_files(run);
  if (!files) {
    std::fprintf(stderr, "codehive export: cannot list files: %s\n", files.err().describe().c_str());
    return std::nullopt;
  }
  std::size_t written = 0;
  for (const auto& f : *files) {
    if (f.deleted || is_export_path(f.path)) continue;
    auto content = st.get_file(run, f.path);
    if (!content) {
      std::fprintf(stderr, "codehive export: %s: %s\n", f.path.c_str(),
                   content.err().describe().c_str());
      return std::nullopt;
    }
    if (content->content.empty()) {  // the workspace writer refuses empty files
      std::fprintf(stderr, "codehive export: %s is empty in the store, skipped\n", f.path.c_str());
      continue;
    }
    if (auto w = ws::write_file(out, f.path, content->content, ws::stored_bytes_options()); !w) {
      std::fprintf(stderr, "codehive export: %s: %s\n", f.path.c_str(), w.err().describe().c_str());
      return std::nullopt;
    }
    ++written;
  }
  return written;
}

}  // namespace

int runs_command(const store_query_options& o) {
  auto s = open_for_query("runs", o);
  if (!s) return exit_code::usage;
  auto runs = s->st->list_runs();
  if (!runs)
    return usage_error("runs", "cannot list runs: " + runs.err().describe());
  auto now = now_ms();
  if (runs->empty() && !o.json) {
    std::printf("no runs in %s\n", s->dir.string().c_str());
    return exit_code::ok;
  }
  // The id's time has second resolution; created_ms orders runs of the same second.
  std::stable_sort(runs->begin(), runs->end(), [](const auto& a, const auto& b) {
    return a.created_ms < b.created_ms;
  });
  auto rows = collect_runs(*s->st, *runs);
  if (o.json) print_runs_json(rows, now);
  else print_runs_table(rows, now);
  return exit_code::ok;
}

/// The run's last plan decision event is a proposal: a plan waits for
/// approval (run --approve-plan; actors/planner/approval.cpp writes these).
bool plan_waits_for_approval(const store::run_store& st, const std::string& run_id) {
  auto events = st.read_events(run_id);
  if (!events) return false;
  const auto* last = planner::last_plan_decision(*events);
  return last != nullptr && last->type == planner::proposed_event;
}

/// status --watch: a fresh read-only store for each look (a read-only
/// RocksDB sees only what was written before it opened), the usual status
/// text once the run has ended.
static int watch_status(const opened_store& s, const std::string& run_id) {
  auto open = [&s](std::string& err) { return open_store(s.dir, /*read_only=*/true, s.cfg.store.sync, err); };
  auto final_status = [&run_id](const store::run_store& st) {
    if (auto snap = st.load_run(run_id)) print_status_text(*snap, stored_exit_code(snap->run), now_ms());
  };
  return watch_run(run_id, open, final_status, isatty(STDOUT_FILENO) == 1, stdout);
}

int status_command(const store_query_options& o) {
  if (o.watch && o.json)
    return usage_error("status", "--watch draws a live view; --json prints one snapshot: choose one");
  auto s = open_for_query("status", o);
  if (!s) return exit_code::usage;
  auto run = find_run("status", *s, o.run_id);
  if (!run) return exit_code::usage;
  if (o.watch) return watch_status(*s, o.run_id);
  auto snap = s->st->load_run(o.run_id);
  if (!snap)
    return usage_error("status", "cannot read run " + o.run_id + ": " + snap.err().describe()
                                     + " (try `codehive fsck " + o.run_id + "`)");
  auto exit = stored_exit_code(snap->run);
  if (o.json) print_status_json(*snap, exit);
  else print_status_text(*snap, exit, now_ms());
  if (!o.json && snap->tasks.empty() && snap->run.state == store::run_state::running
      && plan_waits_for_approval(*s->st, o.run_id))
    std::printf("\nplan     waits for approval: see generated_files/tasks.json, then `codehive approve %s "
                "--http HOST:PORT` (or the dashboard's Approve button)\n",
                o.run_id.c_str());
  return exit_code::ok;
}

int fsck_command(const store_query_options& o) {
  auto s = open_for_query("fsck", o);
  if (!s) return exit_code::usage;
  std::vector<std::string> ids;
  if (!o.run_id.empty()) {
    if (!find_run("fsck", *s, o.run_id)) return exit_code::usage;
    ids.push_back(o.run_id);
  } else {
    auto runs = s->st->list_runs();
    if (!runs) {  // a damaged runs table is a finding; a newer one needs a newer codehive
      std::fprintf(stderr, "codehive fsck: cannot list runs: %s\n", runs.err().describe().c_str());
      return runs.err().code == store::errc::newer_schema ? exit_code::usage
                                                          : exit_code::unresolved;
    }
    for (const auto& r : *runs) ids.push_back(r.id);
    if (ids.empty()) std::printf("no runs in %s\n", s->dir.string().c_str());
  }
  bool clean = true;
  for (const auto& id : ids) {
    auto problems = s->st->fsck(id);
    if (!problems) {
      std::printf("%s: cannot check: %s\n", id.c_str(), problems.err().describe().c_str());
      clean = false;
      continue;
    }
    for (const auto& p : *problems)
      std::printf("  %s  %s  %s\n", p.kind.c_str(), p.where.c_str(), p.detail.c_str());
    if (problems->empty()) std::printf("%s: clean\n", id.c_str());
    else std::printf("%s: %zu problem(s)\n", id.c_str(), problems->size());
    clean = clean && problems->empty();
  }
  return clean ? exit_code::ok : exit_code::unresolved;
}

int export_command(const store_query_options& o) {
  fs::path out = o.out;
  if (out.empty()) return usage_error("export", "--out DIR is required");
  if (!check_export_dir(out)) return exit_code::usage;
  auto s = open_for_query("export", o);
  if (!s) return exit_code::usage;
  if (!find_run("export", *s, o.run_id)) return exit_code::usage;
  // Rebuilt before anything is written, so a run that cannot be rebuilt leaves no half export.
  std::string err;
  auto restored = restore_run(*s->st, o.run_id, s->cfg.pipeline.retry, err);
  if (!restored)
    return usage_error("export", "cannot rebuild run " + o.run_id + " from the store: " + err
                                     + " (try `codehive fsck " + o.run_id + "`)");
  auto n = export_project_files(*s->st, o.run_id, out);
  if (!n) return exit_code::internal;
  if (!write_generated_files(restored->run, out, err)) {
    std::fprintf(stderr, "codehive export: %s\n", err.c_str());
    return exit_code::internal;
  }
  std::printf("exported %zu files to %s (and generated_files/: tasks.json, code_review.json, "
              "file_tracker.json, status.json)\n",
              *n, out.string().c_str());
  note_left_out(*s->st, o.run_id);
  return exit_code::ok;
}

}  // namespace codehive
