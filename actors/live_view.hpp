// What a running planner (or the coordinator's registry) shows the outside
// right now: its worker nodes with their slots and load, the phase and the
// ready queue. The actor builds a live_view after handling a message and
// publishes it on a live_board; readers on other threads (the HTTP API, the
// metrics) take the latest one under a short mutex and never wait for the
// actor, however busy it is. Plain C++ and header-only: nodes/http reads it
// without linking actor code.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "messages/vocabulary.hpp"

namespace codehive {

/// One coder or fixer slot of a node.
struct live_slot {
  std::string label;  ///< "coder-2" (this node) or "gpu-box/coder-2"
  bool busy = false;
  bool alive = true;
};

/// One node that offered slots: this node ("local") or a worker.
struct live_node {
  std::string name;
  std::string model;           ///< the coder model it serves ("" when not known)
  bool alive = true;           ///< false once lost (its slots take no work)
  int coders = 0, fixers = 0;  ///< alive slots
  int busy_coders = 0, busy_fixers = 0;
  double tokens_per_s = 0;     ///< moving average of its calls' generation speed (0: none yet)
  std::int64_t calls = 0;      ///< model calls its replies reported
  std::int64_t completion_tokens = 0;
  std::int64_t joined_ms = 0;     ///< unix ms of its (latest) offer
  std::int64_t last_seen_ms = 0;  ///< unix ms of its latest message (offer or reply)
  std::vector<live_slot> coder_slots;
  std::vector<live_slot> fixer_slots;
};

struct live_view {
  std::string source;         ///< "planner" or "registry"
  std::string run_id;         ///< "" for the registry, or before a run starts
  msg::run_phase phase = msg::run_phase::idle;  ///< the run's phase (planner only)
  std::int64_t at_ms = 0;     ///< when it was built (unix ms)
  std::int64_t ready_tasks = 0;     ///< tasks whose dependencies are done, waiting for a coder
  std::int64_t tasks_in_flight = 0;
  std::int64_t fixes_queued = 0;
  double coder_tokens_per_s = 0;
  std::vector<live_node> nodes;
};

/// The latest published view; thread-safe, readers never block the publisher
/// for longer than a pointer swap.
class live_board {
 public:
  void publish(live_view v) {
    auto p = std::make_shared<const live_view>(std::move(v));
    std::lock_guard lock{mu_};
    latest_ = std::move(p);
  }
  /// nullptr before the first publish.
  std::shared_ptr<const live_view> latest() const {
    std::lock_guard lock{mu_};
    return latest_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const live_view> latest_;
};

}  // namespace codehive
