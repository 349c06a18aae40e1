// `codehive worker`: coder and fixer actors bound to this machine's model
// server, offered to a coordinator. Connects (retrying with backoff while
// the coordinator is not up), joins with the shared token, then watches the
// coordinator: when it is lost (crash, cut link, heartbeat timeout) the
// worker reconnects and rejoins with the same actors.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "llm/client.hpp"
#include "llm/http_loop.hpp"
#include "llm/model_spec.hpp"
#include "messages/error.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/startup.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/config.hpp"
#include "nodes/registry.hpp"
#include "nodes/run_session.hpp"

namespace codehive {

namespace {

/// Set by the signal thread; wakes the backoff waits.
struct stop_flag {
  std::atomic<bool> set{false};
  std::mutex mtx;
  std::condition_variable cv;
  /// Sleeps up to `d`; true if stopping.
  bool wait(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, d, [this] { return set.load(); });
  }
  void raise() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      set = true;
    }
    cv.notify_all();
  }
};

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", d.count() / 1000.0);
  return buf;
}

}  // namespace

int worker_command(const worker_options& o) {
  node_start node;
  if (auto stop =
        start_serving_node("worker", o.verbose, o.config, o.cluster, o.join, "--join", false, node))
    return *stop;
  auto& cfg = node.cfg;
  const auto& target = node.address;
  if (o.coders < 0 || o.fixers < 0 || o.coders + o.fixers < 1)
    return usage_error("worker",
                       "--coders and --fixers must not be negative, and together at least 1");
  if (auto stop =
        prepare_models("worker", cfg, {std::nullopt, o.coder, false, true, o.coders, o.fixers}))
    return *stop;
  auto name = o.name.empty() ? default_node_name() : o.name;

  stop_flag stopping;
  std::thread signals{[&stopping] {
    int sig = wait_stop_signal();
    spdlog::info("worker: signal {}, stopping", sig);
    stopping.raise();
    // remote_actor may be stuck in a connect; do not wait forever.
    std::this_thread::sleep_for(std::chrono::seconds(10));
    std::fflush(nullptr);
    std::_Exit(0);
  }};
  signals.detach();

  int rc = exit_code::ok;
  {
    llm::http_loop loop;  // outlives the actor system (declared first)
    caf::actor_system_config sys_cfg;
    configure_node(sys_cfg, cfg.cluster);
    caf::actor_system sys{sys_cfg};
    auto client = llm::make_client(loop, cfg.coder_model);
    auto settings = std::make_shared<const pipeline_settings>(cfg.pipeline);
    msg::join_request join;  // its offer holds the coders and fixers (stopped at the end)
    join.protocol = msg::protocol_version;
    join.token = node.token;
    join.offer.node = name;
    join.offer.model = llm::to_string(cfg.coder_model.spec);
    for (int i = 0; i < o.coders; ++i)
      join.offer.coders.push_back(
        spawn_coder(sys, client, settings, name + "/coder-" + std::to_string(i + 1)));
    for (int i = 0; i < o.fixers; ++i)
      join.offer.fixers.push_back(
        spawn_fixer(sys, client, settings, name + "/fixer-" + std::to_string(i + 1)));
    spdlog::info("worker {}: {} coders, {} fixers on {}; coordinator {}{}", name, o.coders,
                 o.fixers, join.offer.model, target.str(), node.tls ? " (TLS)" : "");
    const std::chrono::milliseconds backoff_first{500};
    const std::chrono::milliseconds backoff_cap{5000};
    auto backoff = backoff_first;
    // Waits before the next attempt (longer each time); true if stopping.
    auto stopped_while_retrying = [&](const std::string& why) {
      spdlog::info("coordinator {} not reachable ({}); retrying in {}", target.str(), why,
                   seconds_text(backoff));
      if (stopping.wait(backoff))
        return true;
      backoff = std::min(backoff * 2, backoff_cap);
      return false;
    };
    while (!stopping.set) {
      // remote_actor blocks (no timeout): this is the main thread, no actor waits.
      spdlog::debug("connecting to the coordinator {}", target.str());
      auto reg = connect_registry(sys, target, node.tls);
      if (!reg) {
        auto why = sys.render(reg.error());
        if (why.find("handshake") != std::string::npos)
          why += ": TLS on one side only, or another protocol than " + std::string{msg::protocol_version};
        if (stopped_while_retrying(why))
          break;
        continue;
      }
      caf::scoped_actor self{sys};
      bool joined = false;
      bool refused = false;
      std::string why;
      std::string coordinator;
      spdlog::debug("connected; joining");
      self->request(*reg, std::chrono::seconds(10), join)
        .receive(
          [&](msg::join_reply& r) {
            joined = r.accepted;
            refused = !r.accepted;
            why = r.reason;
            coordinator = r.coordinator;
          },
          [&](caf::error& e) { why = describe(e); });
      if (refused) {
        spdlog::error("refused by the coordinator: {}", why);
        rc = exit_code::usage;
        break;
      }
      if (!joined) {
        if (stopped_while_retrying(why))
          break;
        continue;
      }
      backoff = backoff_first;
      spdlog::info("joined coordinator {} as {}: {} coders, {} fixers", coordinator, name,
                   o.coders, o.fixers);
      self->monitor(*reg);
      bool lost = false;
      while (!lost && !stopping.set)
        self->receive([&](caf::down_msg&) { lost = true; },
                      caf::after(std::chrono::milliseconds(200)) >> [] {});
      if (lost) {
        spdlog::warn("lost the coordinator; reconnecting");
        // Let the middleman forget the dead connection (it caches the
        // coordinator's handle by address until it sees it go down).
        if (stopping.wait(backoff_first))
          break;
      }
    }
    for (auto& c : join.offer.coders)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    for (auto& f : join.offer.fixers)
      caf::anon_send_exit(f, caf::exit_reason::user_shutdown);
    loop.shutdown();
  }
  std::fflush(nullptr);
  return rc;
}

}  // namespace codehive
