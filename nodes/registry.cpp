// The registry actor and the progress relay of coordinator runs. One of the
// few translation units that instantiate typed actors (build time).
#include "nodes/registry.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/node_id.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "nodes/progress_line.hpp"

namespace codehive {

std::string check_join(const msg::join_request& req, const std::string& token) {
  // The token is compared first and always, whatever the protocol says.
  bool token_ok = tokens_equal(req.token, token);
  if (req.protocol != msg::protocol_version)
    return "protocol mismatch: the coordinator speaks " + std::string{msg::protocol_version}
           + ", the worker " + (req.protocol.empty() ? std::string{"(none)"} : req.protocol);
  if (!token_ok)
    return "wrong token";
  return {};
}

namespace {

/// The clients following one run (the relay forwards to them). Shared
/// between the registry (adds) and the relay (reads).
struct listeners {
  std::mutex mtx;
  std::vector<progress_actor> sinks;
  std::string run_id;  ///< set once the run is known (fills events that lack it)
  void set_run(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx};
    run_id = id;
  }
  std::string run() {
    std::lock_guard<std::mutex> guard{mtx};
    return run_id;
  }
  void add(progress_actor p) {
    std::lock_guard<std::mutex> guard{mtx};
    sinks.push_back(std::move(p));
  }
  std::vector<progress_actor> all() {
    std::lock_guard<std::mutex> guard{mtx};
    return sinks;
  }
};
using listeners_ptr = std::shared_ptr<listeners>;

struct relay_state {
  static inline const char* name = "progress-relay";
};

/// A run's progress on the coordinator: one log line per event, forwarded
/// to every client following the run.
progress_actor::behavior_type relay(progress_actor::stateful_pointer<relay_state>,
                                    listeners_ptr ls) {
  return {
    [ls](msg::progress_event& ev) {
      if (ev.run_id.empty())
        ev.run_id = ls->run();
      if (ev.kind != msg::progress_kind::task_start)
        spdlog::info("run={} {}", ev.run_id, progress_line::format(ev));
      for (auto& s : ls->all())
        caf::anon_send(s, ev);
    },
    [](caf::tick_atom) {},
    [ls](msg::file_copy& f) {
      spdlog::debug("run={} copy of {} v{} to {} client(s)", f.run_id, f.path, f.version,
                    ls->all().size());
      for (auto& s : ls->all())
        caf::anon_send(s, f);
    },
  };
}

struct active_run {
  planner_actor planner;
  progress_actor relay;
  listeners_ptr ls;
  std::function<void()> stop;
  std::vector<caf::typed_response_promise<msg::run_result>> waiting;
};

struct offer_entry {
  msg::worker_offer offer;
  std::string from;  ///< the worker's CAF node, for logs
  std::int64_t joined_ms = 0;
};

struct registry_state {
  static inline const char* name = "registry";
  registry_settings settings;
  std::map<std::string, offer_entry> offers;        ///< by worker name
  std::map<caf::actor_addr, std::string> members;   ///< offered actor -> worker name
  std::map<std::string, active_run> runs;           ///< by run id
};

using registry_ptr = registry_actor::stateful_pointer<registry_state>;

std::string sender_node(registry_ptr self) {
  auto& src = self->current_sender();
  return src ? to_string(src->node()) : std::string{"(anonymous)"};
}

std::int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// The joined workers as a live view (no load: the planners know that).
void publish_workers(registry_ptr self) {
  auto& board = self->state.settings.board;
  if (!board)
    return;
  live_view v;
  v.source = "registry";
  v.at_ms = unix_ms();
  for (const auto& [name, entry] : self->state.offers) {
    live_node n;
    n.name = name;
    n.model = entry.offer.model;
    n.coders = static_cast<int>(entry.offer.coders.size());
    n.fixers = static_cast<int>(entry.offer.fixers.size());
    n.joined_ms = n.last_seen_ms = entry.joined_ms;
    for (std::size_t i = 0; i < entry.offer.coders.size(); ++i)
      n.coder_slots.push_back({name + "/coder-" + std::to_string(i + 1), false, true});
    for (std::size_t i = 0; i < entry.offer.fixers.size(); ++i)
      n.fixer_slots.push_back({name + "/fixer-" + std::to_string(i + 1), false, true});
    v.nodes.push_back(std::move(n));
  }
  board->publish(std::move(v));
}

/// Calls f with each (non-null) coder and fixer handle of the offer.
template <class F>
void for_each_offered(const msg::worker_offer& offer, F f) {
  for (const auto& h : offer.coders)
    if (h)
      f(h);
  for (const auto& h : offer.fixers)
    if (h)
      f(h);
}

void drop_offer(registry_ptr self, const std::string& name) {
  auto it = self->state.offers.find(name);
  if (it == self->state.offers.end())
    return;
  for_each_offered(it->second.offer,
                   [self](const auto& h) { self->state.members.erase(h.address()); });
  self->state.offers.erase(it);
}

void tell_clients(const listeners_ptr& ls, const std::string& run_id, const std::string& detail) {
  msg::progress_event ev;
  ev.run_id = run_id;
  ev.kind = msg::progress_kind::accepted;
  ev.detail = detail;
  for (auto& s : ls->all())
    caf::anon_send(s, ev);
}

registry_actor::behavior_type registry(registry_ptr self, registry_settings settings) {
  self->state.settings = std::move(settings);
  publish_workers(self);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto it = self->state.members.find(dm.source);
    if (it == self->state.members.end())
      return;
    auto name = it->second;
    spdlog::warn("worker {} lost ({})", name, to_string(dm.reason));
    drop_offer(self, name);
    // The planners monitor the slots too, but their down messages queue
    // behind every reply already there; this one jumps that queue.
    msg::worker_lost lost{name, "its connection was lost (" + to_string(dm.reason) + ")"};
    for (auto& [id, run] : self->state.runs)
      self->send<caf::message_priority::high>(run.planner, lost);
    publish_workers(self);
  });
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& [id, run] : self->state.runs) {
      if (run.stop)
        run.stop();
      caf::anon_send_exit(run.relay, caf::exit_reason::user_shutdown);
    }
    self->state.runs.clear();
    self->quit(em.reason);
  });
  return {
    [self](msg::join_request& req) -> msg::join_reply {
      msg::join_reply reply;
      reply.coordinator = self->state.settings.name;
      auto& name = req.offer.node;
      auto why = check_join(req, self->state.settings.token);
      if (!why.empty()) {
        spdlog::warn("refused worker {} from {}: {}", name, sender_node(self), why);
        reply.reason = why;
        return reply;
      }
      if (name.empty()) {
        reply.reason = "the worker has no name";
        return reply;
      }
      if (self->state.offers.count(name) != 0) {
        spdlog::info("worker {} joins again; its earlier actors are dropped", name);
        drop_offer(self, name);
      }
      auto& entry = self->state.offers[name];
      entry.offer = req.offer;
      entry.from = sender_node(self);
      entry.joined_ms = unix_ms();
      for_each_offered(req.offer, [&](const auto& h) {
        self->state.members[h.address()] = name;
        self->monitor(h);
      });
      spdlog::info("worker {} joined: {} coders, {} fixers, model {}", name,
                   req.offer.coders.size(), req.offer.fixers.size(), req.offer.model);
      for (auto& [id, run] : self->state.runs)
        caf::anon_send(run.planner, req.offer);
      publish_workers(self);
      reply.accepted = true;
      return reply;
    },
    [self](msg::submit_run& sub) -> caf::typed_response_promise<msg::run_result> {
      auto rp = self->make_response_promise<msg::run_result>();
      msg::run_result refused;
      refused.run_id = sub.run.run_id;
      refused.state = msg::run_outcome::refused;
      refused.exit_code = 2;
      if (!tokens_equal(sub.token, self->state.settings.token)) {
        spdlog::warn("refused a run from {}: wrong token", sender_node(self));
        refused.message = "refused by the coordinator: wrong token";
        rp.deliver(std::move(refused));
        return rp;
      }
      if (!self->state.settings.start_run) {
        refused.message = "this coordinator does not accept runs";
        rp.deliver(std::move(refused));
        return rp;
      }
      auto client = sub.progress;
      auto ls = std::make_shared<listeners>();
      if (client)
        ls->add(client);
      auto sink = self->spawn(relay, ls);
      std::set<std::string> active;
      for (auto& [id, run] : self->state.runs)
        active.insert(id);
      auto out = self->state.settings.start_run(sub, sink, active);
      switch (out.kind) {
        case start_outcome::attach: {
          caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
          auto it = self->state.runs.find(out.run_id);
          if (it == self->state.runs.end()) {
            refused.state = msg::run_outcome::failed;
            refused.exit_code = 5;
            refused.message = "run " + out.run_id + " is not active";
            rp.deliver(std::move(refused));
            return rp;
          }
          if (client)
            it->second.ls->add(client);
          tell_clients(it->second.ls, out.run_id, "following the run in progress");
          spdlog::info("run={} another client follows it", out.run_id);
          it->second.waiting.push_back(rp);
          return rp;
        }
        case start_outcome::finished:
        case start_outcome::failed:
          caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
          rp.deliver(std::move(out.result));
          return rp;
        case start_outcome::started:
          break;
      }
      auto id = out.run_id;
      ls->set_run(id);
      auto& run = self->state.runs[id];
      run.planner = out.planner;
      run.relay = sink;
      run.ls = ls;
      run.stop = std::move(out.stop);
      run.waiting.push_back(rp);
      tell_clients(ls, id, out.continuing ? "continuing a stored run (done work is kept)"
                                          : "new run");
      spdlog::info("run={} started ({}), {} worker(s) offered", id,
                   out.continuing ? "continuing" : "new", self->state.offers.size());
      for (auto& [name, entry] : self->state.offers)
        caf::anon_send(out.planner, entry.offer);
      auto finish = [self, id](msg::run_result r) {
        auto it = self->state.runs.find(id);
        if (it == self->state.runs.end())
          return;
        spdlog::info("run={} ended: {} (exit {}): {}", id, msg::row_of(r.state).shown, r.exit_code,
                     r.message);
        for (auto& w : it->second.waiting)
          w.deliver(r);
        if (it->second.stop)
          it->second.stop();
        caf::anon_send_exit(it->second.relay, caf::exit_reason::user_shutdown);
        self->state.runs.erase(it);
      };
      self->request(out.planner, caf::infinite, std::move(out.request))
        .then([finish](msg::run_result& r) { finish(std::move(r)); },
              [finish, id](caf::error& e) {
                msg::run_result r;
                r.run_id = id;
                r.state = msg::run_outcome::failed;
                r.exit_code = 5;
                r.message = "internal error: " + describe(e);
                finish(std::move(r));
              });
      return rp;
    },
    [self](msg::fetch_files& req) -> msg::fetched_files {
      msg::fetched_files out;
      if (!tokens_equal(req.token, self->state.settings.token)) {
        spdlog::warn("refused a file fetch from {}: wrong token", sender_node(self));
        out.message = "refused by the coordinator: wrong token";
        return out;
      }
      if (!self->state.settings.fetch_files) {
        out.message = "this coordinator keeps no runs";
        return out;
      }
      return self->state.settings.fetch_files(req);
    },
  };
}

}  // namespace

registry_actor spawn_registry(caf::actor_system& sys, registry_settings settings) {
  return sys.spawn<caf::detached>(registry, std::move(settings));
}

caf::expected<std::uint16_t> publish_registry(caf::actor_system& sys, const registry_actor& reg,
                                              const host_port& where, bool tls) {
  const char* in = where.host.empty() ? nullptr : where.host.c_str();
  if (tls)
    return caf::openssl::publish(reg, where.port, in, true);
  return sys.middleman().publish(reg, where.port, in, true);
}

caf::expected<registry_actor> connect_registry(caf::actor_system& sys, const host_port& where,
                                               bool tls) {
  if (tls)
    return caf::openssl::remote_actor<registry_actor>(sys, where.host, where.port);
  return sys.middleman().remote_actor<registry_actor>(where.host, where.port);
}

}  // namespace codehive
