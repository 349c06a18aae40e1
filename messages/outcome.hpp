// How a run ends, in one table: each outcome's name (the run_result's state
// on the wire), the name status.json, the store's run list and the CLI show,
// its exit code (the CLI's contract, see DESIGN.md) and the state the run
// store keeps. Nothing else maps outcomes to numbers or strings.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "messages/vocabulary.hpp"
#include "storage/records.hpp"

namespace codehive::msg {

enum class run_outcome : std::uint8_t {
  done,           ///< every file written, validators and reviewer clean
  unresolved,     ///< finished with findings or failed tasks left
  model_failure,  ///< a model server unreachable or failing (resumable)
  budget,         ///< token or cost budget hit (resumable with a higher one)
  deadline,       ///< --max-time hit (resumable)
  cancelled,      ///< Ctrl-C / SIGTERM (resumable)
  plan_rejected,  ///< the user rejected the plan (run --approve-plan); resuming
                  ///< asks for a new one
  local_io,       ///< the output folder or the run store refused a write (disk full,
                  ///< permissions): resumable once that is fixed
  failed,         ///< the tracker or the validator failed, a bug (internal)
  refused,        ///< a coordinator refused to start the run (wrong token, ...);
                  ///< never stored: a refused run has no record
};

struct outcome_row {
  run_outcome what;
  std::string_view name;     ///< on the wire (unique)
  std::string_view shown;    ///< planner_run::state, status.json, the CLI's last line
  int exit_code;
  store::run_state stored;
};

// In enum order: row_of indexes it.
inline constexpr outcome_row outcome_table[] = {
  {run_outcome::done, "done", "done", 0, store::run_state::done},
  {run_outcome::unresolved, "unresolved", "unresolved", 1, store::run_state::done},
  {run_outcome::model_failure, "model_failure", "model_failure", 3, store::run_state::failed},
  {run_outcome::budget, "budget", "budget", 4, store::run_state::budget_stopped},
  {run_outcome::deadline, "deadline", "budget", 4, store::run_state::deadline_stopped},
  {run_outcome::cancelled, "cancelled", "cancelled", 130, store::run_state::cancelled},
  {run_outcome::plan_rejected, "plan_rejected", "plan_rejected", 7, store::run_state::cancelled},
  {run_outcome::local_io, "local_io_failure", "local_io_failure", 6, store::run_state::failed},
  {run_outcome::failed, "failed", "failed", 5, store::run_state::failed},
  {run_outcome::refused, "refused", "refused", 2, store::run_state::failed},
};

constexpr const outcome_row& row_of(run_outcome o) {
  return outcome_table[static_cast<std::size_t>(o)];
}

static_assert([] {
  std::size_t i = 0;
  for (const auto& r : outcome_table)
    if (static_cast<std::size_t>(r.what) != i++)
      return false;
  return true;
}(), "outcome_table is in enum order");

template <>
struct names_of<run_outcome> {
  static constexpr std::string_view what = "run outcome";
  static constexpr auto table = [] {
    std::array<std::string_view, std::size(outcome_table)> names{};
    for (std::size_t i = 0; i < names.size(); ++i)
      names[i] = outcome_table[i].name;
    return names;
  }();
};

inline std::optional<run_outcome> parse_run_outcome(std::string_view s) noexcept {
  return parse_name<run_outcome>(s);
}

}  // namespace codehive::msg
