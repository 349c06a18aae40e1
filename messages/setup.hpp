// Registers codehive's message types and error category with an actor system
// configuration. Call once on every config before creating the system.
#pragma once

namespace caf {
class actor_system_config;
}

namespace codehive {

void register_messages(caf::actor_system_config& cfg);

}  // namespace codehive
