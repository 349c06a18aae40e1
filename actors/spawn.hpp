// Spawning the pipeline's actors. Each role lives in its own .cpp (few
// translation units instantiate typed actors: build time on small machines).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace caf {
class actor_system;
}

namespace codehive {

namespace llm {
class client;
}
namespace store {
class run_store;
}
using store_ptr = std::shared_ptr<store::run_store>;
struct pipeline_settings;
class live_board;

using settings_ptr = std::shared_ptr<const pipeline_settings>;
using client_ptr = std::shared_ptr<llm::client>;

coder_actor spawn_coder(caf::actor_system& sys, client_ptr client, settings_ptr settings,
                        std::string name);
fixer_actor spawn_fixer(caf::actor_system& sys, client_ptr client, settings_ptr settings,
                        std::string name);
reviewer_actor spawn_reviewer(caf::actor_system& sys, client_ptr client, settings_ptr settings);

/// Detached (blocking disk I/O). `summarizer` may be null: summaries then
/// come from the edit or the deterministic fallback only. At start it makes
/// the folder match run `run_id` in `store` (files rewritten from their stored
/// versions) and records files the store does not know yet; every edit goes
/// to the store (synced) before the disk. `copies`, when valid, gets a
/// msg::file_copy of every version the tracker applies (after the store and
/// the disk have it): the coordinator's relay to the clients that keep a copy.
file_tracker_actor spawn_file_tracker(caf::actor_system& sys, std::filesystem::path root,
                                      client_ptr summarizer, settings_ptr settings,
                                      std::string run_id, store_ptr store,
                                      progress_actor copies = {});

/// Detached (runs subprocesses: node, chromium, the configured command).
validator_actor spawn_validator(caf::actor_system& sys, std::filesystem::path root,
                                settings_ptr settings, std::string run_id);

/// Everything the planner supervises.
struct planner_team {
  file_tracker_actor tracker;
  validator_actor validator;
  reviewer_actor reviewer;
  std::vector<coder_actor> coders;
  std::vector<fixer_actor> fixers;
  coder_actor escalation;    ///< a coder bound to the large model
  progress_actor progress;   ///< may be invalid
  store_ptr store;           ///< the run store: every state change is written here first
  /// Where the planner publishes its live view after each message (may be
  /// null): the HTTP API reads it without asking the actor.
  std::shared_ptr<live_board> board;
  std::string local_model;   ///< this node's coder model, for the live view
};

/// Detached: it waits for the store's synced writes before telling anyone.
/// A run_request for a run the store already holds continues it.
planner_actor spawn_planner(caf::actor_system& sys, client_ptr large, settings_ptr settings,
                            planner_team team);

}  // namespace codehive
