// `codehive run --coordinator H:P`: submits the run to a coordinator and
// follows it with the same progress line and final lines as a local run.
// The output folder is on the coordinator's machine. If the coordinator is
// lost mid-run the run is not: it continues there when the coordinator
// comes back (it resumes its running runs on restart).
#include <chrono>
#include <cstdio>
#include <future>
#include <thread>
#include <unistd.h>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "nodes/commands.hpp"
#include "nodes/config.hpp"
#include "nodes/progress_line.hpp"
#include "nodes/progress_sink.hpp"
#include "nodes/registry.hpp"

namespace codehive {

namespace {

int usage_error(const std::string& text) {
  std::fprintf(stderr, "codehive run: %s\n", text.c_str());
  return exit_code::usage;
}

struct outcome {
  bool lost = false;
  std::string lost_reason;
  msg::run_result result;
};

using outcome_promise = std::shared_ptr<std::promise<outcome>>;

/// Sends the submit_run and waits for its result or the coordinator's loss.
caf::behavior follow(caf::event_based_actor* self, registry_actor reg, msg::submit_run sub,
                     outcome_promise done) {
  self->monitor(reg);
  self->set_down_handler([self, done](caf::down_msg& dm) {
    outcome out;
    out.lost = true;
    out.lost_reason = to_string(dm.reason);
    done->set_value(std::move(out));
    self->quit();
  });
  self->request(reg, caf::infinite, std::move(sub))
    .then(
      [self, done](msg::run_result& r) {
        outcome out;
        out.result = std::move(r);
        done->set_value(std::move(out));
        self->quit();
      },
      [self, done](caf::error& e) {
        outcome out;
        out.lost = true;
        out.lost_reason = describe(e);
        done->set_value(std::move(out));
        self->quit();
      });
  return {[](caf::tick_atom) {}};
}

}  // namespace

int remote_run_command(run_options o) {
  bool terminal = isatty(STDOUT_FILENO) == 1;
  setup_node_logging(o.verbose);
  if (!o.verbose)
    spdlog::set_level(spdlog::level::warn);
  if (o.demo || o.coders || o.fixers || o.planner || o.coder || !o.store.empty())
    return usage_error("--demo, --coders, --fixers, --planner, --coder and --store are the "
                       "coordinator's settings; not with --coordinator");
  if (o.request.empty())
    return usage_error("the REQUEST argument is required (what to build)");
  if (o.out.empty())
    return usage_error("--out DIR is required (the output folder, on the coordinator's machine)");

  std::string err;
  auto loaded = load_config_for(o.config, err);
  if (!loaded)
    return usage_error(err);
  auto cfg = std::move(*loaded);
  auto setup = load_cluster_setup(o.cluster, cfg, err);
  if (!setup)
    return usage_error(err);
  const auto& token = setup->token;
  bool tls = setup->tls;
  auto target = parse_host_port(o.coordinator, "127.0.0.1", false, err);
  if (!target)
    return usage_error("--coordinator: " + err);
  int max_rounds = o.max_rounds.value_or(cfg.run.max_rounds);
  msg::run_request req;
  req.request = o.request;
  std::error_code ec;
  req.out_dir = std::filesystem::absolute(o.out, ec).lexically_normal().string();
  req.max_rounds = max_rounds;
  req.limits.max_tokens = o.max_tokens.value_or(cfg.run.max_tokens);
  req.limits.max_cost_usd = o.max_cost.value_or(cfg.run.max_cost_usd);
  req.limits.max_time_ms = static_cast<std::int64_t>(o.max_time.value_or(cfg.run.max_time_s) * 1000);
  req.approve_plan = o.approve_plan;

  auto t0 = std::chrono::steady_clock::now();
  caf::actor_system_config sys_cfg;
  configure_node(sys_cfg, cfg.cluster);
  caf::actor_system sys{sys_cfg};

  // -- connect: up to 10 s (remote_actor itself may block: give up on it) -----
  const auto deadline = t0 + std::chrono::seconds(10);
  registry_actor reg;
  std::string last_error = "no answer";
  while (!reg) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0))
      break;
    auto attempt = std::make_shared<std::promise<caf::expected<registry_actor>>>();
    auto fut = attempt->get_future();
    std::thread{[&sys, where = *target, tls, attempt] {
      attempt->set_value(connect_registry(sys, where, tls));
    }}.detach();
    if (fut.wait_for(left) != std::future_status::ready)
      break;
    auto r = fut.get();
    if (r) {
      reg = *r;
      break;
    }
    last_error = sys.render(r.error());
    spdlog::info("coordinator {} not reachable ({}); retrying", target->str(), last_error);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!reg) {
    std::fprintf(stderr,
                 "codehive run: coordinator %s not reachable for 10 s (%s); is `codehive "
                 "coordinator --listen %s` running?\n",
                 target->str().c_str(), last_error.c_str(), target->str().c_str());
    std::fflush(nullptr);
    std::_Exit(exit_code::model);
  }

  // -- submit and follow ---------------------------------------------------------
  auto line = std::make_shared<progress_line>(stdout, terminal);
  auto header_shown = std::make_shared<std::string>();  // the run id once printed
  auto coordinator_text = target->str();
  auto out_dir = req.out_dir;
  auto request_text = o.request;
  auto sink = spawn_progress_sink(
    sys, line, [line, header_shown, coordinator_text, out_dir, request_text](const msg::progress_event& ev) {
      if (header_shown->empty() && !ev.run_id.empty()) {
        *header_shown = ev.run_id;
        line->print("codehive " + ev.run_id + ": " + request_text.substr(0, 200) + "\n  "
                    + (ev.kind == "accepted" ? ev.detail : std::string{"new run"})
                    + "\n  output: " + out_dir
                    + "\n  coordinator: " + coordinator_text
                    + " (the output folder is on its machine)");
      }
      if (ev.kind == "awaiting_approval") {
        // The plan file and the store are on the coordinator's machine.
        line->print("codehive " + ev.run_id + ": the plan (" + ev.detail + ") waits; approve it "
                    "through the coordinator's HTTP API: `codehive approve " + ev.run_id
                    + " --http HOST:PORT` (its --http), POST /api/runs/" + ev.run_id
                    + "/approve, or its dashboard; edit generated_files/tasks.json in " + out_dir
                    + " on its machine first if you like");
        return false;
      }
      return ev.kind != "accepted";
    });
  msg::submit_run sub;
  sub.token = token;
  sub.run = req;
  sub.progress = caf::actor_cast<caf::strong_actor_ptr>(sink);
  sub.fresh = o.fresh;
  auto done = std::make_shared<std::promise<outcome>>();
  auto fut = done->get_future();
  sys.spawn(follow, reg, std::move(sub), done);
  auto out = fut.get();
  line->clear();
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  if (out.lost) {
    std::string id = header_shown->empty() ? std::string{"RUN"} : *header_shown;
    std::fprintf(stderr,
                 "codehive run: lost the coordinator %s (%s); the run continues on the "
                 "coordinator when it comes back (it resumes its runs on restart; or `codehive "
                 "resume %s` there)\n",
                 target->str().c_str(), out.lost_reason.c_str(), id.c_str());
    std::fflush(nullptr);
    return exit_code::model;
  }
  auto& result = out.result;
  if (result.state == "refused") {
    std::fprintf(stderr, "codehive run: %s\n", result.message.c_str());
    return result.exit_code;
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto id = result.run_id.empty() ? *header_shown : result.run_id;
  std::printf("codehive %s: %s (exit %d) after %.1f s, %d round(s): %s\n", id.c_str(),
              result.state.c_str(), result.exit_code, secs, result.rounds, result.message.c_str());
  std::printf("  output: %s\n  exports: %s\n", out_dir.c_str(),
              (std::filesystem::path{out_dir} / "generated_files").string().c_str());
  std::fflush(stdout);
  return result.exit_code;
}

}  // namespace codehive
