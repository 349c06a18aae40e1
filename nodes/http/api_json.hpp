// What the HTTP API answers, rendered from the run store alone: the run list,
// one run in detail, and the Prometheus text. No HTTP here (unit-testable);
// only snapshot reads of the store (load_run, read_ledger, list_runs), never
// ledger_total, whose cache sits behind the store's write mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/live_view.hpp"

namespace codehive {

namespace store {
class run_store;
}
class ttft_histogram;

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
/// GET /api/runs/{id}/files: every path the run wrote, with its versions
/// (number, hash, size, deleted, task, time), oldest first. 404: unknown run.
api_reply files_reply(const store::run_store& st, const std::string& id);
/// GET /api/runs/{id}/file?path=P[&version=N]: one version's content (the
/// latest when N is absent) and the version before it, for a diff. 404:
/// unknown run, path or version; 400: a bad version number.
api_reply file_version_reply(const store::run_store& st, const std::string& id, const std::string& path,
                             const std::string& version);

/// The live views of this process (running planners, the coordinator's
/// registry); null entries are skipped.
using live_views = std::vector<std::shared_ptr<const live_view>>;

/// GET /api/nodes: every node of the views, merged by name (a planner's view
/// of a node wins over the registry's, which knows no load): slots, busy
/// slots, model, tokens/s, heartbeat age (`now_ms` minus its last message).
api_reply nodes_reply(const live_views& views, std::int64_t now_ms);
/// GET /metrics: Prometheus text exposition format 0.0.4. `views` give the
/// queue length and the workers up; `store_writes` the store's write timings.
/// `ttft`: this process's times to first token (null: the family without samples).
api_reply metrics_reply(const store::run_store& st, const live_views& views = {},
                        const ttft_histogram* ttft = nullptr);

}  // namespace codehive
