// Internal to the run store: the state behind run_store (the database, its
// column families, the write lock and caches) with the reads and writes every
// part of the store shares, and the store folder's own files (marker, pid,
// acknowledged sequence, info log). RocksDB stays out of run_store.hpp.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "storage/run_store.hpp"

namespace codehive::store {

namespace detail {

constexpr const char* marker_name = "CODEHIVE_STORE";
constexpr const char* marker_tmp_name = "CODEHIVE_STORE.tmp";  // write_file_durably's temp
constexpr const char* pid_name = "codehive.pid";
/// The last write sequence RocksDB acknowledged, rewritten in place after every
/// write (see impl::record_ack): what open() checks the recovered database against.
constexpr const char* acked_name = "codehive.acked";
constexpr std::size_t acked_width = 20;  // digits, then '\n'
constexpr const char* created_by = "codehive 0.1.0";

/// Our column families, in the order of the handle pointers in impl.
constexpr const char* cf_names[] = {"runs", "tasks", "files", "reviews", "ledger", "events", "meta"};

std::int64_t now_ms();
/// `x` as `digits` lower-case hex digits.
std::string hex(std::uint64_t x, int digits);
bool starts_with(const rocksdb::Slice& s, std::string_view p);
inline std::string_view sv(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
inline bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }
/// Printable form of a key for messages: NUL shown as '/'.
std::string show(std::string_view key);

// -- the store folder's own files (run_store_folder.cpp) ---------------------

result<std::string> read_small_file(const std::filesystem::path& p);
/// Writes `p` atomically (temp file, fsync, rename, fsync of the directory).
status write_file_durably(const std::filesystem::path& p, std::string_view data);
void fsync_dir(const std::filesystem::path& d);
/// errc::corrupt: the store at `dir` is damaged (`what`), with what to do.
error damaged(const std::filesystem::path& dir, const std::string& what);
/// The pid written into codehive.pid by the process holding the store, if any.
std::string holder_pid(const std::filesystem::path& dir);
/// Writes `seq` as codehive.acked's fixed-width content at offset 0.
bool write_acked(int fd, std::uint64_t seq);
/// The sequence recorded in codehive.acked: nullopt when there is no such
/// file (a store of an older codehive, or one used unsynced), an error when
/// it is not what write_acked writes.
result<std::optional<std::uint64_t>> read_acked(const std::filesystem::path& dir);
/// RocksDB's refusal to open the store at `dir` as our error (in use, damaged, ...).
error map_open_status(const std::filesystem::path& dir, const rocksdb::Status& s);
rocksdb::Options db_options();
/// The info log of the store in `dir`: appended to dir/LOG (moved to LOG.old
/// past 1 MiB) when `write`, else discarded.
std::shared_ptr<rocksdb::Logger> make_info_log(const std::filesystem::path& dir, bool write);

// -- creation (run_store_create.cpp) -----------------------------------------

/// What a folder holds, before anything is opened.
struct dir_scan {
  bool exists = false;
  bool is_dir = false;
  bool has_marker = false;
  bool has_current = false;
  bool other_files = false;  ///< anything besides creation_leftover() names
  bool no_data = true;       ///< only creation_file()s
};
result<dir_scan> scan_dir(const std::filesystem::path& dir);

/// Test hook: CODEHIVE_STORE_CREATE_KILL_AT=<step> SIGKILLs this process at that
/// step of store creation (temp, marker, database, meta, built, cleared, renamed),
/// so tests can prove a crash at each one leaves the store absent or whole.
void creation_step(const char* step);

/// The marker of a store about to be created.
codec::meta_record new_marker(std::mt19937_64& rng);

/// Creates a complete store at `dir` atomically as seen by every later open
/// (see run_store_create.cpp). Returns ok also when another process created
/// the store first: the caller looks at `dir` again.
status create_whole(const std::filesystem::path& dir_in, const codec::meta_record& marker, std::mt19937_64& rng);

/// RAII snapshot for consistent multi-key reads.
class snapshot {
 public:
  explicit snapshot(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) { ro_.snapshot = snap_; }
  ~snapshot() { db_->ReleaseSnapshot(snap_); }
  snapshot(const snapshot&) = delete;
  snapshot& operator=(const snapshot&) = delete;
  const rocksdb::ReadOptions& ro() const { return ro_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions ro_;
};

/// An on_record for impl::scan_records that keeps every record in `out`.
template <class Record>
auto append_to(std::vector<Record>& out) {
  return [&out](Record r) {
    out.push_back(std::move(r));
    return true;
  };
}

}  // namespace detail

struct run_store::impl {
  std::filesystem::path dir;
  store_options opts;
  std::string store_id;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // every CF opened (ours, default, unknown)
  rocksdb::ColumnFamilyHandle* runs = nullptr;
  rocksdb::ColumnFamilyHandle* tasks = nullptr;
  rocksdb::ColumnFamilyHandle* files = nullptr;
  rocksdb::ColumnFamilyHandle* reviews = nullptr;
  rocksdb::ColumnFamilyHandle* ledger = nullptr;
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::WriteOptions wo;
  bool wrote_pid = false;
  int acked_fd = -1;  // codehive.acked, open for writing (synced stores only)
  /// The first write RocksDB failed (a full disk, an I/O error), under mu.
  /// From then on no write reaches RocksDB: its WAL writer, used again after
  /// a failed append, aborts the process (a debug assertion that Debian's
  /// librocksdb keeps), and the failed write may be half in the WAL.
  std::optional<error> write_failure;

  mutable std::mutex mu;  // serialises every write (read-modify-write of records, sequences)
  std::map<std::string, std::uint64_t, std::less<>> next_event;   // guarded by mu
  std::map<std::string, std::uint64_t, std::less<>> next_ledger;  // guarded by mu
  std::map<std::string, ledger_totals, std::less<>> ledger_sums;  // guarded by mu; runs asked for
  std::set<std::string, std::less<>> known_runs;                  // guarded by mu
  write_clock writes_timed;                                       // atomics: read without mu
  std::mt19937_64 rng{std::random_device{}()};                    // guarded by mu

  ~impl();

  // -- errors ----------------------------------------------------------------
  error from_status(const rocksdb::Status& s, std::string_view what) const;
  status writable() const;

  // -- writes ----------------------------------------------------------------
  /// Under mu: writes `b`, or refuses once a write failed (write_failure).
  /// `sync` false: not synced even in a synced store, and not counted as
  /// acknowledged; it becomes durable with the next synced write (the WAL is
  /// one sequence: syncing it syncs every write before). Only for records no
  /// run state depends on (the summary cache).
  status commit(rocksdb::WriteBatch& b, std::string_view what, bool sync = true);
  /// Under mu: adds the run's next event to `b` and commits it; the event
  /// sequence moves on only when the write went through. Returns the event's
  /// sequence number.
  result<std::uint64_t> commit_with_event(rocksdb::WriteBatch& b, std::string_view run, std::string_view type,
                           std::string_view data_json, std::int64_t at, std::string_view what);
  /// As commit_with_event with one event of `type` per `data_json`, in order
  /// (consecutive sequence numbers); returns the first one's.
  result<std::uint64_t> commit_with_events(rocksdb::WriteBatch& b, std::string_view run, std::string_view type,
                                           const std::vector<std::string>& data_json, std::int64_t at,
                                           std::string_view what);
  /// Under mu (writes are serialised), after RocksDB acknowledged a write:
  /// its sequence goes into codehive.acked (see run_store_impl.cpp).
  void record_ack();
  /// Adds event `seq` to the batch (the caller bumps next_event after commit).
  void put_event(rocksdb::WriteBatch& b, std::string_view run, std::uint64_t seq, std::string_view type,
                 std::string_view data_json, std::int64_t at);
  /// Adds `f` to the batch as version f.version of `path` and as its current version.
  void put_file_version(rocksdb::WriteBatch& b, std::string_view run, std::string_view path,
                        const file_version& f);

  // -- reads -----------------------------------------------------------------
  /// Value of `key` in `cf`; nullopt when absent.
  result<std::optional<std::string>> get(rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                                         const rocksdb::ReadOptions& ro = {}) const;

  /// Calls f(key, value) for every key starting with `prefix` (which ends in NUL),
  /// in key order, from `start` (default: the prefix). f returns false to stop.
  template <class F>
  status scan(rocksdb::ColumnFamilyHandle* cf, const std::string& prefix, F&& f,
              const rocksdb::ReadOptions& base = {}, const std::string& start = {}) const {
    std::string upper = prefix;
    upper.back() = static_cast<char>(upper.back() + 1);
    rocksdb::Slice ub{upper};
    rocksdb::ReadOptions ro = base;
    ro.iterate_upper_bound = &ub;
    std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro, cf)};
    for (it->Seek(start.empty() ? prefix : start); it->Valid(); it->Next()) {
      if (!detail::starts_with(it->key(), prefix)) break;
      if (!f(detail::sv(it->key()), detail::sv(it->value()))) break;
    }
    if (!it->status().ok()) return from_status(it->status(), cf->GetName() + " scan of " + detail::show(prefix));
    return ok();
  }

  /// scan() over records: decodes each value with `decode(value, "<cf>/<key>")`
  /// and hands the record to `on_record`, which returns false to stop. The
  /// first value that does not decode stops the scan and is the error.
  template <class Decode, class OnRecord>
  status scan_records(rocksdb::ColumnFamilyHandle* cf, const std::string& prefix, Decode decode,
                      OnRecord&& on_record, const rocksdb::ReadOptions& ro = {},
                      const std::string& start = {}) const {
    std::optional<error> bad;
    auto sc = scan(
        cf, prefix,
        [&](std::string_view k, std::string_view v) {
          auto rec = decode(v, cf->GetName() + "/" + detail::show(k));
          if (!rec) {
            bad = std::move(rec).err();
            return false;
          }
          return on_record(std::move(*rec));
        },
        ro, start);
    if (!sc) return sc;
    if (bad) return std::move(*bad);
    return ok();
  }

  /// Last sequence number used under "<run>\0" in `cf` (0 when none).
  result<std::uint64_t> last_seq(rocksdb::ColumnFamilyHandle* cf, std::string_view run,
                                 const rocksdb::ReadOptions& base = {}) const;
  result<run_record> read_run(std::string_view run, const rocksdb::ReadOptions& ro = {}) const;
  /// Under mu: the run exists.
  status require_run(std::string_view run);
  /// Under mu: next free sequence number in events/ledger for `run`.
  result<std::uint64_t> next_seq(std::map<std::string, std::uint64_t, std::less<>>& cache,
                                 rocksdb::ColumnFamilyHandle* cf, std::string_view run);
  result<task_record> read_task(std::string_view run, std::string_view task,
                                const rocksdb::ReadOptions& ro = {}) const;
  result<std::optional<file_version>> read_current(std::string_view run, std::string_view path,
                                                   const rocksdb::ReadOptions& ro = {}) const;
  result<bool> has_blob(std::string_view hash, const rocksdb::ReadOptions& ro = {}) const;
  std::string new_run_id();
};

}  // namespace codehive::store
