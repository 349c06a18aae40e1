#include "actors/task_graph.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "workspace/path_rules.hpp"

namespace codehive {

const char* to_string(task_state s) noexcept {
  switch (s) {
    case task_state::pending: return "pending";
    case task_state::running: return "running";
    case task_state::done: return "done";
    case task_state::failed: return "failed";
    case task_state::skipped: return "skipped";
  }
  return "unknown";
}

const char* to_string(retry_decision d) noexcept {
  switch (d) {
    case retry_decision::retry_small: return "retry_small";
    case retry_decision::escalate: return "escalate";
    case retry_decision::give_up: return "give_up";
  }
  return "unknown";
}

std::optional<task_graph> task_graph::build(const std::vector<task_spec>& specs, std::string& error,
                                            const std::string& reserved_prefix) {
  task_graph g;
  std::map<std::string, std::size_t> by_id;
  std::map<std::string, std::size_t> by_path;
  if (specs.empty()) {
    error = "the plan has no tasks";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    node n;
    n.spec = specs[i];
    if (n.spec.id.empty()) {
      error = "task #" + std::to_string(i + 1) + " has an empty id";
      return std::nullopt;
    }
    auto norm = ws::normalize_relative(n.spec.path);
    if (!norm) {
      error = "task '" + n.spec.id + "': path '" + n.spec.path
              + "' is not inside the output folder (" + norm.err().reason
              + "); use a relative path like 'js/app.js'";
      return std::nullopt;
    }
    n.spec.path = *norm;
    if (!reserved_prefix.empty() && (n.spec.path + "/").rfind(reserved_prefix, 0) == 0) {
      error = "task '" + n.spec.id + "': path '" + n.spec.path + "' is reserved for codehive's "
              + "exports (" + reserved_prefix + "); choose another folder";
      return std::nullopt;
    }
    if (!by_id.emplace(n.spec.id, i).second) {
      error = "duplicate task id '" + n.spec.id + "'; every task needs a unique id";
      return std::nullopt;
    }
    if (!by_path.emplace(n.spec.path, i).second) {
      error = "duplicate path '" + n.spec.path + "' (tasks '" + g.nodes_[by_path[n.spec.path]].spec.id
              + "' and '" + n.spec.id + "'); plan exactly one task per file";
      return std::nullopt;
    }
    g.nodes_.push_back(std::move(n));
  }
  // Resolve dependencies: ids first, a task's path as a courtesy.
  for (std::size_t i = 0; i < g.nodes_.size(); ++i) {
    auto& n = g.nodes_[i];
    std::set<std::size_t> seen;
    for (const auto& dep : n.spec.depends_on) {
      std::optional<std::size_t> j;
      if (auto it = by_id.find(dep); it != by_id.end())
        j = it->second;
      else if (auto norm = ws::normalize_relative(dep); norm) {
        if (auto jt = by_path.find(*norm); jt != by_path.end())
          j = jt->second;
      }
      if (!j) {
        error = "task '" + n.spec.id + "' depends on unknown task '" + dep
                + "'; depends_on must list ids of tasks in this plan";
        return std::nullopt;
      }
      if (*j == i) {
        error = "dependency cycle: task '" + n.spec.id + "' depends on itself";
        return std::nullopt;
      }
      if (seen.insert(*j).second) {
        n.deps.push_back(*j);
        g.nodes_[*j].dependents.push_back(i);
      }
    }
  }
  // Cycle detection (DFS with colors), reporting the cycle's ids.
  std::vector<int> color(g.nodes_.size(), 0);
  std::vector<std::size_t> stack;
  std::string cycle;
  std::function<bool(std::size_t)> visit = [&](std::size_t i) {
    color[i] = 1;
    stack.push_back(i);
    for (auto d : g.nodes_[i].deps) {
      if (color[d] == 1) {
        auto it = std::find(stack.begin(), stack.end(), d);
        for (; it != stack.end(); ++it)
          cycle += g.nodes_[*it].spec.id + " -> ";
        cycle += g.nodes_[d].spec.id;
        return false;
      }
      if (color[d] == 0 && !visit(d))
        return false;
    }
    stack.pop_back();
    color[i] = 2;
    return true;
  };
  for (std::size_t i = 0; i < g.nodes_.size(); ++i) {
    if (color[i] == 0 && !visit(i)) {
      error = "dependency cycle: " + cycle + "; remove one of these dependencies";
      return std::nullopt;
    }
  }
  // Longest chain from each task to a sink, over dependents (memoized DFS; the
  // graph is acyclic now).
  std::vector<int> memo(g.nodes_.size(), 0);
  std::function<int(std::size_t)> length = [&](std::size_t i) -> int {
    if (memo[i] > 0)
      return memo[i];
    int best = 0;
    for (auto d : g.nodes_[i].dependents)
      best = std::max(best, length(d));
    return memo[i] = best + 1;
  };
  for (std::size_t i = 0; i < g.nodes_.size(); ++i)
    g.nodes_[i].critical_length = length(i);
  return g;
}

std::optional<std::size_t> task_graph::index_of(const std::string& id) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].spec.id == id)
      return i;
  return std::nullopt;
}

std::vector<std::size_t> task_graph::ready() const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    if (n.state != task_state::pending)
      continue;
    bool ok = std::all_of(n.deps.begin(), n.deps.end(),
                          [&](auto d) { return nodes_[d].state == task_state::done; });
    if (ok)
      out.push_back(i);
  }
  std::stable_sort(out.begin(), out.end(), [&](auto a, auto b) {
    return nodes_[a].critical_length > nodes_[b].critical_length;
  });
  return out;
}

void task_graph::mark_running(std::size_t i, int worker) {
  auto& n = nodes_.at(i);
  n.state = task_state::running;
  n.last_worker = worker;
}

void task_graph::mark_done(std::size_t i) {
  nodes_.at(i).state = task_state::done;
}

void task_graph::requeue(std::size_t i) {
  auto& n = nodes_.at(i);
  if (n.state == task_state::running)
    n.state = task_state::pending;
}

retry_decision task_graph::record_failure(std::size_t i, const retry_policy& policy) {
  auto& n = nodes_.at(i);
  if (n.escalated)
    ++n.large_failures;
  else
    ++n.small_failures;
  if (n.small_failures < policy.small_attempts && !n.escalated) {
    n.state = task_state::pending;
    return retry_decision::retry_small;
  }
  if (n.large_failures < policy.large_attempts) {
    n.escalated = true;
    n.state = task_state::pending;
    return retry_decision::escalate;
  }
  fail(i);
  return retry_decision::give_up;
}

void task_graph::fail(std::size_t i) {
  nodes_.at(i).state = task_state::failed;
  skip_dependents(i);
}

void task_graph::skip_dependents(std::size_t i) {
  for (auto d : nodes_[i].dependents) {
    if (nodes_[d].state == task_state::pending) {
      nodes_[d].state = task_state::skipped;
      skip_dependents(d);
    }
  }
}

std::vector<std::string> task_graph::dependency_paths(std::size_t i) const {
  std::vector<std::string> out;
  for (auto d : nodes_.at(i).deps)
    out.push_back(nodes_[d].spec.path);
  return out;
}

bool task_graph::finished() const noexcept {
  return std::none_of(nodes_.begin(), nodes_.end(), [](const node& n) {
    return n.state == task_state::pending || n.state == task_state::running;
  });
}

int task_graph::count(task_state s) const noexcept {
  return static_cast<int>(
    std::count_if(nodes_.begin(), nodes_.end(), [s](const node& n) { return n.state == s; }));
}

}  // namespace codehive
