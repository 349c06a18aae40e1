// One run's actors, shared by `codehive run` (local) and the coordinator:
// the per-run model clients (each recording its calls in the run's ledger),
// tracker, validator, reviewer, the escalation coder on the large model,
// local coders and fixers, and the planner. Also the one place that decides
// which stored run a request continues (`open_run`).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "actors/interfaces.hpp"
#include "actors/run_config.hpp"
#include "nodes/config.hpp"

namespace caf {
class actor_system;
}

namespace codehive {

namespace llm {
class http_loop;
}
namespace store {
class run_store;
}
class live_board;

/// An unfinished run of the same request writing the same folder ("" if none).
std::string find_unfinished(const store::run_store& runs, const std::string& request,
                            const std::string& out_dir);

struct opened_run {
  std::string run_id;
  bool continuing = false;
};

/// The stored run a request goes to: `run_id` given (resume) -> that run;
/// else an unfinished run of the same request and folder unless `fresh`;
/// else a new run. Stores `settings` as the run's config and marks a
/// continued run running again. nullopt with `error` on a store failure.
std::optional<opened_run> open_run(store::run_store& runs, std::string run_id,
                                   const std::string& request, const run_settings& settings,
                                   bool fresh, std::string& error);

/// Asks each model server the command will use what it serves, before any
/// paid call: reachable, the model there (with the `ollama pull` hint), its
/// context window (context_tokens lowered to fit), its parallelism against
/// `coders`. Prints what a user should know. False (exit 3) with `error`.
bool preflight_models(codehive_config& cfg, bool planner, bool coder, int coders,
                      std::string& error);

/// Adjusts a config for a run with this many local coders and fixers: the
/// small model's in-flight limit, the context sizes from the models' windows.
void tune_config(codehive_config& cfg, int coders, int fixers);

/// The ledger writer (endpoint_config::on_usage) of one run. `large`: the
/// planner's endpoint, whose coding calls count as role coder_escalated.
llm::usage_observer ledger_writer(std::shared_ptr<store::run_store> runs, std::string run_id,
                                  bool large);

struct session_params {
  msg::run_request request;   ///< run_id, request, out_dir (absolute), rounds, limits
  int coders = 0;             ///< local coders (remote ones come as worker offers)
  int fixers = 0;             ///< local fixers
  /// The tracker pushes every applied file version to `progress` (a
  /// coordinator's relay to the clients that keep a copy of the results).
  bool copy_files = false;
};

class run_session {
 public:
  /// Spawns the team and the planner (nothing is sent yet). `cfg` as tuned
  /// by tune_config; `progress` may be invalid.
  run_session(caf::actor_system& sys, llm::http_loop& loop, const codehive_config& cfg,
              std::shared_ptr<store::run_store> runs, session_params params,
              progress_actor progress);
  ~run_session();
  run_session(const run_session&) = delete;
  run_session& operator=(const run_session&) = delete;

  const planner_actor& planner() const noexcept;
  const msg::run_request& request() const noexcept;
  /// The planner's live view (nodes, slots, queue), published after each of
  /// its messages; read it from any thread.
  const std::shared_ptr<live_board>& board() const noexcept;
  /// Stops every actor of the run (not the progress sink). Idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> d_;
};

}  // namespace codehive
