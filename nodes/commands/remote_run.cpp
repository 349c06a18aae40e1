// `codehive run --coordinator`: submits the run to a coordinator and
// follows it with the same progress line and final lines as a local run.
// The results come here: the coordinator works in a folder of its own and
// pushes every file version as its tracker applies it; this client checks
// each against its hash and writes it into --out (nodes/client_copy.hpp),
// committing it where --out is a git repository. At the end the client asks
// for the run's file list and fetches whatever it missed. If the coordinator
// is lost mid-run the run is not: it continues there when the coordinator
// comes back, and `run` again (it follows the run) or `export RUN
// --coordinator` brings the results. Also `codehive export RUN --coordinator`.
#include <chrono>
#include <cstdio>
#include <future>
#include <thread>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "nodes/client_copy.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/settings_resolution.hpp"
#include "nodes/commands/startup.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/config.hpp"
#include "nodes/progress_line.hpp"
#include "nodes/progress_sink.hpp"
#include "nodes/registry.hpp"
#include "nodes/run_summary.hpp"

namespace codehive {

namespace {

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

/// Connects to the coordinator's registry, retrying for up to 10 s
/// (remote_actor itself may block: given up on after the deadline).
registry_actor connect_for(caf::actor_system& sys, const host_port& target, bool tls,
                           std::string& last_error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  last_error = "no answer";
  while (true) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0))
      return {};
    auto attempt = std::make_shared<std::promise<caf::expected<registry_actor>>>();
    auto fut = attempt->get_future();
    std::thread{[&sys, where = target, tls, attempt] {
      attempt->set_value(connect_registry(sys, where, tls));
    }}.detach();
    if (fut.wait_for(left) != std::future_status::ready)
      return {};
    auto r = fut.get();
    if (r)
      return *r;
    last_error = sys.render(r.error());
    spdlog::info("coordinator {} not reachable ({}); retrying", target.str(), last_error);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

[[noreturn]] void unreachable(const char* cmd, const host_port& target, const std::string& why) {
  std::fprintf(stderr,
               "codehive %s: coordinator %s not reachable for 10 s (%s); is `codehive "
               "coordinator --listen %s` running?\n",
               cmd, target.str().c_str(), why.c_str(), target.str().c_str());
  std::fflush(nullptr);
  std::_Exit(exit_code::model);
}

}  // namespace

int remote_run_command(run_options o) {
  bool terminal = isatty(STDOUT_FILENO) == 1;
  setup_node_logging(o.verbose);
  if (!o.verbose)
    spdlog::set_level(spdlog::level::warn);
  if (o.demo || o.coders || o.fixers || o.planner || o.coder || !o.store.empty())
    return usage_error("run",
                       "--demo, --coders, --fixers, --planner, --coder and --store are the "
                       "coordinator's settings; not with --coordinator");
  if (o.request.empty())
    return usage_error("run", "the REQUEST argument is required (what to build)");
  if (o.out.empty())
    return usage_error("run",
                       "--out DIR is required (the output folder: the results are copied there)");

  node_start node;
  if (auto stop =
        start_node("run", o.config, o.cluster, o.coordinator, "--coordinator", false, node))
    return *stop;
  auto& cfg = node.cfg;
  const auto& target = node.address;
  std::string err;
  auto s = resolve_run_settings(o, cfg.run, nullptr);
  msg::run_request req;
  req.request = o.request;
  std::error_code ec;
  req.out_dir = std::filesystem::absolute(o.out, ec).lexically_normal().string();
  req.max_rounds = s.max_rounds;
  req.limits.max_tokens = s.max_tokens;
  req.limits.max_cost_usd = s.max_cost_usd;
  req.limits.max_time_ms = static_cast<std::int64_t>(s.max_time_s * 1000);
  req.approve_plan = o.approve_plan;

  // The results land here: the folder, and its git history, are checked
  // before anything is submitted.
  std::error_code ec2;
  std::filesystem::path out_path{req.out_dir};
  if (std::filesystem::exists(out_path, ec2) && !std::filesystem::is_directory(out_path, ec2))
    return usage_error("run", "--out " + o.out + " exists and is not a folder");
  std::filesystem::create_directories(out_path, ec2);
  if (ec2)
    return usage_error("run",
                       "cannot create the output folder " + req.out_dir + ": " + ec2.message());
  auto repo = open_client_history(out_path, cfg.pipeline.git.commit, o.git, o.allow_dirty, err);
  if (!err.empty())
    return usage_error("run", err);
  bool commits = repo.has_value();
  auto copy = std::make_shared<client_copy>(out_path, std::move(repo),
                                            cfg.pipeline.git.branch == "run");

  auto t0 = std::chrono::steady_clock::now();
  caf::actor_system_config sys_cfg;
  configure_node(sys_cfg, cfg.cluster);
  caf::actor_system sys{sys_cfg};

  std::string last_error;
  auto reg = connect_for(sys, target, node.tls, last_error);
  if (!reg)
    unreachable("run", target, last_error);

  // -- submit and follow ---------------------------------------------------------
  auto line = std::make_shared<progress_line>(stdout, terminal);
  auto header_shown = std::make_shared<std::string>();  // the run id once printed
  auto coordinator_text = target.str();
  auto out_dir = req.out_dir;
  auto request_text = o.request;
  auto sink = spawn_progress_sink(
    sys, line, [line, header_shown, coordinator_text, out_dir, request_text](const msg::progress_event& ev) {
      if (header_shown->empty() && !ev.run_id.empty()) {
        *header_shown = ev.run_id;
        line->print("codehive " + ev.run_id + ": " + request_text.substr(0, 200) + "\n  "
                    + (ev.kind == msg::progress_kind::accepted ? ev.detail : std::string{"new run"})
                    + "\n  output: " + out_dir + " (copied from the coordinator as files land)"
                    + "\n  coordinator: " + coordinator_text);
      }
      if (ev.kind == msg::progress_kind::awaiting_approval) {
        // The plan file and the store are on the coordinator's machine.
        line->print("codehive " + ev.run_id + ": the plan (" + ev.detail + ") waits; approve it "
                    "through the coordinator's HTTP API: `codehive approve " + ev.run_id
                    + " --http HOST:PORT` (its --http), POST /api/runs/" + ev.run_id
                    + "/approve, or its dashboard; edit generated_files/tasks.json in the "
                    "run's folder on its machine (its log names it) first if you like");
        return false;
      }
      return ev.kind != msg::progress_kind::accepted;
    },
    [copy](const msg::file_copy& f) { copy->apply(f); });
  msg::submit_run sub;
  sub.token = node.token;
  sub.run = req;
  sub.progress = sink;
  sub.fresh = o.fresh;
  sub.copy_to_client = true;
  sub.client_host = default_node_name();
  if (auto dash = sub.client_host.rfind('-'); dash != std::string::npos)
    sub.client_host.resize(dash);  // the host, not this process (hostname-pid)
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
                 "coordinator when it comes back (it resumes its runs on restart); %s holds "
                 "what came so far: run the same command again to follow the run, or `codehive "
                 "export %s --coordinator %s --out NEW_DIR` once it ended\n",
                 target.str().c_str(), out.lost_reason.c_str(), out_dir.c_str(), id.c_str(),
                 target.str().c_str());
    std::fflush(nullptr);
    return exit_code::model;
  }
  auto& result = out.result;
  if (result.state == msg::run_outcome::refused)
    return command_error("run", result.message, result.exit_code);
  auto id = result.run_id.empty() ? *header_shown : result.run_id;
  // -v: the end of a run in steps (the result, then the copy's last fetch).
  spdlog::info("run={} result received: {} (exit {}); checking the copy against the run's files",
               id, msg::row_of(result.state).shown, result.exit_code);
  // Whatever the pushes missed (this client came late, or a version was
  // refused on the way) is fetched now: the folder ends as the run's files.
  std::string copy_error;
  bool complete = !id.empty() && copy->complete(sys, reg, node.token, id, copy_error);
  spdlog::info("run={} copy {}: {} files, {} versions fetched at the end", id,
               complete ? "complete" : "incomplete", copy->files(), copy->fetched());
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("codehive %s: %s (exit %d) after %.1f s, %d round(s): %s\n", id.c_str(),
              std::string{msg::row_of(result.state).shown}.c_str(), result.exit_code, secs,
              result.rounds, result.message.c_str());
  if (auto times = phase_times_line(result.phases); !times.empty())
    std::printf("%s\n", times.c_str());
  std::printf("  output: %s (%zu files; %zu versions written, %zu of them fetched at the end%s)\n"
              "  exports: %s\n",
              out_dir.c_str(), copy->files(), copy->written(), copy->fetched(),
              commits ? (", " + std::to_string(copy->commits()) + " git commits").c_str() : "",
              (std::filesystem::path{out_dir} / "generated_files").string().c_str());
  std::fflush(stdout);
  if (!complete) {
    std::fprintf(stderr,
                 "codehive run: the results in %s are not complete: %s (`codehive export %s "
                 "--coordinator %s --out NEW_DIR` fetches them again)\n",
                 out_dir.c_str(), id.empty() ? "no run id" : copy_error.c_str(), id.c_str(),
                 target.str().c_str());
    return exit_code::local_io;
  }
  return result.exit_code;
}

int remote_export_command(const store_query_options& o) {
  setup_node_logging(false);
  spdlog::set_level(spdlog::level::warn);
  if (o.out.empty())
    return usage_error("export", "--out DIR is required");
  if (!o.store.empty())
    return usage_error("export", "--store is the coordinator's; not with --coordinator");
  std::error_code ec;
  std::filesystem::path out = std::filesystem::absolute(o.out, ec).lexically_normal();
  // As the local export: never mix a run into (or overwrite) someone's files.
  if (std::filesystem::exists(out, ec)) {
    if (!std::filesystem::is_directory(out, ec))
      return usage_error("export", out.string() + " exists and is not a folder");
    if (std::filesystem::directory_iterator(out, ec) != std::filesystem::directory_iterator{})
      return usage_error("export", out.string() + " is not empty; choose a new or empty folder");
  }
  node_start node;
  if (auto stop =
        start_node("export", o.config, o.cluster, o.coordinator, "--coordinator", false, node))
    return *stop;
  const auto& cfg = node.cfg;
  const auto& target = node.address;
  std::string err;
  caf::actor_system_config sys_cfg;
  configure_node(sys_cfg, cfg.cluster);
  caf::actor_system sys{sys_cfg};
  auto reg = connect_for(sys, target, node.tls, err);
  if (!reg)
    unreachable("export", target, err);
  client_copy copy{out, std::nullopt, false};
  if (!copy.complete(sys, reg, node.token, o.run_id, err)) {
    std::fprintf(stderr, "codehive export: %s\n", err.c_str());
    std::fflush(nullptr);
    // Refusals (wrong token, no such run) are the user's; the rest is I/O.
    std::_Exit(err.rfind("refused", 0) == 0 || err.rfind("no run", 0) == 0 ? exit_code::usage
                                                                           : exit_code::local_io);
  }
  std::printf("exported %zu files of run %s from %s to %s (and generated_files/: tasks.json, "
              "code_review.json, file_tracker.json, status.json)\n",
              copy.files(), o.run_id.c_str(), target.str().c_str(), out.string().c_str());
  std::fflush(stdout);
  return exit_code::ok;
}

}  // namespace codehive
