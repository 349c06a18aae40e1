// Between the planner's planner_run and the run store: the conversions the
// planner and file tracker use when they persist, and the rebuild of a whole
// planner_run from what the store holds (for resume, `status` and `export`).
// No CAF: the store is plain data and so is planner_run.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/planner_run.hpp"
#include "storage/records.hpp"

namespace codehive {

namespace store {
class run_store;
}

/// Ids of fix tasks start with this ("fix:<round>:<n>"); everything else in
/// the store's task table is a plan task.
inline constexpr const char* fix_task_prefix = "fix:";
bool is_fix_task(const std::string& id);
std::string fix_task_id(int round, int n);

store::task_spec to_store(const msg::file_task& t);
msg::file_task from_store(const store::task_spec& t);

/// The task graph's view of a plan task: id, path, dependencies, and whether
/// a coder writes it (a folder needs none).
graph_task_spec graph_spec_of(const msg::file_task& t);

store::review_issue to_store(const msg::review_issue& issue);
/// A stored issue of review round `round`.
msg::review_issue from_store(const store::review_issue& issue, int round);
/// A review issue as a fix task of its round (action update, the issue's file).
store::task_spec fix_task_spec(const msg::review_issue& issue, const std::string& id);

std::string findings_to_json(const std::vector<msg::finding>& findings);
std::vector<msg::finding> findings_from_json(const std::string& json);

/// A stored file version as the tracker reports it (a file found in the
/// folder at the run's start and never touched since: version 0).
msg::applied_file applied_of(const store::file_version& f);

/// Worker labels as the planner writes them ("coder-3", "large-model") -> the
/// planner's worker index (2, -2); -1 for anything else.
int worker_index(const std::string& label);

/// What the store says about the fix tasks of the last stored review round.
struct fix_progress {
  int round = 0;                        ///< 0: no round stored
  std::vector<store::task_record> fixes;  ///< fix tasks of that round, by n
};

/// Tokens, cost and calls per role, summed over a run's ledger.
std::map<std::string, msg::usage> usage_from_ledger(const std::vector<store::ledger_entry>& ledger);

/// A run as the store holds it, rebuilt for the planner (or for exports).
struct restored_run {
  planner_run run;                        ///< tasks, graph (histories replayed), rounds,
                                        ///< issues, files, usage from the ledger
  std::vector<std::string> in_flight;   ///< plan tasks left `assigned` by the crash
  fix_progress last_round_fixes;
  bool planned = false;                 ///< the store has a plan
  int stored_exit_code = -1;            ///< of a finished run
};

/// Rebuilds run `run_id`. `policy` is the retry policy the run uses (replaying
/// failures needs it). Nothing is written. nullopt with `error` when the store
/// cannot be read or the stored plan no longer builds a graph.
std::optional<restored_run> restore_run(const store::run_store& s, const std::string& run_id,
                                        const retry_policy& policy, std::string& error);

}  // namespace codehive
