#include "nodes/run_summary.hpp"

#include <algorithm>
#include <cstdio>

namespace codehive {

std::string phase_times_line(const std::vector<msg::phase_time>& phases) {
  if (phases.empty())
    return {};
  std::string line = "  time:";
  for (std::size_t i = 0; i < phases.size(); ++i) {
    auto name = phases[i].phase;
    std::replace(name.begin(), name.end(), '_', ' ');  // awaiting_approval
    char secs[32];
    std::snprintf(secs, sizeof secs, " %.1f s", static_cast<double>(phases[i].ms) / 1000.0);
    line += (i == 0 ? " " : ", ") + name + secs;
  }
  return line;
}

}  // namespace codehive
