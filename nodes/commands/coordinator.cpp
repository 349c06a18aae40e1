// `codehive coordinator`: the node that owns the run store and runs the
// planner, reviewer, file tracker and validator of every run. Workers join
// its published registry with their coders and fixers; `codehive run
// --coordinator` submits runs to it. On start it continues every run the
// store holds as running (a coordinator restarted after a crash resumes its
// runs; workers that rejoin are offered to them).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/run_config.hpp"
#include "llm/http_loop.hpp"
#include "llm/model_spec.hpp"
#include "nodes/basp_gate.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/startup.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/config.hpp"
#include "nodes/http/api_json.hpp"
#include "nodes/plan_approval.hpp"
#include "nodes/registry.hpp"
#include "nodes/run_files.hpp"
#include "nodes/run_session.hpp"
#include "nodes/store_location.hpp"
#include "storage/run_store.hpp"

namespace codehive {

namespace {

bool write_port_file(const std::string& file, std::uint16_t port, std::string& err) {
  auto tmp = file + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    out << port << "\n";
    out.flush();
    if (!out) {
      err = "cannot write " + tmp;
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    err = "cannot rename " + tmp + " to " + file + ": " + ec.message();
    return false;
  }
  return true;
}

msg::run_result failure(const std::string& run_id, int code, std::string text) {
  msg::run_result r;
  r.run_id = run_id;
  r.state = msg::run_outcome::failed;
  r.exit_code = code;
  r.message = std::move(text);
  return r;
}

/// The planners of the runs this coordinator runs now, for the plan-approval
/// endpoints of its HTTP API (`--http`): the store admits this process only.
struct live_planners {
  std::mutex mu;
  std::map<std::string, std::pair<planner_actor, std::string>> runs;  ///< id -> planner, out_dir
  std::map<std::string, std::shared_ptr<live_board>> boards;          ///< id -> its live view
  std::shared_ptr<live_board> registry = std::make_shared<live_board>();

  /// The registry's view and every running planner's (for /api/nodes, /metrics).
  live_views views() {
    std::lock_guard lock{mu};
    live_views out{registry->latest()};
    for (const auto& [id, b] : boards)
      out.push_back(b->latest());
    return out;
  }

  std::optional<std::pair<planner_actor, std::string>> find(const std::string& id) {
    std::lock_guard lock{mu};
    auto it = runs.find(id);
    if (it == runs.end())
      return std::nullopt;
    return it->second;
  }
};

/// Starts (or continues) runs for the registry: the store decides which run,
/// then a run_session spawns its actors.
struct starter {
  caf::actor_system* sys;
  llm::http_loop* loop;
  codehive_config cfg;
  std::shared_ptr<store::run_store> runs;
  std::filesystem::path store_dir;
  int coders;
  int fixers;
  std::shared_ptr<live_planners> live;
  bool http = false;  ///< --http given: a plan waiting for approval can be approved
  std::filesystem::path workspaces;  ///< the folders of runs whose results go to a client

  start_outcome operator()(const msg::submit_run& sub, progress_actor progress,
                           const std::set<std::string>& active) {
    start_outcome out;
    out.kind = start_outcome::failed;
    std::string request = sub.run.request;
    std::string run_id = sub.run.run_id;
    run_settings settings;
    settings.planner = llm::to_string(cfg.planner_model.spec);
    settings.coder = llm::to_string(cfg.coder_model.spec);
    settings.coders = coders;
    settings.fixers = fixers;
    msg::run_request req = sub.run;
    if (!run_id.empty()) {
      // A stored run by id (the coordinator's own resumption at start).
      auto rec = runs->get_run(run_id);
      if (!rec) {
        out.result = failure(run_id, exit_code::usage, "no run " + run_id + " in the store");
        return out;
      }
      if (rec->state == store::run_state::done) {
        out.kind = start_outcome::finished;
        out.run_id = run_id;
        out.result.run_id = run_id;
        out.result.state = msg::run_outcome::done;
        out.result.exit_code = rec->exit_code >= 0 ? rec->exit_code : exit_code::ok;
        out.result.message = "already finished: " + rec->state_reason;
        return out;
      }
      auto stored = run_settings_from_json(rec->config_json);
      request = rec->request;
      req.request = rec->request;
      req.out_dir = stored.out_dir;
      req.max_rounds = stored.max_rounds;
      req.limits.max_tokens = stored.max_tokens;
      req.limits.max_cost_usd = stored.max_cost_usd;
      req.limits.max_time_ms = static_cast<std::int64_t>(stored.max_time_s * 1000);
      req.approve_plan = stored.approve_plan;
    }
    if (run_id.empty() && sub.copy_to_client) {
      // The client's folder is on its machine: the run works in a folder of
      // this machine's, the same one for every run into that client folder.
      if (!std::filesystem::path{req.out_dir}.is_absolute()) {
        out.result = failure(run_id, exit_code::usage,
                             "the output folder must be an absolute path: " + req.out_dir);
        return out;
      }
      auto mine = client_workspace(workspaces, sub.client_host, req.out_dir);
      spdlog::info("results for {}:{} are made in {}", sub.client_host, req.out_dir, mine.string());
      req.out_dir = mine.string();
    }
    if (req.approve_plan && !http) {
      out.result = failure(run_id, exit_code::usage,
                           "the run asks for plan approval, which goes through the "
                           "coordinator's HTTP API: start the coordinator with --http");
      return out;
    }
    if (request.empty() || req.out_dir.empty()) {
      out.result = failure(run_id, exit_code::usage, "a run needs a request and an output folder");
      return out;
    }
    std::filesystem::path out_dir{req.out_dir};
    if (!out_dir.is_absolute()) {
      out.result = failure(run_id, exit_code::usage,
                           "the output folder must be an absolute path: " + req.out_dir);
      return out;
    }
    out_dir = out_dir.lexically_normal();
    req.out_dir = out_dir.string();
    settings.out_dir = req.out_dir;
    settings.max_rounds = req.max_rounds;
    settings.max_tokens = req.limits.max_tokens;
    settings.max_cost_usd = req.limits.max_cost_usd;
    settings.max_time_s = static_cast<double>(req.limits.max_time_ms) / 1000.0;
    settings.approve_plan = req.approve_plan;
    if (run_id.empty() && !sub.fresh)
      run_id = find_unfinished(*runs, request, settings.out_dir);
    if (!run_id.empty() && active.count(run_id) != 0) {
      out.kind = start_outcome::attach;
      out.run_id = run_id;
      return out;
    }
    std::error_code ec;
    if (std::filesystem::exists(out_dir, ec) && !std::filesystem::is_directory(out_dir, ec)) {
      out.result = failure(run_id, exit_code::usage, req.out_dir + " exists and is not a folder");
      return out;
    }
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
      out.result = failure(run_id, exit_code::usage, "cannot create the output folder "
                                                       + req.out_dir + ": " + ec.message());
      return out;
    }
    auto store_abs = std::filesystem::absolute(store_dir, ec).lexically_normal();
    if (auto rel = store_abs.lexically_relative(out_dir); !rel.empty() && *rel.begin() != "..") {
      out.result = failure(run_id, exit_code::usage,
                           "the run store " + store_abs.string()
                             + " must not be inside the output folder " + req.out_dir);
      return out;
    }
    std::string err;
    auto opened = open_run(*runs, run_id, request, settings, sub.fresh, err);
    if (!opened) {
      out.result = failure(run_id, exit_code::internal, "run store: " + err);
      return out;
    }
    req.run_id = opened->run_id;
    req.request = request;
    session_params params;
    params.request = req;
    params.coders = coders;
    params.fixers = fixers;
    // Every version goes to the clients following the run (a client that
    // resubmits after a restart attaches to the resumed run and gets them).
    params.copy_files = true;
    auto session = std::make_shared<run_session>(*sys, *loop, cfg, runs, std::move(params),
                                                 std::move(progress));
    out.kind = start_outcome::started;
    out.run_id = opened->run_id;
    out.continuing = opened->continuing;
    out.planner = session->planner();
    out.request = session->request();
    {
      std::lock_guard lock{live->mu};
      live->runs[out.run_id] = {out.planner, req.out_dir};
      live->boards[out.run_id] = session->board();
    }
    out.stop = [session, live = live, id = out.run_id] {
      {
        std::lock_guard lock{live->mu};
        live->runs.erase(id);
        live->boards.erase(id);
      }
      session->stop();
    };
    return out;
  }
};

}  // namespace

int coordinator_command(const coordinator_options& o) {
  node_start node;
  if (auto stop = start_serving_node("coordinator", o.verbose, o.config, o.cluster, o.listen,
                                     "--listen", true, node))
    return *stop;
  auto& cfg = node.cfg;
  const auto& token = node.token;
  bool tls = node.tls;
  run_services svc;
  if (auto stop = check_http(o.http, "coordinator", svc))
    return *stop;
  if (o.coders < 0 || o.fixers < 0)
    return usage_error("coordinator", "--coders and --fixers must not be negative");
  if (auto stop =
        prepare_models("coordinator", cfg,
                       {o.planner, o.coder, true, o.coders + o.fixers > 0, o.coders, o.fixers}))
    return *stop;

  if (auto stop = open_services(o.store, cfg, "coordinator", svc))
    return *stop;
  const auto& runs = svc.runs;
  auto& http = svc.http;

  int rc = exit_code::ok;
  {
    llm::http_loop loop;  // outlives the actor system (declared first)
    caf::actor_system_config sys_cfg;
    configure_node(sys_cfg, cfg.cluster);
    caf::actor_system sys{sys_cfg};
    auto name = default_node_name();
    registry_settings rs;
    rs.token = token;
    rs.name = name;
    auto live = std::make_shared<live_planners>();
    auto store_abs = std::filesystem::absolute(svc.store_dir).lexically_normal();
    if (store_abs.filename().empty())  // "DIR/store/"
      store_abs = store_abs.parent_path();
    auto workspaces = o.workspaces.empty() ? store_abs.parent_path() / "workspaces"
                                           : std::filesystem::path{o.workspaces};
    workspaces = std::filesystem::absolute(workspaces).lexically_normal();
    rs.board = live->registry;
    rs.start_run = starter{&sys,     &loop, cfg,  runs, svc.store_dir, o.coders, o.fixers,
                           live,     http.has_value(), workspaces};
    rs.fetch_files = [runs, policy = cfg.pipeline.retry](const msg::fetch_files& req) {
      return fetch_run_files(*runs, policy, req);
    };
    // A plan that waits for approval (a run stored by `run --approve-plan`)
    // is approved through this process's HTTP API.
    if (http)
      http->set_plan_decider([&sys, live](const std::string& id, msg::plan_action action,
                                          const std::optional<std::string>& body)
                               -> std::optional<plan_reply> {
        auto found = live->find(id);
        if (!found)
          return std::nullopt;
        return decide_plan(sys, found->first, id, found->second, action, body);
      });
    if (http)
      http->set_live_source([live] { return live->views(); });
    auto registry = spawn_registry(sys, std::move(rs));
    // CAF listens on loopback only; the gate faces the network (see basp_gate.hpp).
    auto inner = publish_registry(sys, registry, host_port{"127.0.0.1", 0}, tls);
    std::unique_ptr<basp_gate> gate;
    std::string gate_error;
    if (inner)
      gate =
        basp_gate::start(node.address, *inner, gate_settings_for(cfg.cluster, tls), gate_error);
    if (!inner || !gate) {
      std::fprintf(stderr, "codehive coordinator: cannot listen on %s: %s\n",
                   node.address.str().c_str(),
                   inner ? gate_error.c_str() : sys.render(inner.error()).c_str());
      caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
      rc = exit_code::usage;
    } else {
      auto port = gate->port();
      host_port bound{node.address.host, port};
      if (std::string err; !o.port_file.empty() && !write_port_file(o.port_file, port, err))
        spdlog::error("{}", err);
      spdlog::info("coordinator: store {}, workspaces {}, planner {}, coder {}, local coders {}, "
                   "fixers {}, heartbeat {} ms, timeout {} ms{}",
                   svc.store_dir.string(), workspaces.string(),
                   llm::to_string(cfg.planner_model.spec),
                   llm::to_string(cfg.coder_model.spec), o.coders, o.fixers,
                   cfg.cluster.heartbeat_interval_ms, cfg.cluster.connection_timeout_ms,
                   tls ? ", TLS" : "");
      std::printf("codehive coordinator listening on %s\n", bound.str().c_str());
      std::fflush(stdout);
      // Runs a crash (or a stop) left running go on now.
      if (auto all = runs->list_runs()) {
        for (const auto& rec : *all) {
          if (rec.state != store::run_state::running)
            continue;
          spdlog::info("run={} resuming (it was running when the coordinator stopped)", rec.id);
          msg::submit_run sub;
          sub.token = token;
          sub.run.run_id = rec.id;
          caf::anon_send(registry, std::move(sub));
        }
      }
      int sig = wait_stop_signal();
      spdlog::info("coordinator: signal {}, stopping (running runs continue on restart)", sig);
      // Shutting down may wait on a validator subprocess; do not hang forever.
      std::thread([] {
        std::this_thread::sleep_for(std::chrono::seconds(20));
        std::fflush(nullptr);
        std::_Exit(0);
      }).detach();
      caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    }
    if (http) {
      http->set_plan_decider({});  // before the actor system goes
      http->set_live_source({});
    }
    loop.shutdown();
  }
  return rc;
}

}  // namespace codehive
