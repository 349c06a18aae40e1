// Several nodes, through real processes on loopback: a coordinator (planner, reviewer,
// file tracker, validator, store; its own llm-sim for the large-model roles and the
// summaries) and workers (coders and fixers; each its own llm-sim, so the simulators'
// per-path counts show where every task ran). The scenario is the demo's
// (configs/demo/scenario.json: scripted answers); every run must end with exit 0 and an
// output folder equal to configs/demo/app/ byte for byte.
//
// Heartbeats are fast here (--heartbeat-ms 300 --timeout-ms 2000) and the browser
// validator is off (a config copy), to keep the suite short.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "storage/run_store.hpp"
#include "tests/cluster/node_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/configs.hpp"
#include "tests/support/sim_process.hpp"

namespace fs = std::filesystem;
using namespace codehive::cluster_test;
using namespace codehive::test;

namespace {

constexpr const char* defect_path = "js/app.js";
constexpr const char* planner_model = "gpt-4o-mini";
constexpr const char* coder_model = "qwen2.5-coder:7b";
constexpr int heartbeat_ms = 300;
constexpr int timeout_ms = 2000;
constexpr int run_timeout_ms = 180000;
constexpr int join_timeout_ms = 20000;
/// How long after the connection timeout a lost worker may still go unnoticed (a loaded
/// 2-core machine runs the whole suite beside other builds).
constexpr int detection_margin_ms = 4000;
/// The coordinator's silence limit adapts to the gaps a node has shown (nodes/silence_limit.hpp):
/// at most 10 x the timeout for a node whose heartbeats arrived late on a loaded machine.
constexpr int detection_limit_ms = 10 * timeout_ms + detection_margin_ms;
/// A simulator latency no task outlives in a test: the doomed worker's requests stay in
/// flight until it is killed or frozen.
constexpr int doomed_ttft_ms = 60000;

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// The whole file, "" when it cannot be read.
std::string slurp(const fs::path& p) { return codehive::test::read_whole_file(p); }

void spit(const fs::path& p, const std::string& text, mode_t mode = 0644) {
  fs::create_directories(p.parent_path());
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
  }
  ::chmod(p.c_str(), mode);
}

/// Every file of configs/demo/app/ exists in `out` with the same bytes, and no other
/// project file was written (generated_files/ and hidden folders aside).
void expect_output_matches_app(const fs::path& out) {
  ASSERT_EQ(demo_app_files().size(), 11u) << "configs/demo/app/ should hold the 11 files of the demo";
  EXPECT_EQ(demo_output_differences(out), "") << "the output in " << out << " differs from configs/demo/app/";
}

std::string random_token() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (int i = 0; i < 40; ++i) t += hex[gen() % 16];
  return t;
}

/// A copy of the demo scenario whose answers all wait `ttft_ms` before the first token
/// (every rule's latency), with the answer files made absolute.
fs::path write_slow_scenario(const fs::path& dir, int ttft_ms) {
  rapidjson::Document d;
  const std::string text = slurp(demo_dir() / "scenario.json");
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("configs/demo/scenario.json does not parse");
  auto& a = d.GetAllocator();
  auto set_ttft = [&](rapidjson::Value& obj) {
    if (!obj.HasMember("latency")) obj.AddMember("latency", rapidjson::Value(rapidjson::kObjectType), a);
    auto& lat = obj["latency"];
    if (lat.HasMember("ttft_ms")) lat["ttft_ms"] = ttft_ms;
    else lat.AddMember("ttft_ms", ttft_ms, a);
  };
  set_ttft(d);
  for (auto& rule : d["rules"].GetArray()) {
    set_ttft(rule);
    if (!rule.HasMember("responses")) continue;
    for (auto& resp : rule["responses"].GetArray())
      if (resp.IsObject() && resp.HasMember("file") && resp["file"].IsString()) {
        const std::string abs = (demo_dir() / resp["file"].GetString()).string();
        resp["file"].SetString(abs.c_str(), static_cast<rapidjson::SizeType>(abs.size()), a);
      }
  }
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  const fs::path p = dir / ("scenario-ttft-" + std::to_string(ttft_ms) + ".json");
  spit(p, buf.GetString());
  return p;
}

/// The counts of one simulator's GET /sim/stats.
struct sim_counts {
  int in_flight = 0;
  int total = 0;
  int unmatched = 0;
  std::map<std::string, int> by_role;
  std::map<std::string, int> coder;  ///< path -> coder requests
  std::map<std::string, int> fixer;  ///< path -> fixer requests
  std::string raw;

  int role(const std::string& r) const {
    auto it = by_role.find(r);
    return it == by_role.end() ? 0 : it->second;
  }
  int coded(const std::string& path) const {
    auto it = coder.find(path);
    return it == coder.end() ? 0 : it->second;
  }
  int coder_total() const {
    int n = 0;
    for (const auto& [p, c] : coder) n += c;
    return n;
  }
  int fixer_total() const {
    int n = 0;
    for (const auto& [p, c] : fixer) n += c;
    return n;
  }
};

sim_counts parse_counts(const std::string& body) {
  sim_counts c;
  c.raw = body;
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("/sim/stats is not a JSON object: " + body);
  auto get_int = [&](const char* k) { return d.HasMember(k) && d[k].IsInt() ? d[k].GetInt() : 0; };
  c.in_flight = get_int("in_flight");
  c.total = get_int("total");
  c.unmatched = get_int("unmatched");
  if (d.HasMember("by_role") && d["by_role"].IsObject())
    for (auto it = d["by_role"].MemberBegin(); it != d["by_role"].MemberEnd(); ++it)
      if (it->value.IsInt()) c.by_role[it->name.GetString()] = it->value.GetInt();
  if (d.HasMember("by_role_path") && d["by_role_path"].IsObject())
    for (auto it = d["by_role_path"].MemberBegin(); it != d["by_role_path"].MemberEnd(); ++it) {
      if (!it->value.IsInt()) continue;
      const std::string key = it->name.GetString();
      const auto bar = key.find('|');
      if (bar == std::string::npos) continue;
      const std::string role = key.substr(0, bar), path = key.substr(bar + 1);
      if (role == "coder") c.coder[path] = it->value.GetInt();
      if (role == "fixer") c.fixer[path] = it->value.GetInt();
    }
  return c;
}

sim_counts counts_of(sim_process& sim) { return parse_counts(sim.stats_json()); }

/// Polls a simulator until a coder request is in flight there (false when `run`, if
/// given, ends first).
bool wait_coder_in_flight(const std::function<sim_counts()>& counts, int timeout_ms_,
                          node_process* run = nullptr) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms_);
  while (clock_type::now() < deadline) {
    if (run && !run->running()) return false;
    try {
      const auto c = counts();
      if (c.in_flight > 0 && c.role("coder") > 0) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  return false;
}

std::string model_spec_ollama(int port) {
  return "ollama://127.0.0.1:" + std::to_string(port) + "/" + coder_model;
}
std::string model_spec_openai(int port) {
  return "openai://127.0.0.1:" + std::to_string(port) + "/v1/" + planner_model;
}

/// "worker NAME joined" / "worker NAME lost" on the coordinator, NAME possibly quoted.
std::regex coordinator_line(const std::string& name, const std::string& what) {
  return std::regex("worker [\"']?" + name + "[\"']? " + what);
}

const std::regex listening_re("codehive coordinator listening on ([^ ]+):([0-9]+)");
const std::regex worker_joined_re("joined coordinator");
const std::regex run_id_line_re("^codehive [^ :]+: ");

/// One worker: its simulator (may be absent when it runs in a network namespace) and process.
struct worker_node {
  std::string name;
  std::unique_ptr<sim_process> sim;
  std::unique_ptr<node_process> proc;
};

/// A coordinator with its own simulator, workers with theirs, all on loopback.
class cluster {
 public:
  explicit cluster(const std::string& tag)
      : tag_(tag), dir_("codehive-cluster-" + tag), token_(random_token()) {
    config_ = write_demo_config(dir_.path());
    token_file_ = dir_.path() / "token";
    spit(token_file_, token_ + "\n", 0600);
  }
  /// Stops every process; keeps the logs of a failed test (or all, with
  /// CODEHIVE_CLUSTER_KEEP_LOGS=1) under /tmp/codehive-cluster-logs-TAG-PID.
  ~cluster() {
    for (auto& w : workers_) w.proc->kill();
    if (coordinator_) coordinator_->kill();
    const char* keep = std::getenv("CODEHIVE_CLUSTER_KEEP_LOGS");
    if (::testing::Test::HasFailure() || (keep && *keep && std::string(keep) != "0")) {
      const fs::path to = fs::temp_directory_path() / ("codehive-cluster-logs-" + tag_ + "-" + std::to_string(::getpid()));
      std::error_code ec;
      fs::remove_all(to, ec);
      fs::copy(dir_.path() / "logs", to, fs::copy_options::recursive, ec);
      std::printf("[ cluster  ] logs kept in %s\n", to.string().c_str());
    }
  }
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  const fs::path& dir() const { return dir_.path(); }
  const fs::path& config() const { return config_; }
  const fs::path& token_file() const { return token_file_; }
  const std::string& token() const { return token_; }
  const std::string& address() const { return address_; }
  node_process& coordinator() { return *coordinator_; }
  sim_process& coordinator_sim() { return *coord_sim_; }
  std::deque<worker_node>& workers() { return workers_; }

  /// The flags every node takes in these tests.
  std::vector<std::string> common_flags() const {
    return {"--config", config_.string(), "--heartbeat-ms", std::to_string(heartbeat_ms),
            "--timeout-ms", std::to_string(timeout_ms)};
  }

  /// Starts the coordinator's simulator and the coordinator (0 local coders by default),
  /// and waits for its "listening" line. Returns false (with the reason in `why`) when it
  /// does not come up.
  /// start_coordinator with the defaults; not starting is fatal (call through
  /// ASSERT_NO_FATAL_FAILURE).
  void expect_coordinator_started() {
    std::string why;
    ASSERT_TRUE(start_coordinator(why)) << why;
  }

  bool start_coordinator(std::string& why, const std::string& listen = "127.0.0.1:0",
                         const std::vector<std::string>& extra = {}) {
    if (!coord_sim_)
      coord_sim_ =
        std::make_unique<sim_process>(sim_process::start((demo_dir() / "scenario.json").string()));
    std::vector<std::string> argv{CODEHIVE_BIN, "coordinator", "--listen", listen,
                                  "--store", (dir_.path() / "store").string(),
                                  "--planner", model_spec_openai(coord_sim_->port()),
                                  "--coder", model_spec_ollama(coord_sim_->port()),
                                  "--token-file", token_file_.string(),
                                  "--port-file", (dir_.path() / "coordinator.port").string(), "-v"};
    for (const auto& f : common_flags()) argv.push_back(f);
    for (const auto& f : extra) argv.push_back(f);
    coordinator_ = std::make_unique<node_process>(argv, dir_.path() / "logs" / "coordinator");
    auto line = coordinator_->wait_line(listening_re, 30000);
    if (!line) {
      why = "the coordinator did not print \"codehive coordinator listening on HOST:PORT\" within 30 s\n" +
            coordinator_->tail();
      return false;
    }
    std::smatch m;
    std::regex_search(*line, m, listening_re);
    address_ = m[1].str() + ":" + m[2].str();
    return true;
  }

  /// Starts a worker with its own simulator (scenario: the demo's unless given).
  worker_node& start_worker(const std::string& name, int coders, int fixers = 1,
                            const fs::path& scenario = {}, const std::vector<std::string>& extra = {},
                            const std::string& join = {}) {
    worker_node w;
    w.name = name;
    w.sim = std::make_unique<sim_process>(
      sim_process::start((scenario.empty() ? demo_dir() / "scenario.json" : scenario).string()));
    std::vector<std::string> argv{CODEHIVE_BIN, "worker", "--join", join.empty() ? address_ : join,
                                  "--name", name, "--coders", std::to_string(coders),
                                  "--fixers", std::to_string(fixers),
                                  "--coder", model_spec_ollama(w.sim->port()), "-v"};
    for (const auto& f : common_flags()) argv.push_back(f);
    bool has_token = false;
    for (const auto& f : extra) has_token = has_token || f == "--token-file";
    if (!has_token) {
      argv.push_back("--token-file");
      argv.push_back(token_file_.string());
    }
    for (const auto& f : extra) argv.push_back(f);
    w.proc = std::make_unique<node_process>(argv, dir_.path() / "logs" / ("worker-" + name));
    workers_.push_back(std::move(w));
    return workers_.back();
  }

  /// Waits until both sides say the worker joined.
  ::testing::AssertionResult wait_joined(worker_node& w, int timeout = join_timeout_ms) {
    if (!w.proc->wait_line(worker_joined_re, timeout))
      return ::testing::AssertionFailure() << "worker " << w.name << " did not log \"joined coordinator\" within "
                                           << timeout << " ms\n" << w.proc->tail() << coordinator_->tail();
    if (!coordinator_->wait_line(coordinator_line(w.name, "joined"), 5000))
      return ::testing::AssertionFailure() << "the coordinator did not log \"worker " << w.name << " joined\"\n"
                                           << coordinator_->tail();
    return ::testing::AssertionSuccess();
  }

  /// `codehive run --coordinator ADDRESS REQUEST --out OUT` as a child process.
  std::unique_ptr<node_process> submit(const fs::path& out, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{CODEHIVE_BIN, "run", "--coordinator", address_, demo_request(),
                                  "--out", out.string(), "--token-file", token_file_.string(), "-v"};
    for (const auto& f : extra) argv.push_back(f);
    return std::make_unique<node_process>(argv, dir_.path() / "logs" / ("run-" + std::to_string(++runs_)));
  }

  /// `codehive export RUN --coordinator ADDRESS --out OUT`; returns its exit code.
  int export_run(const std::string& run_id, const fs::path& out, std::string* output = nullptr) {
    return run_to_end({CODEHIVE_BIN, "export", run_id, "--coordinator", address_, "--out", out.string(),
                       "--token-file", token_file_.string(), "--config", config_.string()},
                      dir_.path() / "logs" / ("export-" + std::to_string(++runs_)), 60000, output);
  }

  /// Everything logged, for failure messages.
  std::string all_tails() {
    std::string s = coordinator_ ? coordinator_->tail(60) : "";
    for (auto& w : workers_) s += w.proc->tail(25);
    return s;
  }

 private:
  std::string tag_;
  temp_dir dir_;
  std::string token_;
  fs::path config_, token_file_;
  std::unique_ptr<sim_process> coord_sim_;
  std::unique_ptr<node_process> coordinator_;
  std::string address_;
  std::deque<worker_node> workers_;  // a deque: references stay valid as workers are added
  int runs_ = 0;
};

/// Waits for the run client to end; returns its exit code (nullopt: still running after
/// the time limit, then killed).
std::optional<int> finish_run(node_process& run, int limit_ms = run_timeout_ms) {
  auto code = run.wait_exit(limit_ms);
  if (!code) run.kill();
  return code;
}

std::string first_line(const std::string& text) {
  const auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

/// Checks the first stdout line of `codehive run --coordinator`.
void expect_run_id_line(node_process& run) {
  const std::string first = first_line(run.out());
  EXPECT_TRUE(std::regex_search(first, run_id_line_re))
      << "the first stdout line of `codehive run --coordinator` should be \"codehive RUN_ID: ...\", got \""
      << first << "\"";
}

/// The per-path coder counts over several simulators.
std::map<std::string, int> coder_sum(const std::vector<sim_counts>& all) {
  std::map<std::string, int> sum;
  for (const auto& c : all)
    for (const auto& [p, n] : c.coder) sum[p] += n;
  return sum;
}

}  // namespace

// (a) A coordinator with no local coders and three workers of four coders each run the
// demo; the tasks spread over the workers and each file is coded exactly once.
TEST(ClusterRun, ThreeWorkersShareTheDemo) {
  cluster c("share");
  ASSERT_NO_FATAL_FAILURE(c.expect_coordinator_started());
  for (const char* name : {"w1", "w2", "w3"}) c.start_worker(name, 4, 1);
  for (auto& w : c.workers()) ASSERT_TRUE(c.wait_joined(w));

  temp_dir out("codehive-cluster-share-out");
  const auto t0 = clock_type::now();
  auto run = c.submit(out.path());
  const auto code = finish_run(*run);
  const double wall = seconds_since(t0);
  ASSERT_TRUE(code.has_value()) << "the run did not end within " << run_timeout_ms / 1000 << " s\n"
                                << run->tail() << c.all_tails();
  ASSERT_EQ(*code, 0) << run->tail() << c.all_tails();
  std::printf("[ cluster  ] demo on 3 workers x 4 coders: %.1f s (submit to exit)\n", wall);
  expect_run_id_line(*run);
  expect_output_matches_app(out.path());
  EXPECT_TRUE(fs::is_regular_file(out.path() / "generated_files" / "status.json"));

  std::vector<sim_counts> worker_counts;
  std::string spread;
  int workers_used = 0;
  for (auto& w : c.workers()) {
    worker_counts.push_back(counts_of(*w.sim));
    const int n = worker_counts.back().coder_total();
    spread += " " + w.name + "=" + std::to_string(n);
    if (n > 0) ++workers_used;
    EXPECT_EQ(worker_counts.back().unmatched, 0) << w.name << ": " << worker_counts.back().raw;
  }
  std::printf("[ cluster  ] coder requests per worker:%s\n", spread.c_str());
  EXPECT_GE(workers_used, 2) << "the tasks did not spread: coder requests per worker:" << spread;
  if (workers_used < 3) std::printf("[ cluster  ] note: only %d of 3 workers got coder tasks\n", workers_used);

  const auto sum = coder_sum(worker_counts);
  for (const auto& rel : demo_app_files()) {
    auto it = sum.find(rel);
    EXPECT_EQ(it == sum.end() ? 0 : it->second, 1) << "coder requests for " << rel << " over all workers";
  }
  int fixes = 0;
  for (const auto& wc : worker_counts) fixes += wc.fixer_total();
  const auto coord = counts_of(c.coordinator_sim());
  EXPECT_EQ(coord.coder_total(), 0) << "the coordinator has no local coders: " << coord.raw;
  EXPECT_EQ(fixes + coord.fixer_total(), 1) << "fixer requests over all simulators";
  EXPECT_EQ(coord.role("planner"), 1) << coord.raw;
  EXPECT_EQ(coord.role("reviewer"), 2) << coord.raw;
  EXPECT_EQ(coord.unmatched, 0) << coord.raw;
}

namespace {

/// The shared part of the kill and freeze tests: a coordinator, a "doomed" worker whose
/// simulator never answers in time, the run submitted, a coder request in flight on the
/// doomed worker, then a healthy worker joined. `hit` then kills or freezes the doomed one.
struct failover_setup {
  cluster c;
  std::unique_ptr<temp_dir> out;
  std::unique_ptr<node_process> run;
  worker_node* doomed = nullptr;
  worker_node* healthy = nullptr;

  explicit failover_setup(const std::string& tag) : c(tag) {}

  void start(const std::string& doomed_name) {
    ASSERT_NO_FATAL_FAILURE(c.expect_coordinator_started());
    const fs::path slow = write_slow_scenario(c.dir(), doomed_ttft_ms);
    c.start_worker(doomed_name, 2, 1, slow);
    ASSERT_TRUE(c.wait_joined(c.workers().back()));
    out = std::make_unique<temp_dir>("codehive-cluster-failover-out");
    run = c.submit(out->path());
    doomed = &c.workers()[0];
    ASSERT_TRUE(wait_coder_in_flight([&] { return counts_of(*doomed->sim); }, 60000, run.get()))
        << "no coder request reached the doomed worker's simulator within 60 s\n"
        << run->tail() << c.all_tails();
    c.start_worker("healthy", 4, 1);
    healthy = &c.workers()[1];
    doomed = &c.workers()[0];  // the vector may have moved
    ASSERT_TRUE(c.wait_joined(*healthy));
  }

  /// After the run: exit 0, the same output, the doomed worker's tasks asked again on the
  /// healthy one, nothing asked more than twice, the rest exactly once.
  void check_completed(const sim_counts& doomed_counts) {
    const auto code = finish_run(*run);
    ASSERT_TRUE(code.has_value()) << "the run did not end within " << run_timeout_ms / 1000 << " s\n"
                                  << run->tail() << c.all_tails();
    ASSERT_EQ(*code, 0) << run->tail() << c.all_tails();
    expect_run_id_line(*run);
    expect_output_matches_app(out->path());

    const auto healthy_counts = counts_of(*healthy->sim);
    std::string lost;
    for (const auto& [path, n] : doomed_counts.coder) {
      lost += " " + path;
      EXPECT_GE(healthy_counts.coded(path), 1)
          << path << " was in flight on " << doomed->name << " and was never asked on " << healthy->name
          << "\n" << healthy_counts.raw;
    }
    std::printf("[ cluster  ] in flight on %s when it was hit:%s\n", doomed->name.c_str(), lost.c_str());
    const auto sum = coder_sum({doomed_counts, healthy_counts});
    for (const auto& rel : demo_app_files()) {
      auto it = sum.find(rel);
      const int n = it == sum.end() ? 0 : it->second;
      EXPECT_LE(n, 2) << rel << " was coded " << n << " times";
      if (!doomed_counts.coder.count(rel)) {
        EXPECT_EQ(n, 1) << rel << " (never on the doomed worker)";
      }
    }
  }
};

}  // namespace

// (b) SIGKILL of a worker with coder requests in flight: its tasks complete elsewhere.
TEST(ClusterFailure, KilledWorkerTasksCompleteElsewhere) {
  failover_setup s("kill");
  ASSERT_NO_FATAL_FAILURE(s.start("doomed"));
  s.doomed->proc->signal(SIGKILL);
  const auto t0 = clock_type::now();
  s.doomed->proc->wait_exit(5000);
  EXPECT_TRUE(s.c.coordinator().wait_line(coordinator_line(s.doomed->name, "lost"), timeout_ms + detection_margin_ms))
      << "the coordinator did not log \"worker " << s.doomed->name << " lost\" within "
      << timeout_ms + detection_margin_ms << " ms of the SIGKILL\n" << s.c.coordinator().tail();
  std::printf("[ cluster  ] killed worker noticed after %.2f s\n", seconds_since(t0));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto doomed_counts = counts_of(*s.doomed->sim);  // final: its worker is dead
  ASSERT_GE(doomed_counts.coder_total(), 1) << doomed_counts.raw;
  s.check_completed(doomed_counts);
}

namespace {

/// How many lines of the process's output match `re`.
int count_lines(const node_process& p, const std::regex& re) {
  std::istringstream in{p.text()};
  int n = 0;
  for (std::string line; std::getline(in, line);)
    n += std::regex_search(line, re) ? 1 : 0;
  return n;
}

/// Waits until `re` has matched `n` lines; false on timeout.
bool wait_lines(const node_process& p, const std::regex& re, int n, int timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (clock_type::now() < deadline) {
    if (count_lines(p, re) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

// (b2) The coordinator SIGKILLed mid-run and restarted on the same store and port: it
// continues the run by itself, the workers rejoin by themselves, the output is the same
// and no file that was done at the kill is coded again.
TEST(ClusterFailure, RestartedCoordinatorResumesItsRun) {
  cluster c("restart");
  ASSERT_NO_FATAL_FAILURE(c.expect_coordinator_started());
  c.start_worker("w1", 2, 1);
  c.start_worker("w2", 2, 1);
  ASSERT_TRUE(c.wait_joined(c.workers()[0]));
  ASSERT_TRUE(c.wait_joined(c.workers()[1]));
  temp_dir out("codehive-cluster-restart-out");
  auto run = c.submit(out.path());
  const std::regex task_done{"task=[^ ]+ done: "};
  ASSERT_TRUE(wait_lines(c.coordinator(), task_done, 4, run_timeout_ms))
      << "no 4th task completion\n" << run->tail() << c.all_tails();
  c.coordinator().signal(SIGKILL);
  c.coordinator().wait_exit(5000);
  const auto code = finish_run(*run, 30000);
  ASSERT_TRUE(code.has_value()) << "the client did not notice the lost coordinator\n" << run->tail();
  EXPECT_EQ(*code, 3) << run->tail();

  // What was done at the kill, from the store (nobody holds it now).
  const auto store_dir = c.dir() / "store";
  std::string run_id;
  std::map<std::string, int> coded_at_kill;
  std::set<std::string> done_at_kill;
  {
    codehive::store::store_options ro;
    ro.read_only = true;
    auto st = codehive::store::run_store::open(store_dir, ro);
    ASSERT_TRUE(st) << st.err().describe();
    auto runs = (*st)->list_runs();
    ASSERT_TRUE(runs && runs->size() == 1u);
    run_id = runs->front().id;
    auto snap = (*st)->load_run(run_id);
    ASSERT_TRUE(snap) << snap.err().describe();
    for (const auto& t : snap->tasks)
      if (t.state == codehive::store::task_state::done) done_at_kill.insert(t.spec.path);
  }
  ASSERT_GE(done_at_kill.size(), 4u);
  coded_at_kill = coder_sum({counts_of(*c.workers()[0].sim), counts_of(*c.workers()[1].sim)});

  // Same store, same address: the run goes on and the workers come back.
  std::string why;
  ASSERT_TRUE(c.start_coordinator(why, c.address())) << why;
  for (auto& w : c.workers())
    EXPECT_TRUE(wait_lines(*w.proc, worker_joined_re, 2, join_timeout_ms))
        << w.name << " did not rejoin\n" << w.proc->tail();
  ASSERT_TRUE(c.coordinator().wait_line(std::regex{"run=" + run_id + " finished: done"}, run_timeout_ms))
      << c.all_tails();
  // The client died with the first coordinator: the results come with an export.
  temp_dir fetched("codehive-cluster-restart-export");
  ASSERT_EQ(c.export_run(run_id, fetched.path() / "out"), 0) << c.all_tails();
  expect_output_matches_app(fetched.path() / "out");
  const auto coded_end = coder_sum({counts_of(*c.workers()[0].sim), counts_of(*c.workers()[1].sim)});
  for (const auto& path : done_at_kill)
    EXPECT_EQ(coded_end.at(path), coded_at_kill.at(path)) << path << " was done at the kill and coded again";
  std::printf("[ cluster  ] coordinator killed with %zu of 11 files done; the restarted one finished the run\n",
              done_at_kill.size());
}

namespace {

/// How many of the demo's files are in `out` with their final bytes.
std::size_t app_files_in(const fs::path& out) {
  std::size_t n = 0;
  for (const auto& rel : demo_app_files())
    if (fs::is_regular_file(out / rel) && slurp(out / rel) == slurp(demo_app_dir() / rel))
      ++n;
  return n;
}

/// The project files under `root` (generated_files/ and hidden folders aside).
std::vector<std::string> project_files(const fs::path& root) {
  std::vector<std::string> out;
  for (auto& rel : files_under(root))
    if (rel.rfind("generated_files/", 0) != 0 && rel[0] != '.') out.push_back(rel);
  return out;
}

/// The run id of `codehive run --coordinator`'s first stdout line ("codehive RUN: ...").
std::string run_id_of(node_process& run) {
  static const std::regex id_re("^codehive ([^ :]+): ");
  std::smatch m;
  const std::string first = first_line(run.out());
  return std::regex_search(first, m, id_re) ? m[1].str() : std::string{};
}

}  // namespace

// (e) Results where the user is: `run --coordinator --out DIR` gets each file in DIR as it
// lands on the coordinator (before the run ends); the client killed mid-run and started
// again follows the run and ends with every file, byte for byte what `export
// --coordinator` fetches from the store; the coordinator worked in a folder of its own.
TEST(ClusterResults, KilledClientStartedAgainEndsWithTheRunsFiles) {
  cluster c("results");
  ASSERT_NO_FATAL_FAILURE(c.expect_coordinator_started());
  // One coder whose answers take 1.5 s each: the run outlasts the kill and the restart.
  c.start_worker("w1", 1, 1, write_slow_scenario(c.dir(), 1500));
  ASSERT_TRUE(c.wait_joined(c.workers().back()));
  temp_dir out("codehive-cluster-results-out");
  auto first = c.submit(out.path());
  const auto deadline = clock_type::now() + std::chrono::milliseconds(run_timeout_ms);
  while (app_files_in(out.path()) < 2 && first->running() && clock_type::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GE(app_files_in(out.path()), 2u) << "no 2 files reached the client's folder\n"
                                          << first->tail() << c.all_tails();
  ASSERT_TRUE(first->running()) << "the client ended before the test could kill it\n" << first->tail();
  first->signal(SIGKILL);
  first->wait_exit(5000);
  const auto before = app_files_in(out.path());
  EXPECT_FALSE(c.coordinator().has_line(std::regex{"finished: done"}))
      << "the run ended before the client was killed: nothing left to miss\n" << c.all_tails();
  std::printf("[ cluster  ] client killed with %zu of 11 files in its folder\n", before);
  // A version lands while no client follows the run: the next client must fetch it.
  const std::regex wrote{"tracker: wrote "};
  ASSERT_TRUE(wait_lines(c.coordinator(), wrote, count_lines(c.coordinator(), wrote) + 1, run_timeout_ms))
      << "no file landed after the kill\n" << c.all_tails();

  auto second = c.submit(out.path());
  const auto code = finish_run(*second);
  ASSERT_TRUE(code.has_value()) << "the second client did not end\n" << second->tail() << c.all_tails();
  ASSERT_EQ(*code, 0) << second->tail() << c.all_tails();
  EXPECT_TRUE(c.coordinator().has_line(std::regex{"another client follows it"}))
      << "the second client should follow the run the first one started\n" << c.coordinator().tail();
  expect_output_matches_app(out.path());
  EXPECT_TRUE(fs::is_regular_file(out.path() / "generated_files" / "status.json"));
  std::smatch m;
  const std::string text = second->out();
  static const std::regex summary_re{"output: [^\n]*\\(11 files; ([0-9]+) versions written, ([0-9]+) of them fetched"};
  ASSERT_TRUE(std::regex_search(text, m, summary_re)) << text;
  std::printf("[ cluster  ] the second client wrote %s versions, %s of them fetched at the end\n",
              m[1].str().c_str(), m[2].str().c_str());

  const auto run_id = run_id_of(*second);
  ASSERT_FALSE(run_id.empty()) << second->out();
  temp_dir exported("codehive-cluster-results-export");
  std::string output;
  ASSERT_EQ(c.export_run(run_id, exported.path() / "out", &output), 0) << output << c.all_tails();
  EXPECT_EQ(project_files(exported.path() / "out"), project_files(out.path()));
  for (const auto& rel : project_files(out.path()))
    EXPECT_TRUE(slurp(out.path() / rel) == slurp(exported.path() / "out" / rel)) << rel << " differs from the export";

  // The coordinator's own copy: one folder under its workspaces, not the client's.
  std::vector<fs::path> mine;
  for (const auto& e : fs::directory_iterator(c.dir() / "workspaces")) mine.push_back(e.path());
  ASSERT_EQ(mine.size(), 1u);
  expect_output_matches_app(mine.front());

  // An unknown run and a wrong token are refused with exit 2.
  EXPECT_EQ(c.export_run("no-such-run", exported.path() / "none", &output), 2) << output;
  const fs::path bad_token = c.dir() / "bad-token";
  spit(bad_token, "not-the-token\n", 0600);
  EXPECT_EQ(run_to_end({CODEHIVE_BIN, "export", run_id, "--coordinator", c.address(), "--out",
                        (exported.path() / "denied").string(), "--token-file", bad_token.string()},
                       c.dir() / "logs" / "export-bad-token", 60000, &output),
            2) << output;
  EXPECT_FALSE(fs::exists(exported.path() / "denied" / "index.html"));
}

// (f) Git history where the user is: `run --coordinator --git` makes the client's folder a
// repository and commits there one commit per file version the run wrote (11 files and
// the demo's one fix); `undo` on the client takes them back out; a folder with
// uncommitted changes is refused before anything is submitted.
TEST(ClusterResults, ClientFolderGetsOneCommitPerVersion) {
  cluster c("git");
  ASSERT_NO_FATAL_FAILURE(c.expect_coordinator_started());
  c.start_worker("w1", 4, 1);
  ASSERT_TRUE(c.wait_joined(c.workers().back()));
  temp_dir out("codehive-cluster-git-out");
  auto run = c.submit(out.path(), {"--git"});
  const auto code = finish_run(*run);
  ASSERT_TRUE(code.has_value()) << run->tail() << c.all_tails();
  ASSERT_EQ(*code, 0) << run->tail() << c.all_tails();
  expect_output_matches_app(out.path());
  ASSERT_TRUE(fs::is_directory(out.path() / ".git"));
  const auto run_id = run_id_of(*run);
  ASSERT_FALSE(run_id.empty()) << run->out();

  std::string diff;
  ASSERT_EQ(run_to_end({CODEHIVE_BIN, "diff", run_id, "--out", out.path().string()},
                       c.dir() / "logs" / "diff", 60000, &diff),
            0) << diff;
  int commits = 0;
  std::istringstream in{diff};
  for (std::string line; std::getline(in, line);)
    commits += line.rfind("    Codehive-Task: ", 0) == 0 || line.rfind("Codehive-Task: ", 0) == 0 ? 1 : 0;
  EXPECT_EQ(commits, 12) << "one commit per version: 11 files and one fix\n" << diff.substr(0, 4000);
  EXPECT_NE(diff.find("Codehive-Run: " + run_id), std::string::npos);

  std::string undo;
  ASSERT_EQ(run_to_end({CODEHIVE_BIN, "undo", run_id, "--out", out.path().string()},
                       c.dir() / "logs" / "undo", 60000, &undo),
            0) << undo;
  EXPECT_TRUE(project_files(out.path()).empty()) << "undo left project files behind";

  spit(out.path() / "notes.txt", "mine, not committed\n");
  auto dirty = c.submit(out.path());
  const auto refused = finish_run(*dirty, 60000);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(*refused, 2) << dirty->tail();
  EXPECT_TRUE(dirty->has_line(std::regex{"uncommitted changes"})) << dirty->tail();
}

// (c) SIGSTOP of a worker (frozen, its socket still open) with a task in flight: the
// heartbeat timeout notices it and its work completes elsewhere.
TEST(ClusterFailure, FrozenWorkerIsDetectedByHeartbeat) {
  failover_setup s("freeze");
  ASSERT_NO_FATAL_FAILURE(s.start("frozen"));
  s.doomed->proc->signal(SIGSTOP);
  const auto t0 = clock_type::now();
  const auto lost = s.c.coordinator().wait_line(coordinator_line(s.doomed->name, "lost"),
                                                detection_limit_ms);
  const double noticed = seconds_since(t0);
  EXPECT_TRUE(lost.has_value()) << "the coordinator did not log \"worker " << s.doomed->name << " lost\" within "
                                << detection_limit_ms << " ms of the SIGSTOP (heartbeat "
                                << heartbeat_ms << " ms, timeout " << timeout_ms << " ms)\n"
                                << s.c.coordinator().tail();
  if (lost) std::printf("[ cluster  ] frozen worker noticed after %.2f s (timeout %d ms)\n", noticed, timeout_ms);
  // A frozen worker asks nothing more; its counts are final while it stays stopped.
  const auto doomed_counts = counts_of(*s.doomed->sim);
  ASSERT_GE(doomed_counts.coder_total(), 1) << doomed_counts.raw;
  s.check_completed(doomed_counts);
  s.doomed->proc->signal(SIGCONT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  s.doomed->proc->kill();
  EXPECT_TRUE(s.c.coordinator().running()) << "the coordinator died\n" << s.c.coordinator().tail();
}

// (d) A worker with the wrong token is refused: it exits 2, both logs say why, and
// neither log shows a token.
TEST(ClusterJoin, WrongTokenIsRefused) {
  cluster c("token");
  ASSERT_NO_FATAL_FAILURE(c.expect_coordinator_started());
  const std::string wrong = random_token();
  const fs::path wrong_file = c.dir() / "wrong-token";
  spit(wrong_file, wrong + "\n", 0600);
  auto& w = c.start_worker("intruder", 1, 1, {}, {"--token-file", wrong_file.string()});
  const auto code = w.proc->wait_exit(30000);
  ASSERT_TRUE(code.has_value()) << "the worker with a wrong token did not exit within 30 s\n"
                                << w.proc->tail() << c.coordinator().tail();
  EXPECT_EQ(*code, 2) << w.proc->tail();
  EXPECT_TRUE(w.proc->has_line(std::regex("refused by the coordinator")))
      << "the worker does not say \"refused by the coordinator\"\n" << w.proc->tail();
  EXPECT_TRUE(c.coordinator().wait_line(std::regex("wrong token"), 3000))
      << "the coordinator does not log \"wrong token\"\n" << c.coordinator().tail();
  EXPECT_FALSE(c.coordinator().has_line(coordinator_line("intruder", "joined"))) << c.coordinator().tail();
  for (const std::string& secret : {c.token(), wrong}) {
    EXPECT_EQ(w.proc->text().find(secret), std::string::npos) << "a token appears in the worker's log";
    EXPECT_EQ(c.coordinator().text().find(secret), std::string::npos) << "a token appears in the coordinator's log";
  }
  // The right token still works afterwards.
  c.start_worker("friend", 1, 1);
  EXPECT_TRUE(c.wait_joined(c.workers().back()));

  // `codehive run --coordinator` with the wrong token: exit 2, nothing started.
  temp_dir out("codehive-cluster-token-out");
  node_process run({CODEHIVE_BIN, "run", "--coordinator", c.address(), demo_request(), "--out",
                    out.path().string(), "--token-file", wrong_file.string()},
                   c.dir() / "logs" / "run-wrong-token");
  const auto run_code = finish_run(run, 30000);
  ASSERT_TRUE(run_code.has_value()) << run.tail();
  EXPECT_EQ(*run_code, 2) << run.tail() << c.coordinator().tail();
  EXPECT_EQ(run.text().find(wrong), std::string::npos) << "the token appears in the client's output";
  EXPECT_EQ(c.coordinator_sim().count_role("planner"), 0) << "a refused run was planned";
}

// (d2) Issue 16: an unauthenticated connection that announces a 4 GiB BASP handshake.
// Before the gate, CAF allocated what it announced (1.6 GB resident) and workers could not
// join behind it. Now the coordinator closes that connection from the header alone, its
// memory stays where it was, and a worker joins and runs the demo while the intruder's
// socket is still open.
long resident_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST(ClusterJoin, AHandshakeAnnouncingFourGibibytesIsRefusedAndWorkersStillJoin) {
  cluster c("bigframe");
  ASSERT_NO_FATAL_FAILURE(c.expect_coordinator_started());
  const long before = resident_kib(c.coordinator().pid());
  ASSERT_GT(before, 0);
  const auto colon = c.address().rfind(':');
  const int port = std::stoi(c.address().substr(colon + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << std::strerror(errno);
  // A BASP client handshake header (operation 1) announcing 0xfffffff0 payload bytes.
  unsigned char header[32] = {0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0};
  ASSERT_EQ(::send(fd, header, sizeof(header), MSG_NOSIGNAL), 32);
  // A few payload bytes too, as an attacker streaming them would.
  std::string some(1 << 16, 'x');
  ::send(fd, some.data(), some.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(c.coordinator().wait_text("closed by the gate: its handshake announces 4294967280 bytes", 30000))
      << c.coordinator().tail();

  auto& w = c.start_worker("after", 2);
  ASSERT_TRUE(c.wait_joined(w));
  temp_dir out("codehive-cluster-bigframe-out");
  auto run = c.submit(out.path());
  const auto code = finish_run(*run);
  ASSERT_TRUE(code.has_value()) << run->tail() << c.all_tails();
  EXPECT_EQ(*code, 0) << run->tail() << c.all_tails();
  expect_output_matches_app(out.path());
  const long after = resident_kib(c.coordinator().pid());
  EXPECT_LT(after - before, 256 * 1024) << "the coordinator's resident memory grew from " << before << " KiB to "
                                        << after << " KiB";
  std::printf("[ cluster  ] coordinator resident memory %ld KiB before the intruder, %ld KiB after the run\n",
              before, after);
  ::close(fd);
}

// `codehive run --coordinator` with nobody listening gives up after 10 s with exit 3.
TEST(ClusterJoin, RunWithoutCoordinatorExits3) {
  cluster c("nocoord");
  const std::string address = "127.0.0.1:" + std::to_string(pick_free_port());
  temp_dir out("codehive-cluster-nocoord-out");
  node_process run({CODEHIVE_BIN, "run", "--coordinator", address, demo_request(), "--out",
                    out.path().string(), "--token-file", c.token_file().string()},
                   c.dir() / "logs" / "run-nocoord");
  const auto t0 = clock_type::now();
  const auto code = finish_run(run, 40000);
  const double took = seconds_since(t0);
  ASSERT_TRUE(code.has_value()) << "`codehive run` still waits after 40 s\n" << run.tail();
  EXPECT_EQ(*code, 3) << run.tail();
  EXPECT_GE(took, 9.0) << "gave up before 10 s\n" << run.tail();
  EXPECT_LE(took, 25.0) << run.tail();
}

// (e) A worker started before its coordinator retries and joins once the coordinator is up.
TEST(ClusterJoin, WorkerStartedBeforeCoordinatorJoinsWhenItIsUp) {
  cluster c("early");
  const std::string address = "127.0.0.1:" + std::to_string(pick_free_port());
  auto& w = c.start_worker("early", 1, 1, {}, {}, address);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_TRUE(w.proc->running()) << "the worker gave up while the coordinator was down\n" << w.proc->tail();
  EXPECT_FALSE(w.proc->has_line(worker_joined_re)) << w.proc->tail();
  std::string why;
  ASSERT_TRUE(c.start_coordinator(why, address)) << why;
  const auto t0 = clock_type::now();
  // Backoff is capped at 5 s: joined within that plus start-up margin.
  ASSERT_TRUE(w.proc->wait_line(worker_joined_re, 12000))
      << "the worker did not join within 12 s of the coordinator's start\n" << w.proc->tail() << c.coordinator().tail();
  std::printf("[ cluster  ] early worker joined %.1f s after the coordinator was up\n", seconds_since(t0));
  EXPECT_TRUE(c.coordinator().wait_line(coordinator_line("early", "joined"), 5000)) << c.coordinator().tail();
}

namespace {

/// A test CA and one certificate per node signed by it (openssl command-line tool).
struct test_pki {
  fs::path ca, coordinator_cert, coordinator_key, worker_cert, worker_key;
  fs::path rogue_ca, rogue_cert, rogue_key;  ///< signed by another CA
  fs::path both_cas;                         ///< ca + rogue_ca (what the rogue trusts)
};

std::optional<test_pki> make_pki(const std::string& openssl, const fs::path& dir, std::string& why) {
  test_pki pki;
  const fs::path d = dir / "pki";
  fs::create_directories(d);
  pki.ca = d / "ca.pem";
  spit(d / "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  auto step = [&](const std::vector<std::string>& argv, const std::string& what) {
    std::string output;
    if (run_to_end(argv, d / "openssl", 60000, &output) == 0) return true;
    why = "openssl failed to " + what + ":\n" + output;
    return false;
  };
  pki.rogue_ca = d / "rogue-ca.pem";
  auto make_ca = [&](const fs::path& pem, const std::string& name) {
    return step({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                 (d / (name + ".key")).string(), "-out", pem.string(), "-days", "2", "-subj", "/CN=" + name},
                "make the CA " + name);
  };
  if (!make_ca(pki.ca, "ca") || !make_ca(pki.rogue_ca, "rogue-ca")) return std::nullopt;
  auto node_cert = [&](const std::string& name, const std::string& ca, fs::path& cert, fs::path& key) {
    key = d / (name + ".key");
    cert = d / (name + ".pem");
    return step({openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.string(), "-out",
                 (d / (name + ".csr")).string(), "-subj", "/CN=" + name},
                "make the " + name + " key") &&
           step({openssl, "x509", "-req", "-in", (d / (name + ".csr")).string(), "-CA",
                 (d / (ca + ".pem")).string(), "-CAkey", (d / (ca + ".key")).string(), "-CAcreateserial", "-out",
                 cert.string(), "-days", "2", "-extfile", (d / "san.ext").string()},
                "sign the " + name + " certificate");
  };
  if (!node_cert("coordinator", "ca", pki.coordinator_cert, pki.coordinator_key)) return std::nullopt;
  if (!node_cert("worker", "ca", pki.worker_cert, pki.worker_key)) return std::nullopt;
  if (!node_cert("rogue", "rogue-ca", pki.rogue_cert, pki.rogue_key)) return std::nullopt;
  pki.both_cas = d / "both-cas.pem";
  spit(pki.both_cas, slurp(pki.ca) + slurp(pki.rogue_ca));
  return pki;
}

}  // namespace

// (f) With TLS configured on the coordinator, a TLS worker joins and a plain-TCP one cannot.
TEST(ClusterTls, PlainWorkerCannotJoinTlsCoordinator) {
  const std::string openssl = find_program({"openssl"});
  if (openssl.empty()) {
    std::printf("[  SKIPPED ] the openssl command-line tool is not installed (apt-get install openssl)\n");
    GTEST_SKIP() << "no openssl command to make test certificates";
  }
  cluster c("tls");
  std::string why;
  auto pki = make_pki(openssl, c.dir(), why);
  ASSERT_TRUE(pki.has_value()) << why;
  ASSERT_TRUE(c.start_coordinator(why, "127.0.0.1:0",
                                  {"--tls-cert", pki->coordinator_cert.string(), "--tls-key",
                                   pki->coordinator_key.string(), "--tls-ca", pki->ca.string()}))
      << why;
  auto& tls = c.start_worker("tlsworker", 1, 1, {},
                             {"--tls-cert", pki->worker_cert.string(), "--tls-key", pki->worker_key.string(),
                              "--tls-ca", pki->ca.string()});
  ASSERT_TRUE(c.wait_joined(tls));
  auto& plain = c.start_worker("plainworker", 1, 1);
  EXPECT_FALSE(plain.proc->wait_line(worker_joined_re, 8000))
      << "a plain-TCP worker joined a TLS coordinator\n" << plain.proc->tail() << c.coordinator().tail();
  EXPECT_FALSE(c.coordinator().has_line(coordinator_line("plainworker", "joined"))) << c.coordinator().tail();
  // A TLS worker whose certificate another CA signed (it trusts both CAs, so only the
  // coordinator's check can stop it) does not join either.
  auto& rogue = c.start_worker("rogueworker", 1, 1, {},
                               {"--tls-cert", pki->rogue_cert.string(), "--tls-key", pki->rogue_key.string(),
                                "--tls-ca", pki->both_cas.string()});
  EXPECT_FALSE(rogue.proc->wait_line(worker_joined_re, 4000))
      << "a worker with a certificate of another CA joined\n" << rogue.proc->tail() << c.coordinator().tail();
  EXPECT_FALSE(c.coordinator().has_line(coordinator_line("rogueworker", "joined"))) << c.coordinator().tail();
  EXPECT_TRUE(c.coordinator().running()) << "the coordinator died\n" << c.coordinator().tail();
  EXPECT_TRUE(c.workers()[0].proc->running()) << "the TLS worker died\n" << c.workers()[0].proc->tail();
  // The refused plain handshakes must not cost the joined TLS worker its connection (its
  // in-flight tasks would be requeued each time: anyone reaching the port could do that).
  EXPECT_FALSE(c.coordinator().has_line(coordinator_line("tlsworker", "lost")))
      << "the TLS worker was dropped while a plain-TCP worker tried to connect\n"
      << c.coordinator().tail() << c.workers()[0].proc->tail();
  // Nor may another TLS worker leaving (CAF closes without a TLS close_notify, which
  // OpenSSL records as an error on the coordinator's multiplexer thread).
  auto& leaving = c.start_worker("tlsleaving", 1, 1, {},
                                 {"--tls-cert", pki->worker_cert.string(), "--tls-key",
                                  pki->worker_key.string(), "--tls-ca", pki->ca.string()});
  ASSERT_TRUE(c.wait_joined(leaving));
  ASSERT_TRUE(leaving.proc->signal(SIGTERM));
  EXPECT_TRUE(c.coordinator().wait_line(coordinator_line("tlsleaving", "lost"), 10000))
      << c.coordinator().tail();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // time for a wrongly dropped link to show
  EXPECT_FALSE(c.coordinator().has_line(coordinator_line("tlsworker", "lost")))
      << "the TLS worker was dropped when another TLS worker left\n" << c.coordinator().tail();
}

namespace {

/// Two network namespaces joined by a veth pair; removed (with the pair) on destruction.
class netns_pair {
 public:
  netns_pair(std::string ip, const fs::path& logs) : ip_(std::move(ip)), logs_(logs) {
    const std::string tag = std::to_string(::getpid() % 100000);
    a_ = "chc" + tag + "a";
    b_ = "chc" + tag + "b";
    veth_a_ = "chv" + tag + "a";
    veth_b_ = "chv" + tag + "b";
  }
  ~netns_pair() {
    sh({ip_, "netns", "del", a_});
    sh({ip_, "netns", "del", b_});
  }
  netns_pair(const netns_pair&) = delete;
  netns_pair& operator=(const netns_pair&) = delete;

  /// Creates both namespaces, lo up in each, the veth pair 10.213.0.1/24 (a) - .2 (b).
  bool create(std::string& why) {
    sh({ip_, "netns", "del", a_});  // leftovers of an earlier crashed run
    sh({ip_, "netns", "del", b_});
    const std::vector<std::vector<std::string>> steps = {
        {ip_, "netns", "add", a_},
        {ip_, "netns", "add", b_},
        {ip_, "-n", a_, "link", "set", "lo", "up"},
        {ip_, "-n", b_, "link", "set", "lo", "up"},
        {ip_, "-n", a_, "link", "add", veth_a_, "type", "veth", "peer", "name", veth_b_, "netns", b_},
        {ip_, "-n", a_, "addr", "add", a_addr() + "/24", "dev", veth_a_},
        {ip_, "-n", b_, "addr", "add", b_addr() + "/24", "dev", veth_b_},
        {ip_, "-n", a_, "link", "set", veth_a_, "up"},
        {ip_, "-n", b_, "link", "set", veth_b_, "up"},
    };
    for (const auto& s : steps) {
      std::string output;
      if (sh(s, &output) != 0) {
        why = "`";
        for (const auto& a : s) why += a + " ";
        why += "` failed: " + output;
        return false;
      }
    }
    return true;
  }

  /// Takes the link down (both ends: a cut cable).
  bool cut() {
    return sh({ip_, "-n", b_, "link", "set", veth_b_, "down"}) == 0 &&
           sh({ip_, "-n", a_, "link", "set", veth_a_, "down"}) == 0;
  }

  /// argv prefixed to run inside namespace a or b.
  std::vector<std::string> in(bool a, const std::vector<std::string>& argv) const {
    std::vector<std::string> out{ip_, "netns", "exec", a ? a_ : b_};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }
  std::string a_addr() const { return "10.213.0.1"; }
  std::string b_addr() const { return "10.213.0.2"; }
  std::string ns(bool a) const { return a ? a_ : b_; }

 private:
  int sh(const std::vector<std::string>& argv, std::string* output = nullptr) {
    return run_to_end(argv, logs_ / "ip", 20000, output);
  }
  std::string ip_;
  fs::path logs_;
  std::string a_, b_, veth_a_, veth_b_;
};

/// GET base_url + path from inside a network namespace (a thread of ours joins it).
std::string get_in_netns(const std::string& ns, int port, const std::string& path) {
  std::string body, error;
  std::thread t([&] {
    const std::string file = "/var/run/netns/" + ns;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      error = "cannot enter " + file;
      if (fd >= 0) ::close(fd);
      return;
    }
    ::close(fd);
    auto r = http_get("http://127.0.0.1:" + std::to_string(port), path);
    if (r.status == 200) body = r.body;
    else error = "GET " + path + ": " + std::to_string(r.status) + " " + r.error;
  });
  t.join();
  if (!error.empty()) throw std::runtime_error(error);
  return body;
}

/// An llm-sim started inside a namespace (through `ip netns exec`); its port from a file.
struct netns_sim {
  std::unique_ptr<node_process> proc;
  int port = 0;
};

std::optional<netns_sim> start_sim_in(const netns_pair& nets, bool a, const fs::path& scenario,
                                      const fs::path& dir, const std::string& name, std::string& why) {
  netns_sim s;
  const fs::path port_file = dir / (name + ".port");
  s.proc = std::make_unique<node_process>(
      nets.in(a, {sim_process::binary_path(), "--scenario", scenario.string(), "--host", "127.0.0.1", "--port",
                  "0", "--port-file", port_file.string()}),
      dir / "logs" / name);
  const auto deadline = clock_type::now() + std::chrono::seconds(15);
  while (clock_type::now() < deadline) {
    std::ifstream in(port_file);
    if (in >> s.port && s.port > 0) return s;
    if (!s.proc->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  why = "llm-sim in namespace " + nets.ns(a) + " did not start\n" + s.proc->tail();
  return std::nullopt;
}

}  // namespace

// (g) Across network namespaces: the coordinator in one, a worker in another, joined by a
// veth pair. The link is cut while the worker has a task in flight; the coordinator notices
// within the heartbeat timeout and the run finishes on a second worker.
TEST(ClusterNetns, CutLink) {
  if (::geteuid() != 0) {
    std::printf("[  SKIPPED ] not root: network namespaces need CAP_SYS_ADMIN\n");
    GTEST_SKIP() << "not root";
  }
  const std::string ip = find_program({"ip"});
  if (ip.empty()) {
    std::printf("[  SKIPPED ] no `ip` command (iproute2)\n");
    GTEST_SKIP() << "no ip command";
  }
  temp_dir dir("codehive-cluster-netns");
  netns_pair nets(ip, dir.path() / "logs");
  std::string why;
  if (!nets.create(why)) {
    std::printf("[  SKIPPED ] `ip netns` does not work here: %s\n", why.c_str());
    GTEST_SKIP() << "ip netns unavailable: " << why;
  }
  const fs::path config = write_demo_config(dir.path());
  const std::string token = random_token();
  const fs::path token_file = dir.path() / "token";
  spit(token_file, token + "\n", 0600);
  const fs::path demo_scenario = demo_dir() / "scenario.json";
  const fs::path slow = write_slow_scenario(dir.path(), doomed_ttft_ms);
  std::vector<std::string> common{"--config", config.string(), "--heartbeat-ms", std::to_string(heartbeat_ms),
                                  "--timeout-ms", std::to_string(timeout_ms), "--token-file", token_file.string(),
                                  "-v"};
  auto with = [&](std::vector<std::string> argv) {
    argv.insert(argv.end(), common.begin(), common.end());
    return argv;
  };

  auto coord_sim = start_sim_in(nets, true, demo_scenario, dir.path(), "sim-coordinator", why);
  ASSERT_TRUE(coord_sim) << why;
  node_process coordinator(
      nets.in(true, with({CODEHIVE_BIN, "coordinator", "--listen", nets.a_addr() + ":0", "--store",
                          (dir.path() / "store").string(), "--planner", model_spec_openai(coord_sim->port),
                          "--coder", model_spec_ollama(coord_sim->port)})),
      dir.path() / "logs" / "coordinator");
  auto line = coordinator.wait_line(listening_re, 30000);
  ASSERT_TRUE(line) << coordinator.tail();
  std::smatch m;
  std::regex_search(*line, m, listening_re);
  const std::string address = m[1].str() + ":" + m[2].str();

  auto remote_sim = start_sim_in(nets, false, slow, dir.path(), "sim-remote", why);
  ASSERT_TRUE(remote_sim) << why;
  node_process remote(nets.in(false, with({CODEHIVE_BIN, "worker", "--join", address, "--name", "remote",
                                           "--coders", "2", "--fixers", "1", "--coder",
                                           model_spec_ollama(remote_sim->port)})),
                      dir.path() / "logs" / "worker-remote");
  ASSERT_TRUE(remote.wait_line(worker_joined_re, join_timeout_ms)) << remote.tail() << coordinator.tail();

  temp_dir out("codehive-cluster-netns-out");
  node_process run(nets.in(true, {CODEHIVE_BIN, "run", "--coordinator", address, demo_request(), "--out",
                                  out.path().string(), "--token-file", token_file.string(), "-v"}),
                   dir.path() / "logs" / "run");
  const std::string remote_ns = nets.ns(false);
  const int remote_port = remote_sim->port;
  ASSERT_TRUE(wait_coder_in_flight([&] { return parse_counts(get_in_netns(remote_ns, remote_port, "/sim/stats")); },
                                   60000, &run))
      << "no coder request reached the remote worker's simulator\n" << run.tail() << coordinator.tail()
      << remote.tail();

  auto local_sim = start_sim_in(nets, true, demo_scenario, dir.path(), "sim-local", why);
  ASSERT_TRUE(local_sim) << why;
  node_process local(nets.in(true, with({CODEHIVE_BIN, "worker", "--join", address, "--name", "local", "--coders",
                                         "4", "--fixers", "1", "--coder", model_spec_ollama(local_sim->port)})),
                     dir.path() / "logs" / "worker-local");
  ASSERT_TRUE(local.wait_line(worker_joined_re, join_timeout_ms)) << local.tail() << coordinator.tail();

  ASSERT_TRUE(nets.cut()) << "could not take the veth link down";
  const auto t0 = clock_type::now();
  EXPECT_TRUE(coordinator.wait_line(coordinator_line("remote", "lost"), detection_limit_ms))
      << "the coordinator did not notice the cut link within " << detection_limit_ms << " ms\n"
      << coordinator.tail();
  std::printf("[ cluster  ] cut link noticed after %.2f s\n", seconds_since(t0));

  const auto code = finish_run(run);
  ASSERT_TRUE(code.has_value()) << "the run did not end\n" << run.tail() << coordinator.tail() << local.tail();
  ASSERT_EQ(*code, 0) << run.tail() << coordinator.tail() << local.tail();
  expect_output_matches_app(out.path());

  // What was in flight behind the cut link was asked again on the local worker.
  const auto remote_counts = parse_counts(get_in_netns(remote_ns, remote_port, "/sim/stats"));
  const auto local_counts = parse_counts(get_in_netns(nets.ns(true), local_sim->port, "/sim/stats"));
  EXPECT_GE(remote_counts.coder_total(), 1) << remote_counts.raw;
  for (const auto& [path, n] : remote_counts.coder)
    EXPECT_GE(local_counts.coded(path), 1) << path << " was behind the cut link and never asked again";
  const auto sum = coder_sum({remote_counts, local_counts});
  for (const auto& rel : demo_app_files()) {
    auto it = sum.find(rel);
    const int n = it == sum.end() ? 0 : it->second;
    EXPECT_GE(n, 1) << rel;
    EXPECT_LE(n, 2) << rel;
  }
}

// (h) deploy/local-cluster.sh brings up a coordinator and two workers (each with its own
// simulator) and prints the dashboard's URL; the API lists the workers, a run through the
// printed command reproduces the demo and shows in /metrics, and `stop` leaves no process
// behind.
TEST(ClusterDeploy, LocalClusterScriptRunsTheDemo) {
  const std::string bash = find_program({"bash"});
  ASSERT_FALSE(bash.empty());
  temp_dir dir("codehive-cluster-deploy");
  const fs::path state = dir.path() / "state";
  const fs::path config = write_demo_config(dir.path());
  const std::string script = (source_dir() / "deploy" / "local-cluster.sh").string();
  ASSERT_TRUE(fs::is_regular_file(script)) << script;
  const std::map<std::string, std::string> env{{"CODEHIVE_LLM_SIM", sim_process::binary_path()},
                                                {"CODEHIVE_JOIN_TOKEN", ""},
                                                {"CODEHIVE_WORKER_SPECS", ""}};

  struct stopper {  // `stop` even when an assertion fails half-way
    std::string bash, script;
    fs::path state, logs;
    std::map<std::string, std::string> env;
    ~stopper() {
      run_to_end({bash, script, "stop", "--state-dir", state.string()}, logs / "stop-guard", 60000, nullptr, env);
    }
  } guard{bash, script, state, dir.path() / "logs", env};

  std::string started;
  const int rc = run_to_end({bash, script, "--workers", "2", "--coders-per-worker", "4", "--state-dir",
                             state.string(), "--bin", CODEHIVE_BIN, "--config", config.string(),
                             "--heartbeat-ms", std::to_string(heartbeat_ms), "--timeout-ms",
                             std::to_string(timeout_ms)},
                            dir.path() / "logs" / "start", 120000, &started, env);
  ASSERT_EQ(rc, 0) << started;
  EXPECT_NE(started.find("DEMO"), std::string::npos) << "the script does not say the simulator is used:\n" << started;

  std::smatch m;
  const std::regex coord_re("--coordinator +([^ ]+)"), token_re("--token-file +([^ ]+)");
  ASSERT_TRUE(std::regex_search(started, m, coord_re)) << "no `--coordinator ADDRESS` in the output:\n" << started;
  const std::string address = m[1].str();
  ASSERT_TRUE(std::regex_search(started, m, token_re)) << "no `--token-file F` in the output:\n" << started;
  std::string token_file = m[1].str();
  if (token_file.size() >= 2 && (token_file.front() == '\'' || token_file.front() == '"'))
    token_file = token_file.substr(1, token_file.size() - 2);
  struct stat st {};
  ASSERT_EQ(::stat(token_file.c_str(), &st), 0) << token_file;
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the token file should be 0600";
  EXPECT_NE(started.find("stop"), std::string::npos) << "the script does not say how to stop:\n" << started;

  // The dashboard (on loopback by default): its URL and a curl for the metrics are
  // printed, and the API lists the two workers once they are in.
  const std::regex dashboard_re(R"(dashboard +(http://127\.0\.0\.1:[0-9]+)/ )");
  ASSERT_TRUE(std::regex_search(started, m, dashboard_re)) << "no dashboard URL in the output:\n" << started;
  const std::string dashboard = m[1].str();
  EXPECT_NE(started.find("curl -s " + dashboard + "/metrics"), std::string::npos)
      << "no curl example for /metrics in the output:\n" << started;
  std::set<std::string> alive_workers;
  for (int i = 0; i < 300 && alive_workers.size() < 2; ++i) {  // up to 60 s
    alive_workers.clear();
    rapidjson::Document nodes;
    const std::string body = http_get(dashboard, "/api/nodes").body;
    nodes.Parse(body.c_str(), body.size());
    if (!nodes.HasParseError() && nodes.IsObject() && nodes["nodes"].IsArray())
      for (const auto& n : nodes["nodes"].GetArray())
        if (n["alive"].GetBool()) alive_workers.insert(n["name"].GetString());
    if (alive_workers.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(alive_workers, (std::set<std::string>{"worker-1", "worker-2"}))
      << "awaited the script's two workers alive in /api/nodes within 60 s";

  // Both workers joined (the script waits for them; check the coordinator's log too).
  const fs::path coord_log = state / "logs" / "coordinator.log";
  for (int i = 0; i < 100; ++i) {
    const std::string log = slurp(coord_log);
    int joined = 0;
    static const std::regex joined_re("worker [^ ]+ joined");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), joined_re);
         it != std::sregex_iterator(); ++it)
      ++joined;
    if (joined >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  temp_dir out("codehive-cluster-deploy-out");
  std::string output;
  const int code = run_to_end({CODEHIVE_BIN, "run", "--coordinator", address, "--token-file", token_file,
                               demo_request(), "--out", out.path().string()},
                              dir.path() / "logs" / "run", run_timeout_ms, &output);
  ASSERT_EQ(code, 0) << output << "\ncoordinator log:\n" << slurp(coord_log);
  expect_output_matches_app(out.path());
  const auto metrics = http_get(dashboard, "/metrics");
  EXPECT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_NE(metrics.body.find("\ncodehive_workers_up 2\n"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("\ncodehive_runs{state=\"done\"} 1\n"), std::string::npos) << metrics.body;

  // The pids the script started, then `stop`.
  std::vector<pid_t> pids;
  for (const auto& e : fs::directory_iterator(state / "run"))
    if (e.path().extension() == ".pid") {
      std::ifstream in(e.path());
      pid_t p = 0;
      if (in >> p && p > 0) pids.push_back(p);
    }
  EXPECT_GE(pids.size(), 6u) << "expected pid files for a coordinator, 2 workers and 3 simulators";
  std::string stopped;
  EXPECT_EQ(run_to_end({bash, script, "stop", "--state-dir", state.string()}, dir.path() / "logs" / "stop", 60000,
                       &stopped, env),
            0)
      << stopped;
  for (pid_t p : pids) {
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) {
      gone = ::kill(p, 0) != 0;
      // A zombie of ours? The script's children are reparented, never ours; but be sure.
      if (!gone) {
        std::ifstream stat_file("/proc/" + std::to_string(p) + "/stat");
        std::string s;
        std::getline(stat_file, s);
        const auto close_paren = s.rfind(')');
        if (close_paren != std::string::npos && close_paren + 2 < s.size() && s[close_paren + 2] == 'Z') gone = true;
      }
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(gone) << "process " << p << " still runs after `local-cluster.sh stop`";
  }
}
