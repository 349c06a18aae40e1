// --demo: the simulator codehive starts itself (a child process on a port the
// OS picks), and where the demo's scenario and binary are found.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "workspace/subprocess.hpp"

namespace codehive {

/// $CODEHIVE_DEMO_DIR, else the compiled-in source tree's configs/demo, else
/// <exe>/../share/codehive/demo.
std::optional<std::filesystem::path> find_demo_dir();

/// $CODEHIVE_LLM_SIM, else <exe>/../tools/llm-sim/llm-sim (build tree), else
/// <exe>/llm-sim (install), else llm-sim on $PATH.
std::optional<std::filesystem::path> find_llm_sim();

/// A running llm-sim (ws::background_process: it never outlives codehive);
/// stopped (SIGTERM, then SIGKILL) when destroyed.
class sim_child {
 public:
  /// Starts `binary --scenario F --host 127.0.0.1 --port 0` and waits for its port.
  static std::optional<sim_child> start(const std::filesystem::path& binary,
                                        const std::filesystem::path& scenario, std::string& error);
  sim_child(sim_child&& other) noexcept;
  sim_child& operator=(sim_child&& other) noexcept;
  sim_child(const sim_child&) = delete;
  ~sim_child();

  int port() const noexcept { return port_; }
  void stop();

 private:
  sim_child() = default;
  std::optional<ws::background_process> process_;
  int port_ = 0;
  std::filesystem::path dir_;  // port file and the sim's log
};

inline constexpr const char* demo_notice =
  "DEMO MODE: model answers are scripted by the simulator (configs/demo/scenario.json), not "
  "generated.";

}  // namespace codehive
