// Worker nodes: slots joining (at start or mid-run: they get work at once)
// and nodes lost (their requests in flight go back to the queue, stored
// first; their slots take no more work; a node that rejoins comes back as
// new slots).
#include <spdlog/spdlog.h>

#include "actors/planner/controller.hpp"
#include "storage/run_store.hpp"

namespace codehive::planner {

/// New or freed capacity: hand out whatever waits in the current phase.
void controller::put_to_work() {
  if (!active_ || stopping_)
    return;
  if (run_.phase == msg::run_phase::coding)
    dispatch();
  else if (run_.phase == msg::run_phase::fixing)
    pump_fixes();
}

void controller::on_worker_offer(const std::string& node, std::size_t coders,
                                 std::size_t fixers, const std::string& model) {
  // A node that rejoins (its old connection gone) replaces its old slots.
  if (pool_.has_live_slots(node))
    on_node_lost(node, "it joined again");
  pool_.add(node, coders, fixers);
  auto& seen = seen_[node];
  seen.model = model;
  seen.joined_ms = seen.last_seen_ms = now();
  said_waiting_ = false;
  spdlog::info("run={} worker {} offers {} coders and {} fixers ({}); {} coders, {} fixers in all",
               run_.run_id.empty() ? "-" : run_.run_id, node, coders, fixers, model,
               pool_.live_coders(), pool_.live_fixers());
  progress(msg::progress_kind::worker_joined, {}, {}, node);
  put_to_work();
}

void controller::on_node_lost(const std::string& node, const std::string& why) {
  // Every monitored slot of a node reports the loss on its own (a worker
  // with 125 coders: 125 down messages): the first one handles it.
  if (!pool_.has_live_slots(node))
    return;
  auto tickets = pool_.lose_node(node);
  spdlog::warn("run={} worker {} lost: {}; {} request(s) in flight go back to the queue",
               run_.run_id.empty() ? "-" : run_.run_id, node, why, tickets.size());
  progress(msg::progress_kind::worker_lost, {}, {}, node);
  for (auto ticket : tickets) {
    auto it = jobs_.find(ticket);
    if (it == jobs_.end() || it->second.replied)
      continue;
    auto gone = std::move(it->second);
    jobs_.erase(it);
    if (gone.what == job::kind::task) {
      tasks_in_flight_ -= 1;
      const auto& task = run_.tasks[gone.task];
      if (!move_task(task.id, store::task_state::pending,
                     store::because("worker " + node + " lost")))
        return;
      run_.graph->requeue(gone.task);
      announce(fmt::format("run={} task={} {} queued again (worker {} lost)", run_.run_id, task.id,
                           task.path, node));
    } else {
      fix_finished(gone.issue.file);
      if (!move_task(gone.fix_id, store::task_state::pending,
                     store::because("worker " + node + " lost")))
        return;
      announce(fmt::format("run={} task={} fix queued again (worker {} lost)", run_.run_id,
                           gone.fix_id, node));
      fix_queue_[gone.issue.file].push_front({std::move(gone.issue), std::move(gone.fix_id)});
    }
  }
  put_to_work();
}

}  // namespace codehive::planner
