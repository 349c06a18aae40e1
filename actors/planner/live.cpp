// The live view of a run (live_view.hpp): the pool's nodes with their slots
// and load, when each was last heard from and how fast it generates, and the
// queue. Built by the shell after every message it handled, so the HTTP API
// reads a recent picture without asking the actor anything.
#include <algorithm>

#include "actors/planner/controller.hpp"

namespace codehive::planner {

void controller::heard_from(const std::string& node, const msg::usage* u) {
  auto& s = seen_[node];
  s.last_seen_ms = now();
  if (u == nullptr)
    return;
  s.calls += std::max<std::int64_t>(0, u->calls);
  s.completion_tokens += u->completion_tokens;
  if (u->tokens_per_s > 0) {
    // As the run's own figure (budget.cpp): a moving average that follows a
    // node slowing down (a loaded GPU) within a few calls.
    constexpr double weight = 0.3;
    s.tokens_per_s = s.tokens_per_s > 0 ? (1 - weight) * s.tokens_per_s + weight * u->tokens_per_s
                                        : u->tokens_per_s;
  }
  if (!u->model.empty() && s.model.empty())
    s.model = u->model;
}

live_view controller::view(const std::string& local_model) const {
  live_view v;
  v.source = "planner";
  v.run_id = run_.run_id;
  v.phase = active_ ? run_.phase : msg::run_phase::idle;
  v.at_ms = now();
  if (active_ && run_.graph && run_.phase == msg::run_phase::coding)
    v.ready_tasks = static_cast<std::int64_t>(run_.graph->ready_count());
  v.tasks_in_flight = tasks_in_flight_;
  for (const auto& [file, queue] : fix_queue_)
    v.fixes_queued += static_cast<std::int64_t>(queue.size());
  v.coder_tokens_per_s = run_.coder_tokens_per_s;

  std::map<std::string, live_node> nodes;
  auto node_of = [&](const worker_slot& slot) -> live_node& {
    auto& n = nodes[slot.node];
    if (n.name.empty()) {
      n.name = slot.node;
      n.alive = false;  // alive once one of its slots is
    }
    return n;
  };
  // Coders and fixers alike: each slot listed on its node, counted while alive.
  auto add_slots = [&](const auto& slots, std::vector<live_slot> live_node::*listed,
                       int live_node::*alive, int live_node::*busy) {
    for (const auto& s : slots) {
      auto& n = node_of(s);
      (n.*listed).push_back({s.label, s.busy, s.alive});
      if (s.alive) {
        n.alive = true;
        n.*alive += 1;
        n.*busy += s.busy ? 1 : 0;
      }
    }
  };
  add_slots(pool_.coders(), &live_node::coder_slots, &live_node::coders, &live_node::busy_coders);
  add_slots(pool_.fixers(), &live_node::fixer_slots, &live_node::fixers, &live_node::busy_fixers);
  for (auto& [name, n] : nodes) {
    if (auto it = seen_.find(name); it != seen_.end()) {
      n.model = it->second.model;
      n.joined_ms = it->second.joined_ms;
      n.last_seen_ms = it->second.last_seen_ms;
      n.tokens_per_s = it->second.tokens_per_s;
      n.calls = it->second.calls;
      n.completion_tokens = it->second.completion_tokens;
    }
    if (name == "local") {
      // This process: in the same address space, so always just heard from.
      if (!local_model.empty())
        n.model = local_model;
      n.last_seen_ms = v.at_ms;
    }
    v.nodes.push_back(std::move(n));
  }
  return v;
}

}  // namespace codehive::planner
