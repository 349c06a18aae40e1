#include "matching.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace llm_sim {

bool matches(const match_spec& m, const chat_request& req) {
  if (m.role && *m.role != req.role) return false;
  if (m.path && *m.path != req.path) return false;
  if (m.api && *m.api != to_string(req.api)) return false;
  if (m.model && *m.model != req.model) return false;
  if (m.prompt_regex) {
    try {
      if (!std::regex_search(req.prompt, *m.prompt_regex)) return false;
    } catch (const std::regex_error& e) {
      spdlog::warn("prompt_regex \"{}\" failed on a {}-byte prompt: {}", m.prompt_regex_source,
                   req.prompt.size(), e.what());
      return false;
    }
  }
  return true;
}

selector::selector(const scenario& s, std::uint64_t seed)
    : scenario_(s), seed_(seed), next_(s.rules.size(), 0), rng_(seed) {}

decision selector::choose(const chat_request& req) {
  decision d;
  d.latency = scenario_.latency;
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t index = 0;
  for (; index < scenario_.rules.size(); ++index)
    if (matches(scenario_.rules[index].match, req)) break;
  if (index < scenario_.rules.size()) {
    d.matched = &scenario_.rules[index];
    d.latency = d.matched->latency.apply(scenario_.latency);
  }

  if (scenario_.random_fault_rate > 0) {
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    if (coin(rng_) < scenario_.random_fault_rate) {
      std::uniform_int_distribution<std::size_t> pick(0, scenario_.random_fault_kinds.size() - 1);
      response_entry e;
      e.is_fault = true;
      e.fault = scenario_.random_fault_kinds[pick(rng_)];
      d.random_fault = std::move(e);
      return d;
    }
  }

  if (d.matched != nullptr) {
    const auto& seq = d.matched->responses;
    std::size_t& n = next_[index];
    d.scripted = &seq[n < seq.size() ? n : seq.size() - 1];
    if (n < seq.size()) ++n;
  } else if (scenario_.default_entry) {
    d.scripted = &*scenario_.default_entry;
  }
  return d;
}

void selector::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::fill(next_.begin(), next_.end(), 0);
  rng_.seed(seed_);
}

}  // namespace llm_sim
