// The coordinator's published registry (registry_actor): workers join here
// with their coders and fixers, clients submit runs. The registry checks the
// join token in constant time, keeps the accepted offers (monitored: a lost
// node's offer is dropped), hands every offer to every active planner, and
// starts runs through a callback (so tests can drive it without models).
// Also the publish / connect helpers (plain TCP or TLS).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include <caf/expected.hpp>

#include "actors/interfaces.hpp"
#include "actors/live_view.hpp"
#include "nodes/cluster.hpp"

namespace caf {
class actor_system;
}

namespace codehive {

/// What the coordinator's run starter decided for one submit_run.
struct start_outcome {
  enum kind_t { started, attach, finished, failed } kind = failed;
  std::string run_id;            ///< the run (new, continued or attached to)
  bool continuing = false;       ///< a stored run goes on (done work is kept)
  planner_actor planner;         ///< started: the run's planner
  msg::run_request request;      ///< started: what to send the planner
  std::function<void()> stop;    ///< started: stops the run's actors after the end
  msg::run_result result;        ///< finished (already done) / failed (exit code 2, 5)
};

/// Called on the registry's (detached) thread. `progress` is the run's
/// progress sink (logs and forwards to the clients following it); `active`
/// the runs this coordinator is running now.
using run_starter = std::function<start_outcome(const msg::submit_run& submit,
                                                progress_actor progress,
                                                const std::set<std::string>& active)>;

struct registry_settings {
  std::string token;        ///< the join secret
  std::string name;         ///< this coordinator's node name (join_reply.coordinator)
  run_starter start_run;    ///< may be empty: submit_run is then refused
  /// Answers fetch_files from the run store (token already checked; on the
  /// registry's detached thread). May be empty: fetches are then refused.
  std::function<msg::fetched_files(const msg::fetch_files&)> fetch_files;
  /// Where the registry publishes the workers that joined (may be null): the
  /// coordinator's /api/nodes between runs.
  std::shared_ptr<live_board> board;
};

/// Detached (the starter touches the store).
registry_actor spawn_registry(caf::actor_system& sys, registry_settings settings);

/// Publishes the registry on host:port (port 0: the OS picks); TLS when
/// `tls`. Returns the bound port.
caf::expected<std::uint16_t> publish_registry(caf::actor_system& sys, const registry_actor& reg,
                                              const host_port& where, bool tls);

/// Connects to a published registry. BLOCKS (no timeout): call it from the
/// main thread or a thread of its own, never inside an actor.
caf::expected<registry_actor> connect_registry(caf::actor_system& sys, const host_port& where,
                                               bool tls);

/// "protocol mismatch" / "wrong token" / "" (accepted), for tests and logs.
std::string check_join(const msg::join_request& req, const std::string& token);

}  // namespace codehive
