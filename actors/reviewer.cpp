// Reviewer: asks the large model to review the files changed in this run
// plus the validators' findings (role "reviewer", schema review.json). An
// unparsable answer is asked again with the reason.
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

struct review_job {
  caf::typed_response_promise<msg::review_result> rp;
  msg::review_request req;
  int attempt = 1;
  std::string previous_error;
  msg::usage use;
};

struct reviewer_state {
  static inline const char* name = "reviewer";
  client_ptr client;
  settings_ptr settings;
  std::uint64_t next_call = 1;
  std::map<std::uint64_t, review_job> jobs;
};

void ask(reviewer_actor::stateful_pointer<reviewer_state> self, std::uint64_t id,
         const review_job& job) {
  auto req = review_prompt(*self->state.settings, job.req);
  if (!job.previous_error.empty())
    add_retry_turn(req, job.previous_error);
  auto handle = caf::actor_cast<reviewer_actor>(self);
  self->state.client->chat(std::move(req), [handle, id](llm::result<llm::chat_response> r) {
    caf::anon_send(handle, make_reply(id, "reviewer", std::move(r)));
  });
}

reviewer_actor::behavior_type reviewer(reviewer_actor::stateful_pointer<reviewer_state> self,
                                       client_ptr client, settings_ptr settings) {
  self->state.client = std::move(client);
  self->state.settings = std::move(settings);
  return {
    [self](msg::review_request& req) -> caf::typed_response_promise<msg::review_result> {
      auto& st = self->state;
      auto rp = self->make_response_promise<msg::review_result>();
      auto id = st.next_call++;
      spdlog::info("run={} task=review reviewer: round {}, {} files, {} findings", req.run_id,
                   req.round, req.files.size(), req.findings.size());
      auto& job = st.jobs[id] = review_job{rp, std::move(req), 1, {}, {}};
      ask(self, id, job);
      return rp;
    },
    [self](msg::llm_reply& r) {
      auto& st = self->state;
      auto taken = take_job(st.jobs, r.call_id);
      if (!taken)
        return;
      auto job = std::move(*taken);
      add_usage(job.use, r.use);
      auto verdict = judge_reply<std::vector<msg::review_issue>>(
        r, job.attempt, st.settings->edit_attempts, [](const std::string& answer) { return parse_review(answer); });
      using kind = model_verdict<std::vector<msg::review_issue>>::kind;
      if (verdict.what == kind::done) {
        msg::review_result out;
        out.issues = std::move(*verdict.value);
        for (auto& i : out.issues)
          i.round = job.req.round;
        out.use = job.use;
        spdlog::info("run={} task=review reviewer: round {}: {} issues", job.req.run_id,
                     job.req.round, out.issues.size());
        job.rp.deliver(std::move(out));
        return;
      }
      if (verdict.what == kind::failed) {
        if (verdict.code == ec::bad_answer)
          spdlog::warn("run={} task=review reviewer: giving up: {}", job.req.run_id, verdict.reason);
        job.rp.deliver(make_error(verdict.code, verdict.reason, job.use));
        return;
      }
      auto reason = std::move(verdict.reason);
      job.attempt += 1;
      job.previous_error = reason;
      auto id = st.next_call++;
      auto& again = st.jobs[id] = std::move(job);
      ask(self, id, again);
    },
  };
}

}  // namespace

reviewer_actor spawn_reviewer(caf::actor_system& sys, client_ptr client, settings_ptr settings) {
  return sys.spawn(reviewer, std::move(client), std::move(settings));
}

}  // namespace codehive
