#include "actors/worker_pool.hpp"

namespace codehive {

namespace {

std::string label_of(const std::string& node, const char* role, std::size_t k) {
  auto base = std::string{role} + "-" + std::to_string(k);
  return node == "local" ? base : node + "/" + base;
}

template <class Slots>
std::vector<std::uint64_t> lose(Slots& slots, const std::string& node) {
  std::vector<std::uint64_t> tickets;
  for (auto& s : slots) {
    if (s.node != node || !s.alive)
      continue;
    s.alive = false;
    if (s.busy && s.ticket != 0)
      tickets.push_back(s.ticket);
    s.busy = false;
    s.ticket = 0;
  }
  return tickets;
}

}  // namespace

void worker_pool::add(const std::string& node, std::size_t n_coders, std::size_t n_fixers) {
  // Numbering continues per node, so a rejoined node's labels stay unique.
  std::size_t kc = 0;
  for (const auto& s : coders)
    kc += s.node == node ? 1 : 0;
  for (std::size_t i = 0; i < n_coders; ++i)
    coders.push_back({label_of(node, "coder", ++kc), node});
  std::size_t kf = 0;
  for (const auto& s : fixers)
    kf += s.node == node ? 1 : 0;
  for (std::size_t i = 0; i < n_fixers; ++i)
    fixers.push_back({label_of(node, "fixer", ++kf), node});
}

int worker_pool::free_coder(int avoid) const {
  // Least-loaded node first (so work spreads over every worker's model
  // server; a fast node frees its slots sooner and so takes more), then
  // anyone but `avoid` (the coder that failed this task last), in order.
  int best = -1;
  int best_load = 0;
  bool best_avoided = true;
  for (std::size_t c = 0; c < coders.size(); ++c) {
    const auto& s = coders[c];
    if (!s.alive || s.busy)
      continue;
    int load = busy_on(s.node);
    bool avoided = static_cast<int>(c) == avoid;
    bool better = best < 0 || (best_avoided && !avoided)
                  || (best_avoided == avoided && load < best_load);
    if (better) {
      best = static_cast<int>(c);
      best_load = load;
      best_avoided = avoided;
    }
  }
  return best;
}

int worker_pool::busy_on(const std::string& node) const {
  int n = 0;
  for (const auto& s : coders)
    n += s.node == node && s.busy ? 1 : 0;
  return n;
}

int worker_pool::free_fixer() const {
  for (std::size_t f = 0; f < fixers.size(); ++f)
    if (fixers[f].alive && !fixers[f].busy)
      return static_cast<int>(f);
  return -1;
}

int worker_pool::busy_coders() const {
  int n = 0;
  for (const auto& s : coders)
    n += s.busy ? 1 : 0;
  return n;
}

int worker_pool::live_coders() const {
  int n = 0;
  for (const auto& s : coders)
    n += s.alive ? 1 : 0;
  return n;
}

int worker_pool::live_fixers() const {
  int n = 0;
  for (const auto& s : fixers)
    n += s.alive ? 1 : 0;
  return n;
}

std::vector<std::uint64_t> worker_pool::lose_node(const std::string& node) {
  auto tickets = lose(coders, node);
  auto more = lose(fixers, node);
  tickets.insert(tickets.end(), more.begin(), more.end());
  return tickets;
}

bool worker_pool::has_live_slots(const std::string& node) const {
  for (const auto& s : coders)
    if (s.node == node && s.alive)
      return true;
  for (const auto& s : fixers)
    if (s.node == node && s.alive)
      return true;
  return false;
}

}  // namespace codehive
