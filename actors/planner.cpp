// Planner: the actor around the run controller (actors/planner/). It turns
// messages into controller events and the controller's commands into
// requests to the other actors and the large model; it decides nothing
// itself. It keeps what the controller must not know about: actor handles
// (in the same order as the controller's slots), the response promise of the
// run, and the deadline timer.
//
// Detached: the controller writes every state change to the run store,
// synced, before it emits the command that acts on it, and waits for those
// writes on this actor's own thread.
#include <algorithm>
#include <chrono>
#include <iterator>
#include <memory>
#include <optional>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/answers.hpp"
#include "actors/live_view.hpp"
#include "actors/planner/controller.hpp"
#include "actors/spawn.hpp"
#include "llm/client.hpp"
#include "messages/error.hpp"

namespace codehive {

namespace {

struct planner_state {
  static inline const char* name = "planner";
  client_ptr large;
  planner_team team;
  std::unique_ptr<planner::controller> ctl;
  std::vector<coder_actor> coders;  ///< in the order of ctl->pool().coders
  std::vector<fixer_actor> fixers;  ///< in the order of ctl->pool().fixers
  caf::typed_response_promise<msg::run_result> rp;
  // The live view (live_view.hpp) costs O(slots) to build: 1,000 at scale,
  // after each of thousands of events a second. It is published at most
  // every live_view_interval, and at once when the phase changes.
  std::chrono::steady_clock::time_point view_at{};
  msg::run_phase view_phase = msg::run_phase::idle;
  bool view_active = false;
  bool view_held = false;  ///< an atom::live is on its way for a held-back view
};

/// How stale the HTTP API's picture of the pool may be between events.
constexpr auto live_view_interval = std::chrono::milliseconds(100);

using self_ptr = planner_actor::stateful_pointer<planner_state>;

planner::failure failure_of(const caf::error& err) {
  planner::failure f;
  auto reason = reason_of(err);
  f.reason = reason.empty() ? describe(err) : reason;
  f.code = err.category() == error_category ? to_string(static_cast<ec>(err.code())) : "error";
  f.transport = is(err, ec::model_unreachable) || is(err, ec::model_failed);
  f.local_io = is(err, ec::io_error);  // the tracker: folder or store said no
  f.use = usage_of(err);
  return f;
}

/// The node whose slot this actor is ("" if none).
std::string node_of(const planner_state& st, const caf::actor_addr& addr) {
  const auto& pool = st.ctl->pool();
  for (std::size_t i = 0; i < st.coders.size(); ++i)
    if (st.coders[i].address() == addr)
      return pool.coders()[i].node;
  for (std::size_t i = 0; i < st.fixers.size(); ++i)
    if (st.fixers[i].address() == addr)
      return pool.fixers()[i].node;
  return {};
}

/// Carries out what the controller asked for; each answer is an event, after
/// which this runs again.
void execute(self_ptr self);

struct runner {
  self_ptr self;

  planner::controller& ctl() const { return *self->state.ctl; }
  const planner_team& team() const { return self->state.team; }

  void operator()(planner::list_files&) const {
    auto s = self;
    self->request(team().tracker, caf::infinite, atom::list_v)
      .then(
        [s](std::vector<msg::applied_file>& files) {
          s->state.ctl->on_files_listed(std::move(files));
          execute(s);
        },
        [s](caf::error& err) {
          s->state.ctl->on_start_failed(failure_of(err));
          execute(s);
        });
  }

  void operator()(planner::ask_plan& c) const {
    auto handle = caf::actor_cast<planner_actor>(self);
    auto id = c.call;
    self->state.large->chat(std::move(c.request),
                            [handle, id](llm::result<llm::chat_response> r) {
                              caf::anon_send(handle, make_reply(id, "planner", std::move(r)));
                            });
  }

  void operator()(planner::read_files& c) const {
    auto s = self;
    auto ticket = c.ticket;
    self->request(team().tracker, caf::infinite, atom::read_v, std::move(c.paths))
      .then(
        [s, ticket](std::vector<msg::context_file>& files) {
          s->state.ctl->on_files_read(ticket, std::move(files));
          execute(s);
        },
        [s, ticket](caf::error& err) {
          s->state.ctl->on_read_failed(ticket, failure_of(err));
          execute(s);
        });
  }

  template <class Handle, class Request>
  void ask(const Handle& worker, std::uint64_t ticket, Request req) const {
    auto s = self;
    self->request(worker, caf::infinite, std::move(req))
      .then(
        [s, ticket](msg::file_edit& e) {
          s->state.ctl->on_edit_made(ticket, std::move(e));
          execute(s);
        },
        [s, ticket](caf::error& err) {
          s->state.ctl->on_edit_failed(ticket, failure_of(err));
          execute(s);
        });
  }

  void operator()(planner::ask_coder& c) const {
    auto& st = self->state;
    auto worker = c.slot == planner::escalation_slot
                    ? st.team.escalation
                    : st.coders.at(static_cast<std::size_t>(c.slot));
    ask(worker, c.ticket, std::move(c.request));
  }

  void operator()(planner::ask_fixer& c) const {
    ask(self->state.fixers.at(static_cast<std::size_t>(c.slot)), c.ticket, std::move(c.request));
  }

  void operator()(planner::apply_edit& c) const {
    auto s = self;
    auto ticket = c.ticket;
    self->request(team().tracker, caf::infinite, std::move(c.edit))
      .then(
        [s, ticket](msg::applied_file& f) {
          s->state.ctl->on_applied(ticket, f);
          execute(s);
        },
        [s, ticket](caf::error& err) {
          s->state.ctl->on_apply_failed(ticket, failure_of(err));
          execute(s);
        });
  }

  void operator()(planner::validate& c) const {
    auto s = self;
    self->request(team().validator, caf::infinite, atom::validate_v, std::move(c.paths))
      .then(
        [s](msg::validation_report& rep) {
          s->state.ctl->on_validated(std::move(rep));
          execute(s);
        },
        [s](caf::error& err) {
          s->state.ctl->on_validation_failed(failure_of(err));
          execute(s);
        });
  }

  void operator()(planner::precheck& c) const {
    self->send(team().validator, msg::precheck_file{std::move(c.path), std::move(c.hash)});
  }

  void operator()(planner::read_review_files& c) const {
    auto s = self;
    self->request(team().tracker, caf::infinite, atom::read_v, std::move(c.paths))
      .then(
        [s](std::vector<msg::context_file>& files) {
          s->state.ctl->on_review_files(std::move(files));
          execute(s);
        },
        [s](caf::error& err) {
          s->state.ctl->on_review_read_failed(failure_of(err));
          execute(s);
        });
  }

  void operator()(planner::review& c) const {
    auto s = self;
    self->request(team().reviewer, caf::infinite, std::move(c.request))
      .then(
        [s](msg::review_result& r) {
          s->state.ctl->on_reviewed(std::move(r));
          execute(s);
        },
        [s](caf::error& err) {
          s->state.ctl->on_review_failed(failure_of(err));
          execute(s);
        });
  }

  void operator()(planner::write_exports& c) const {
    self->request(team().tracker, caf::infinite, atom::exports_v, std::move(c.files))
      .then([](bool) {}, [](caf::error&) {});
  }

  void operator()(planner::schedule_exports& c) const {
    self->delayed_send(self, std::chrono::milliseconds(c.delay_ms), atom::exports_v);
  }

  void operator()(planner::report_progress& c) const {
    if (team().progress)
      self->send(team().progress, std::move(c.event));
  }

  void operator()(planner::collect_final_records&) const {
    // Bounded waits: a run must end even if the tracker no longer answers.
    auto s = self;
    auto tracker = team().tracker;
    self->request(tracker, std::chrono::seconds(60), atom::flush_v)
      .then(
        [s, tracker](std::vector<msg::applied_file>& files) {
          auto kept = std::make_shared<std::vector<msg::applied_file>>(std::move(files));
          s->request(tracker, std::chrono::seconds(10), atom::usage_v)
            .then(
              [s, kept](msg::usage& u) {
                s->state.ctl->on_final_records(std::move(*kept), u);
                execute(s);
              },
              [s, kept](caf::error&) {
                s->state.ctl->on_final_records(std::move(*kept), std::nullopt);
                execute(s);
              });
        },
        [s](caf::error& err) {
          // Said, not silent: the exports then hold the planner's picture of
          // the files, whose summaries may be older than the tracker's.
          spdlog::warn("run={} the file tracker's final records did not come ({}); the run ends "
                       "without them",
                       s->state.ctl->run().run_id, describe(err));
          s->state.ctl->on_final_records(std::nullopt, std::nullopt);
          execute(s);
        });
  }

  void operator()(planner::deliver& c) const {
    auto s = self;
    auto result = std::make_shared<msg::run_result>(std::move(c.result));
    self->request(team().tracker, std::chrono::seconds(30), atom::exports_v, std::move(c.exports))
      .then([s, result](bool) { s->state.rp.deliver(std::move(*result)); },
            [s, result](caf::error&) { s->state.rp.deliver(std::move(*result)); });
  }
};

/// A fresh picture for the HTTP API (O(slots), no I/O), unless one was
/// published less than live_view_interval ago in the same phase: then it
/// follows on a timer, so the last event's picture is never lost.
void publish_view(self_ptr self) {
  auto& st = self->state;
  if (!st.team.board)
    return;
  auto now = std::chrono::steady_clock::now();
  bool changed = st.ctl->active() != st.view_active || st.ctl->run().phase != st.view_phase;
  if (!changed && now - st.view_at < live_view_interval) {
    if (!st.view_held) {
      st.view_held = true;
      self->delayed_send(self, live_view_interval - (now - st.view_at), atom::live_v);
    }
    return;
  }
  st.team.board->publish(st.ctl->view(st.team.local_model));
  st.view_at = now;
  st.view_active = st.ctl->active();
  st.view_phase = st.ctl->run().phase;
}

void execute(self_ptr self) {
  for (auto& cmd : self->state.ctl->take_commands())
    std::visit(runner{self}, cmd);
  publish_view(self);  // every event ends here
}

void on_offer(self_ptr self, msg::worker_offer& offer) {
  auto& st = self->state;
  std::vector<coder_actor> coders;
  std::copy_if(offer.coders.begin(), offer.coders.end(), std::back_inserter(coders),
               [](const coder_actor& h) { return static_cast<bool>(h); });
  std::vector<fixer_actor> fixers;
  std::copy_if(offer.fixers.begin(), offer.fixers.end(), std::back_inserter(fixers),
               [](const fixer_actor& h) { return static_cast<bool>(h); });
  for (const auto& h : coders)
    self->monitor(h);
  for (const auto& h : fixers)
    self->monitor(h);
  st.coders.insert(st.coders.end(), coders.begin(), coders.end());
  st.fixers.insert(st.fixers.end(), fixers.begin(), fixers.end());
  st.ctl->on_worker_offer(offer.node, coders.size(), fixers.size(), offer.model);
  execute(self);
}

planner_actor::behavior_type planner_behavior(self_ptr self, client_ptr large, settings_ptr settings,
                                     planner_team team) {
  auto& st = self->state;
  st.large = std::move(large);
  st.team = std::move(team);
  st.ctl = std::make_unique<planner::controller>(std::move(settings), *st.team.store,
                                                 st.large->config().spec.model);
  st.coders = st.team.coders;
  st.fixers = st.team.fixers;
  st.ctl->add_local_slots(st.coders.size(), st.fixers.size());
  if (st.team.board)
    st.team.board->publish(st.ctl->view(st.team.local_model));
  self->set_down_handler([self](caf::down_msg& dm) {
    auto node = node_of(self->state, dm.source);
    if (node.empty() || node == "local")
      return;
    self->state.ctl->on_node_lost(node, "its connection was lost (" + to_string(dm.reason) + ")");
    execute(self);
  });
  return {
    [self](msg::run_request& req) -> caf::typed_response_promise<msg::run_result> {
      auto& st = self->state;
      auto rp = self->make_response_promise<msg::run_result>();
      if (!st.ctl->start(req, static_cast<bool>(st.team.progress))) {
        rp.deliver(make_error(ec::internal, "this planner is already running a run"));
        return rp;
      }
      st.rp = rp;
      if (req.limits.max_time_ms > 0)
        self->delayed_send(self, std::chrono::milliseconds(req.limits.max_time_ms),
                           atom::deadline_v);
      execute(self);
      return rp;
    },
    [self](msg::llm_reply& r) {
      planner::plan_answer a;
      a.call = r.call_id;
      a.ok = r.ok;
      a.content = std::move(r.content);
      a.use = r.use;
      a.problem.reason = r.error_message;
      // Anything but an unusable answer (which is asked again) ends planning.
      a.problem.transport = !r.ok && classify(r.error_code) != ec::bad_answer;
      self->state.ctl->on_plan_reply(a);
      execute(self);
    },
    [self](msg::worker_offer& offer) { on_offer(self, offer); },
    [self](msg::worker_lost& lost) {
      self->state.ctl->on_node_lost(lost.node, lost.reason);
      execute(self);
    },
    [self](atom::cancel) {
      self->state.ctl->on_cancel();
      execute(self);
    },
    [self](atom::deadline) {
      self->state.ctl->on_deadline();
      execute(self);
    },
    [self](atom::exports) {
      self->state.ctl->on_exports_due();
      execute(self);
    },
    [self](atom::live) {
      self->state.view_held = false;
      publish_view(self);
    },
    [self](msg::plan_decision& d) -> msg::plan_verdict {
      auto& ctl = *self->state.ctl;
      if (!ctl.active() || ctl.run().run_id != d.run_id) {
        msg::plan_verdict v;
        v.message = "run " + d.run_id + " is not running in this process";
        return v;
      }
      msg::plan_verdict v;
      switch (d.action) {
        case msg::plan_action::approve:
          v = ctl.on_plan_approved(d.has_plan ? std::optional<std::string>{d.plan} : std::nullopt);
          break;
        case msg::plan_action::reject:
          v = ctl.on_plan_rejected(d.plan);
          break;
        case msg::plan_action::query:
          v = ctl.approval_state();
          break;
      }
      execute(self);
      return v;
    },
  };
}

}  // namespace

planner_actor spawn_planner(caf::actor_system& sys, client_ptr large, settings_ptr settings,
                            planner_team team) {
  return sys.spawn<caf::detached>(planner_behavior, std::move(large), std::move(settings), std::move(team));
}

}  // namespace codehive
