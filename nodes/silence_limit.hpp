// How long a connected node may stay silent before the coordinator takes it
// for dead. A fixed timeout cannot tell a slow node from a dead one: on a
// machine loaded by a parallel build, healthy workers' heartbeats arrive
// seconds late and a 5 s timeout dropped them (issue 16). The limit adapts
// to what the node has shown: the configured timeout, or three times the
// longest gap among its recent ones, whichever is longer, but never more
// than ten times the configured timeout (a dead node is still found).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>

namespace codehive {

class silence_limit {
 public:
  using clock = std::chrono::steady_clock;
  using ms = std::chrono::milliseconds;

  /// Gaps shorter than this say nothing about slowness (traffic, not
  /// heartbeats) and are not recorded.
  static constexpr ms notable_gap{100};
  static constexpr std::size_t remembered = 32;
  static constexpr int gap_factor = 3;
  static constexpr int ceiling_factor = 10;

  silence_limit(ms base, clock::time_point start) : base_(base), last_(start) {}

  /// Bytes arrived at `now`.
  void heard(clock::time_point now);

  /// The current limit: max(base, 3 x the longest recent gap), at most 10 x base.
  ms limit() const;

  /// Silent for longer than limit() at `now`.
  bool exceeded(clock::time_point now) const { return now - last_ > limit(); }

  clock::time_point last_heard() const { return last_; }

 private:
  ms base_;
  clock::time_point last_;
  std::array<ms, remembered> gaps_{};
  std::size_t next_ = 0;
};

}  // namespace codehive
