// `codehive status RUN --watch`: the live view of a run in a terminal, read
// again from the run store about once a second. The store is opened
// read-only (no lock) for each look, beside the process that runs the run:
// a read-only RocksDB sees what was written before it was opened, so each
// look opens it anew. On a terminal the view is redrawn in place; otherwise
// one line is printed per change (state, phase, task counts, round). It ends
// when the run has ended (the final status, then exit 0), or on Ctrl-C.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/records.hpp"

namespace codehive {

namespace store {
class run_store;
}

/// What one look at the store shows of a run.
struct watch_snapshot {
  store::run_state state = store::run_state::running;
  std::string state_reason;
  int exit_code = -1;
  std::string phase;   ///< from the last phase event ("" before the first)
  std::string detail;  ///< what the phase does ("round 1: checking 5 file(s)")
  bool plan_waits = false;  ///< a proposed plan waits for approval
  std::map<store::task_state, int> tasks, fixes;
  int tasks_total = 0, fixes_total = 0;
  std::vector<std::string> busy;  ///< "t3 js/app.js (coder-1)" per assigned task or fix
  std::vector<std::string> workers;  ///< every worker label a task was given to
  std::int64_t tokens = 0, completion_tokens = 0;
  double cost_usd = 0;
  double tokens_per_s = 0;  ///< completion tokens per second since the previous look
  std::size_t rounds = 0;
  std::int64_t created_ms = 0, at_ms = 0;
};

/// Keeps what the looks have in common: the event log read so far (each
/// look reads only the new events) and the previous look (for tokens/s).
class run_watch {
 public:
  explicit run_watch(std::string run_id) : run_id_(std::move(run_id)) {}

  /// One look at the store at `now_ms`; false, with `error`, when the run
  /// cannot be read.
  bool look(const store::run_store& st, std::int64_t now_ms, std::string& error);
  const watch_snapshot& now() const noexcept { return snap_; }
  bool ended() const noexcept { return snap_.state != store::run_state::running; }

  /// The terminal view: a few lines.
  std::vector<std::string> view() const;
  /// One line for a log or a pipe (changes only: see change_key).
  std::string line() const;
  /// What makes a new line worth printing: state, phase, tasks, round
  /// (not the tokens, which change on every look).
  std::string change_key() const;

 private:
  std::string run_id_;
  std::uint64_t events_seen_ = 0;
  watch_snapshot snap_;
  bool looked_ = false;
};

/// Opens the store read-only for one look; nullptr with `error` when it cannot.
using store_opener = std::function<std::unique_ptr<store::run_store>(std::string& error)>;

/// The watch loop. `final_status` prints the run's status once it ended.
/// Returns 0 when the run ended, 130 on Ctrl-C or SIGTERM, 2 when the
/// store could not be read for `give_up_s` seconds in a row.
int watch_run(const std::string& run_id, const store_opener& open,
              const std::function<void(const store::run_store&)>& final_status, bool terminal,
              std::FILE* out, double give_up_s = 30);

}  // namespace codehive
