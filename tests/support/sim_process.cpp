#include "tests/support/sim_process.hpp"

#include <signal.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include <rapidjson/document.h>

#include "tests/support/child_process.hpp"

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

/// Starts `args` with stdout and stderr both appended to `log`.
std::unique_ptr<child_process> spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  return std::make_unique<child_process>(args,
                                         child_options{.output = child_output::one_file, .log = log, .append_log = true});
}

/// Waits up to timeout_ms for the end; SIGKILL after that. The exit code, -1
/// when a signal ended it (or the time ran out).
int wait_or_kill(child_process& child, int timeout_ms) {
  auto code = child.wait_exit(timeout_ms);
  if (code) return *code;
  child.kill();
  return -1;
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
  sim.child_ = spawn(args, log);

  const auto deadline = clock_type::now() + std::chrono::milliseconds(opts.start_timeout_ms);
  for (;;) {
    std::string text = read_whole_file(port_file);
    if (!text.empty() && text.back() == '\n') {
      sim.port_ = std::stoi(text);
      return sim;
    }
    if (!sim.child_->running()) {
      int code = sim.child_->term_signal() != 0 ? -1 : sim.child_->exit_code();
      sim.child_.reset();
      throw std::runtime_error("llm-sim exited early (code " + std::to_string(code) +
                               "): " + read_whole_file(log));
    }
    if (clock_type::now() >= deadline) {
      std::string out = read_whole_file(log);
      sim.stop();
      throw std::runtime_error("llm-sim did not start within " +
                               std::to_string(opts.start_timeout_ms) + " ms: " + out);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

sim_process::sim_process(sim_process&& other) noexcept
    : child_(std::move(other.child_)), port_(other.port_), dir_(std::move(other.dir_)) {
  other.port_ = 0;
}

sim_process& sim_process::operator=(sim_process&& other) noexcept {
  if (this != &other) {
    stop();
    child_ = std::move(other.child_);
    port_ = other.port_;
    dir_ = std::move(other.dir_);
    other.port_ = 0;
  }
  return *this;
}

sim_process::~sim_process() { stop(); }

pid_t sim_process::pid() const noexcept { return child_ ? child_->pid() : -1; }

int sim_process::stop() {
  if (!child_) return -1;
  auto child = std::move(child_);
  child->signal(SIGTERM);
  return wait_or_kill(*child, 3000);
}

std::string sim_process::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string sim_process::output() const {
  return dir_ ? read_whole_file(dir_->path() / "llm-sim.log") : std::string{};
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
  out.exit_code = wait_or_kill(*spawn(argv, log), timeout_ms);
  out.output = read_whole_file(log);
  return out;
}

}  // namespace codehive::test
