// Everything the planner knows about one run, in one plain struct (no CAF),
// so it can be exported now and persisted to the run store later.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/task_graph.hpp"
#include "messages/messages.hpp"

namespace codehive {

/// Per-task bookkeeping beyond the graph's state (timings for status.json).
struct task_record {
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

struct run_state {
  std::string run_id;
  std::string request;
  std::string out_dir;
  msg::budget limits;
  int max_rounds = 3;
  std::string phase = "starting";   ///< starting|planning|coding|validating|reviewing|fixing|finished
  std::string state = "running";    ///< running|done|unresolved|budget|model_failure|failed
  int exit_code = -1;
  std::string message;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;

  int plan_attempts = 0;
  std::vector<msg::file_task> tasks;       ///< as planned (paths normalized)
  std::optional<task_graph> graph;
  std::vector<task_record> task_records;   ///< parallel to tasks

  int round = 0;                           ///< reviews done so far
  std::vector<round_record> rounds;
  std::vector<msg::review_issue> issues;   ///< every issue of every round
  std::map<std::string, int> issue_seen;   ///< issue key -> times reported
  std::vector<msg::finding> open_findings; ///< of the last validation

  std::map<std::string, msg::usage> usage_by_role;
  double coder_tokens_per_s = 0;  ///< moving average over coder and fixer calls
  std::vector<msg::applied_file> files;    ///< tracker records (latest known)
  std::set<std::string> changed_paths;     ///< written in this run

  /// Keeps the tracker's latest record of a file.
  void remember(const msg::applied_file& f) {
    for (auto& x : files) {
      if (x.path == f.path) {
        x = f;
        return;
      }
    }
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
};

}  // namespace codehive
