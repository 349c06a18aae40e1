// Picks the answer for a request: first matching rule, its response
// sequence (the last entry repeats), the default entry, and seeded random faults.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "chat_request.hpp"
#include "scenario.hpp"

namespace llm_sim {

struct decision {
  const rule* matched = nullptr;             ///< nullptr: no rule matched
  const response_entry* scripted = nullptr;  ///< rule or default entry; nullptr: neither
  std::optional<response_entry> random_fault;  ///< replaces the scripted entry
  latency_model latency;

  /// The entry to serve; nullptr: no rule matched and there is no default.
  const response_entry* entry() const { return random_fault ? &*random_fault : scripted; }
};

/// True when every field `m` sets matches `req`.
bool matches(const match_spec& m, const chat_request& req);

class selector {
 public:
  selector(const scenario& s, std::uint64_t seed);

  /// Thread-safe. Advances the matched rule's sequence unless a random fault
  /// replaces the answer (so the scripted answer is still there on retry).
  decision choose(const chat_request& req);

  /// Rewinds every sequence and reseeds the random faults.
  void reset();

 private:
  const scenario& scenario_;
  std::uint64_t seed_;
  std::mutex mutex_;
  std::vector<std::size_t> next_;  ///< per rule: index of the next entry
  std::mt19937_64 rng_;
};

}  // namespace llm_sim
