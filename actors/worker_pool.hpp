// The planner's view of who can work: the coder and fixer slots of this node
// and of every worker node that joined. A slot is one actor, busy with at most
// one request; the request carries a ticket so a reply from a slot that was
// given up (its node lost) is recognised and dropped. Slots are only ever
// appended (indexes stay valid for the task graph's last_worker); a lost
// node's slots are marked dead. No actor handles here: the planner actor keeps
// them in the same order (the pool is part of the CAF-free run controller).
//
// Picking a slot costs O(log nodes), not O(slots): a coordinator with 1,000
// coders assigns as cheaply as one with 4. Nodes with a free coder are kept
// ordered by (busy coders, lowest free slot), so the least-loaded node comes
// first and ties go to the lowest slot, as a scan in slot order would pick.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
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
  /// Appends the slots; labels are "<node>/coder-<k>" ("coder-<k>" for local).
  void add(const std::string& node, std::size_t n_coders, std::size_t n_fixers);

  const std::vector<worker_slot>& coders() const noexcept { return coders_; }
  const std::vector<worker_slot>& fixers() const noexcept { return fixers_; }

  /// A free live coder, one other than `avoid` if there is one, on the node
  /// with the fewest busy coders; -1 when none.
  int free_coder(int avoid) const;
  /// Whether free_coder would find one (O(1)).
  bool has_free_coder() const noexcept { return !by_load_.empty(); }
  /// A free live fixer (the lowest); -1 when none.
  int free_fixer() const;

  /// The slot takes the request `ticket` (it must be free and alive).
  void occupy_coder(int slot, std::uint64_t ticket);
  void occupy_fixer(int slot, std::uint64_t ticket);
  /// The slot is free again if it still holds `ticket` (a lost node's slot
  /// holds none: it stays dead).
  void release_coder(int slot, std::uint64_t ticket);
  void release_fixer(int slot, std::uint64_t ticket);

  /// Busy coders of one node.
  int busy_on(const std::string& node) const;
  int busy_coders() const noexcept { return busy_coders_; }
  int live_coders() const noexcept { return live_coders_; }
  int live_fixers() const noexcept { return static_cast<int>(free_fixers_.size()) + busy_fixers_; }

  /// Marks every slot of `node` dead and free; returns the tickets of the
  /// requests they had in flight (the caller requeues that work).
  std::vector<std::uint64_t> lose_node(const std::string& node);
  /// True while some slot of `node` is alive (a loss is handled once).
  bool has_live_slots(const std::string& node) const;

 private:
  struct node_slots {
    std::vector<int> coders;     ///< every coder slot of the node
    std::vector<int> fixers;     ///< every fixer slot of the node
    std::set<int> free_coders;   ///< alive and not busy
    int busy = 0;                ///< busy coders
    int live = 0;                ///< alive slots, coders and fixers
  };
  using load_key = std::tuple<int, int, std::string>;  ///< busy, lowest free slot, node

  /// Takes the node out of / puts it back into the load order around a change.
  void unlist(const std::string& node);
  void relist(const std::string& node);

  std::vector<worker_slot> coders_;
  std::vector<worker_slot> fixers_;
  std::map<std::string, node_slots> nodes_;
  std::set<load_key> by_load_;   ///< nodes with a free coder
  std::set<int> free_fixers_;
  int busy_coders_ = 0;
  int busy_fixers_ = 0;
  int live_coders_ = 0;
};

}  // namespace codehive
