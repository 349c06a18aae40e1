// The planner's view of who can work: the coder and fixer slots of this node
// and of every worker node that joined. A slot is one actor, busy with at most
// one request; the request carries a ticket so a reply from a slot that was
// given up (its node lost) is recognised and dropped. Slots are only ever
// appended (indexes stay valid for the task graph's last_worker); a lost
// node's slots are marked dead. No actor handles here: the planner actor keeps
// them in the same order (the pool is part of the CAF-free run controller).
#pragma once

#include <cstdint>
#include <string>
#include <vector>


namespace codehive {

struct worker_slot {
  std::string label;         ///< "coder-2" (this node) or "gpu-box/coder-2"
  std::string node;          ///< "local" or the worker's name
  bool alive = true;
  bool busy = false;
  std::uint64_t ticket = 0;  ///< of the request in flight (0: none)
};

class worker_pool {
 public:
  std::vector<worker_slot> coders;
  std::vector<worker_slot> fixers;

  /// Appends the slots; labels are "<node>/coder-<k>" ("coder-<k>" for local).
  void add(const std::string& node, std::size_t n_coders, std::size_t n_fixers);

  /// A free live coder, one other than `avoid` if there is one, on the node
  /// with the fewest busy coders; -1 when none.
  int free_coder(int avoid) const;
  /// Busy coders of one node.
  int busy_on(const std::string& node) const;
  /// A free live fixer; -1 when none.
  int free_fixer() const;
  int busy_coders() const;
  int live_coders() const;
  int live_fixers() const;

  /// Marks every slot of `node` dead and free; returns the tickets of the
  /// requests they had in flight (the caller requeues that work).
  std::vector<std::uint64_t> lose_node(const std::string& node);
  /// True while some slot of `node` is alive (a loss is handled once).
  bool has_live_slots(const std::string& node) const;
};

}  // namespace codehive
