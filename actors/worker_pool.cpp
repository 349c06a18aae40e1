#include "actors/worker_pool.hpp"

namespace codehive {

namespace {

std::string label_of(const std::string& node, const char* role, std::size_t k) {
  auto base = std::string{role} + "-" + std::to_string(k);
  return node == "local" ? base : node + "/" + base;
}

}  // namespace

void worker_pool::unlist(const std::string& node) {
  const auto& n = nodes_.at(node);
  if (!n.free_coders.empty())
    by_load_.erase({n.busy, *n.free_coders.begin(), node});
}

void worker_pool::relist(const std::string& node) {
  const auto& n = nodes_.at(node);
  if (!n.free_coders.empty())
    by_load_.insert({n.busy, *n.free_coders.begin(), node});
}

void worker_pool::add(const std::string& node, std::size_t n_coders, std::size_t n_fixers) {
  auto& n = nodes_[node];
  unlist(node);
  // Numbering continues per node, so a rejoined node's labels stay unique.
  for (std::size_t i = 0; i < n_coders; ++i) {
    int slot = static_cast<int>(coders_.size());
    coders_.push_back({label_of(node, "coder", n.coders.size() + 1), node});
    n.coders.push_back(slot);
    n.free_coders.insert(slot);
  }
  for (std::size_t i = 0; i < n_fixers; ++i) {
    int slot = static_cast<int>(fixers_.size());
    fixers_.push_back({label_of(node, "fixer", n.fixers.size() + 1), node});
    n.fixers.push_back(slot);
    free_fixers_.insert(slot);
  }
  n.live += static_cast<int>(n_coders + n_fixers);
  live_coders_ += static_cast<int>(n_coders);
  relist(node);
}

int worker_pool::free_coder(int avoid) const {
  // Least-loaded node first (so work spreads over every worker's model
  // server; a fast node frees its slots sooner and so takes more), then
  // anyone but `avoid` (the coder that failed this task last). `avoid` is on
  // one node only, so at most one node is passed over.
  for (const auto& [busy, lowest, node] : by_load_) {
    const auto& free = nodes_.at(node).free_coders;
    for (int slot : free)
      if (slot != avoid)
        return slot;
  }
  if (avoid >= 0 && static_cast<std::size_t>(avoid) < coders_.size()) {
    const auto& s = coders_[static_cast<std::size_t>(avoid)];
    if (s.alive && !s.busy)
      return avoid;  // the only one left, even if it failed last time
  }
  return -1;
}

int worker_pool::free_fixer() const {
  return free_fixers_.empty() ? -1 : *free_fixers_.begin();
}

void worker_pool::occupy_coder(int slot, std::uint64_t ticket) {
  auto& s = coders_.at(static_cast<std::size_t>(slot));
  if (!s.alive || s.busy)
    return;
  unlist(s.node);
  auto& n = nodes_.at(s.node);
  n.free_coders.erase(slot);
  n.busy += 1;
  busy_coders_ += 1;
  s.busy = true;
  s.ticket = ticket;
  relist(s.node);
}

void worker_pool::release_coder(int slot, std::uint64_t ticket) {
  auto& s = coders_.at(static_cast<std::size_t>(slot));
  if (!s.busy || s.ticket != ticket)
    return;
  unlist(s.node);
  auto& n = nodes_.at(s.node);
  n.free_coders.insert(slot);
  n.busy -= 1;
  busy_coders_ -= 1;
  s.busy = false;
  s.ticket = 0;
  relist(s.node);
}

void worker_pool::occupy_fixer(int slot, std::uint64_t ticket) {
  auto& s = fixers_.at(static_cast<std::size_t>(slot));
  if (!s.alive || s.busy)
    return;
  free_fixers_.erase(slot);
  busy_fixers_ += 1;
  s.busy = true;
  s.ticket = ticket;
}

void worker_pool::release_fixer(int slot, std::uint64_t ticket) {
  auto& s = fixers_.at(static_cast<std::size_t>(slot));
  if (!s.busy || s.ticket != ticket)
    return;
  free_fixers_.insert(slot);
  busy_fixers_ -= 1;
  s.busy = false;
  s.ticket = 0;
}

int worker_pool::busy_on(const std::string& node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.busy;
}

std::vector<std::uint64_t> worker_pool::lose_node(const std::string& node) {
  std::vector<std::uint64_t> tickets;
  auto it = nodes_.find(node);
  if (it == nodes_.end())
    return tickets;
  unlist(node);
  auto& n = it->second;
  for (int slot : n.coders) {
    auto& s = coders_[static_cast<std::size_t>(slot)];
    if (!s.alive)
      continue;
    s.alive = false;
    live_coders_ -= 1;
    if (s.busy) {
      busy_coders_ -= 1;
      if (s.ticket != 0)
        tickets.push_back(s.ticket);
    }
    s.busy = false;
    s.ticket = 0;
  }
  for (int slot : n.fixers) {
    auto& s = fixers_[static_cast<std::size_t>(slot)];
    if (!s.alive)
      continue;
    s.alive = false;
    free_fixers_.erase(slot);
    if (s.busy) {
      busy_fixers_ -= 1;
      if (s.ticket != 0)
        tickets.push_back(s.ticket);
    }
    s.busy = false;
    s.ticket = 0;
  }
  n.free_coders.clear();
  n.busy = 0;
  n.live = 0;
  return tickets;
}

bool worker_pool::has_live_slots(const std::string& node) const {
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.live > 0;
}

}  // namespace codehive
