// Coder and fixer: stateless model workers that turn one request into one
// edit. They share the retry loop: ask, parse and dry-run the edit, and on an
// unusable answer ask again with the reason (settings.edit_attempts in all).
// Model calls are asynchronous; the HTTP loop's callback only sends the answer
// back to the actor as an llm_reply.
#include <map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/answers.hpp"
#include "actors/model_job.hpp"
#include "actors/prompts.hpp"
#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "llm/client.hpp"
#include "messages/error.hpp"

namespace codehive {

namespace {

template <class Request>
struct edit_job {
  caf::typed_response_promise<msg::file_edit> rp;
  Request req;
  msg::usage use;
};

template <class Request>
struct edit_worker_state {
  static inline const char* name = "edit_worker";
  std::string label;  // "coder-2", for logs
  client_ptr client;
  settings_ptr settings;
  std::uint64_t next_call = 1;
  std::map<std::uint64_t, edit_job<Request>> jobs;
};

// Per request type: role, target file, prompt, task id.
const msg::context_file& target_of(const msg::code_request& r) { return r.target; }
const msg::context_file& target_of(const msg::fix_request& r) { return r.target; }
msg::task_action action_of(const msg::code_request& r) { return r.task.action; }
msg::task_action action_of(const msg::fix_request&) { return msg::task_action::update; }
std::string id_of(const msg::code_request& r) { return r.task.id; }
std::string id_of(const msg::fix_request& r) { return r.fix_id; }
llm::chat_request prompt_of(const pipeline_settings& s, const msg::code_request& r) {
  return code_prompt(s, r);
}
llm::chat_request prompt_of(const pipeline_settings& s, const msg::fix_request& r) {
  return fix_prompt(s, r);
}

template <class Handle, class State>
void ask(Handle self_handle, State& st, std::uint64_t id, const typename decltype(st.jobs)::mapped_type& job) {
  auto req = prompt_of(*st.settings, job.req);
  auto role = req.role;
  st.client->chat(std::move(req), [self_handle, id, role](llm::result<llm::chat_response> r) {
    // Runs on the HTTP loop's thread: hand over and return.
    caf::anon_send(self_handle, make_reply(id, role, std::move(r)));
  });
}

template <class Handle, class Request, class Self>
typename Handle::behavior_type edit_worker(Self* self, client_ptr client, settings_ptr settings,
                                           std::string label) {
  auto& st = self->state;
  st.client = std::move(client);
  st.settings = std::move(settings);
  st.label = std::move(label);
  return {
    [self](Request& req) -> caf::typed_response_promise<msg::file_edit> {
      auto& st = self->state;
      auto rp = self->template make_response_promise<msg::file_edit>();
      auto id = st.next_call++;
      spdlog::info("run={} task={} {}: asking {} for {} (attempt {})", req.run_id, id_of(req),
                   st.label, st.client->config().spec.model, target_of(req).path, req.attempt);
      auto& job = st.jobs[id] = edit_job<Request>{rp, std::move(req), {}};
      ask(caf::actor_cast<Handle>(self), st, id, job);
      return rp;
    },
    [self](msg::llm_reply& r) {
      auto& st = self->state;
      auto it = st.jobs.find(r.call_id);
      if (it == st.jobs.end())
        return;
      auto& job = it->second;
      add_usage(job.use, r.use);
      const auto& req = job.req;
      auto verdict = judge_reply<msg::file_edit>(
        r, req.attempt, st.settings->edit_attempts,
        [&](const std::string& answer) { return parse_edit_answer(answer, target_of(req), action_of(req)); });
      using kind = model_verdict<msg::file_edit>::kind;
      if (verdict.what == kind::done) {
        auto e = std::move(*verdict.value);
        e.run_id = req.run_id;
        e.task_id = id_of(req);
        e.use = job.use;
        spdlog::info("run={} task={} {}: edit for {} ({}, {} tokens)", req.run_id, id_of(req),
                     st.label, e.path, to_string(e.kind),
                     job.use.prompt_tokens + job.use.completion_tokens);
        job.rp.deliver(std::move(e));
        st.jobs.erase(it);
        return;
      }
      const auto& reason = verdict.reason;
      if (verdict.what == kind::failed) {
        if (verdict.code == ec::bad_answer)
          spdlog::warn("run={} task={} {}: giving up after {} answers: {}", req.run_id, id_of(req),
                       st.label, req.attempt, reason);
        else
          spdlog::warn("run={} task={} {}: model call failed: {}", req.run_id, id_of(req), st.label,
                       reason);
        // The tokens of refused answers count against the budget too.
        job.rp.deliver(make_error(verdict.code, reason, job.use));
        st.jobs.erase(it);
        return;
      }
      spdlog::info("run={} task={} {}: answer refused ({}), asking again", req.run_id, id_of(req),
                   st.label, reason);
      auto next = std::move(job);
      st.jobs.erase(it);
      next.req.attempt += 1;
      next.req.previous_error = reason;
      auto id = st.next_call++;
      auto& again = st.jobs[id] = std::move(next);
      ask(caf::actor_cast<Handle>(self), st, id, again);
    },
  };
}

struct coder_state : edit_worker_state<msg::code_request> {
  static inline const char* name = "coder";
};
struct fixer_state : edit_worker_state<msg::fix_request> {
  static inline const char* name = "fixer";
};

coder_actor::behavior_type coder(coder_actor::stateful_pointer<coder_state> self, client_ptr client,
                                 settings_ptr settings, std::string label) {
  return edit_worker<coder_actor, msg::code_request>(self, std::move(client), std::move(settings),
                                                     std::move(label));
}

fixer_actor::behavior_type fixer(fixer_actor::stateful_pointer<fixer_state> self, client_ptr client,
                                 settings_ptr settings, std::string label) {
  return edit_worker<fixer_actor, msg::fix_request>(self, std::move(client), std::move(settings),
                                                    std::move(label));
}

}  // namespace

coder_actor spawn_coder(caf::actor_system& sys, client_ptr client, settings_ptr settings,
                        std::string name) {
  return sys.spawn(coder, std::move(client), std::move(settings), std::move(name));
}

fixer_actor spawn_fixer(caf::actor_system& sys, client_ptr client, settings_ptr settings,
                        std::string name) {
  return sys.spawn(fixer, std::move(client), std::move(settings), std::move(name));
}

}  // namespace codehive
