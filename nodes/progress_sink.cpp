#include "nodes/progress_sink.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "nodes/progress_line.hpp"

namespace codehive {

namespace {

struct progress_state {
  static inline const char* name = "progress";
};

progress_actor::behavior_type progress_sink(progress_actor::stateful_pointer<progress_state> self,
                                            std::shared_ptr<progress_line> line,
                                            progress_filter filter, file_copy_handler files) {
  if (line->terminal())
    self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom::value);
  return {
    [line, filter](msg::progress_event& ev) {
      if (!filter || filter(ev))
        line->on_event(ev);
    },
    [self, line](caf::tick_atom) {
      line->refresh();
      self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom::value);
    },
    [files](msg::file_copy& f) {
      if (files)
        files(f);
    },
  };
}

}  // namespace

progress_actor spawn_progress_sink(caf::actor_system& sys, std::shared_ptr<progress_line> line,
                                   progress_filter filter, file_copy_handler files) {
  return sys.spawn(progress_sink, std::move(line), std::move(filter), std::move(files));
}

}  // namespace codehive
