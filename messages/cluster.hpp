// The messages between nodes: a worker joining a coordinator, a client
// submitting a run. They carry typed actor handles (messages/handles.hpp);
// every type here is listed in messages/type_ids.hpp like the others. Field
// order in inspect() is the wire format: append, never reorder.
#pragma once

#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/handles.hpp"
#include "messages/messages.hpp"

namespace codehive::msg {

/// The protocol a worker and a coordinator must share; also CAF's
/// middleman.app-identifiers, so a mismatched node fails the handshake itself.
inline constexpr const char* protocol_version = "codehive/1";

/// What a worker node offers: its coder and fixer actors, bound to its own
/// model server. Typed handles (proxies on the receiver); on the wire each is
/// the actor pointer it holds, as before they were typed.
struct worker_offer {
  std::string node;    ///< unique per worker process, e.g. "gpu-box-1/gpu0"
  std::string model;   ///< the coder SPEC it serves, for logs and status
  std::vector<coder_actor> coders;
  std::vector<fixer_actor> fixers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_offer& x) {
  return f(caf::meta::type_name("worker_offer"), x.node, x.model, x.coders, x.fixers);
}

/// Worker -> coordinator: the first message of a worker (and of a rejoin).
struct join_request {
  std::string protocol;  ///< protocol_version of the worker
  std::string token;     ///< the shared join secret; compared in constant time
  worker_offer offer;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_request& x) {
  return f(caf::meta::type_name("join_request"), x.protocol, x.token, x.offer);
}

/// Coordinator -> worker.
struct join_reply {
  bool accepted = false;
  std::string reason;       ///< why not (wrong token, protocol, duplicate name)
  std::string coordinator;  ///< the coordinator's node name
  bool operator==(const join_reply&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_reply& x) {
  return f(caf::meta::type_name("join_reply"), x.accepted, x.reason, x.coordinator);
}

/// Client -> coordinator: run this (run.run_id "" = a new run; out_dir is a
/// folder on the coordinator's machine unless copy_to_client) and send progress events to
/// `progress` (may be null). Replied to with the run_result.
struct submit_run {
  std::string token;   ///< the shared join secret (clients authenticate like workers)
  run_request run;
  progress_actor progress;  ///< may be null
  bool fresh = false;  ///< never continue an unfinished run of the same request and folder
  /// The results go to the client: run.out_dir is the client's folder (on
  /// its machine, `client_host`), the coordinator works in a folder of its own
  /// (coordinator --workspaces) and pushes every file version to `progress`.
  bool copy_to_client = false;
  std::string client_host;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, submit_run& x) {
  return f(caf::meta::type_name("submit_run"), x.token, x.run, x.progress, x.fresh,
           x.copy_to_client, x.client_host);
}

/// Registry -> the coordinator's planners: a worker's connection dropped.
/// Sent with high priority, so a planner whose mailbox holds the replies of
/// a thousand coders puts the worker's tasks back in the queue first; the
/// down messages of the worker's slots, which come behind those replies,
/// then find nothing left to do.
struct worker_lost {
  std::string node;    ///< the worker's name (worker_offer.node)
  std::string reason;  ///< for the log: "its connection was lost (...)"
  bool operator==(const worker_lost&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_lost& x) {
  return f(caf::meta::type_name("worker_lost"), x.node, x.reason);
}

}  // namespace codehive::msg
