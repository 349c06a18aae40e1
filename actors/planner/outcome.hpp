// How a run ends, in one table: each outcome's name (as status.json, the
// run_result and the progress line show it), its exit code (the CLI's
// contract, see DESIGN.md) and the state the run store keeps. Nothing else
// maps outcomes to numbers or strings.
#pragma once

#include <string_view>

#include "storage/records.hpp"

namespace codehive::planner {

enum class outcome {
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
};

struct outcome_row {
  outcome what;
  std::string_view name;     ///< run_state::state, run_result::state
  int exit_code;
  store::run_state stored;
};

inline constexpr outcome_row outcome_table[] = {
  {outcome::done, "done", 0, store::run_state::done},
  {outcome::unresolved, "unresolved", 1, store::run_state::done},
  {outcome::model_failure, "model_failure", 3, store::run_state::failed},
  {outcome::budget, "budget", 4, store::run_state::budget_stopped},
  {outcome::deadline, "budget", 4, store::run_state::deadline_stopped},
  {outcome::cancelled, "cancelled", 130, store::run_state::cancelled},
  {outcome::plan_rejected, "plan_rejected", 7, store::run_state::cancelled},
  {outcome::local_io, "local_io_failure", 6, store::run_state::failed},
  {outcome::failed, "failed", 5, store::run_state::failed},
};

constexpr const outcome_row& row_of(outcome o) {
  for (const auto& r : outcome_table)
    if (r.what == o)
      return r;
  return outcome_table[8];  // unreachable: every outcome has a row
}

}  // namespace codehive::planner
