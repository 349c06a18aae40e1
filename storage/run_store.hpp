// The durable run store: one RocksDB database per coordinator, with one column
// family per kind of record. Every mutating call writes its records and an
// event in ONE WriteBatch (synced unless store_options::sync is false) and
// returns only after RocksDB acknowledged it: callers tell actors afterwards.
//
//   auto st = store::run_store::open(store::default_store_path().value());
//   if (!st) { log(st.err().describe()); return 5; }
//   auto run = (*st)->create_run("a kanban board", R"({"coders":4})");
//   (*st)->put_plan(*run, tasks);
//   (*st)->transition(*run, "t1", store::task_state::assigned, {.worker = "w1"});
//
// Thread-safe: writes are serialised by one mutex; reads go straight to RocksDB.
// No CAF; RocksDB stays out of this header. Layouts: storage/README.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/records.hpp"
#include "storage/write_timings.hpp"
#include "workspace/sha256.hpp"
#include "storage/result.hpp"

namespace codehive::store {

/// Version of the store layout (meta CF) and of every JSON record ("v").
/// A reader refuses anything newer.
inline constexpr int schema_version = 1;

struct store_options {
  bool sync = true;               ///< fsync the WAL on every write (false: survives a crash of
                                  ///< the process, not of the machine)
  bool create_if_missing = true;  ///< create a store at an absent or empty directory
  bool read_only = false;         ///< no lock, no writes (e.g. `codehive runs` beside a coordinator)
};

/// $XDG_DATA_HOME/codehive/store, else $HOME/.local/share/codehive/store.
result<std::filesystem::path> default_store_path();

class run_store {
 public:
  /// Opens (or creates) the store at `dir`. Creation is atomic (built in a
  /// temporary sibling folder, renamed into place); an older in-place creation
  /// cut short (no run in it) is finished. Refuses, with a reason naming the
  /// path: a non-empty directory that is not a codehive store, a damaged store
  /// (never resets it), one that lost acknowledged writes, a store another
  /// process holds, a newer schema (meta record or marker).
  static result<std::unique_ptr<run_store>> open(const std::filesystem::path& dir,
                                                 store_options opts = {});
  ~run_store();
  run_store(const run_store&) = delete;
  run_store& operator=(const run_store&) = delete;

  const std::filesystem::path& dir() const noexcept;
  const std::string& store_id() const noexcept;

  // -- runs ------------------------------------------------------------------
  /// New run in state running; returns its id. `config_json` must be a JSON object ("" = {}).
  result<std::string> create_run(std::string_view request, std::string_view config_json);
  result<run_record> get_run(std::string_view run) const;
  /// Every run, oldest first.
  result<std::vector<run_record>> list_runs() const;
  /// Replaces the run's configuration (e.g. a resume with a higher budget).
  status set_run_config(std::string_view run, std::string_view config_json);
  /// `exit_code`: the CLI exit code that goes with a stop (-1: none).
  status set_run_state(std::string_view run, run_state to, std::string_view reason = {},
                       int exit_code = -1);

  // -- tasks -----------------------------------------------------------------
  /// Adds the tasks (all pending). Refuses duplicate or existing ids, unknown
  /// action/type/edit, and depends_on naming a task neither here nor stored.
  status put_plan(std::string_view run, const std::vector<task_spec>& tasks);
  /// Moves a task through the state machine; illegal moves -> errc::illegal_transition.
  /// A batch of one (transitions()).
  result<task_record> transition(std::string_view run, std::string_view task, task_state to,
                                 const transition_info& info = {});
  /// Applies `moves` in order in ONE write (one sync), each checked as if the
  /// ones before it were applied: the same task may move more than once
  /// (failed -> pending -> assigned). All or nothing: one illegal move
  /// (errc::illegal_transition), unknown task or file hash refuses the whole
  /// batch and writes nothing. One `task` event per move, in order. Returns
  /// each move's task record as it left that move. An empty batch writes nothing.
  result<std::vector<task_record>> transitions(std::string_view run, const std::vector<task_move>& moves);
  result<task_record> get_task(std::string_view run, std::string_view task) const;

  // -- files -----------------------------------------------------------------
  /// Stores `content` (blob deduplicated by sha256), makes it the current version
  /// of `path`; returns the hash. Same content as the current version: no new version.
  result<std::string> put_file_version(std::string_view run, std::string_view path,
                                       std::string_view content, const file_meta& meta = {});
  /// As put_file_version, returning the (new or unchanged current) version record.
  result<file_version> put_file(std::string_view run, std::string_view path,
                                std::string_view content, const file_meta& meta = {});
  /// Replaces the summary of the current version of `path` (the summarizer's
  /// line arrives after the write); errc::not_found when absent or deleted.
  status set_summary(std::string_view run, std::string_view path, std::string_view summary);
  /// set_summary and put_cached_summary (by the current version's hash) in
  /// one write: what the summarizer's line costs is one sync, not two. A line
  /// the version already has (the edit's own summary) only goes to the cache,
  /// unsynced: it is durable with the store's next synced write (a machine
  /// crash before that loses a cache line, never a run's state).
  status set_summary_and_cache(std::string_view run, std::string_view path, std::string_view summary);
  /// The summarizer's line for the content with sha256 `hash`, whatever run
  /// or path it was written for (nullopt: never summarised). A project scanned
  /// again is summarised only where its content changed.
  result<std::optional<std::string>> cached_summary(std::string_view hash) const;
  /// Keeps `summary` as the line for content `hash` (replacing an older one).
  status put_cached_summary(std::string_view hash, std::string_view summary);
  /// Writes a delete marker as the new current version of `path`.
  result<file_version> delete_file(std::string_view run, std::string_view path,
                                   const file_meta& meta = {});
  /// Current content; errc::not_found when absent or deleted.
  result<file_content> get_file(std::string_view run, std::string_view path) const;
  /// Current version of every path, by path.
  result<std::vector<file_version>> list_files(std::string_view run,
                                               bool include_deleted = false) const;
  /// Every version of one path, oldest first.
  result<std::vector<file_version>> file_history(std::string_view run,
                                                 std::string_view path) const;
  /// A blob by hash (any run).
  result<std::string> get_blob(std::string_view hash) const;

  // -- reviews, ledger, events ----------------------------------------------
  /// Writes (or replaces) review round `r.round` (>= 1).
  status put_review_round(std::string_view run, const review_round& r);
  /// Appends one model call; returns its sequence number.
  result<std::uint64_t> append_ledger(std::string_view run, const ledger_entry& e);
  result<std::vector<ledger_entry>> read_ledger(std::string_view run) const;
  /// Sums of the run's ledger (cheap after the first call: kept up to date by
  /// append_ledger). What budgets are checked against.
  result<ledger_totals> ledger_total(std::string_view run) const;
  /// Appends a caller's event (`data_json` any JSON value, "" = null); returns its sequence.
  result<std::uint64_t> append_event(std::string_view run, std::string_view type,
                                     std::string_view data_json);
  result<std::vector<event>> read_events(
      std::string_view run, std::uint64_t from_seq = 1,
      std::size_t max = std::numeric_limits<std::size_t>::max()) const;

  // -- whole run ---------------------------------------------------------------
  /// Run record, tasks, current files, review rounds, ledger totals.
  result<run_snapshot> load_run(std::string_view run) const;
  /// Consistency problems of one run (empty: clean), plus RocksDB checksum errors.
  result<std::vector<fsck_problem>> fsck(std::string_view run) const;
  /// Flushes memtables to SST files (tests, before a backup).
  status flush();
  /// How long this process's writes took so far (without a lock: /metrics).
  write_timings write_stats() const noexcept;

  struct impl;

 private:
  explicit run_store(std::unique_ptr<impl> p);
  status write_summary(std::string_view run, std::string_view path, std::string_view summary, bool cache);
  std::unique_ptr<impl> impl_;
};

/// Lower-case hex SHA-256 of `data` (the content hash used for blobs; the
/// validators cache their findings by the same hash, so it lives in workspace/).
inline std::string sha256_hex(std::string_view data) { return ws::sha256_hex(data); }

}  // namespace codehive::store
