// `codehive run` and `codehive resume`: one node, everything in one process.
// Opens the run store and creates the run there (or picks up the stored run to
// continue), builds the actor system, spawns the team (tracker, validator,
// reviewer, coders, fixers, an escalation coder on the large model, the
// planner), sends the run request and waits for the result on the main thread
// (scoped_actor: blocking here is fine, no scheduler thread waits). run_here
// lists the steps in order; each is a function of its own below.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <optional>
#include <thread>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "actors/run_restore.hpp"
#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "llm/client.hpp"
#include "llm/error.hpp"
#include "llm/http_loop.hpp"
#include "llm/model_spec.hpp"
#include "messages/error.hpp"
#include "messages/setup.hpp"
#include "nodes/cluster.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/settings_resolution.hpp"
#include "nodes/commands/startup.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/config.hpp"
#include "nodes/demo.hpp"
#include "nodes/generated_files.hpp"
#include "nodes/git_history.hpp"
#include "nodes/http/api_json.hpp"
#include "nodes/plan_approval.hpp"
#include "nodes/progress_line.hpp"
#include "nodes/progress_sink.hpp"
#include "nodes/run_session.hpp"
#include "nodes/run_summary.hpp"
#include "nodes/scheduler_tuning.hpp"
#include "nodes/store_location.hpp"
#include "storage/run_store.hpp"

namespace codehive {

namespace {

/// Turns the first Ctrl-C or SIGTERM into a clean stop of the run (the planner
/// finishes as cancelled: state stored, exports written, exit 130); a second
/// one ends the process at once (the store is consistent at any instant).
class stop_signal_watcher {
 public:
  explicit stop_signal_watcher(planner_actor planner)
      : thread_{[this, planner = std::move(planner)] { watch(planner); }} {}
  ~stop_signal_watcher() {
    done_ = true;
    thread_.join();
  }
  stop_signal_watcher(const stop_signal_watcher&) = delete;
  stop_signal_watcher& operator=(const stop_signal_watcher&) = delete;

 private:
  void watch(const planner_actor& planner) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec tick{0, 200 * 1000 * 1000};  // to notice done_
    bool asked = false;
    while (!done_) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig < 0)
        continue;
      if (asked) {
        std::fprintf(stderr, "codehive: stopped at once; `codehive resume` continues the run\n");
        std::_Exit(exit_code::interrupted);
      }
      asked = true;
      std::fprintf(stderr, "codehive: stopping (%s); press Ctrl-C again to stop at once\n",
                   sig == SIGINT ? "Ctrl-C" : "SIGTERM");
      caf::anon_send(planner, atom::cancel_v);
    }
  }

  std::atomic<bool> done_{false};
  std::thread thread_;
};

/// A run killed between storing its end and writing its exports left stale
/// ones: rewrite generated_files/ from the store (as `codehive export` does).
void refresh_exports(const store::run_store& runs, const std::string& run_id,
                     const std::string& out_dir, const retry_policy& policy) {
  std::string err;
  auto restored = restore_run(runs, run_id, policy, err);
  if (!restored || out_dir.empty()) {
    spdlog::warn("run={} cannot rewrite the exports: {}", run_id, err);
    return;
  }
  if (!write_generated_files(restored->run, out_dir, err))
    spdlog::warn("run={} cannot rewrite {}", run_id, err);
}

void setup_logging(bool quiet) {
  auto logger = spdlog::stderr_color_mt("codehive");
  logger->set_formatter(make_log_formatter());  // control characters escaped
  spdlog::set_default_logger(logger);
  spdlog::set_level(quiet ? spdlog::level::warn : spdlog::level::info);
}

/// The summary's usage lines: files written by the run, then tokens and cost
/// per role over every session of the run (the store's ledger).
void print_run_usage(const store::run_store& runs, const std::string& run_id) {
  if (auto files = runs.list_files(run_id, true); files) {
    int written = 0, deleted = 0;
    for (const auto& f : *files) {
      if (f.task_id.empty())
        continue;  // found in the folder, never touched by the run
      (f.deleted ? deleted : written) += 1;
    }
    std::printf("  files: %d written, %d deleted\n", written, deleted);
  }
  auto ledger = runs.read_ledger(run_id);
  if (!ledger)
    return;
  std::int64_t tokens = 0;
  double cost = 0;
  for (const auto& [role, u] : usage_from_ledger(*ledger)) {
    std::printf("  %-16s %4d call(s) %9lld tokens  $%.4f\n", role.c_str(), u.calls,
                static_cast<long long>(u.prompt_tokens + u.completion_tokens), u.cost_usd);
    tokens += u.prompt_tokens + u.completion_tokens;
    cost += u.cost_usd;
  }
  std::printf("  %-16s %4s         %9lld tokens  $%.4f\n", "total", "", static_cast<long long>(tokens),
              cost);
}

/// --http-linger: the API stays up this long after the run (for a last look
/// or a scrape); SIGINT/SIGTERM, still blocked in every thread, end it sooner.
void linger_for_http(double seconds) {
  std::printf("http: serving for %.0f s more (--http-linger); Ctrl-C stops\n", seconds);
  std::fflush(stdout);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  auto ns = static_cast<long long>(seconds * 1e9);
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  while (sigtimedwait(&set, nullptr, &ts) < 0 && errno == EINTR) {
  }
}

/// `resume RUN`: the stored run's settings, request and folder (into `o`);
/// a run that already ended stops here with its exit code (its exports
/// rewritten).
stop_code find_resumed_run(run_options& o, const codehive_config& cfg, const run_services& svc,
                           const char* command, std::optional<run_settings>& stored,
                           std::string& run_id) {
  auto rec = svc.runs->get_run(o.resume_id);
  if (!rec)
    return usage_error(command, "no run " + o.resume_id + " in " + svc.store_dir.string()
                                  + " (see `codehive runs`): " + rec.err().describe());
  if (rec->state == store::run_state::done) {
    int code = rec->exit_code >= 0 ? rec->exit_code : exit_code::ok;
    std::printf("codehive %s: already finished (exit %d): %s\n", rec->id.c_str(), code,
                rec->state_reason.c_str());
    refresh_exports(*svc.runs, rec->id, run_settings_from_json(rec->config_json).out_dir,
                    cfg.pipeline.retry);
    return code;
  }
  stored = run_settings_from_json(rec->config_json);
  o.request = rec->request;  // request and folder are the run's own
  o.out = stored->out_dir;
  run_id = rec->id;
  return std::nullopt;
}

/// `codehive approve RUN` and the dashboard reach a waiting plan over HTTP
/// (the store admits this process only): loopback on a free port if the
/// user gave no --http.
stop_code serve_plan_approval(run_services& svc, const char* command) {
  if (svc.http)
    return std::nullopt;
  std::string err;
  svc.http_cfg = http_config{"127.0.0.1", 0, {}};
  if (!start_announced(svc.http, svc.runs, *svc.http_cfg, err))
    return usage_error(command, "--approve-plan: cannot serve the HTTP API: " + err);
  return std::nullopt;
}

/// The demo's request, from its folder's request.txt.
std::string demo_request(const std::filesystem::path& demo_dir) {
  std::ifstream in{demo_dir / "request.txt"};
  std::ostringstream ss;
  ss << in.rdbuf();
  auto request = ss.str();
  while (!request.empty() && (request.back() == '\n' || request.back() == ' '))
    request.pop_back();
  return request;
}

/// --demo: starts our own simulator and points every model at it (no key);
/// the demo's request and folder where the user gave none.
stop_code start_demo(run_options& o, run_settings& s, codehive_config& cfg, const char* command,
                     std::optional<sim_child>& sim) {
  if (o.planner || o.coder)  // the flags (a demo takes no stored SPEC)
    return usage_error(command,
                       "--demo points every model at the simulator; do not combine it with "
                       "--planner or --coder");
  auto demo_dir = find_demo_dir();
  if (!demo_dir)
    return usage_error(command,
                       "demo scenario not found; set CODEHIVE_DEMO_DIR to the folder holding "
                       "scenario.json");
  auto sim_bin = find_llm_sim();
  if (!sim_bin)
    return usage_error(command,
                       "llm-sim not found; build it (target llm-sim) or set CODEHIVE_LLM_SIM");
  std::printf("%s\n", demo_notice);
  std::fflush(stdout);
  std::string err;
  sim = sim_child::start(*sim_bin, *demo_dir / "scenario.json", err);
  if (!sim)
    return command_error("run", "cannot start the simulator: " + err, exit_code::model);
  auto port = std::to_string(sim->port());
  s.planner = "openai://127.0.0.1:" + port + "/v1/gpt-4o-mini";
  s.coder = "ollama://127.0.0.1:" + port + "/qwen2.5-coder:7b";
  cfg.planner_model.api_key_env.clear();
  cfg.coder_model.api_key_env.clear();
  if (o.request.empty())
    o.request = demo_request(*demo_dir);
  if (o.out.empty())
    o.out = "demo-out";
  spdlog::info("demo: llm-sim pid on port {}, scenario {}", sim->port(),
               (*demo_dir / "scenario.json").string());
  return std::nullopt;
}

/// The run's team sizes and budget, checked.
stop_code check_run_settings(const run_settings& s, const char* command) {
  if (s.coders < 1 || s.fixers < 1 || s.max_rounds < 0)
    return usage_error(command,
                       "--coders and --fixers must be at least 1, --max-rounds at least 0");
  if (s.max_tokens < 0 || s.max_cost_usd < 0 || s.max_time_s < 0)
    return usage_error(command, "budgets must not be negative");
  return std::nullopt;
}

msg::budget budget_of(const run_settings& s) {
  msg::budget limits;
  limits.max_tokens = s.max_tokens;
  limits.max_cost_usd = s.max_cost_usd;
  limits.max_time_ms = static_cast<std::int64_t>(s.max_time_s * 1000);
  return limits;
}

/// --out as an absolute folder, created; never around the run store (the
/// tracker would take the store's files for project files).
stop_code prepare_output_folder(const std::string& out, const std::filesystem::path& store_dir,
                                const char* command, std::filesystem::path& out_dir) {
  std::error_code ec;
  out_dir = std::filesystem::absolute(out, ec).lexically_normal();
  if (std::filesystem::exists(out_dir, ec) && !std::filesystem::is_directory(out_dir, ec))
    return usage_error(command, "--out " + out + " exists and is not a folder");
  std::filesystem::create_directories(out_dir, ec);
  if (ec)
    return usage_error(command,
                       "cannot create the output folder " + out_dir.string() + ": " + ec.message());
  auto store_abs = std::filesystem::absolute(store_dir, ec).lexically_normal();
  if (auto rel = store_abs.lexically_relative(out_dir); !rel.empty() && *rel.begin() != "..")
    return usage_error(command, "the run store " + store_abs.string()
                                  + " must not be inside the output folder " + out_dir.string());
  return std::nullopt;
}

/// The settings the store keeps with the run (what `resume` continues with):
/// the folder, and the SPECs the config ended with.
run_settings settings_to_store(const codehive_config& cfg, const run_settings& s,
                               const std::filesystem::path& out_dir) {
  run_settings stored = s;
  stored.out_dir = out_dir.string();
  stored.planner = llm::to_string(cfg.planner_model.spec);
  stored.coder = llm::to_string(cfg.coder_model.spec);
  stored.max_time_s = static_cast<double>(budget_of(s).max_time_ms) / 1000.0;
  return stored;
}

/// A resolved SPEC as apply_model_flags takes it ("": the config's).
std::optional<std::string> spec_over_config(const std::string& spec) {
  if (spec.empty())
    return std::nullopt;
  return spec;
}

/// Creates the run in the store (or picks up the stored one) and checks the
/// folder's git history; `run_id` becomes the run's.
stop_code open_stored_run(const run_options& o, codehive_config& cfg, store::run_store& runs,
                          const run_settings& settings, const std::filesystem::path& out_dir,
                          const char* command, std::string& run_id, bool& continuing) {
  std::string err;
  auto opened = open_run(runs, run_id, o.request, settings, o.fresh, err);
  if (!opened)
    return usage_error(command, err);
  run_id = opened->run_id;
  continuing = opened->continuing;
  auto refused =
    prepare_git_history(cfg, {o.git, o.allow_dirty}, out_dir, run_id, continuing, runs);
  if (!refused)
    return std::nullopt;
  // A new run did nothing yet: stored as ended by the refusal, not as
  // resumable work. A continued run stays resumable.
  if (!continuing)
    if (auto stored = runs.set_run_state(run_id, store::run_state::done,
                                         "refused to start: uncommitted changes", *refused);
        !stored)
      spdlog::warn("run={} cannot record the end of the run: {}", run_id, stored.err().describe());
  return *refused;
}

void print_run_header(const std::string& run_id, const std::string& request, bool continuing,
                      const std::filesystem::path& out_dir, const std::filesystem::path& store_dir,
                      const codehive_config& cfg, const run_settings& s) {
  std::printf("codehive %s: %s\n  %s\n  output: %s\n  store: %s\n  planner: %s\n"
              "  coders: %d x %s, fixers: %d\n",
              run_id.c_str(), request.substr(0, 200).c_str(),
              continuing ? "continuing a stored run (done work is kept)" : "new run",
              out_dir.string().c_str(), store_dir.string().c_str(),
              llm::to_string(cfg.planner_model.spec).c_str(), s.coders,
              llm::to_string(cfg.coder_model.spec).c_str(), s.fixers);
  std::fflush(stdout);
  spdlog::info("run={} config: {}", run_id,
               cfg.source.empty() ? std::string{"built-in defaults"} : cfg.source.string());
}

/// A model server that failed the check before any call: nothing was paid
/// for; the run is stored as failed (resumable) and its status written, as
/// for any run a model server stops.
int end_unreachable(store::run_store& runs, const std::string& run_id,
                    const std::filesystem::path& out_dir, const codehive_config& cfg,
                    const std::string& preflight_error) {
  auto why = "model server check failed before any call: " + preflight_error;
  if (auto s = runs.set_run_state(run_id, store::run_state::failed, why, exit_code::model); !s)
    spdlog::warn("run={} cannot record the end of the run: {}", run_id, s.err().describe());
  refresh_exports(runs, run_id, out_dir.string(), cfg.pipeline.retry);
  std::printf("codehive %s: model_failure (exit %d): %s\n", run_id.c_str(), exit_code::model,
              why.c_str());
  return exit_code::model;
}

/// How a waiting plan is approved from elsewhere (printed when one waits).
std::string approval_hint(const run_services& svc, const std::string& run_id) {
  if (!svc.http)
    return "`codehive resume " + run_id + " --approve-plan --http :0` after stopping this "
           "run (it has no HTTP API to approve through)";
  auto port = std::to_string(svc.http->port());
  return "`codehive approve " + run_id + " --http " + svc.http_cfg->host + ":" + port
         + "` (or --reject), POST " + svc.http->url() + "api/runs/" + run_id
         + "/approve, or the dashboard at " + svc.http->url();
}

/// The run's last lines: its end, the usage, where the results are.
void print_run_end(const msg::run_result& result, double secs, const store::run_store& runs,
                   const std::string& run_id, const std::filesystem::path& out_dir, bool demo) {
  std::printf("codehive %s: %s (exit %d) after %.1f s, %d round(s): %s\n", run_id.c_str(),
              std::string{msg::row_of(result.state).shown}.c_str(), result.exit_code, secs,
              result.rounds, result.message.c_str());
  print_run_usage(runs, run_id);
  if (auto times = phase_times_line(result.phases); !times.empty())
    std::printf("%s\n", times.c_str());
  std::printf("  output: %s\n  exports: %s\n", out_dir.string().c_str(),
              (out_dir / "generated_files").string().c_str());
  if (demo)
    std::printf("%s\n", demo_notice);
  std::fflush(stdout);
}

/// The run itself: the actor system and the run's team, the request sent and
/// its result awaited on this thread (scoped_actor: no scheduler thread
/// waits), the end printed before the actors go (shutting down may wait for
/// a validator subprocess).
msg::run_result run_actors(const codehive_config& cfg, run_services& svc, const run_settings& s,
                           const std::string& run_id, const std::string& request,
                           const std::filesystem::path& out_dir, bool terminal) {
  auto t0 = std::chrono::steady_clock::now();
  msg::run_result result;
  result.exit_code = exit_code::internal;
  llm::http_loop loop;  // outlives the actor system (declared first)
  caf::actor_system_config sys_cfg;
  register_messages(sys_cfg);
  tune_scheduler(sys_cfg);
  caf::actor_system sys{sys_cfg};
  auto line = std::make_shared<progress_line>(stdout, terminal);
  // Any continued run may hold a plan that waits (from an earlier
  // --approve-plan), so the prompt is always there; it stays idle otherwise.
  auto prompt = std::make_shared<approval_prompt>(
    sys, run_id, out_dir.string(), approval_hint(svc, run_id), line,
    isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1);
  auto progress = spawn_progress_sink(
    sys, line, [prompt](const msg::progress_event& ev) { return prompt->on_event(ev); });
  msg::run_request req;
  req.run_id = run_id;
  req.request = request;
  req.out_dir = out_dir.string();
  req.max_rounds = s.max_rounds;
  req.limits = budget_of(s);
  req.approve_plan = s.approve_plan;
  session_params params;
  params.request = std::move(req);
  params.coders = s.coders;
  params.fixers = s.fixers;
  run_session session{sys, loop, cfg, svc.runs, std::move(params), progress};
  prompt->attach(session.planner());
  auto& http = svc.http;
  if (http) {
    http->set_plan_decider(plan_decider_for(sys, session.planner(), run_id, out_dir.string()));
    http->set_live_source([board = session.board()] { return live_views{board->latest()}; });
  }
  stop_signal_watcher watcher{session.planner()};  // until the actors are gone
  {
    caf::scoped_actor self{sys};
    self->request(session.planner(), caf::infinite, session.request())
      .receive([&](msg::run_result& r) { result = std::move(r); },
               [&](caf::error& e) {
                 result.exit_code = exit_code::internal;
                 result.state = msg::run_outcome::failed;
                 result.message = "internal error: " + describe(e);
               });
  }
  // Before the actors go: both ask the planner.
  prompt->stop();
  // The live view stays: during --http-linger /api/nodes shows the run's
  // last picture (its heartbeat age growing); it holds no actor.
  if (http)
    http->set_plan_decider({});
  line->clear();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  print_run_end(result, secs, *svc.runs, run_id, out_dir, s.demo);
  session.stop();
  caf::anon_send_exit(progress, caf::exit_reason::user_shutdown);
  loop.shutdown();
  return result;
}

/// `run` and `resume` (`command`: the name in messages): each step of the
/// start-up in order; any of them may end the command with its exit code.
int run_here(run_options o, const char* command) {
  // Ctrl-C and SIGTERM go to the watcher thread only (stop_signal_watcher):
  // blocked first thing, so every thread started later (RocksDB's, CAF's, the
  // HTTP loop's) inherits the mask and none of them takes the default action.
  block_stop_signals();
  bool terminal = isatty(STDOUT_FILENO) == 1;
  setup_logging(terminal && !o.verbose);

  std::string err;
  auto loaded = load_config_for(o.config, err);
  if (!loaded)
    return usage_error(command, err);
  auto cfg = std::move(*loaded);
  run_services svc;
  if (auto stop = check_http(o.http, command, svc))
    return *stop;
  if (auto stop = open_services(o.store, cfg, command, svc))
    return *stop;
  std::optional<run_settings> stored;  // the run `resume` continues
  std::string run_id;
  if (!o.resume_id.empty())
    if (auto stop = find_resumed_run(o, cfg, svc, command, stored, run_id))
      return *stop;
  auto s = resolve_run_settings(o, cfg.run, stored ? &*stored : nullptr);
  if (s.approve_plan)
    if (auto stop = serve_plan_approval(svc, command))
      return *stop;
  std::optional<sim_child> sim;
  if (s.demo)
    if (auto stop = start_demo(o, s, cfg, command, sim))
      return *stop;
  if (o.request.empty())
    return usage_error(command, "the REQUEST argument is required (what to build)");
  if (o.out.empty())
    return usage_error(command, "--out DIR is required (the output folder)");
  // The demo's simulator needs no key.
  if (!apply_model_flags(cfg, spec_over_config(s.planner), spec_over_config(s.coder), !s.demo, err))
    return usage_error(command, err);
  if (auto stop = check_run_settings(s, command))
    return *stop;
  bool reachable = preflight_models(cfg, true, true, s.coders, err);
  auto preflight_error = err;
  tune_config(cfg, s.coders, s.fixers);
  std::filesystem::path out_dir;
  if (auto stop = prepare_output_folder(o.out, svc.store_dir, command, out_dir))
    return *stop;

  bool continuing = false;
  if (auto stop = open_stored_run(o, cfg, *svc.runs, settings_to_store(cfg, s, out_dir), out_dir,
                                  command, run_id, continuing))
    return *stop;
  print_run_header(run_id, o.request, continuing, out_dir, svc.store_dir, cfg, s);
  if (!reachable) {
    int code = end_unreachable(*svc.runs, run_id, out_dir, cfg, preflight_error);
    if (sim)
      sim->stop();
    return code;
  }
  auto result = run_actors(cfg, svc, s, run_id, o.request, out_dir, terminal);
  if (sim)
    sim->stop();
  if (svc.http && o.http.linger_s > 0)
    linger_for_http(o.http.linger_s);
  return result.exit_code;
}

}  // namespace

int run_command(run_options opts) {
  return run_here(std::move(opts), "run");
}

int resume_command(run_options opts) {
  return run_here(std::move(opts), "resume");
}

}  // namespace codehive
