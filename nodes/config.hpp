// codehive's configuration (configs/codehive.json) and where to find the
// files it names. Loading never throws: errors come back as text for the CLI
// to print with exit code 2.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "actors/run_config.hpp"
#include "actors/settings.hpp"
#include "llm/types.hpp"
#include "nodes/cluster.hpp"

namespace codehive {

/// Where runs are kept (issue 4: durable runs).
struct store_settings {
  std::string path;    ///< "" = $CODEHIVE_STORE, else the user's data directory
  bool sync = true;    ///< fsync every write (false: survives a process crash, not a power cut)
};

/// USD per million tokens of one model (the config's "prices" table).
struct model_price {
  double prompt_per_mtok = 0;
  double completion_per_mtok = 0;
};

struct codehive_config {
  llm::endpoint_config planner_model;  ///< large: planner, reviewer, escalations
  llm::endpoint_config coder_model;    ///< small: coders, fixers, summarizer
  run_defaults run;
  pipeline_settings pipeline;
  store_settings store;
  /// Prices by model name; an endpoint whose own price_* fields are 0 takes
  /// its model's entry (applied once the SPECs are final: tune_config).
  std::map<std::string, model_price> prices;
  cluster_settings cluster;            ///< coordinator/worker: token, heartbeats, TLS
  std::filesystem::path source;        ///< the file loaded ("" = built-in defaults)
};

/// The directory of the running executable.
std::filesystem::path executable_dir();

/// The config file of this installation: the source tree's
/// configs/codehive.json, or <exe>/../share/codehive/codehive.json.
std::optional<std::filesystem::path> installed_config_path();

/// Loads a config file (prompts and schemas relative to its folder, falling
/// back to the built-in copies). `path` empty: built-in defaults only.
std::optional<codehive_config> load_config(const std::filesystem::path& path, std::string& error);

/// --planner / --coder SPECs over the config's (absent: kept). With
/// `key_from_env`, apply_default_key. Then endpoints sharing one Ollama model
/// get one num_ctx and keep_alive (llm::share_model_settings). false with
/// `error` ("--coder: ...") on a bad SPEC.
bool apply_model_flags(codehive_config& cfg, const std::optional<std::string>& planner,
                       const std::optional<std::string>& coder, bool key_from_env,
                       std::string& error);

/// OPENAI_API_KEY (when set: environment_settings::openai_key) for OpenAI-compatible endpoints
/// whose config names no key variable, but only the planner's https endpoint and
/// https://api.openai.com endpoints: never a plain-HTTP or other server.
void apply_default_key(codehive_config& cfg);

/// The config a command uses: its --config flag (which must name a file), else
/// $CODEHIVE_CONFIG, else installed_config_path(), else the built-in defaults
/// (nodes/commands/settings_resolution.hpp: config_file).
std::optional<codehive_config> load_config_for(const std::string& flag, std::string& error);

}  // namespace codehive
