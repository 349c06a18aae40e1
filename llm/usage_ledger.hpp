// Thread-safe accumulator of what model calls cost: one record per call
// (usage plus outcome), totals per role and per model for reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "llm/error.hpp"
#include "llm/types.hpp"

namespace codehive::llm {

struct usage_totals {
  std::int64_t calls = 0;
  std::int64_t failures = 0;
  std::int64_t attempts = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  double cost_usd = 0;
  std::chrono::milliseconds latency{0};  ///< summed
  std::map<std::string, std::int64_t> errors;  ///< to_string(errc) -> count

  void add(const usage& u, std::optional<errc> outcome);
};

struct ledger_record {
  usage use;
  std::optional<errc> outcome;  ///< nullopt: success
};

struct ledger_snapshot {
  usage_totals total;
  std::map<std::string, usage_totals> by_role;
  std::map<std::string, usage_totals> by_model;
  std::vector<ledger_record> records;  ///< in recording order
};

class usage_ledger {
 public:
  void record(const usage& u, std::optional<errc> outcome = std::nullopt);
  ledger_snapshot snapshot() const;
  usage_totals totals() const;
  void clear();

  /// A function suitable for endpoint_config::on_usage that records here. The
  /// ledger must outlive the clients using it.
  std::function<void(const usage&, std::optional<errc>)> observer();

 private:
  mutable std::mutex mu_;
  ledger_snapshot data_;
};

}  // namespace codehive::llm
