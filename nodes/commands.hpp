// The CLI's subcommands, as functions returning the process exit code
// (0 ok, 1 unresolved findings, 2 bad usage/config, 3 model server
// unreachable or failing, 4 budget or deadline, 5 internal error).
#pragma once

#include <optional>
#include <string>

namespace codehive {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int unresolved = 1;
inline constexpr int usage = 2;
inline constexpr int model = 3;
inline constexpr int budget = 4;
inline constexpr int internal = 5;
}  // namespace exit_code

struct ping_options {
  std::string spec;
  std::string prompt = "Reply with the single word: pong";
  std::string api_key_env;
  double timeout_s = 60;
};

int ping_command(const ping_options& opts);

struct run_options {
  std::string request;
  std::string out;
  std::string config;
  std::optional<int> coders;
  std::optional<int> fixers;
  std::optional<std::string> planner;
  std::optional<std::string> coder;
  std::optional<int> max_rounds;
  std::optional<long long> max_tokens;
  std::optional<double> max_cost;
  std::optional<double> max_time;
  bool demo = false;
  bool verbose = false;
};

int run_command(run_options opts);

}  // namespace codehive
