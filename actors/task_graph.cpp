#include "actors/task_graph.hpp"

#include <algorithm>

#include "workspace/path_rules.hpp"

namespace codehive {

const char* to_string(graph_task_state s) noexcept {
  switch (s) {
    case graph_task_state::pending: return "pending";
    case graph_task_state::running: return "running";
    case graph_task_state::done: return "done";
    case graph_task_state::failed: return "failed";
    case graph_task_state::skipped: return "skipped";
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

namespace {

/// The plan's ids, for a reason a model can act on: the first few, then how
/// many more.
std::string some_ids(const std::vector<task_graph::node>& nodes) {
  constexpr std::size_t shown = 20;
  std::string out;
  for (std::size_t i = 0; i < nodes.size() && i < shown; ++i)
    out += (i == 0 ? "'" : ", '") + nodes[i].spec.id + "'";
  if (nodes.size() > shown)
    out += " and " + std::to_string(nodes.size() - shown) + " more";
  return out;
}

}  // namespace

std::optional<task_graph> task_graph::build(const std::vector<graph_task_spec>& specs, std::string& error,
                                            const std::string& reserved_prefix) {
  task_graph g;
  auto& by_id = g.by_id_;
  std::unordered_map<std::string, std::size_t> by_path;
  if (specs.empty()) {
    error = "the plan has no tasks";
    return std::nullopt;
  }
  g.nodes_.reserve(specs.size());
  by_id.reserve(specs.size());
  by_path.reserve(specs.size());
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
    if (auto [it, fresh] = by_path.emplace(n.spec.path, i); !fresh) {
      error = "duplicate path '" + n.spec.path + "' (tasks '" + g.nodes_[it->second].spec.id
              + "' and '" + n.spec.id + "'); plan exactly one task per file";
      return std::nullopt;
    }
    g.nodes_.push_back(std::move(n));
  }
  // Resolve dependencies by id only: the store records depends_on as ids, so
  // a path accepted here would be refused there ("cannot record the plan").
  // Refusing it here sends the reason back to the planner model instead.
  // seen_by[j] == i + 1: task i lists j already (a repeated entry counts once).
  std::vector<std::size_t> seen_by(g.nodes_.size(), 0);
  for (std::size_t i = 0; i < g.nodes_.size(); ++i) {
    auto& n = g.nodes_[i];
    for (const auto& dep : n.spec.depends_on) {
      auto it = by_id.find(dep);
      if (it == by_id.end()) {
        error = "task '" + n.spec.id + "' depends on unknown task '" + dep + "'";
        std::optional<std::size_t> named;
        if (auto norm = ws::normalize_relative(dep); norm)
          if (auto pt = by_path.find(*norm); pt != by_path.end())
            named = pt->second;
        if (named)
          error += ", which is the path of task '" + g.nodes_[*named].spec.id
                   + "': depends_on names a path; use the task id '" + g.nodes_[*named].spec.id + "'";
        else
          error += "; depends_on must list ids of tasks in this plan (" + some_ids(g.nodes_) + ")";
        return std::nullopt;
      }
      auto j = it->second;
      if (j == i) {
        error = "dependency cycle: task '" + n.spec.id + "' depends on itself";
        return std::nullopt;
      }
      if (seen_by[j] != i + 1) {
        seen_by[j] = i + 1;
        n.deps.push_back(j);
        g.nodes_[j].dependents.push_back(i);
      }
    }
  }
  // Topological order (Kahn, dependencies first), iteratively: a plan may be
  // one chain of any length.
  const auto count = g.nodes_.size();
  std::vector<std::size_t> waiting(count);
  std::vector<std::size_t> order;
  order.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    waiting[i] = g.nodes_[i].deps.size();
    if (waiting[i] == 0)
      order.push_back(i);
  }
  for (std::size_t k = 0; k < order.size(); ++k)
    for (auto d : g.nodes_[order[k]].dependents)
      if (--waiting[d] == 0)
        order.push_back(d);
  if (order.size() < count) {
    // Every task left over waits on another left-over task: following those
    // from any of them must come back to a task already seen, a cycle.
    std::size_t start = 0;
    while (waiting[start] == 0)
      ++start;
    std::vector<std::size_t> pos(count, count);
    std::vector<std::size_t> path;
    auto cur = start;
    while (pos[cur] == count) {
      pos[cur] = path.size();
      path.push_back(cur);
      for (auto d : g.nodes_[cur].deps)
        if (waiting[d] > 0) {
          cur = d;
          break;
        }
    }
    // A reason a model can read: a long cycle is named by its first tasks.
    constexpr std::size_t named = 20;
    std::string cycle;
    auto length = path.size() - pos[cur];
    for (auto k = pos[cur]; k < path.size() && k - pos[cur] < named; ++k)
      cycle += g.nodes_[path[k]].spec.id + " -> ";
    if (length > named)
      cycle += "... (" + std::to_string(length) + " tasks in the cycle) -> ";
    cycle += g.nodes_[cur].spec.id;
    error = "dependency cycle: " + cycle + "; remove one of these dependencies";
    return std::nullopt;
  }
  // Longest chain from each task to a sink: dependents come later in the
  // order, so walking it backwards finds theirs computed already.
  for (auto k = count; k-- > 0;) {
    auto& n = g.nodes_[order[k]];
    int best = 0;
    for (auto d : n.dependents)
      best = std::max(best, g.nodes_[d].critical_length);
    n.critical_length = best + 1;
  }
  g.unfinished_deps_.resize(count);
  g.counts_[static_cast<std::size_t>(graph_task_state::pending)] = static_cast<int>(count);
  for (std::size_t i = 0; i < count; ++i) {
    g.unfinished_deps_[i] = g.nodes_[i].deps.size();
    g.refresh_ready(i);
  }
  return g;
}

std::optional<std::size_t> task_graph::index_of(const std::string& id) const {
  if (auto it = by_id_.find(id); it != by_id_.end())
    return it->second;
  return std::nullopt;
}

std::vector<std::size_t> task_graph::ready() const {
  std::vector<std::size_t> out;
  out.reserve(ready_.size());
  for (const auto& [key, i] : ready_)
    out.push_back(i);
  return out;
}

std::optional<std::size_t> task_graph::next_ready(std::optional<std::size_t> after,
                                                  bool any_task) const {
  const auto& set = any_task ? ready_ : ready_without_coder_;
  auto it = after ? set.upper_bound({-nodes_.at(*after).critical_length, *after}) : set.begin();
  if (it == set.end())
    return std::nullopt;
  return it->second;
}

void task_graph::refresh_ready(std::size_t i) {
  const auto& n = nodes_[i];
  std::pair key{-n.critical_length, i};
  ready_without_coder_.erase(key);  // by key: whatever the flags said when it went in
  if (n.state == graph_task_state::pending && unfinished_deps_[i] == 0) {
    ready_.insert(key);
    if (!n.spec.needs_coder || n.escalated)
      ready_without_coder_.insert(key);
  } else {
    ready_.erase(key);
  }
}

void task_graph::set_state(std::size_t i, graph_task_state s) {
  auto& n = nodes_.at(i);
  auto old = n.state;
  if (old == s)
    return;
  n.state = s;
  --counts_[static_cast<std::size_t>(old)];
  ++counts_[static_cast<std::size_t>(s)];
  if (old == graph_task_state::done || s == graph_task_state::done) {
    for (auto d : n.dependents) {
      if (s == graph_task_state::done)
        --unfinished_deps_[d];
      else
        ++unfinished_deps_[d];
      refresh_ready(d);
    }
  }
  refresh_ready(i);
}

void task_graph::mark_running(std::size_t i, int worker) {
  set_state(i, graph_task_state::running);
  nodes_[i].last_worker = worker;
}

void task_graph::mark_done(std::size_t i) {
  set_state(i, graph_task_state::done);
}

void task_graph::requeue(std::size_t i) {
  if (nodes_.at(i).state == graph_task_state::running)
    set_state(i, graph_task_state::pending);
}

retry_decision task_graph::record_failure(std::size_t i, const retry_policy& policy) {
  auto& n = nodes_.at(i);
  if (n.escalated)
    ++n.large_failures;
  else
    ++n.small_failures;
  if (n.small_failures < policy.small_attempts && !n.escalated) {
    set_state(i, graph_task_state::pending);
    return retry_decision::retry_small;
  }
  if (n.large_failures < policy.large_attempts) {
    n.escalated = true;
    set_state(i, graph_task_state::pending);
    return retry_decision::escalate;
  }
  fail(i);
  return retry_decision::give_up;
}

void task_graph::fail(std::size_t i) {
  set_state(i, graph_task_state::failed);
  skip_dependents(i);
}

void task_graph::skip_dependents(std::size_t i) {
  // Iterative: the dependents of a task early in a long chain are the chain.
  std::vector<std::size_t> todo{i};
  while (!todo.empty()) {
    auto k = todo.back();
    todo.pop_back();
    for (auto d : nodes_[k].dependents) {
      if (nodes_[d].state == graph_task_state::pending) {
        set_state(d, graph_task_state::skipped);
        todo.push_back(d);
      }
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
  return count(graph_task_state::pending) == 0 && count(graph_task_state::running) == 0;
}

int task_graph::count(graph_task_state s) const noexcept {
  return counts_[static_cast<std::size_t>(s)];
}

}  // namespace codehive
