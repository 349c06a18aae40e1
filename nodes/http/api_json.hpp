// What the HTTP API answers, rendered from the run store alone: the run list,
// one run in detail, and the Prometheus text. No HTTP here (unit-testable);
// only snapshot reads of the store (load_run, read_ledger, list_runs), never
// ledger_total, whose cache sits behind the store's write mutex.
#pragma once

#include <string>

namespace codehive {

namespace store {
class run_store;
}

/// An answer: HTTP status and body (JSON, or Prometheus text for metrics).
struct api_reply {
  int status = 200;
  std::string body;
};

/// {"error": text} as JSON.
std::string error_json(const std::string& text);

/// GET /api/runs: every run, oldest first, with tasks done/total, tokens, cost.
api_reply runs_reply(const store::run_store& st);
/// GET /api/runs/{id}: tasks and fixes with state, attempts, worker, timings;
/// review rounds with issues; usage per role, per model, per role and model.
/// 404 for an unknown id.
api_reply run_reply(const store::run_store& st, const std::string& id);
/// GET /metrics: Prometheus text exposition format 0.0.4.
api_reply metrics_reply(const store::run_store& st);

}  // namespace codehive
