// The events that record plan approval in a run's event log (`run
// --approve-plan`): the controller writes them (approval.cpp), and
// `codehive status` reads them to say that a plan waits.
#pragma once

#include <vector>

#include "storage/records.hpp"

namespace codehive::planner {

inline constexpr const char* proposed_event = "plan_proposed";
inline constexpr const char* approved_event = "plan_approved";
inline constexpr const char* rejected_event = "plan_rejected";

/// The last proposal, approval or rejection among `events`; nullptr if none.
inline const store::event* last_plan_decision(const std::vector<store::event>& events) {
  const store::event* last = nullptr;
  for (const auto& e : events)
    if (e.type == proposed_event || e.type == approved_event || e.type == rejected_event)
      last = &e;
  return last;
}

}  // namespace codehive::planner
