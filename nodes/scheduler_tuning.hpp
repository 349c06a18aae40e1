// The actor system's scheduler, set for a node that is idle most of the time
// (issue 11): its worker threads wait on a condition variable instead of
// polling. CAF 0.17.6's defaults poll for about 25 ms after every job (500
// checks of the queue with a 50 us sleep between them), so a run that
// finishes a task every few milliseconds keeps every scheduler thread
// waking up: 130 clock_nanosleep calls per task, 10-17% of a zero-latency
// run's CPU samples (bench/results/profile-*.txt).
#pragma once

#include <cstddef>

namespace caf {
class actor_system_config;
}

namespace codehive {

/// The values tune_scheduler sets (CAF 0.17.6 keys "work-stealing.*", read by
/// caf::policy::work_stealing when the scheduler starts).
struct scheduler_tuning {
  /// Queue checks without sleeping after a job, before the sleep (CAF: 100).
  static constexpr std::size_t aggressive_poll_attempts = 100;
  /// Checks with a sleep between them after those (CAF: 500 x 50 us): none,
  /// a thread goes straight to its condition variable; work sent from
  /// outside the scheduler (network, timers, the model clients' loop, the
  /// detached actors) wakes it there at once.
  static constexpr std::size_t moderate_poll_attempts = 0;
};

/// Sets the scheduler's polling as scheduler_tuning says; everything else
/// (the thread count, the steal intervals, the relaxed sleep of 10 ms before
/// a waiting thread tries to steal) stays CAF's default. A relaxed sleep of
/// 100 ms was measured too (BENCHMARKS.md, 2026-12-03): about the same CPU per task
/// as 10 ms, and a job queued behind a busy thread could wait that long.
void tune_scheduler(caf::actor_system_config& cfg);

}  // namespace codehive
