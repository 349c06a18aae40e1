// The planner's task graph: plan validation (cycles, unknown dependencies,
// duplicate ids/paths, paths outside the output folder), readiness, the
// critical-path order in which ready tasks go to free coders, and the
// retry/escalation policy. Pure logic, no CAF, no I/O: unit-tested on its own
// and easy to persist later (it is plain data).
//
// Plans can be large (a model may plan hundreds of thousands of tasks, in one
// chain): no walk over the graph recurses (a chain that deep overflows the
// stack), and the per-event operations (ready, mark_done, count, index_of)
// cost what they touch, not the size of the plan.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace codehive {

/// What the graph needs to know about one planned task.
struct graph_task_spec {
  std::string id;
  std::string path;
  std::vector<std::string> depends_on;  ///< task ids (a path is refused: the store keys by id)
  bool needs_coder = true;              ///< false: no model call (a folder), no coder slot needed
};

enum class graph_task_state { pending, running, done, failed, skipped };
const char* to_string(graph_task_state s) noexcept;

/// What to do after a task's attempt failed.
enum class retry_decision { retry_small, escalate, give_up };
const char* to_string(retry_decision d) noexcept;

struct retry_policy {
  int small_attempts = 2;   ///< small-model failures before escalating to the large model
  int large_attempts = 1;   ///< large-model attempts before giving up
};

class task_graph {
 public:
  struct node {
    graph_task_spec spec;
    std::vector<std::size_t> deps;        ///< indexes of dependencies (resolved)
    std::vector<std::size_t> dependents;  ///< indexes of tasks depending on this one
    int critical_length = 1;              ///< longest chain of tasks from here to a sink
    graph_task_state state = graph_task_state::pending;
    int small_failures = 0;
    int large_failures = 0;
    bool escalated = false;               ///< next attempt goes to the large model
    int last_worker = -1;                 ///< coder index of the last attempt
  };

  /// Validates and builds. On error returns a reason a model can act on, e.g.
  /// "dependency cycle: a -> b -> a" or "task 'x': path escapes the output folder".
  /// A depends_on entry that is not a task id of this plan is refused, naming
  /// the entry; one that is a task's path says which id to use instead.
  /// `reserved_prefix` names a folder tasks may not write (our exports).
  static std::optional<task_graph> build(const std::vector<graph_task_spec>& specs, std::string& error,
                                         const std::string& reserved_prefix = "generated_files/");

  std::size_t size() const noexcept { return nodes_.size(); }
  const node& at(std::size_t i) const { return nodes_.at(i); }
  std::optional<std::size_t> index_of(const std::string& id) const;

  /// Pending tasks whose dependencies are all done, longest remaining path
  /// first, then plan order. Kept up to date by the mutators below, so this
  /// costs the number of ready tasks, not the size of the plan.
  std::vector<std::size_t> ready() const;
  /// How many tasks ready() would list, in O(1) (the live view asks after
  /// every event; a copy of 15,000 ready tasks each time was O(plan)).
  std::size_t ready_count() const noexcept { return ready_.size(); }
  /// The ready task that follows `after` (none: the first) in ready()'s
  /// order; with `any_task` false the next one that needs no coder slot (no
  /// model call, or escalated to the large model). O(log n): dispatch walks
  /// only what it can start, not every ready task per event.
  std::optional<std::size_t> next_ready(std::optional<std::size_t> after, bool any_task) const;

  void mark_running(std::size_t i, int worker);
  void mark_done(std::size_t i);
  /// A running task goes back to pending (its worker was lost, or the run
  /// stopped with it in flight); its failure counts are kept.
  void requeue(std::size_t i);
  /// Records a failed attempt and decides what happens next; on give_up the
  /// task is failed and everything depending on it (transitively) skipped.
  retry_decision record_failure(std::size_t i, const retry_policy& policy);
  /// Fails a task outright (e.g. the run stops) and skips its dependents.
  void fail(std::size_t i);

  /// Paths of the direct dependencies of task i (normalized).
  std::vector<std::string> dependency_paths(std::size_t i) const;

  bool finished() const noexcept;  ///< nothing pending or running
  int count(graph_task_state s) const noexcept;

 private:
  void skip_dependents(std::size_t i);
  /// The one place a node's state changes: keeps counts_, unfinished_deps_
  /// and ready_ consistent with the nodes' states.
  void set_state(std::size_t i, graph_task_state s);
  /// Puts node i into ready_ or takes it out, as its state says.
  void refresh_ready(std::size_t i);

  std::vector<node> nodes_;
  std::unordered_map<std::string, std::size_t> by_id_;
  std::vector<std::size_t> unfinished_deps_;  ///< per node: dependencies not done
  /// Pending nodes with no unfinished dependency, as (-critical_length, index).
  std::set<std::pair<int, std::size_t>> ready_;
  /// The part of ready_ that needs no coder slot (see next_ready).
  std::set<std::pair<int, std::size_t>> ready_without_coder_;
  std::array<int, 5> counts_{};  ///< nodes per graph_task_state
};

}  // namespace codehive
