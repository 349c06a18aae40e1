// Lines of the summary a run prints when it ends (`run`, `resume`, `run
// --coordinator`) that both the local and the remote run print.
#pragma once

#include <string>
#include <vector>

#include "messages/messages.hpp"

namespace codehive {

/// "  time: planning 1.2 s, coding 30.4 s, ..." in the order the phases were
/// first entered; "" when the result carries none (a run refused at start).
std::string phase_times_line(const std::vector<msg::phase_time>& phases);

}  // namespace codehive
