// Budgets: tokens and cost of the whole run (every call of every session and
// role, from the store's ledger) against the run's limits. The time limit is
// a timer of the shell's (on_deadline).
#include "actors/answers.hpp"
#include "actors/planner/controller.hpp"
#include "storage/run_store.hpp"

namespace codehive::planner {

/// Tokens and cost of the whole run so far: the store's ledger has every
/// call of every session and role (the summarizer's included); the planner's
/// own sums stand in only if the store cannot answer.
std::pair<std::int64_t, double> controller::spent() const {
  if (auto t = store_.ledger_total(run_.run_id); t)
    return {t->prompt_tokens + t->completion_tokens, t->cost_usd};
  return {run_.total_tokens(), run_.total_cost()};
}

/// Adds usage; false (and the run finishing) when a budget is exceeded.
void controller::note_speed(const std::string& role, const msg::usage& u) {
  if (u.tokens_per_s <= 0 || (role != "coder" && role != "fixer"))
    return;
  // A moving average over the small model's calls: what one coder generates
  // per second now (a loaded GPU slows every coder on it), for the progress line.
  constexpr double weight = 0.3;
  auto& rate = run_.coder_tokens_per_s;
  rate = rate > 0 ? (1 - weight) * rate + weight * u.tokens_per_s : u.tokens_per_s;
}

bool controller::account(const std::string& role, const msg::usage& u) {
  if (u.calls > 0 || u.prompt_tokens > 0 || u.completion_tokens > 0) {
    auto& total = run_.usage_by_role[role];
    add_usage(total, u);
    total.role = role;
  }
  note_speed(role, u);
  if (stopping_)
    return false;
  const auto& b = run_.limits;
  if (b.max_tokens <= 0 && b.max_cost_usd <= 0)
    return true;
  auto [tokens, cost] = spent();
  if (b.max_tokens > 0 && tokens > b.max_tokens) {
    finish(outcome::budget, "token budget exceeded: " + std::to_string(tokens)
                              + " tokens used, limit " + std::to_string(b.max_tokens));
    return false;
  }
  if (b.max_cost_usd > 0 && cost > b.max_cost_usd) {
    finish(outcome::budget, "cost budget exceeded: $" + std::to_string(cost) + " spent, limit $"
                              + std::to_string(b.max_cost_usd));
    return false;
  }
  return true;
}

}  // namespace codehive::planner
