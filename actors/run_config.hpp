// A run's settings as its store record keeps them (run_record::config_json):
// the output folder, the model SPECs, coders, fixers, rounds, budgets, demo
// or not. Written by `codehive run`, read by resume (nodes/run_settings.hpp),
// by restore_run and by the inspection commands. No CAF.
#pragma once

#include <string>

namespace codehive {

/// A run's size and limits, with the built-in defaults (a config file's
/// "run" section overrides them: nodes/config.hpp).
struct run_defaults {
  int coders = 4;
  int fixers = 2;
  int max_rounds = 3;
  long long max_tokens = 0;  ///< 0 = unlimited
  double max_cost_usd = 0;
  double max_time_s = 0;
};

struct run_settings : run_defaults {
  std::string out_dir;  ///< absolute
  std::string planner;  ///< model SPEC
  std::string coder;    ///< model SPEC
  bool demo = false;
  bool approve_plan = false; ///< run --approve-plan: a plan waits for the user
};

/// JSON object text for run_store::create_run / set_run_config.
std::string to_json(const run_settings& s);
/// Reads what to_json wrote; fields that are absent keep their defaults.
run_settings run_settings_from_json(const std::string& json);

}  // namespace codehive
