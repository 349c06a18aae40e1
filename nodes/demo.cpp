#include "nodes/demo.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "nodes/commands/settings_resolution.hpp"
#include "nodes/config.hpp"
#include "workspace/subprocess.hpp"

namespace codehive {

namespace {

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

/// The demo folder of the source tree or the installation.
std::optional<std::filesystem::path> installed_demo_dir() {
#ifdef CODEHIVE_SOURCE_DIR
  if (auto p = std::filesystem::path{CODEHIVE_SOURCE_DIR} / "configs" / "demo";
      is_file(p / "scenario.json"))
    return p;
#endif
  if (auto p = executable_dir() / ".." / "share" / "codehive" / "demo"; is_file(p / "scenario.json"))
    return p;
  return std::nullopt;
}

/// The simulator of the build tree or the installation, else on $PATH.
std::optional<std::filesystem::path> installed_llm_sim() {
  auto dir = executable_dir();
  for (auto p : {dir / ".." / "tools" / "llm-sim" / "llm-sim", dir / "llm-sim"})
    if (is_file(p))
      return p.lexically_normal();
  return ws::find_on_path("llm-sim");
}

}  // namespace

std::optional<std::filesystem::path> find_demo_dir() {
  return demo_folder(read_environment(), installed_demo_dir());
}

std::optional<std::filesystem::path> find_llm_sim() {
  return simulator_binary(read_environment(), installed_llm_sim());
}

std::optional<sim_child> sim_child::start(const std::filesystem::path& binary,
                                          const std::filesystem::path& scenario,
                                          std::string& error) {
  char tmpl[] = "/tmp/codehive-sim-XXXXXX";
  if (!mkdtemp(tmpl)) {
    error = "cannot create a temporary folder for the simulator";
    return std::nullopt;
  }
  sim_child child;
  child.dir_ = tmpl;
  auto port_file = child.dir_ / "port";
  auto log_file = child.dir_ / "llm-sim.log";
  // Its own process group (ws::background_process): a Ctrl-C at the terminal
  // goes to codehive, which stops the run cleanly (and then the simulator).
  auto started =
    ws::background_process::start({binary.string(), "--scenario", scenario.string(), "--host",
                                   "127.0.0.1", "--port", "0", "--port-file", port_file.string()},
                                  log_file);
  if (!started) {
    error = started.err().reason;
    return std::nullopt;
  }
  child.process_.emplace(std::move(*started));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (child.process_->exited()) {
      std::ifstream log{log_file};
      std::string text{std::istreambuf_iterator<char>{log}, {}};
      error = "the simulator exited at start (" + binary.string() + "): " + text;
      return std::nullopt;
    }
    std::ifstream in{port_file};
    int port = 0;
    if (in >> port && port > 0) {
      child.port_ = port;
      return std::optional<sim_child>{std::move(child)};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  error = "the simulator did not report its port within 15 s";
  return std::nullopt;
}

sim_child::sim_child(sim_child&& other) noexcept
  : process_(std::move(other.process_)), port_(other.port_), dir_(std::move(other.dir_)) {
  other.process_.reset();
  other.dir_.clear();
}

sim_child& sim_child::operator=(sim_child&& other) noexcept {
  if (this != &other) {
    stop();
    process_ = std::move(other.process_);
    port_ = other.port_;
    dir_ = std::move(other.dir_);
    other.process_.reset();
    other.dir_.clear();
  }
  return *this;
}

void sim_child::stop() {
  process_.reset();  // SIGTERM, then SIGKILL after 3 s
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

sim_child::~sim_child() {
  stop();
}

}  // namespace codehive
