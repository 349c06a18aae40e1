// Time per phase of a run (planning, coding, validating, reviewing, fixing,
// ...), for the final summary. The controller enters a phase as it moves on;
// each change is kept in the run's event log as a "phase" event carrying the
// totals so far, so a resumed run adds to what earlier sessions spent (less
// the unfinished part of the phase a crash cut short), and `codehive status
// --watch` reads the current phase and what it is doing from the same events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/messages.hpp"
#include "storage/records.hpp"

namespace codehive::planner {

inline constexpr const char* phase_event = "phase";

class phase_clock {
 public:
  /// Totals of earlier sessions (from the last phase event), added to.
  void seed(std::vector<msg::phase_time> earlier);
  /// Closes the current phase (if any) at `now_ms` and opens `phase`.
  void enter(const std::string& phase, std::int64_t now_ms);
  /// Closes the current phase; nothing is timed until the next enter.
  void stop(std::int64_t now_ms);
  /// Time per phase, the open one counted up to `now_ms`, in the order
  /// the phases were first entered.
  std::vector<msg::phase_time> totals(std::int64_t now_ms) const;

 private:
  std::vector<msg::phase_time> closed_;
  std::string open_;
  std::int64_t since_ms_ = 0;
};

/// One "phase" event: the phase entered, what it is doing, totals so far.
struct phase_record {
  std::string phase;
  std::string detail;
  std::vector<msg::phase_time> totals;
  std::int64_t at_ms = 0;
};

std::string phase_event_json(const std::string& phase, const std::string& detail,
                             const std::vector<msg::phase_time>& totals);
/// nullopt: not a phase event, or not one this version can read.
std::optional<phase_record> read_phase_event(const store::event& e);
/// The last phase event among `events` (nullopt: none).
std::optional<phase_record> last_phase(const std::vector<store::event>& events);

}  // namespace codehive::planner
