// Where each setting of a command comes from, in one order for every command:
//
//   built-in defaults < config file < environment < stored run settings < flags
//
// ("stored run settings": what `resume RUN` takes from the run store). The
// order is written once, in resolve(); the functions below say, per setting,
// which of those sources it has. The environment is read here only:
// read_environment() is where nodes/ reads a codehive setting from it (the
// lower layers read only what must be read at use: an API key, PATH for a
// child process). Plain functions, no processes: tests/nodes/settings_test.cpp.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "actors/run_config.hpp"

namespace codehive {

struct run_options;   // nodes/commands.hpp: run/resume flags

/// The environment variables that carry codehive settings (unset: nullopt).
struct environment_settings {
  std::optional<std::string> config;      ///< CODEHIVE_CONFIG: the config file (non-empty)
  std::optional<std::string> store;       ///< CODEHIVE_STORE: the run store folder (non-empty)
  std::optional<std::string> join_token;  ///< CODEHIVE_JOIN_TOKEN: the cluster's token itself
  std::optional<std::string> http_token;  ///< CODEHIVE_HTTP_TOKEN: the HTTP API's bearer token
  std::optional<std::string> demo_dir;    ///< CODEHIVE_DEMO_DIR: the demo's scenario folder
  std::optional<std::string> llm_sim;     ///< CODEHIVE_LLM_SIM: the simulator binary
  /// OPENAI_API_KEY is set: endpoints that name no key variable may use it
  /// (apply_default_key). Its value stays in the environment; llm/ reads it
  /// when it sends a request, so no settings struct ever holds a secret.
  bool openai_key = false;
  std::optional<std::string> editor;  ///< VISUAL, else EDITOR (non-empty): `run --approve-plan`
};

/// The settings of the variables `lookup` (getenv, or a test's table) returns.
environment_settings environment_from(const std::function<const char*(const char*)>& lookup);

/// environment_from(std::getenv), read afresh at each call.
environment_settings read_environment();

/// One setting as each source has it; a source without it is nullopt.
template <class T>
struct setting_sources {
  std::optional<T> defaults = {};
  std::optional<T> config = {};
  std::optional<T> environment = {};
  std::optional<T> stored = {};
  std::optional<T> flag = {};
};

/// The precedence, for every setting of every command: the highest source
/// that has the setting wins (flag, stored run settings, environment, config
/// file, built-in defaults); nullopt when none has it.
template <class T>
std::optional<T> resolve(const setting_sources<T>& s) {
  for (const auto* source : {&s.flag, &s.stored, &s.environment, &s.config, &s.defaults})
    if (*source)
      return **source;
  return std::nullopt;
}

/// The config file: --config, $CODEHIVE_CONFIG, else `installed` (the source
/// tree's or the installation's codehive.json, where there is one); nullopt:
/// the built-in defaults alone.
std::optional<std::filesystem::path> config_file(
  const std::string& flag, const environment_settings& env,
  const std::optional<std::filesystem::path>& installed);

/// The run store folder: --store, $CODEHIVE_STORE, the config's store.path,
/// else `user_default` (the user's data directory, where one is known).
std::optional<std::filesystem::path> store_folder(
  const std::string& flag, const environment_settings& env, const std::string& config_path,
  const std::optional<std::filesystem::path>& user_default);

/// A secret given as a file to read, or as the value itself (from the environment).
struct secret_source {
  std::string file;
  std::string value;
};

/// The join token: --token-file, $CODEHIVE_JOIN_TOKEN (blank: unset), the
/// config's cluster.token_file; nullopt: none given.
std::optional<secret_source> join_token_source(const std::string& flag_file,
                                               const environment_settings& env,
                                               const std::string& config_file);

/// The HTTP API's bearer token: --http-token-file, $CODEHIVE_HTTP_TOKEN; nullopt: none.
std::optional<secret_source> http_token_source(const std::string& flag_file,
                                               const environment_settings& env);

/// A --demo's scenario folder and simulator: the environment's, else `found`
/// (the source tree's or the installation's).
std::optional<std::filesystem::path> demo_folder(const environment_settings& env,
                                                 const std::optional<std::filesystem::path>& found);
std::optional<std::filesystem::path> simulator_binary(
  const environment_settings& env, const std::optional<std::filesystem::path>& found);

/// The editor `run --approve-plan` opens the plan in: $VISUAL, $EDITOR, else vi.
std::string editor_command(const environment_settings& env);

/// What a local run (`run`, `resume`) or a submitted one (`run --coordinator`)
/// works with: the flags over the stored run (`stored`: the run being resumed,
/// nullptr for a new one) over the config file's "run" (which holds the
/// built-in defaults where the file is silent). A stored budget of 0
/// (unlimited) is no setting: the config's applies. `planner` and `coder` are
/// SPECs over the config's ("": the config's); a demo takes none from the
/// store (it points every model at its simulator). `out_dir` is left empty.
run_settings resolve_run_settings(const run_options& flags, const run_defaults& config,
                                  const run_settings* stored);

}  // namespace codehive
