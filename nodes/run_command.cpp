// `codehive run` and `codehive resume`: one node, everything in one process.
// Opens the run store and creates the run there (or picks up the stored run to
// continue), builds the actor
// system, spawns the team (tracker, validator, reviewer, coders, fixers, an
// escalation coder on the large model, the planner), sends the run request
// and waits for the result on the main thread (scoped_actor: blocking here is
// fine, no scheduler thread waits).
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
#include "nodes/config.hpp"
#include "nodes/demo.hpp"
#include "nodes/generated_files.hpp"
#include "nodes/http/api_json.hpp"
#include "nodes/git_history.hpp"
#include "nodes/plan_approval.hpp"
#include "nodes/progress_line.hpp"
#include "nodes/progress_sink.hpp"
#include "nodes/run_session.hpp"
#include "nodes/run_settings.hpp"
#include "nodes/store_location.hpp"
#include "storage/run_store.hpp"

namespace codehive {

namespace {

const char* command_name = "run";  // "resume" when continuing a run by id

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

int usage_error(const std::string& text) {
  std::fprintf(stderr, "codehive %s: %s\n", command_name, text.c_str());
  return exit_code::usage;
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

}  // namespace

int run_command(run_options o) {
  // Ctrl-C and SIGTERM go to the watcher thread only (stop_signal_watcher):
  // blocked first thing, so every thread started later (RocksDB's, CAF's, the
  // HTTP loop's) inherits the mask and none of them takes the default action.
  block_stop_signals();
  bool terminal = isatty(STDOUT_FILENO) == 1;
  setup_logging(terminal && !o.verbose);

  // -- configuration ---------------------------------------------------------
  std::string err;
  auto loaded = load_config_for(o.config, err);
  if (!loaded)
    return usage_error(err);
  auto cfg = std::move(*loaded);
  std::optional<http_config> http_cfg;
  if (!o.http.listen.empty() && !(http_cfg = check_http_flags(o.http, err)))
    return usage_error(err);

  // -- the run store; `resume RUN` takes the run's settings from it ------------
  auto store_dir = resolve_store_path(o.store, cfg, err);
  if (!store_dir)
    return usage_error(err);
  std::shared_ptr<store::run_store> runs{open_store(*store_dir, false, cfg.store.sync, err)};
  if (!runs)
    return usage_error(err);
  // Reads the store from threads of its own; stopped (declared after `runs`)
  // before the store closes.
  std::optional<api_server> http;
  if (http_cfg && !start_announced(http, runs, *http_cfg, err))
    return usage_error("--http: " + err);
  std::string run_id;
  if (!o.resume_id.empty()) {
    auto rec = runs->get_run(o.resume_id);
    if (!rec)
      return usage_error("no run " + o.resume_id + " in " + store_dir->string()
                         + " (see `codehive runs`): " + rec.err().describe());
    if (rec->state == store::run_state::done) {
      int code = rec->exit_code >= 0 ? rec->exit_code : exit_code::ok;
      std::printf("codehive %s: already finished (exit %d): %s\n", rec->id.c_str(), code,
                  rec->state_reason.c_str());
      refresh_exports(*runs, rec->id, run_settings_from_json(rec->config_json).out_dir,
                      cfg.pipeline.retry);
      return code;
    }
    apply_stored_settings(run_settings_from_json(rec->config_json), rec->request, o);
    run_id = rec->id;
  }
  // `codehive approve RUN` and the dashboard reach a waiting plan over HTTP
  // (the store admits this process only): loopback on a free port if the
  // user gave no --http.
  if (o.approve_plan && !http) {
    http_cfg = http_config{"127.0.0.1", 0, {}};
    if (!start_announced(http, runs, *http_cfg, err))
      return usage_error("--approve-plan: cannot serve the HTTP API: " + err);
  }

  // -- demo: our own simulator -------------------------------------------------
  std::optional<sim_child> sim;
  if (o.demo) {
    if (o.planner || o.coder)
      return usage_error("--demo points every model at the simulator; do not combine it with "
                         "--planner or --coder");
    auto demo_dir = find_demo_dir();
    if (!demo_dir)
      return usage_error("demo scenario not found; set CODEHIVE_DEMO_DIR to the folder holding "
                         "scenario.json");
    auto sim_bin = find_llm_sim();
    if (!sim_bin)
      return usage_error("llm-sim not found; build it (target llm-sim) or set CODEHIVE_LLM_SIM");
    std::printf("%s\n", demo_notice);
    std::fflush(stdout);
    sim = sim_child::start(*sim_bin, *demo_dir / "scenario.json", err);
    if (!sim) {
      std::fprintf(stderr, "codehive run: cannot start the simulator: %s\n", err.c_str());
      return exit_code::model;
    }
    auto port = std::to_string(sim->port());
    o.planner = "openai://127.0.0.1:" + port + "/v1/gpt-4o-mini";
    o.coder = "ollama://127.0.0.1:" + port + "/qwen2.5-coder:7b";
    cfg.planner_model.api_key_env.clear();
    cfg.coder_model.api_key_env.clear();
    if (o.request.empty()) {
      std::ifstream in{*demo_dir / "request.txt"};
      std::ostringstream ss;
      ss << in.rdbuf();
      o.request = ss.str();
      while (!o.request.empty() && (o.request.back() == '\n' || o.request.back() == ' '))
        o.request.pop_back();
    }
    if (o.out.empty())
      o.out = "demo-out";
    spdlog::info("demo: llm-sim pid on port {}, scenario {}", sim->port(),
                 (*demo_dir / "scenario.json").string());
  }
  if (o.request.empty())
    return usage_error("the REQUEST argument is required (what to build)");
  if (o.out.empty())
    return usage_error("--out DIR is required (the output folder)");
  // The demo's simulator needs no key.
  if (!apply_model_flags(cfg, o.planner, o.coder, !o.demo, err))
    return usage_error(err);
  int coders = o.coders.value_or(cfg.run.coders);
  int fixers = o.fixers.value_or(cfg.run.fixers);
  int max_rounds = o.max_rounds.value_or(cfg.run.max_rounds);
  if (coders < 1 || fixers < 1 || max_rounds < 0)
    return usage_error("--coders and --fixers must be at least 1, --max-rounds at least 0");
  msg::budget limits;
  limits.max_tokens = o.max_tokens.value_or(cfg.run.max_tokens);
  limits.max_cost_usd = o.max_cost.value_or(cfg.run.max_cost_usd);
  limits.max_time_ms = static_cast<std::int64_t>(o.max_time.value_or(cfg.run.max_time_s) * 1000);
  if (limits.max_tokens < 0 || limits.max_cost_usd < 0 || limits.max_time_ms < 0)
    return usage_error("budgets must not be negative");
  bool reachable = preflight_models(cfg, true, true, coders, err);
  auto preflight_error = err;
  tune_config(cfg, coders, fixers);

  std::error_code ec;
  auto out_dir = std::filesystem::absolute(o.out, ec).lexically_normal();
  if (std::filesystem::exists(out_dir, ec) && !std::filesystem::is_directory(out_dir, ec))
    return usage_error("--out " + o.out + " exists and is not a folder");
  std::filesystem::create_directories(out_dir, ec);
  if (ec)
    return usage_error("cannot create the output folder " + out_dir.string() + ": " + ec.message());

  // The tracker would take the store's files for project files.
  auto store_abs = std::filesystem::absolute(*store_dir, ec).lexically_normal();
  if (auto rel = store_abs.lexically_relative(out_dir); !rel.empty() && *rel.begin() != "..")
    return usage_error("the run store " + store_abs.string() + " must not be inside the output "
                       "folder " + out_dir.string());

  run_settings settings_now;
  settings_now.out_dir = out_dir.string();
  settings_now.planner = llm::to_string(cfg.planner_model.spec);
  settings_now.coder = llm::to_string(cfg.coder_model.spec);
  settings_now.coders = coders;
  settings_now.fixers = fixers;
  settings_now.max_rounds = max_rounds;
  settings_now.max_tokens = limits.max_tokens;
  settings_now.max_cost_usd = limits.max_cost_usd;
  settings_now.max_time_s = static_cast<double>(limits.max_time_ms) / 1000.0;
  settings_now.demo = o.demo;
  settings_now.approve_plan = o.approve_plan;
  auto opened = open_run(*runs, run_id, o.request, settings_now, o.fresh, err);
  if (!opened)
    return usage_error(err);
  run_id = opened->run_id;
  bool continuing = opened->continuing;
  if (auto refused =
        prepare_git_history(cfg, {o.git, o.allow_dirty}, out_dir, run_id, continuing, *runs)) {
    // A new run did nothing yet: stored as ended by the refusal, not as
    // resumable work. A continued run stays resumable.
    if (!continuing)
      if (auto s = runs->set_run_state(run_id, store::run_state::done,
                                       "refused to start: uncommitted changes", *refused);
          !s)
        spdlog::warn("run={} cannot record the end of the run: {}", run_id, s.err().describe());
    return *refused;
  }
  std::printf("codehive %s: %s\n  %s\n  output: %s\n  store: %s\n  planner: %s\n"
              "  coders: %d x %s, fixers: %d\n",
              run_id.c_str(), o.request.substr(0, 200).c_str(),
              continuing ? "continuing a stored run (done work is kept)" : "new run",
              out_dir.string().c_str(), store_dir->string().c_str(),
              llm::to_string(cfg.planner_model.spec).c_str(), coders,
              llm::to_string(cfg.coder_model.spec).c_str(), fixers);
  std::fflush(stdout);
  spdlog::info("run={} config: {}", run_id,
               cfg.source.empty() ? std::string{"built-in defaults"} : cfg.source.string());
  if (!reachable) {
    // Nothing was paid for: the run is stored as failed (resumable) and its
    // status written, as for any run a model server stops.
    auto why = "model server check failed before any call: " + preflight_error;
    if (auto s = runs->set_run_state(run_id, store::run_state::failed, why, exit_code::model); !s)
      spdlog::warn("run={} cannot record the end of the run: {}", run_id, s.err().describe());
    refresh_exports(*runs, run_id, out_dir.string(), cfg.pipeline.retry);
    std::printf("codehive %s: model_failure (exit %d): %s\n", run_id.c_str(), exit_code::model,
                why.c_str());
    if (sim)
      sim->stop();
    return exit_code::model;
  }

  // -- the actors --------------------------------------------------------------
  auto t0 = std::chrono::steady_clock::now();
  msg::run_result result;
  result.exit_code = exit_code::internal;
  {
    llm::http_loop loop;  // outlives the actor system (declared first)
    caf::actor_system_config sys_cfg;
    register_messages(sys_cfg);
    caf::actor_system sys{sys_cfg};
    auto line = std::make_shared<progress_line>(stdout, terminal);
    // Any continued run may hold a plan that waits (from an earlier
    // --approve-plan), so the prompt is always there; it stays idle otherwise.
    std::string hint;
    if (http) {
      auto port = std::to_string(http->port());
      hint = "`codehive approve " + run_id + " --http " + http_cfg->host + ":" + port
             + "` (or --reject), POST " + http->url() + "api/runs/" + run_id
             + "/approve, or the dashboard at " + http->url();
    } else {
      hint = "`codehive resume " + run_id + " --approve-plan --http :0` after stopping this "
             "run (it has no HTTP API to approve through)";
    }
    auto prompt = std::make_shared<approval_prompt>(
      sys, run_id, out_dir.string(), hint, line,
      isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1);
    auto progress = spawn_progress_sink(
      sys, line, [prompt](const msg::progress_event& ev) { return prompt->on_event(ev); });
    msg::run_request req;
    req.run_id = run_id;
    req.request = o.request;
    req.out_dir = out_dir.string();
    req.max_rounds = max_rounds;
    req.limits = limits;
    req.approve_plan = o.approve_plan;
    session_params params;
    params.request = std::move(req);
    params.coders = coders;
    params.fixers = fixers;
    run_session session{sys, loop, cfg, runs, std::move(params), progress};
    prompt->attach(session.planner());
    if (http) {
      http->set_plan_decider(plan_decider_for(sys, session.planner(), run_id, out_dir.string()));
      http->set_live_source([board = session.board()] { return live_views{board->latest()}; });
    }
    stop_signal_watcher watcher{session.planner()};
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
    // Tell the user now: shutting down may wait for a validator subprocess.
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("codehive %s: %s (exit %d) after %.1f s, %d round(s): %s\n",
                run_id.c_str(), std::string{msg::row_of(result.state).shown}.c_str(),
                result.exit_code, secs, result.rounds, result.message.c_str());
    print_run_usage(*runs, run_id);
    std::printf("  output: %s\n  exports: %s\n", out_dir.string().c_str(),
                (out_dir / "generated_files").string().c_str());
    if (o.demo)
      std::printf("%s\n", demo_notice);
    std::fflush(stdout);
    session.stop();
    caf::anon_send_exit(progress, caf::exit_reason::user_shutdown);
    loop.shutdown();
  }
  if (sim)
    sim->stop();
  if (http && o.http.linger_s > 0)
    linger_for_http(o.http.linger_s);
  return result.exit_code;
}

int resume_command(run_options opts) {
  command_name = "resume";
  return run_command(std::move(opts));
}

}  // namespace codehive
