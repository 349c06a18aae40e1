// The one TU that instantiates CAF's type-erased values for our messages.
#include "messages/setup.hpp"

#include <caf/actor_system_config.hpp>

#include "messages/error.hpp"
#include "messages/type_ids.hpp"

namespace codehive {

void register_messages(caf::actor_system_config& cfg) {
  // An idle scheduler thread polls its queue 100 times without sleeping,
  // then 500 times 50 us apart, before it sleeps 10 ms at a time (CAF 0.17's
  // defaults). codehive's actors wait seconds for models, so that spinning is
  // pure cost: poll a little, then sleep.
  cfg.set("work-stealing.aggressive-poll-attempts", 10);
  cfg.set("work-stealing.moderate-poll-attempts", 50);
  cfg.add_message_types<caf::id_block::codehive>();
  cfg.add_error_category(error_category, render_error);
}

}  // namespace codehive
