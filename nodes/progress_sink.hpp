// The CLI's progress actor: hands each progress event to a progress_line
// and redraws it every second on a terminal.
#pragma once

#include <functional>
#include <memory>

#include "actors/interfaces.hpp"

namespace caf {
class actor_system;
}

namespace codehive {

class progress_line;

/// Called for each event before the line sees it (on the actor's thread);
/// returns false to keep the event from the line.
using progress_filter = std::function<bool(const msg::progress_event&)>;

/// Called (on the actor's thread) for each file version a coordinator pushes
/// to a client that keeps a copy of the results (nodes/client_copy.hpp).
using file_copy_handler = std::function<void(const msg::file_copy&)>;

progress_actor spawn_progress_sink(caf::actor_system& sys, std::shared_ptr<progress_line> line,
                                   progress_filter filter = {}, file_copy_handler files = {});

}  // namespace codehive
