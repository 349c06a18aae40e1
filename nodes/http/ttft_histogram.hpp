// Time to first token of this process's model calls (llm::usage::first_token),
// by role and model, for /metrics. Kept in memory only: the run store keeps
// no such figure, so it covers the calls this process made since it started
// (on a coordinator: its own planner, reviewer and summarizer calls; a
// worker's coders time theirs in the worker's process).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace codehive {

class ttft_histogram {
 public:
  /// Upper bounds of the buckets, in seconds.
  static constexpr std::array<double, 10> bounds_s{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

  struct series {
    std::array<std::uint64_t, bounds_s.size()> le{};  ///< calls with ttft <= bounds_s[i]
    std::uint64_t count = 0;
    double sum_s = 0;
  };
  using key = std::pair<std::string, std::string>;  ///< (role, model)

  /// Thread-safe (model calls finish on the HTTP loop's thread).
  void observe(const std::string& role, const std::string& model, double seconds);
  std::map<key, series> snapshot() const;

  /// The process's one histogram: the ledger writers observe into it and
  /// /metrics reads it.
  static ttft_histogram& process();

 private:
  mutable std::mutex mu_;
  std::map<key, series> series_;
};

}  // namespace codehive
