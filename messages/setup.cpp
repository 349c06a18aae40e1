// The one TU that instantiates CAF's type-erased values for our messages.
#include "messages/setup.hpp"

#include <caf/actor_system_config.hpp>

#include "messages/error.hpp"
#include "messages/type_ids.hpp"

namespace codehive {

void register_messages(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::codehive>();
  cfg.add_error_category(error_category, render_error);
}

}  // namespace codehive
