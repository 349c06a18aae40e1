#include "nodes/demo.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

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
  std::vector<std::string> args{binary.string(), "--scenario", scenario.string(),
                                "--host", "127.0.0.1", "--port", "0", "--port-file",
                                port_file.string()};
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    error = "fork failed";
    return std::nullopt;
  }
  if (pid == 0) {
    // The simulator must not outlive codehive, even if codehive is killed.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    // Its own process group: a Ctrl-C at the terminal goes to codehive, which
    // stops the run cleanly (and then the simulator); no signal stays blocked.
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (getppid() != parent)
      _exit(127);
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      dup2(devnull, STDIN_FILENO);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  child.pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      child.pid_ = -1;
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
  : pid_(other.pid_), port_(other.port_), dir_(std::move(other.dir_)) {
  other.pid_ = -1;
  other.dir_.clear();
}

sim_child& sim_child::operator=(sim_child&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = other.pid_;
    port_ = other.port_;
    dir_ = std::move(other.dir_);
    other.pid_ = -1;
    other.dir_.clear();
  }
  return *this;
}

void sim_child::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 150; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
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
