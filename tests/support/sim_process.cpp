#include "tests/support/sim_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <rapidjson/document.h>

extern char** environ;

namespace codehive::test {

namespace {

using clock_type = std::chrono::steady_clock;

bool looks_inline(const std::string& s) {
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Spawns argv with stdout and stderr both appended to `log`. Returns the pid.
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  // The child starts with default signal dispositions and an empty mask, even
  // when the test runner blocks or ignores signals.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw std::runtime_error("cannot spawn " + args[0] + ": " + std::strerror(rc));
  return pid;
}

// Waits for pid up to timeout; returns the exit code, or -1 if it was killed
// by a signal; kills it (SIGKILL) when the timeout passes.
int wait_or_kill(pid_t pid, int timeout_ms, bool* timed_out = nullptr) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (clock_type::now() >= deadline) {
      if (timed_out) *timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string sim_process::binary_path() { return CODEHIVE_LLM_SIM_PATH; }

sim_process sim_process::start(const std::string& scenario, const options& opts) {
  sim_process sim;
  sim.dir_ = std::make_unique<temp_dir>("codehive-sim");
  std::string scenario_path = scenario;
  if (looks_inline(scenario)) scenario_path = sim.dir_->write("scenario.json", scenario).string();
  const auto port_file = sim.dir_->path() / "port";
  const auto log = sim.dir_->path() / "llm-sim.log";
  std::vector<std::string> args{binary_path(), "--scenario", scenario_path, "--host", "127.0.0.1",
                                "--port", "0", "--port-file", port_file.string(),
                                "--seed", std::to_string(opts.seed), "--exit-with-parent"};
  args.insert(args.end(), opts.extra_args.begin(), opts.extra_args.end());
  sim.pid_ = spawn(args, log);

  const auto deadline = clock_type::now() + std::chrono::milliseconds(opts.start_timeout_ms);
  for (;;) {
    std::string text = slurp(port_file);
    if (!text.empty() && text.back() == '\n') {
      sim.port_ = std::stoi(text);
      return sim;
    }
    int status = 0;
    if (::waitpid(sim.pid_, &status, WNOHANG) == sim.pid_) {
      sim.pid_ = -1;
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      throw std::runtime_error("llm-sim exited early (code " + std::to_string(code) +
                               "): " + slurp(log));
    }
    if (clock_type::now() >= deadline) {
      std::string out = slurp(log);
      sim.stop();
      throw std::runtime_error("llm-sim did not start within " +
                               std::to_string(opts.start_timeout_ms) + " ms: " + out);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

sim_process::sim_process(sim_process&& other) noexcept
    : pid_(other.pid_), port_(other.port_), dir_(std::move(other.dir_)) {
  other.pid_ = -1;
  other.port_ = 0;
}

sim_process& sim_process::operator=(sim_process&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = other.pid_;
    port_ = other.port_;
    dir_ = std::move(other.dir_);
    other.pid_ = -1;
    other.port_ = 0;
  }
  return *this;
}

sim_process::~sim_process() { stop(); }

int sim_process::stop() {
  if (pid_ <= 0) return -1;
  const pid_t pid = pid_;
  pid_ = -1;
  ::kill(pid, SIGTERM);
  return wait_or_kill(pid, 3000);
}

std::string sim_process::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string sim_process::output() const {
  return dir_ ? slurp(dir_->path() / "llm-sim.log") : std::string{};
}

std::string sim_process::stats_json() {
  auto r = http_get(base_url(), "/sim/stats");
  if (r.status != 200)
    throw std::runtime_error("GET /sim/stats failed: status " + std::to_string(r.status) + " " +
                             r.error + r.body);
  return r.body;
}

int sim_process::stats_int(const char* object, const std::string& key) {
  const std::string body = stats_json();
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    throw std::runtime_error("GET /sim/stats: not a JSON object: " + body);
  const rapidjson::Value* v = &doc;
  if (object != nullptr) {
    auto it = doc.FindMember(object);
    if (it == doc.MemberEnd() || !it->value.IsObject()) return 0;
    v = &it->value;
  }
  auto it = v->FindMember(rapidjson::Value(key.c_str(), static_cast<rapidjson::SizeType>(key.size())));
  if (it == v->MemberEnd() || !it->value.IsInt()) return 0;
  return it->value.GetInt();
}

int sim_process::count_role(const std::string& role) { return stats_int("by_role", role); }
int sim_process::count_path(const std::string& path) { return stats_int("by_path", path); }
int sim_process::count_role_path(const std::string& role, const std::string& path) {
  return stats_int("by_role_path", role + "|" + path);
}
int sim_process::count_rule(const std::string& rule) { return stats_int("by_rule", rule); }
int sim_process::count_fault(const std::string& kind) { return stats_int("faults", kind); }
int sim_process::unmatched() { return stats_int(nullptr, "unmatched"); }
int sim_process::total() { return stats_int(nullptr, "total"); }
int sim_process::max_in_flight() { return stats_int(nullptr, "max_in_flight"); }
int sim_process::with_bearer() { return stats_int(nullptr, "with_bearer"); }

void sim_process::reset() {
  auto r = http_post(base_url(), "/sim/reset", "");
  if (r.status != 200)
    throw std::runtime_error("POST /sim/reset failed: status " + std::to_string(r.status) + " " +
                             r.error + r.body);
}

run_result run_llm_sim(const std::vector<std::string>& args, int timeout_ms) {
  temp_dir dir("codehive-sim-run");
  const auto log = dir.path() / "out.log";
  std::vector<std::string> argv{sim_process::binary_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  run_result out;
  pid_t pid = spawn(argv, log);
  bool timed_out = false;
  out.exit_code = wait_or_kill(pid, timeout_ms, &timed_out);
  if (timed_out) out.exit_code = -1;
  out.output = slurp(log);
  return out;
}

}  // namespace codehive::test
