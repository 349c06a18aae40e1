// Path lists for requests: normalized, each path once, in the order given.
#pragma once

#include <string>
#include <vector>

#include "workspace/path_rules.hpp"

namespace codehive::planner {

/// Appends `p` (normalized) unless it is unusable or already listed.
inline void add_unique(std::vector<std::string>& xs, const std::string& p) {
  auto norm = ws::normalize_relative(p);
  if (!norm)
    return;
  for (const auto& x : xs)
    if (x == *norm)
      return;
  xs.push_back(*norm);
}

}  // namespace codehive::planner
