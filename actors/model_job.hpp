// The answer loop every model worker shares (coder, fixer, reviewer): a model's
// reply is either a usable answer, a failure that ends the job (the server is
// unreachable or failed), or an unusable answer, which is asked for again with
// the reason until the attempts run out. No CAF: the actors carry the verdict
// out (deliver, fail, ask again), and tests/actors/model_job_test.cpp checks it.
//
// The planner's plan attempts are not here: they are stored with the run (a
// resumed run keeps counting), so the controller counts them (planning.cpp).
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "actors/answers.hpp"
#include "messages/error.hpp"
#include "messages/messages.hpp"

namespace codehive {

/// Takes the job that the reply to `call_id` answers out of `jobs` (a map by
/// call id); none when no job waits for it any more (it ended before).
template <class Jobs>
std::optional<typename Jobs::mapped_type> take_job(Jobs& jobs,
                                                   const typename Jobs::key_type& call_id) {
  auto it = jobs.find(call_id);
  if (it == jobs.end())
    return std::nullopt;
  auto job = std::move(it->second);
  jobs.erase(it);
  return job;
}

/// What to do with one model reply.
template <class T>
struct model_verdict {
  enum class kind { done, failed, ask_again };
  kind what = kind::failed;
  std::optional<T> value;     ///< kind::done: the parsed answer
  ec code = ec::bad_answer;   ///< kind::failed: why the job ends
  std::string reason;         ///< kind::failed or ask_again: for the log and the next prompt
};

/// Judges `reply` to attempt number `attempt` (1-based) of at most
/// `max_attempts`: `parse(content)` returns a parsed<T> (a value, or the
/// reason it was refused, which the model is told on the next attempt).
/// A failed call whose error is answer-shaped (classify() gives bad_answer:
/// no JSON, a prompt over the window, ...) counts as an unusable answer.
template <class T, class Parse>
model_verdict<T> judge_reply(const msg::llm_reply& reply, int attempt, int max_attempts,
                             Parse&& parse) {
  using verdict = model_verdict<T>;
  std::string reason;
  if (!reply.ok) {
    auto code = classify(reply.error_code);
    if (code != ec::bad_answer)
      return verdict{verdict::kind::failed, std::nullopt, code, reply.error_message};
    reason = reply.error_message;
  } else {
    parsed<T> answer = parse(reply.content);
    if (answer)
      return verdict{verdict::kind::done, std::move(answer.value), ec::bad_answer, {}};
    reason = std::move(answer.error);
  }
  if (attempt >= max_attempts)
    return verdict{verdict::kind::failed, std::nullopt, ec::bad_answer, std::move(reason)};
  return verdict{verdict::kind::ask_again, std::nullopt, ec::bad_answer, std::move(reason)};
}

}  // namespace codehive
