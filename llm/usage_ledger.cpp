#include "llm/usage_ledger.hpp"

namespace codehive::llm {

void usage_totals::add(const usage& u, std::optional<errc> outcome) {
  ++calls;
  if (outcome) {
    ++failures;
    ++errors[to_string(*outcome)];
  }
  attempts += u.attempts;
  prompt_tokens += u.prompt_tokens;
  completion_tokens += u.completion_tokens;
  cost_usd += u.cost_usd;
  latency += u.latency;
}

void usage_ledger::record(const usage& u, std::optional<errc> outcome) {
  std::lock_guard lk{mu_};
  data_.total.add(u, outcome);
  data_.by_role[u.role].add(u, outcome);
  data_.by_model[u.model].add(u, outcome);
  data_.records.push_back({u, outcome});
}

ledger_snapshot usage_ledger::snapshot() const {
  std::lock_guard lk{mu_};
  return data_;
}

usage_totals usage_ledger::totals() const {
  std::lock_guard lk{mu_};
  return data_.total;
}

void usage_ledger::clear() {
  std::lock_guard lk{mu_};
  data_ = ledger_snapshot{};
}

std::function<void(const usage&, std::optional<errc>)> usage_ledger::observer() {
  return [this](const usage& u, std::optional<errc> outcome) { record(u, outcome); };
}

}  // namespace codehive::llm
