// Everything the planner knows about one run, in one plain struct (no CAF),
// so it can be exported now and persisted to the run store later.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/task_graph.hpp"
#include "messages/messages.hpp"

namespace codehive {

/// Per-task bookkeeping beyond the graph's state (timings for status.json).
struct task_timing {
  std::int64_t started_ms = 0;   ///< first attempt
  std::int64_t finished_ms = 0;
  int attempts = 0;
  std::string worker;            ///< label of the last worker
  std::string last_error;
};

struct round_record {
  int round = 0;
  msg::validation_report validation;
  int issues = 0;
  int fixes_applied = 0;
  int fixes_failed = 0;
};

struct planner_run {
  std::string run_id;
  std::string request;
  std::string out_dir;
  msg::budget limits;
  int max_rounds = 3;
  msg::run_phase phase = msg::run_phase::starting;
  std::string state = "running";    ///< running|done|unresolved|budget|model_failure|failed
  int exit_code = -1;
  std::string message;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;

  int plan_attempts = 0;
  std::vector<msg::file_task> tasks;       ///< as planned (paths normalized)
  std::optional<task_graph> graph;
  std::vector<task_timing> task_records;   ///< parallel to tasks

  int round = 0;                           ///< reviews done so far
  std::vector<round_record> rounds;
  std::vector<msg::review_issue> issues;   ///< every issue of every round
  std::map<std::string, int> issue_seen;   ///< issue key -> times reported
  std::vector<msg::finding> open_findings; ///< of the last validation

  std::map<std::string, msg::usage> usage_by_role;
  double coder_tokens_per_s = 0;  ///< moving average over coder and fixer calls
  /// Tracker records (latest known). Whoever replaces it wholesale calls
  /// reindex_files() (remember() notices appends and stale places itself).
  std::vector<msg::applied_file> files;
  std::set<std::string> changed_paths;     ///< written in this run
  /// Moves whenever `files` or `tasks` is replaced wholesale (reindex_files,
  /// replace_tasks), so an index of their places (the coder's context map)
  /// knows to start again; appends keep it.
  std::uint64_t layout_version = 0;

  /// A new plan (or the stored one, on resume) in place of the tasks.
  void replace_tasks(std::vector<msg::file_task> t) {
    tasks = std::move(t);
    ++layout_version;
  }

  /// Keeps the tracker's latest record of a file. O(1) per task: a path's
  /// place in `files` is looked up, not searched (a scan made every task of
  /// a 10,000-file run cost 10,000 string compares).
  void remember(const msg::applied_file& f) {
    if (file_index_.size() != files.size())
      reindex_files();  // `files` was filled or replaced directly (a restore)
    auto it = file_index_.find(f.path);
    if (it != file_index_.end()
        && (it->second >= files.size() || files[it->second].path != f.path)) {
      reindex_files();  // replaced by a listing of the same size
      it = file_index_.find(f.path);
    }
    if (it != file_index_.end()) {
      files[it->second] = f;
      return;
    }
    file_index_.emplace(f.path, files.size());
    files.push_back(f);
  }

  /// Paths written in this run that still exist.
  std::vector<std::string> live_changed_paths() const {
    std::set<std::string> deleted;
    for (const auto& f : files)
      if (f.deleted)
        deleted.insert(f.path);
    std::vector<std::string> out;
    for (const auto& p : changed_paths)
      if (deleted.count(p) == 0)
        out.push_back(p);
    return out;
  }

  std::int64_t total_tokens() const {
    std::int64_t n = 0;
    for (const auto& [role, u] : usage_by_role)
      n += u.prompt_tokens + u.completion_tokens;
    return n;
  }
  double total_cost() const {
    double c = 0;
    for (const auto& [role, u] : usage_by_role)
      c += u.cost_usd;
    return c;
  }

  /// After `files` is replaced wholesale (a tracker listing): remember()
  /// finds its records again.
  void reindex_files() {
    ++layout_version;
    file_index_.clear();
    for (std::size_t i = 0; i < files.size(); ++i)
      file_index_.emplace(files[i].path, i);  // the first of duplicates, as the scan found it
  }

 private:
  std::unordered_map<std::string, std::size_t> file_index_;  ///< path -> place in `files`
};

}  // namespace codehive
