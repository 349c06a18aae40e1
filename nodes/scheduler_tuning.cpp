#include "nodes/scheduler_tuning.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>

namespace codehive {

void tune_scheduler(caf::actor_system_config& cfg) {
  using count = caf::config_value::integer;
  cfg.set("work-stealing.aggressive-poll-attempts",
          count{scheduler_tuning::aggressive_poll_attempts});
  cfg.set("work-stealing.moderate-poll-attempts", count{scheduler_tuning::moderate_poll_attempts});
}

}  // namespace codehive
