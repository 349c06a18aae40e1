#include "nodes/silence_limit.hpp"

#include <algorithm>

namespace codehive {

void silence_limit::heard(clock::time_point now) {
  auto gap = std::chrono::duration_cast<ms>(now - last_);
  last_ = std::max(last_, now);
  if (gap < notable_gap)
    return;
  gaps_[next_] = gap;
  next_ = (next_ + 1) % remembered;
}

silence_limit::ms silence_limit::limit() const {
  auto longest = *std::max_element(gaps_.begin(), gaps_.end());
  auto adapted = std::max(base_, longest * gap_factor);
  return std::min(adapted, base_ * ceiling_factor);
}

}  // namespace codehive
