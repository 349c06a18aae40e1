// How long the run store's writes take: each is one RocksDB WriteBatch, synced
// unless store_options::sync is false, and every run state change waits for
// one. Counted without a lock (atomics) so /metrics never waits behind a write.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace codehive::store {

/// A histogram of write durations (the Prometheus bucket bounds in seconds).
struct write_timings {
  static constexpr std::array<double, 12> bounds_s{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01,   0.025,   0.05,   0.1,   0.25,   1};
  std::array<std::uint64_t, bounds_s.size()> le{};  ///< cumulative: writes taking <= bounds_s[i]
  std::uint64_t count = 0;                          ///< every write (the +Inf bucket)
  double sum_s = 0;
};

/// The live counters behind write_timings (one per store).
class write_clock {
 public:
  void record(std::uint64_t ns) {
    std::size_t i = 0;
    while (i < write_timings::bounds_s.size() && static_cast<double>(ns) > write_timings::bounds_s[i] * 1e9) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  }
  write_timings read() const {
    write_timings t;
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < write_timings::bounds_s.size(); ++i) {
      running += counts_[i].load(std::memory_order_relaxed);
      t.le[i] = running;
    }
    t.count = running + counts_.back().load(std::memory_order_relaxed);
    t.sum_s = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    return t;
  }

 private:
  std::array<std::atomic<std::uint64_t>, write_timings::bounds_s.size() + 1> counts_{};  // last: > every bound
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace codehive::store
