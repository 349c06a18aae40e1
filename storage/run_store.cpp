#include "storage/run_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "storage/codec.hpp"
#include "storage/keys.hpp"

namespace fs = std::filesystem;

namespace codehive::store {

namespace {

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

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string hex(std::uint64_t x, int digits) {
  static constexpr char h[] = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, x >>= 4) s[static_cast<std::size_t>(i)] = h[x & 0xf];
  return s;
}

bool starts_with(const rocksdb::Slice& s, std::string_view p) {
  return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}

std::string_view sv(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

/// Printable form of a key for messages: NUL shown as '/'.
std::string show(std::string_view key) {
  std::string out;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\0')
      out.push_back('/');
    else if (u < 0x20 || u >= 0x7f)
      out += "\\x" + hex(u, 2);
    else
      out.push_back(c);
  }
  return out;
}

result<std::string> read_small_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(errc::io_error, "cannot read " + p.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes `p` atomically (temp file, fsync, rename, fsync of the directory).
status write_file_durably(const fs::path& p, std::string_view data) {
  auto tmp = p;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(errc::io_error, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  const char* d = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, d, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return fail(errc::io_error, "cannot write " + tmp.string() + ": " + std::strerror(e));
    }
    d += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    return fail(errc::io_error, "cannot sync " + tmp.string() + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), p.c_str()) != 0)
    return fail(errc::io_error, "cannot rename " + tmp.string() + ": " + std::strerror(errno));
  int dfd = ::open(p.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok();
}

error damaged(const fs::path& dir, const std::string& what) {
  return fail(errc::corrupt, "store " + dir.string() + " is damaged (" + what +
                                 "); refusing to open or reset it: move it aside or restore a "
                                 "backup");
}

/// The pid written into codehive.pid by the process holding the store, if any.
std::string holder_pid(const fs::path& dir) {
  auto text = read_small_file(dir / pid_name);
  if (!text) return "";
  std::string s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return "";
  return s;
}

/// Writes `seq` as codehive.acked's fixed-width content at offset 0.
bool write_acked(int fd, std::uint64_t seq) {
  char buf[acked_width + 2];
  std::snprintf(buf, sizeof buf, "%020llu\n", static_cast<unsigned long long>(seq));
  return ::pwrite(fd, buf, acked_width + 1, 0) == static_cast<ssize_t>(acked_width + 1);
}

/// The sequence recorded in codehive.acked: nullopt when there is no such
/// file (a store of an older codehive, or one used unsynced), an error when
/// it is not what write_acked writes.
result<std::optional<std::uint64_t>> read_acked(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / acked_name, ec)) return std::optional<std::uint64_t>{};
  auto text = read_small_file(dir / acked_name);
  if (!text) return std::move(text).err();
  if (text->size() != acked_width + 1 || (*text)[acked_width] != '\n' ||
      text->find_first_not_of("0123456789") != acked_width)
    return damaged(dir, std::string{acked_name} + " is not a sequence number");
  return std::optional<std::uint64_t>{std::strtoull(text->c_str(), nullptr, 10)};
}

error map_open_status(const fs::path& dir, const rocksdb::Status& s) {
  std::string text = s.ToString();
  // RocksDB 7.8: "While lock file: DIR/LOCK: Resource temporarily unavailable" (another
  // process) or "lock hold by current process, acquire time ..." (this one).
  if (s.IsIOError() && (text.find("While lock file") != std::string::npos ||
                        text.find("lock hold by current process") != std::string::npos)) {
    auto pid = holder_pid(dir);
    bool self = text.find("hold by current process") != std::string::npos ||
                (!pid.empty() && pid == std::to_string(::getpid()));
    if (self)
      return fail(errc::in_use, "store " + dir.string() + " is already open in this process (pid " +
                                    std::to_string(::getpid()) + ")");
    return fail(errc::in_use, "store " + dir.string() +
                                  " is in use by another codehive process (pid " +
                                  (pid.empty() ? std::string{"unknown"} : pid) + ")");
  }
  if (s.IsCorruption() || s.IsNotFound() || s.IsPathNotFound() ||
      text.find("No such file") != std::string::npos)
    return damaged(dir, text);
  return fail(errc::io_error, "cannot open store " + dir.string() + ": " + text);
}

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

}  // namespace

// -- default path ----------------------------------------------------------------

result<fs::path> default_store_path() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x == '/')
    return fs::path{x} / "codehive" / "store";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return fs::path{h} / ".local" / "share" / "codehive" / "store";
  return fail(errc::not_found, "neither XDG_DATA_HOME nor HOME is set: give the store path in the config");
}

// -- impl --------------------------------------------------------------------------

struct run_store::impl {
  fs::path dir;
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

  ~impl() {
    if (acked_fd >= 0) ::close(acked_fd);
    if (db != nullptr) {
      for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
      db->Close();
      delete db;
    }
    if (wrote_pid && holder_pid(dir) == std::to_string(::getpid())) {
      std::error_code ec;
      fs::remove(dir / pid_name, ec);
    }
  }

  // -- errors ----------------------------------------------------------------
  error from_status(const rocksdb::Status& s, std::string_view what) const {
    if (s.IsCorruption())
      return fail(errc::corrupt, "store " + dir.string() + " is corrupt (" + std::string{what} +
                                     "): " + s.ToString());
    if (s.IsNotFound()) return fail(errc::not_found, std::string{what} + ": not found");
    return fail(errc::io_error, "store " + dir.string() + " (" + std::string{what} + "): " + s.ToString());
  }

  status writable() const {
    if (opts.read_only)
      return fail(errc::read_only, "store " + dir.string() + " is open read-only");
    return ok();
  }

  /// Under mu: writes `b`, or refuses once a write failed (write_failure).
  status commit(rocksdb::WriteBatch& b, std::string_view what) {
    if (write_failure)
      return fail(write_failure->code, "store " + dir.string() + " takes no more writes (" +
                                           std::string{what} + ") since one failed: " +
                                           write_failure->reason);
    auto t0 = std::chrono::steady_clock::now();
    auto s = db->Write(wo, &b);
    writes_timed.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
    if (!s.ok()) {
      auto e = from_status(s, what);
      if (e.code == errc::not_found) e.code = errc::io_error;
      write_failure = fail(e.code, e.reason + "; free space (or fix the disk) and resume the run");
      return e;
    }
    record_ack();
    return ok();
  }

  /// Under mu (writes are serialised), after RocksDB acknowledged a write:
  /// its sequence goes into codehive.acked, rewritten in place (fixed width,
  /// one sector: never torn) and not synced. The WAL was synced before, so
  /// whatever value of this file survives a crash is covered by the durable
  /// WAL; a database that recovers to less lost acknowledged writes (a
  /// truncated, damaged or deleted WAL), which RocksDB's point-in-time
  /// recovery alone would not say. One pwrite: microseconds beside the fsync.
  void record_ack() {
    if (acked_fd < 0) return;
    write_acked(acked_fd, db->GetLatestSequenceNumber());
  }

  // -- reads -----------------------------------------------------------------
  /// Value of `key` in `cf`; nullopt when absent.
  result<std::optional<std::string>> get(rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                                         const rocksdb::ReadOptions& ro = {}) const {
    std::string v;
    auto s = db->Get(ro, cf, rocksdb::Slice{key.data(), key.size()}, &v);
    if (s.IsNotFound()) return std::optional<std::string>{};
    if (!s.ok()) return from_status(s, cf->GetName() + "/" + show(key));
    return std::optional<std::string>{std::move(v)};
  }

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
      if (!starts_with(it->key(), prefix)) break;
      if (!f(sv(it->key()), sv(it->value()))) break;
    }
    if (!it->status().ok()) return from_status(it->status(), cf->GetName() + " scan of " + show(prefix));
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
          auto rec = decode(v, cf->GetName() + "/" + show(k));
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
                                 const rocksdb::ReadOptions& base = {}) const {
    auto prefix = keys::run_prefix(run);
    auto last = keys::seq_key(run, ~std::uint64_t{0});
    std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(base, cf)};
    it->SeekForPrev(last);
    if (!it->status().ok()) return from_status(it->status(), cf->GetName() + " of run " + std::string{run});
    if (!it->Valid() || !starts_with(it->key(), prefix)) return std::uint64_t{0};
    auto k = sv(it->key());
    if (k.size() != prefix.size() + 8)
      return fail(errc::corrupt, "store " + dir.string() + ": malformed key " + cf->GetName() + "/" + show(k));
    return keys::get_be(k.substr(prefix.size()));
  }

  result<run_record> read_run(std::string_view run, const rocksdb::ReadOptions& ro = {}) const {
    if (run.empty() || has_nul(run)) return fail(errc::invalid_argument, "bad run id");
    auto v = get(runs, run, ro);
    if (!v) return std::move(v).err();
    if (!*v) return fail(errc::not_found, "no run " + std::string{run} + " in store " + dir.string());
    return codec::decode_run(**v, "runs/" + std::string{run});
  }

  /// Under mu: the run exists.
  status require_run(std::string_view run) {
    if (known_runs.count(run) > 0) return ok();
    auto r = read_run(run);
    if (!r) return std::move(r).err();
    known_runs.emplace(run);
    return ok();
  }

  /// Under mu: next free sequence number in events/ledger for `run`.
  result<std::uint64_t> next_seq(std::map<std::string, std::uint64_t, std::less<>>& cache,
                                 rocksdb::ColumnFamilyHandle* cf, std::string_view run) {
    if (auto it = cache.find(run); it != cache.end()) return it->second;
    auto last = last_seq(cf, run);
    if (!last) return std::move(last).err();
    cache.emplace(std::string{run}, *last + 1);
    return *last + 1;
  }

  /// Under mu: adds event `seq` to the batch (the caller bumps next_event after commit).
  void put_event(rocksdb::WriteBatch& b, std::string_view run, std::uint64_t seq,
                 std::string_view type, std::string_view data_json, std::int64_t at) {
    event e;
    e.seq = seq;
    e.type = std::string{type};
    e.data_json = std::string{data_json};
    e.at_ms = at;
    b.Put(events, keys::seq_key(run, seq), codec::encode(e));
  }

  result<task_record> read_task(std::string_view run, std::string_view task,
                                const rocksdb::ReadOptions& ro = {}) const {
    auto v = get(tasks, keys::task(run, task), ro);
    if (!v) return std::move(v).err();
    if (!*v)
      return fail(errc::not_found, "no task " + std::string{task} + " in run " + std::string{run});
    return codec::decode_task(**v, "tasks/" + std::string{run} + "/" + std::string{task});
  }

  result<std::optional<file_version>> read_current(std::string_view run, std::string_view path,
                                                   const rocksdb::ReadOptions& ro = {}) const {
    auto v = get(files, keys::current(run, path), ro);
    if (!v) return std::move(v).err();
    if (!*v) return std::optional<file_version>{};
    auto f = codec::decode_file_version(**v, "files/c/" + std::string{run} + "/" + std::string{path});
    if (!f) return std::move(f).err();
    return std::optional<file_version>{std::move(*f)};
  }

  result<bool> has_blob(std::string_view hash, const rocksdb::ReadOptions& ro = {}) const {
    std::string v;
    auto key = keys::blob(hash);
    auto s = db->Get(ro, files, key, &v);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return from_status(s, "files/b/" + std::string{hash});
    return true;
  }

  std::string new_run_id() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S-", &tm);
    return std::string{buf} + hex(rng() & 0xffff, 4);
  }
};

// -- open --------------------------------------------------------------------------

namespace {

rocksdb::Options db_options() {
  rocksdb::Options o;
  o.OptimizeForSmallDb();
  o.paranoid_checks = true;
  o.keep_log_file_num = 3;
  o.max_manifest_file_size = 64 << 20;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  return o;
}

status bind_handles(run_store::impl& s) {
  for (auto* h : s.handles) {
    const auto& n = h->GetName();
    if (n == "runs") s.runs = h;
    else if (n == "tasks") s.tasks = h;
    else if (n == "files") s.files = h;
    else if (n == "reviews") s.reviews = h;
    else if (n == "ledger") s.ledger = h;
    else if (n == "events") s.events = h;
    else if (n == "meta") s.meta = h;
  }
  for (auto* h : {s.runs, s.tasks, s.files, s.reviews, s.ledger, s.events, s.meta})
    if (h == nullptr) return damaged(s.dir, "a column family is missing");
  return ok();
}

/// RocksDB's info log ("LOG"), written by us: RocksDB's own file logger aborts
/// the process when it logs again after one of its writes failed (a full disk:
/// the debug assertion `sync_without_flush_called_`, which Debian's librocksdb
/// keeps), and it logs exactly then. This one ignores write errors. fd -1
/// discards (read-only opens write nothing into the store).
class info_log final : public rocksdb::Logger {
 public:
  explicit info_log(int fd) : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), fd_(fd) {}
  ~info_log() override {
    if (fd_ >= 0) ::close(fd_);
  }
  info_log(const info_log&) = delete;
  info_log& operator=(const info_log&) = delete;
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    char line[2048];
    auto t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    auto n = std::strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    int m = std::vsnprintf(line + n, sizeof line - n - 1, format, ap);
    if (m < 0) return;
    n = std::min(sizeof line - 2, n + static_cast<std::size_t>(m));
    line[n++] = '\n';
    ssize_t w = ::write(fd_, line, n);  // O_APPEND: one line per write; errors ignored
    (void)w;
  }

 private:
  int fd_;
};

/// The info log of the store in `dir`: appended to dir/LOG (moved to LOG.old
/// past 1 MiB) when `write`, else discarded.
std::shared_ptr<rocksdb::Logger> make_info_log(const fs::path& dir, bool write) {
  if (!write) return std::make_shared<info_log>(-1);
  std::error_code ec;
  if (fs::file_size(dir / "LOG", ec) > (1u << 20) && !ec) fs::rename(dir / "LOG", dir / "LOG.old", ec);
  return std::make_shared<info_log>(
      ::open((dir / "LOG").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
}

/// Test hook: CODEHIVE_STORE_CREATE_KILL_AT=<step> SIGKILLs this process at that
/// step of store creation (temp, marker, database, meta, built, cleared, renamed),
/// so tests can prove a crash at each one leaves the store absent or whole.
void creation_step(const char* step) {
  const char* at = std::getenv("CODEHIVE_STORE_CREATE_KILL_AT");
  if (at != nullptr && std::strcmp(at, step) == 0) ::kill(::getpid(), SIGKILL);
}

void fsync_dir(const fs::path& d) {
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// What an interrupted creation leaves before RocksDB has written anything.
bool creation_leftover(const std::string& n) {
  return n == marker_name || n == marker_tmp_name || n == pid_name || n == "LOCK";
}

/// Files RocksDB makes while it creates a database and its column families,
/// before any record is written: a folder holding only these (no SST, every
/// WAL empty) holds no run, so nothing is lost by building it again.
bool creation_file(const fs::directory_entry& e) {
  auto n = e.path().filename().string();
  if (creation_leftover(n) || n == "CURRENT" || n == "IDENTITY" || n == "LOG") return true;
  if (n == "LOG.old" || n.starts_with("LOG.old.") || n.starts_with("MANIFEST-") ||
      n.starts_with("OPTIONS-") || n.ends_with(".dbtmp"))
    return true;
  if (n.ends_with(".log")) {
    std::error_code ec;
    auto size = e.file_size(ec);
    return !ec && size == 0;
  }
  return false;
}

/// What a folder holds, before anything is opened.
struct dir_scan {
  bool exists = false;
  bool is_dir = false;
  bool has_marker = false;
  bool has_current = false;
  bool other_files = false;  ///< anything besides creation_leftover() names
  bool no_data = true;       ///< only creation_file()s
};

result<dir_scan> scan_dir(const fs::path& dir) {
  dir_scan d;
  std::error_code ec;
  auto stat = fs::status(dir, ec);
  d.exists = !ec && fs::exists(stat);
  if (!d.exists) return d;
  d.is_dir = fs::is_directory(stat);
  if (!d.is_dir) return d;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name == marker_name) d.has_marker = true;
    if (name == "CURRENT") d.has_current = true;
    if (!creation_leftover(name)) d.other_files = true;
    if (!creation_file(e)) d.no_data = false;
  }
  if (ec) return fail(errc::io_error, "cannot list " + dir.string() + ": " + ec.message());
  return d;
}

/// The marker of a store about to be created.
codec::meta_record new_marker(std::mt19937_64& rng) {
  codec::meta_record m;
  m.schema_version = schema_version;
  m.store_id = hex(rng(), 16);
  m.created_ms = now_ms();
  m.created_by = created_by;
  return m;
}

/// Writes a complete store into the folder `at`: the marker, the database with
/// every column family, the meta record (synced).
status build_store(const fs::path& at, const codec::meta_record& marker) {
  if (auto s = write_file_durably(at / marker_name, codec::encode(marker)); !s) return s;
  creation_step("marker");
  auto options = db_options();
  options.info_log = make_info_log(at, true);
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.error_if_exists = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, options);
  for (const char* n : cf_names) cfs.emplace_back(n, options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(options, at.string(), cfs, &handles, &db);
  if (!s.ok())
    return fail(errc::io_error, "cannot create a store in " + at.string() + ": " + s.ToString());
  creation_step("database");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  for (auto* h : handles)
    if (h->GetName() == "meta") meta = h;
  s = db->Put(wo, meta, std::string{keys::meta_schema}, codec::encode(marker));
  if (s.ok()) creation_step("meta");
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  auto closed = db->Close();
  delete db;
  if (!s.ok())
    return fail(errc::io_error, "cannot write the meta record of a new store in " + at.string() +
                                    ": " + s.ToString());
  if (!closed.ok())
    return fail(errc::io_error, "cannot close a new store in " + at.string() + ": " + closed.ToString());
  fsync_dir(at);
  creation_step("built");
  return ok();
}

/// Temporary folders of creations: ".<name>.creating-<pid>-<random>" beside the store.
std::string temp_prefix(const fs::path& dir) { return "." + dir.filename().string() + ".creating-"; }

/// Removes temporary creation folders left by processes that died (or that
/// are over an hour old: a creation takes well under a second); a live
/// process's folder is left alone, and is never taken for the store anyway.
void remove_stale_temps(const fs::path& dir) {
  auto prefix = temp_prefix(dir);
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(dir.parent_path(), ec)) {
    auto name = e.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    auto rest = name.substr(prefix.size());
    long pid = std::strtol(rest.c_str(), nullptr, 10);
    bool dead = pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    std::error_code tec;
    auto mtime = fs::last_write_time(e.path(), tec);
    bool old = !tec && fs::file_time_type::clock::now() - mtime > std::chrono::hours{1};
    if (dead || old) stale.push_back(e.path());
  }
  for (const auto& p : stale) fs::remove_all(p, ec);
}

/// Creates a complete store at `dir` atomically as seen by every later open:
/// built in a temporary sibling folder, then renamed into place, so a crash
/// at any point leaves `dir` absent (or with the leftovers it had) or whole.
/// `dir` is absent or holds only creation_leftover()s, removed just before
/// the rename. Where a sibling cannot be made or renamed (an unwritable
/// parent, `dir` a mount point) the store is built in place, as before;
/// an interruption there leaves an unfinished store, which open() finishes.
/// Returns ok also when another process created the store first: the caller
/// looks at `dir` again.
status create_whole(const fs::path& dir_in, const codec::meta_record& marker, std::mt19937_64& rng) {
  std::error_code ec;
  // A store path that is a symlink (to a folder on another disk, say) is
  // created where it points: the rename must not replace the link itself.
  fs::path dir = dir_in;
  if (fs::is_symlink(dir_in, ec)) {
    auto real = fs::weakly_canonical(dir_in, ec);
    if (ec) return fail(errc::io_error, "cannot resolve " + dir_in.string() + ": " + ec.message());
    dir = real;
  }
  auto parent = dir.parent_path();
  fs::create_directories(parent, ec);
  if (ec) return fail(errc::io_error, "cannot create " + parent.string() + ": " + ec.message());
  remove_stale_temps(dir);
  auto in_place = [&]() -> status {
    std::error_code e2;
    fs::create_directories(dir, e2);
    if (e2) return fail(errc::io_error, "cannot create " + dir.string() + ": " + e2.message());
    return build_store(dir, marker);
  };
  auto tmp = parent / (temp_prefix(dir) + std::to_string(::getpid()) + "-" + hex(rng(), 8));
  if (::mkdir(tmp.c_str(), 0755) != 0) return in_place();
  creation_step("temp");
  if (auto b = build_store(tmp, marker); !b) {
    fs::remove_all(tmp, ec);
    return b;
  }
  for (int tries = 0;; ++tries) {
    if (::rename(tmp.c_str(), dir.c_str()) == 0) break;
    int e = errno;
    if ((e == ENOTEMPTY || e == EEXIST) && tries == 0) {
      // `dir` holds something: leftovers of an interrupted creation go (the
      // marker last) and the rename is tried again; anything else is another
      // process's store, made while we built ours.
      auto sc = scan_dir(dir);
      if (sc && sc->is_dir && !sc->other_files) {
        for (const char* n : {pid_name, "LOCK", marker_tmp_name, marker_name}) fs::remove(dir / n, ec);
        creation_step("cleared");
        continue;
      }
    }
    fs::remove_all(tmp, ec);
    if (e == ENOTEMPTY || e == EEXIST) return ok();
    return in_place();
  }
  fsync_dir(parent);
  creation_step("renamed");
  return ok();
}

/// Opens a store whose folder has CURRENT. `creation_cut` is set when the
/// refusal is one an interrupted in-place creation causes (the manifest or a
/// column family or the meta record missing), for open() to judge.
result<std::unique_ptr<run_store::impl>> open_existing(std::unique_ptr<run_store::impl> st,
                                                       const codec::meta_record& marker,
                                                       bool& creation_cut);

}  // namespace

run_store::run_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
run_store::~run_store() = default;

const fs::path& run_store::dir() const noexcept { return impl_->dir; }
const std::string& run_store::store_id() const noexcept { return impl_->store_id; }

namespace {

result<std::unique_ptr<run_store::impl>> open_existing(std::unique_ptr<run_store::impl> st,
                                                       const codec::meta_record& marker,
                                                       bool& creation_cut) {
  const auto& dir = st->dir;
  const auto& opts = st->opts;
  std::error_code ec;
  auto options = db_options();
  options.info_log = make_info_log(dir, !opts.read_only);
  options.create_if_missing = false;
  options.create_missing_column_families = false;
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(options, dir.string(), &names);
  if (!s.ok()) {
    creation_cut = true;
    return map_open_status(dir, s);
  }
  for (const char* n : cf_names)
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      creation_cut = true;
      return damaged(dir, std::string{"column family \""} + n +
                              "\" is missing from the MANIFEST: truncated or rewritten metadata");
    }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, options);

  // Read before the database: a writer beside a read-only opener only ever
  // moves it forward after its write reached the WAL this open then reads.
  auto acked = read_acked(dir);
  if (!acked) return std::move(acked).err();

  if (opts.read_only)
    s = rocksdb::DB::OpenForReadOnly(options, dir.string(), cfs, &st->handles, &st->db);
  else
    s = rocksdb::DB::Open(options, dir.string(), cfs, &st->handles, &st->db);
  if (!s.ok()) {
    st->db = nullptr;
    return map_open_status(dir, s);
  }
  if (auto b = bind_handles(*st); !b) return std::move(b).err();

  // Every write acknowledged before must have been recovered. Point-in-time
  // recovery stops quietly at a damaged record and a missing WAL is no error
  // to RocksDB: this is what tells that from a clean end.
  const std::uint64_t recovered = st->db->GetLatestSequenceNumber();
  if (*acked && recovered < **acked)
    return damaged(dir, "acknowledged writes are missing: the database recovers to write sequence " +
                            std::to_string(recovered) + " but writes up to " + std::to_string(**acked) +
                            " were acknowledged (" + acked_name +
                            "); a write-ahead log (*.log) was truncated, damaged or deleted");

  // The meta record: ours, and a schema we understand.
  auto mv = st->get(st->meta, keys::meta_schema);
  if (!mv) return std::move(mv).err();
  if (!*mv) {
    creation_cut = true;
    return damaged(dir, "meta/schema record is missing");
  }
  auto meta = codec::decode_meta(**mv, "meta/schema");
  if (!meta) {
    if (meta.err().code == errc::newer_schema)
      return fail(errc::newer_schema, "store " + dir.string() + ": " + meta.err().reason);
    return damaged(dir, meta.err().reason);
  }
  if (meta->schema_version > schema_version)
    return fail(errc::newer_schema,
                "store " + dir.string() + " has schema version " + std::to_string(meta->schema_version) +
                    ", newer than this codehive understands (" + std::to_string(schema_version) +
                    "); upgrade codehive (" + meta->created_by + " created it)");
  if (meta->schema_version < 1) return damaged(dir, "meta/schema has no valid schema version");
  if (meta->store_id != marker.store_id)
    return damaged(dir, std::string{marker_name} + " names store " + marker.store_id +
                            " but the database is store " + meta->store_id);
  st->store_id = meta->store_id;

  // Say who holds it (RocksDB's LOCK only says that someone does).
  if (!opts.read_only) {
    if (write_file_durably(dir / pid_name, std::to_string(::getpid()) + "\n"))
      st->wrote_pid = true;
    // Unsynced writes may be lost by a crash of the machine, as documented:
    // no record of them to hold the store to (and an old one would be wrong).
    if (!opts.sync) {
      fs::remove(dir / acked_name, ec);
    } else {
      st->acked_fd = ::open((dir / acked_name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (st->acked_fd >= 0 && (!write_acked(st->acked_fd, recovered) || ::fsync(st->acked_fd) != 0)) {
        ::close(st->acked_fd);
        st->acked_fd = -1;
        fs::remove(dir / acked_name, ec);  // no check rather than a stale one
      }
      if (st->acked_fd >= 0) fsync_dir(dir);
    }
  }
  return st;
}

}  // namespace

result<std::unique_ptr<run_store>> run_store::open(const fs::path& dir_in, store_options opts) {
  if (dir_in.empty()) return fail(errc::invalid_argument, "empty store path");
  std::error_code ec;
  fs::path dir = fs::absolute(dir_in, ec);
  if (ec) dir = dir_in;
  dir = dir.lexically_normal();
  if (!dir.has_filename() && dir.has_parent_path()) dir = dir.parent_path();  // "store/"
  std::mt19937_64 rng{std::random_device{}()};

  // A few rounds at most: a creation (ours, or another process's that won the
  // race) or the clearing of an unfinished one changes what the next look sees.
  for (int round = 0; round < 4; ++round) {
    auto sc = scan_dir(dir);
    if (!sc) return std::move(sc).err();
    if (sc->exists && !sc->is_dir)
      return fail(errc::foreign_directory, dir.string() + " exists and is not a directory: not a codehive store");
    if (sc->exists && !sc->has_marker && (sc->other_files || sc->has_current))
      return fail(errc::foreign_directory,
                  dir.string() + " is not empty and has no " + marker_name +
                      " marker: not a codehive store, refusing to touch it (choose another store path)");

    std::optional<codec::meta_record> marker;
    if (sc->has_marker) {
      auto text = read_small_file(dir / marker_name);
      if (!text) return std::move(text).err();
      auto m = codec::decode_meta(*text, marker_name);
      if (!m) {
        if (m.err().code == errc::newer_schema)
          return fail(errc::newer_schema, "store " + dir.string() + ": " + m.err().reason);
        return damaged(dir, marker_name + std::string{" unreadable: "} + m.err().reason);
      }
      if (m->schema_version > schema_version)
        return fail(errc::newer_schema,
                    "store " + dir.string() + " has schema version " + std::to_string(m->schema_version) +
                        " (" + marker_name + "), newer than this codehive understands (" +
                        std::to_string(schema_version) + "); upgrade codehive (" + m->created_by +
                        " created it)");
      if (m->schema_version < 1)
        return damaged(dir, std::string{marker_name} + " has no valid schema version");
      marker = *m;
    }

    // Absent, empty, or only what a creation leaves before RocksDB writes: create.
    if (!sc->exists || (!sc->has_current && !sc->other_files)) {
      if (opts.read_only || !opts.create_if_missing)
        return fail(errc::not_found, "no codehive store at " + dir.string());
      if (auto c = create_whole(dir, marker ? *marker : new_marker(rng), rng); !c)
        return std::move(c).err();
      continue;
    }

    if (!sc->has_current) {
      if (!sc->no_data) return damaged(dir, "CURRENT is missing, RocksDB cannot find its manifest");
    } else {
      auto st = std::make_unique<impl>();
      st->dir = dir;
      st->opts = opts;
      st->wo.sync = opts.sync;
      bool creation_cut = false;
      auto opened = open_existing(std::move(st), *marker, creation_cut);
      if (opened) return std::unique_ptr<run_store>{new run_store(std::move(*opened))};
      if (!creation_cut || !sc->no_data) return std::move(opened).err();
    }

    // A store created in place (as codehive did before it built stores in a
    // temporary folder, and still does where it cannot) whose creation was cut
    // short: only creation's own files, so no run. Finish it: clear them, the
    // marker last so an interruption here is recognised again, and create it.
    if (opts.read_only || !opts.create_if_missing)
      return fail(errc::not_found, "no codehive store at " + dir.string() +
                                       " yet: its creation was interrupted (the next `codehive run` "
                                       "finishes it)");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().filename() != marker_name) files.push_back(e.path());
    for (const auto& f : files) {
      fs::remove(f, ec);
      if (ec) return fail(errc::io_error, "cannot finish the interrupted creation of store " + dir.string() +
                                              ": cannot remove " + f.string() + ": " + ec.message());
    }
    fsync_dir(dir);
  }
  return fail(errc::io_error, "store " + dir.string() +
                                  " kept changing while it was being created (another process creating it?)");
}

// -- runs ----------------------------------------------------------------------------

result<std::string> run_store::create_run(std::string_view request, std::string_view config_json) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  std::string config = config_json.empty() ? std::string{"{}"} : std::string{config_json};
  if (!codec::is_json_object(config))
    return fail(errc::invalid_argument, "run config is not a JSON object");
  std::lock_guard lock{s.mu};
  run_record r;
  for (int i = 0;; ++i) {
    r.id = s.new_run_id();
    auto v = s.get(s.runs, r.id);
    if (!v) return std::move(v).err();
    if (!*v && s.known_runs.count(r.id) == 0) break;
    if (i > 64) return fail(errc::io_error, "cannot find a free run id");
  }
  r.request = std::string{request};
  r.config_json = config;
  r.state = run_state::running;
  r.created_ms = r.updated_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.runs, r.id, codec::encode(r));
  s.put_event(b, r.id, 1, "run_created",
              "{\"id\":" + codec::quote(r.id) + ",\"request\":" + codec::quote(r.request) + "}",
              r.created_ms);
  if (auto c = s.commit(b, "create_run"); !c) return std::move(c).err();
  s.known_runs.insert(r.id);
  s.next_event[r.id] = 2;
  return r.id;
}

result<run_record> run_store::get_run(std::string_view run) const { return impl_->read_run(run); }

result<std::vector<run_record>> run_store::list_runs() const {
  auto& s = *impl_;
  std::vector<run_record> out;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it{s.db->NewIterator(ro, s.runs)};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto r = codec::decode_run(sv(it->value()), "runs/" + show(sv(it->key())));
    if (!r) return std::move(r).err();
    out.push_back(std::move(*r));
  }
  if (!it->status().ok()) return s.from_status(it->status(), "runs scan");
  return out;
}

status run_store::set_run_config(std::string_view run, std::string_view config_json) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  std::lock_guard lock{s.mu};
  auto r = s.read_run(run);
  if (!r) return std::move(r).err();
  std::string config = config_json.empty() ? std::string{"{}"} : std::string{config_json};
  if (!codec::is_json_object(config))
    return fail(errc::invalid_argument, "run config is not a JSON object");
  r->config_json = std::move(config);
  r->updated_ms = now_ms();
  auto rec = codec::encode(*r);
  rocksdb::WriteBatch b;
  b.Put(s.runs, r->id, rec);
  return s.commit(b, "set_run_config");
}

status run_store::set_run_state(std::string_view run, run_state to, std::string_view reason,
                                int exit_code) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  std::lock_guard lock{s.mu};
  auto r = s.read_run(run);
  if (!r) return std::move(r).err();
  run_state from = r->state;
  bool legal = from == run_state::running ? to != run_state::running : to == run_state::running;
  if (!legal)
    return fail(errc::illegal_transition, "run " + std::string{run} + ": " + to_string(from) + " -> " +
                                              to_string(to) + " is not allowed");
  auto seq = s.next_seq(s.next_event, s.events, run);
  if (!seq) return std::move(seq).err();
  r->state = to;
  r->state_reason = std::string{reason};
  r->exit_code = exit_code;
  r->updated_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.runs, r->id, codec::encode(*r));
  s.put_event(b, run, *seq, "run_state",
              std::string{"{\"from\":\""} + to_string(from) + "\",\"to\":\"" + to_string(to) +
                  "\",\"reason\":" + codec::quote(reason) + "}",
              r->updated_ms);
  if (auto c = s.commit(b, "set_run_state"); !c) return c;
  s.known_runs.insert(r->id);
  s.next_event[std::string{run}] = *seq + 1;
  return ok();
}

// -- tasks ---------------------------------------------------------------------------

status run_store::put_plan(std::string_view run, const std::vector<task_spec>& plan) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  if (plan.empty()) return fail(errc::invalid_argument, "empty plan");
  std::set<std::string, std::less<>> ids;
  for (const auto& t : plan) {
    std::string where = "plan task \"" + t.id + "\": ";
    if (t.id.empty() || has_nul(t.id)) return fail(errc::invalid_argument, "plan task with an empty or NUL id");
    if (!ids.insert(t.id).second) return fail(errc::invalid_argument, where + "id appears twice");
    if (t.action != "create" && t.action != "update" && t.action != "delete")
      return fail(errc::invalid_argument, where + "unknown action \"" + t.action + "\"");
    if (t.type != "file" && t.type != "folder")
      return fail(errc::invalid_argument, where + "unknown type \"" + t.type + "\"");
    if (!t.edit.empty() && t.edit != "whole" && t.edit != "html_section" && t.edit != "search_replace")
      return fail(errc::invalid_argument, where + "unknown edit \"" + t.edit + "\"");
    if (t.path.empty() || has_nul(t.path)) return fail(errc::invalid_argument, where + "empty or NUL path");
  }
  std::lock_guard lock{s.mu};
  if (auto r = s.require_run(run); !r) return r;
  std::uint32_t existing = 0;
  if (auto sc = s.scan(s.tasks, keys::run_prefix(run), [&](std::string_view, std::string_view) {
        ++existing;
        return true;
      });
      !sc)
    return sc;
  for (const auto& t : plan) {
    auto v = s.get(s.tasks, keys::task(run, t.id));
    if (!v) return std::move(v).err();
    if (*v)
      return fail(errc::already_exists, "task " + t.id + " already exists in run " + std::string{run});
    for (const auto& d : t.depends_on) {
      if (d == t.id) return fail(errc::invalid_argument, "task " + t.id + " depends on itself");
      if (ids.count(d) > 0) continue;
      auto dv = s.get(s.tasks, keys::task(run, d));
      if (!dv) return std::move(dv).err();
      if (!*dv)
        return fail(errc::invalid_argument, "task " + t.id + " depends on unknown task " + d);
    }
  }
  auto seq = s.next_seq(s.next_event, s.events, run);
  if (!seq) return std::move(seq).err();
  auto at = now_ms();
  rocksdb::WriteBatch b;
  std::string id_list;
  std::uint32_t index = existing;
  for (const auto& t : plan) {
    task_record r;
    r.spec = t;
    r.plan_index = index++;
    r.created_ms = r.updated_ms = at;
    b.Put(s.tasks, keys::task(run, t.id), codec::encode(r));
    id_list += (id_list.empty() ? "" : ",") + codec::quote(t.id);
  }
  s.put_event(b, run, *seq, "plan", "{\"tasks\":[" + id_list + "]}", at);
  if (auto c = s.commit(b, "put_plan"); !c) return c;
  s.next_event[std::string{run}] = *seq + 1;
  return ok();
}

result<task_record> run_store::transition(std::string_view run, std::string_view task,
                                          task_state to, const transition_info& info) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  if (task.empty() || has_nul(task)) return fail(errc::invalid_argument, "bad task id");
  std::lock_guard lock{s.mu};
  if (auto r = s.require_run(run); !r) return std::move(r).err();
  auto t = s.read_task(run, task);
  if (!t) return std::move(t).err();
  task_state from = t->state;
  if (!legal_transition(from, to))
    return fail(errc::illegal_transition, "task " + std::string{task} + " of run " + std::string{run} +
                                              ": " + to_string(from) + " -> " + to_string(to) +
                                              " is not allowed");
  if (to == task_state::done && !info.file_hash.empty()) {
    auto hb = s.has_blob(info.file_hash);
    if (!hb) return std::move(hb).err();
    if (!*hb)
      return fail(errc::invalid_argument, "task " + std::string{task} + ": file version " +
                                              info.file_hash + " is not in the store");
  }
  auto seq = s.next_seq(s.next_event, s.events, run);
  if (!seq) return std::move(seq).err();
  auto at = now_ms();
  auto& r = *t;
  r.state = to;
  r.updated_ms = at;
  switch (to) {
    case task_state::assigned:
      ++r.attempts;
      r.worker = info.worker;
      r.assigned_ms = at;
      break;
    case task_state::done:
      r.finished_ms = at;
      r.file_hash = info.file_hash;
      break;
    case task_state::failed:
      r.finished_ms = at;
      r.last_error_code = info.error_code;
      break;
    case task_state::pending:
      break;
  }
  if (!info.reason.empty() || to == task_state::failed) r.last_reason = info.reason;
  task_transition h;
  h.from = from;
  h.to = to;
  h.at_ms = at;
  h.attempt = r.attempts;
  h.worker = info.worker;
  h.reason = info.reason;
  h.error_code = info.error_code;
  r.history.push_back(h);

  std::string data = "{\"task\":" + codec::quote(task) + ",\"from\":\"" + to_string(from) +
                     "\",\"to\":\"" + to_string(to) + "\",\"attempt\":" + std::to_string(r.attempts);
  if (!info.worker.empty()) data += ",\"worker\":" + codec::quote(info.worker);
  if (!info.reason.empty()) data += ",\"reason\":" + codec::quote(info.reason);
  if (!info.error_code.empty()) data += ",\"error_code\":" + codec::quote(info.error_code);
  if (!info.file_hash.empty()) data += ",\"file_hash\":" + codec::quote(info.file_hash);
  data += "}";
  rocksdb::WriteBatch b;
  b.Put(s.tasks, keys::task(run, task), codec::encode(r));
  s.put_event(b, run, *seq, "task", data, at);
  if (auto c = s.commit(b, "transition"); !c) return std::move(c).err();
  s.next_event[std::string{run}] = *seq + 1;
  return std::move(*t);
}

result<task_record> run_store::get_task(std::string_view run, std::string_view task) const {
  if (task.empty() || has_nul(task)) return fail(errc::invalid_argument, "bad task id");
  return impl_->read_task(run, task);
}

// -- files ---------------------------------------------------------------------------

namespace {
status check_path(std::string_view path) {
  if (path.empty() || has_nul(path)) return fail(errc::invalid_argument, "empty or NUL file path");
  return ok();
}
}  // namespace

result<std::string> run_store::put_file_version(std::string_view run, std::string_view path,
                                                std::string_view content, const file_meta& meta) {
  auto f = put_file(run, path, content, meta);
  if (!f) return std::move(f).err();
  return std::move(f->hash);
}

result<file_version> run_store::put_file(std::string_view run, std::string_view path,
                                         std::string_view content, const file_meta& meta) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  if (auto p = check_path(path); !p) return std::move(p).err();
  auto hash = sha256_hex(content);
  std::lock_guard lock{s.mu};
  if (auto r = s.require_run(run); !r) return std::move(r).err();
  auto cur = s.read_current(run, path);
  if (!cur) return std::move(cur).err();
  if (*cur && !(*cur)->deleted && (*cur)->hash == hash) return std::move(**cur);  // unchanged
  auto hb = s.has_blob(hash);
  if (!hb) return std::move(hb).err();
  auto seq = s.next_seq(s.next_event, s.events, run);
  if (!seq) return std::move(seq).err();
  file_version f;
  f.path = std::string{path};
  f.version = *cur ? (*cur)->version + 1 : 1;
  f.hash = hash;
  f.size = content.size();
  f.task_id = meta.task_id;
  f.summary = meta.summary;
  f.at_ms = now_ms();
  auto rec = codec::encode(f);
  rocksdb::WriteBatch b;
  if (!*hb) b.Put(s.files, keys::blob(hash), rocksdb::Slice{content.data(), content.size()});
  b.Put(s.files, keys::version(run, path, f.version), rec);
  b.Put(s.files, keys::current(run, path), rec);
  s.put_event(b, run, *seq, "file",
              "{\"path\":" + codec::quote(path) + ",\"version\":" + std::to_string(f.version) +
                  ",\"hash\":\"" + hash + "\",\"size\":" + std::to_string(f.size) +
                  ",\"task\":" + codec::quote(meta.task_id) + "}",
              f.at_ms);
  if (auto c = s.commit(b, "put_file_version"); !c) return std::move(c).err();
  s.next_event[std::string{run}] = *seq + 1;
  return f;
}

status run_store::set_summary(std::string_view run, std::string_view path,
                              std::string_view summary) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  if (auto p = check_path(path); !p) return std::move(p).err();
  std::lock_guard lock{s.mu};
  if (auto r = s.require_run(run); !r) return r;
  auto cur = s.read_current(run, path);
  if (!cur) return std::move(cur).err();
  if (!*cur || (*cur)->deleted)
    return fail(errc::not_found, "no file " + std::string{path} + " in run " + std::string{run});
  auto f = std::move(**cur);
  if (f.summary == summary) return ok();
  f.summary = std::string{summary};
  auto rec = codec::encode(f);
  // Both keys hold the same record; no event: a summary is not a state change.
  rocksdb::WriteBatch b;
  b.Put(s.files, keys::version(run, path, f.version), rec);
  b.Put(s.files, keys::current(run, path), rec);
  return s.commit(b, "set_summary");
}

result<std::optional<std::string>> run_store::cached_summary(std::string_view hash) const {
  auto& s = *impl_;
  auto key = keys::summary(hash);
  auto v = s.get(s.files, key);
  if (!v) return std::move(v).err();
  if (!*v) return std::optional<std::string>{};
  auto summary = codec::decode_summary(**v, "files/s/" + std::string{hash});
  if (!summary) return std::move(summary).err();
  return std::optional<std::string>{std::move(*summary)};
}

status run_store::put_cached_summary(std::string_view hash, std::string_view summary) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  if (hash.empty() || summary.empty()) return fail(errc::invalid_argument, "a cached summary needs a hash and a line");
  std::lock_guard lock{s.mu};
  // No event: the cache belongs to no run and changes no state.
  rocksdb::WriteBatch b;
  b.Put(s.files, keys::summary(hash), codec::encode_summary(summary, now_ms()));
  return s.commit(b, "put_cached_summary");
}

result<file_version> run_store::delete_file(std::string_view run, std::string_view path,
                                            const file_meta& meta) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  if (auto p = check_path(path); !p) return std::move(p).err();
  std::lock_guard lock{s.mu};
  if (auto r = s.require_run(run); !r) return std::move(r).err();
  auto cur = s.read_current(run, path);
  if (!cur) return std::move(cur).err();
  if (!*cur || (*cur)->deleted)
    return fail(errc::not_found, "no file " + std::string{path} + " in run " + std::string{run});
  auto seq = s.next_seq(s.next_event, s.events, run);
  if (!seq) return std::move(seq).err();
  file_version f;
  f.path = std::string{path};
  f.version = (*cur)->version + 1;
  f.deleted = true;
  f.task_id = meta.task_id;
  f.summary = meta.summary;
  f.at_ms = now_ms();
  auto rec = codec::encode(f);
  rocksdb::WriteBatch b;
  b.Put(s.files, keys::version(run, path, f.version), rec);
  b.Put(s.files, keys::current(run, path), rec);
  s.put_event(b, run, *seq, "file",
              "{\"path\":" + codec::quote(path) + ",\"version\":" + std::to_string(f.version) +
                  ",\"deleted\":true,\"task\":" + codec::quote(meta.task_id) + "}",
              f.at_ms);
  if (auto c = s.commit(b, "delete_file"); !c) return std::move(c).err();
  s.next_event[std::string{run}] = *seq + 1;
  return f;
}

result<file_content> run_store::get_file(std::string_view run, std::string_view path) const {
  auto& s = *impl_;
  if (auto p = check_path(path); !p) return std::move(p).err();
  snapshot snap{s.db};
  auto cur = s.read_current(run, path, snap.ro());
  if (!cur) return std::move(cur).err();
  if (!*cur) {
    if (auto r = s.read_run(run, snap.ro()); !r) return std::move(r).err();
    return fail(errc::not_found, "no file " + std::string{path} + " in run " + std::string{run});
  }
  if ((*cur)->deleted)
    return fail(errc::not_found, "file " + std::string{path} + " of run " + std::string{run} +
                                     " was deleted in version " + std::to_string((*cur)->version));
  auto blob = s.get(s.files, keys::blob((*cur)->hash), snap.ro());
  if (!blob) return std::move(blob).err();
  if (!*blob)
    return fail(errc::corrupt, "store " + s.dir.string() + ": blob " + (*cur)->hash + " of " +
                                   std::string{path} + " (run " + std::string{run} + ") is missing");
  return file_content{std::move(**cur), std::move(**blob)};
}

result<std::vector<file_version>> run_store::list_files(std::string_view run,
                                                        bool include_deleted) const {
  auto& s = *impl_;
  snapshot snap{s.db};
  if (auto r = s.read_run(run, snap.ro()); !r) return std::move(r).err();
  std::vector<file_version> out;
  auto sc = s.scan_records(
      s.files, keys::current_prefix(run), codec::decode_file_version,
      [&](file_version f) {
        if (include_deleted || !f.deleted) out.push_back(std::move(f));
        return true;
      },
      snap.ro());
  if (!sc) return std::move(sc).err();
  return out;
}

result<std::vector<file_version>> run_store::file_history(std::string_view run,
                                                          std::string_view path) const {
  auto& s = *impl_;
  if (auto p = check_path(path); !p) return std::move(p).err();
  snapshot snap{s.db};
  if (auto r = s.read_run(run, snap.ro()); !r) return std::move(r).err();
  std::vector<file_version> out;
  auto sc = s.scan_records(
      s.files, keys::version_path_prefix(run, path), codec::decode_file_version,
      [&](file_version f) {
        out.push_back(std::move(f));
        return true;
      },
      snap.ro());
  if (!sc) return std::move(sc).err();
  return out;
}

result<std::string> run_store::get_blob(std::string_view hash) const {
  auto& s = *impl_;
  auto v = s.get(s.files, keys::blob(hash));
  if (!v) return std::move(v).err();
  if (!*v) return fail(errc::not_found, "no blob " + std::string{hash});
  return std::move(**v);
}

// -- reviews, ledger, events --------------------------------------------------------

status run_store::put_review_round(std::string_view run, const review_round& round) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  if (round.round < 1) return fail(errc::invalid_argument, "review rounds start at 1");
  review_round r = round;
  if (r.findings_json.empty()) r.findings_json = "[]";
  if (!codec::is_json(r.findings_json))
    return fail(errc::invalid_argument, "review findings are not JSON");
  std::lock_guard lock{s.mu};
  if (auto q = s.require_run(run); !q) return q;
  auto seq = s.next_seq(s.next_event, s.events, run);
  if (!seq) return std::move(seq).err();
  r.at_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.reviews, keys::review(run, r.round), codec::encode(r));
  s.put_event(b, run, *seq, "review",
              "{\"round\":" + std::to_string(r.round) + ",\"issues\":" +
                  std::to_string(r.issues.size()) + "}",
              r.at_ms);
  if (auto c = s.commit(b, "put_review_round"); !c) return c;
  s.next_event[std::string{run}] = *seq + 1;
  return ok();
}

namespace {
void add(ledger_totals& t, const ledger_entry& e) {
  ++t.calls;
  if (e.outcome != "ok") ++t.failed_calls;
  t.prompt_tokens += e.use.prompt_tokens;
  t.completion_tokens += e.use.completion_tokens;
  t.latency_ms += e.use.latency.count();
  t.cost_usd += e.use.cost_usd;
}
}  // namespace

result<ledger_totals> run_store::ledger_total(std::string_view run) const {
  auto& s = *impl_;
  std::lock_guard lock{s.mu};  // no append can slip between the scan and the cache
  if (auto it = s.ledger_sums.find(run); it != s.ledger_sums.end()) return it->second;
  if (auto r = s.read_run(run); !r) return std::move(r).err();
  ledger_totals t;
  auto sc = s.scan_records(s.ledger, keys::run_prefix(run), codec::decode_ledger,
                           [&](ledger_entry e) {
                             add(t, e);
                             return true;
                           });
  if (!sc) return std::move(sc).err();
  if (!s.opts.read_only) s.ledger_sums.emplace(std::string{run}, t);  // a read-only store sees no appends
  return t;
}

result<std::uint64_t> run_store::append_ledger(std::string_view run, const ledger_entry& entry) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  if (entry.outcome != "ok" && entry.outcome != "error")
    return fail(errc::invalid_argument, "ledger outcome must be \"ok\" or \"error\", not \"" + entry.outcome + "\"");
  std::lock_guard lock{s.mu};
  if (auto q = s.require_run(run); !q) return std::move(q).err();
  auto seq = s.next_seq(s.next_ledger, s.ledger, run);
  if (!seq) return std::move(seq).err();
  ledger_entry e = entry;
  e.seq = *seq;
  e.at_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.ledger, keys::seq_key(run, e.seq), codec::encode(e));
  if (auto c = s.commit(b, "append_ledger"); !c) return std::move(c).err();
  s.next_ledger[std::string{run}] = *seq + 1;
  if (auto it = s.ledger_sums.find(run); it != s.ledger_sums.end()) add(it->second, e);
  return e.seq;
}

result<std::vector<ledger_entry>> run_store::read_ledger(std::string_view run) const {
  auto& s = *impl_;
  snapshot snap{s.db};
  if (auto r = s.read_run(run, snap.ro()); !r) return std::move(r).err();
  std::vector<ledger_entry> out;
  auto sc = s.scan_records(
      s.ledger, keys::run_prefix(run), codec::decode_ledger,
      [&](ledger_entry e) {
        out.push_back(std::move(e));
        return true;
      },
      snap.ro());
  if (!sc) return std::move(sc).err();
  return out;
}

result<std::uint64_t> run_store::append_event(std::string_view run, std::string_view type,
                                              std::string_view data_json) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  if (type.empty()) return fail(errc::invalid_argument, "empty event type");
  std::string data = data_json.empty() ? std::string{"null"} : std::string{data_json};
  if (!codec::is_json(data)) return fail(errc::invalid_argument, "event data is not JSON");
  std::lock_guard lock{s.mu};
  if (auto q = s.require_run(run); !q) return std::move(q).err();
  auto seq = s.next_seq(s.next_event, s.events, run);
  if (!seq) return std::move(seq).err();
  rocksdb::WriteBatch b;
  s.put_event(b, run, *seq, type, data, now_ms());
  if (auto c = s.commit(b, "append_event"); !c) return std::move(c).err();
  s.next_event[std::string{run}] = *seq + 1;
  return *seq;
}

result<std::vector<event>> run_store::read_events(std::string_view run, std::uint64_t from_seq,
                                                  std::size_t max) const {
  auto& s = *impl_;
  snapshot snap{s.db};
  if (auto r = s.read_run(run, snap.ro()); !r) return std::move(r).err();
  std::vector<event> out;
  if (max == 0) return out;
  auto sc = s.scan_records(
      s.events, keys::run_prefix(run), codec::decode_event,
      [&](event e) {
        out.push_back(std::move(e));
        return out.size() < max;
      },
      snap.ro(), keys::seq_key(run, from_seq));
  if (!sc) return std::move(sc).err();
  return out;
}

// -- whole run ---------------------------------------------------------------------

result<run_snapshot> run_store::load_run(std::string_view run) const {
  auto& s = *impl_;
  snapshot snap{s.db};
  const auto& ro = snap.ro();
  run_snapshot out;
  auto r = s.read_run(run, ro);
  if (!r) return std::move(r).err();
  out.run = std::move(*r);
  auto into = [](auto& records) {
    return [&records](auto record) {
      records.push_back(std::move(record));
      return true;
    };
  };
  auto prefix = keys::run_prefix(run);
  auto sc = s.scan_records(s.tasks, prefix, codec::decode_task, into(out.tasks), ro);
  if (!sc) return std::move(sc).err();
  std::stable_sort(out.tasks.begin(), out.tasks.end(),
                   [](const task_record& a, const task_record& b) { return a.plan_index < b.plan_index; });
  sc = s.scan_records(s.files, keys::current_prefix(run), codec::decode_file_version, into(out.files), ro);
  if (!sc) return std::move(sc).err();
  sc = s.scan_records(s.reviews, prefix, codec::decode_review, into(out.rounds), ro);
  if (!sc) return std::move(sc).err();
  sc = s.scan_records(
      s.ledger, prefix, codec::decode_ledger,
      [&](const ledger_entry& e) {
        add(out.ledger_total, e);
        add(out.ledger_by_role[e.use.role], e);
        add(out.ledger_by_model[e.use.model], e);
        return true;
      },
      ro);
  if (!sc) return std::move(sc).err();
  auto last = s.last_seq(s.events, run, ro);
  if (!last) return std::move(last).err();
  out.last_event_seq = *last;
  return out;
}

result<std::vector<fsck_problem>> run_store::fsck(std::string_view run) const {
  auto& s = *impl_;
  snapshot snap{s.db};
  const auto& ro = snap.ro();
  std::vector<fsck_problem> problems;
  auto problem = [&](std::string kind, std::string where, std::string detail) {
    problems.push_back({std::move(kind), std::move(where), std::move(detail)});
  };
  auto r = s.read_run(run, ro);
  if (!r) {
    if (r.err().code == errc::not_found || r.err().code == errc::invalid_argument) return std::move(r).err();
    problem("bad_record", "runs/" + std::string{run}, r.err().reason);
  }
  auto scan_status = [&](const status& st, const char* what) {
    if (!st) problem("read_error", what, st.err().describe());
  };
  std::string runs{run};

  // Blobs: present, and content matching its hash (each checked once).
  std::map<std::string, bool> blob_ok;  // hash -> present and intact
  auto check_blob = [&](const std::string& hash, const std::string& where) {
    auto it = blob_ok.find(hash);
    if (it == blob_ok.end()) {
      auto v = s.get(s.files, keys::blob(hash), ro);
      bool good = false;
      if (!v)
        problem("read_error", "files/b/" + hash, v.err().describe());
      else if (!*v)
        problem("dangling_blob", where, "names blob " + hash + ", which is not in the store");
      else if (sha256_hex(**v) != hash)
        problem("blob_corrupt", "files/b/" + hash, "content does not match its hash");
      else
        good = true;
      it = blob_ok.emplace(hash, good).first;
    }
    return it->second;
  };

  // Versions and current pointers.
  std::map<std::string, std::set<std::uint64_t>> versions;  // path -> versions present
  std::map<std::string, file_version> current;
  auto vprefix = keys::version_prefix(run);
  scan_status(s.scan(
                  s.files, vprefix,
                  [&](std::string_view k, std::string_view v) {
                    std::string where = "files/" + show(k);
                    auto f = codec::decode_file_version(v, where);
                    if (!f) {
                      problem("bad_record", where, f.err().reason);
                      return true;
                    }
                    auto tail = k.substr(vprefix.size());
                    if (tail.size() < 9 || tail[tail.size() - 9] != '\0' ||
                        tail.substr(0, tail.size() - 9) != f->path ||
                        keys::get_be(tail.substr(tail.size() - 8)) != f->version)
                      problem("bad_record", where, "key does not match the record's path/version");
                    versions[f->path].insert(f->version);
                    if (!f->deleted) check_blob(f->hash, where);
                    return true;
                  },
                  ro),
              "files/v");
  scan_status(s.scan(
                  s.files, keys::current_prefix(run),
                  [&](std::string_view k, std::string_view v) {
                    std::string where = "files/" + show(k);
                    auto f = codec::decode_file_version(v, where);
                    if (!f) {
                      problem("bad_record", where, f.err().reason);
                      return true;
                    }
                    if (versions[f->path].count(f->version) == 0)
                      problem("dangling_current", where,
                              "points at version " + std::to_string(f->version) + ", which is not in the index");
                    if (!f->deleted) check_blob(f->hash, where);
                    current.emplace(f->path, *f);
                    return true;
                  },
                  ro),
              "files/c");

  // Tasks: legal states and histories, done tasks have their file.
  std::map<std::string, task_record> tasks;
  auto tprefix = keys::run_prefix(run);
  scan_status(s.scan(
                  s.tasks, tprefix,
                  [&](std::string_view k, std::string_view v) {
                    std::string where = "tasks/" + show(k);
                    auto t = codec::decode_task(v, where);
                    if (!t) {
                      problem("bad_record", where, t.err().reason);
                      return true;
                    }
                    if (k.substr(tprefix.size()) != t->spec.id)
                      problem("bad_record", where, "key does not match task id " + t->spec.id);
                    tasks.emplace(t->spec.id, std::move(*t));
                    return true;
                  },
                  ro),
              "tasks");
  for (const auto& [id, t] : tasks) {
    std::string where = "tasks/" + runs + "/" + id;
    task_state at = task_state::pending;
    int assigns = 0;
    for (const auto& h : t.history) {
      if (h.from != at || !legal_transition(h.from, h.to))
        problem("illegal_state", where,
                std::string{"history has "} + to_string(h.from) + " -> " + to_string(h.to) +
                    " while the task was " + to_string(at));
      if (h.to == task_state::assigned) ++assigns;
      at = h.to;
    }
    if (at != t.state)
      problem("illegal_state", where,
              std::string{"state is "} + to_string(t.state) + " but its history ends in " + to_string(at));
    if (assigns != t.attempts)
      problem("illegal_state", where,
              "attempts is " + std::to_string(t.attempts) + " but it was assigned " +
                  std::to_string(assigns) + " times");
    for (const auto& d : t.spec.depends_on)
      if (tasks.count(d) == 0) problem("unknown_dependency", where, "depends on unknown task " + d);
    if (t.state != task_state::done) continue;
    if (!t.file_hash.empty()) {
      check_blob(t.file_hash, where);
    } else if (t.spec.type == "file" && t.spec.action != "delete") {
      auto it = current.find(t.spec.path);
      if (it == current.end() || it->second.deleted)
        problem("task_file_missing", where, "task is done but " + t.spec.path + " has no current version");
    }
  }

  // Events and ledger: sequences 1..n without gaps, keys matching records.
  auto check_log = [&](rocksdb::ColumnFamilyHandle* cf, const char* name, bool is_event) {
    std::uint64_t expect = 1;
    auto prefix = keys::run_prefix(run);
    scan_status(s.scan(
                    cf, prefix,
                    [&](std::string_view k, std::string_view v) {
                      std::string where = std::string{name} + "/" + show(k);
                      if (k.size() != prefix.size() + 8) {
                        problem("bad_record", where, "malformed key");
                        return true;
                      }
                      auto seq = keys::get_be(k.substr(prefix.size()));
                      if (seq != expect)
                        problem(std::string{name} + "_gap", std::string{name} + "/" + runs + "#" + std::to_string(seq),
                                "expected sequence " + std::to_string(expect) + ", found " + std::to_string(seq));
                      expect = seq + 1;
                      std::uint64_t inner = 0;
                      if (is_event) {
                        auto e = codec::decode_event(v, where);
                        if (!e) return problem("bad_record", where, e.err().reason), true;
                        inner = e->seq;
                      } else {
                        auto e = codec::decode_ledger(v, where);
                        if (!e) return problem("bad_record", where, e.err().reason), true;
                        inner = e->seq;
                      }
                      if (inner != seq)
                        problem("bad_record", where, "record says sequence " + std::to_string(inner));
                      return true;
                    },
                    ro),
                name);
  };
  check_log(s.events, "events", true);
  check_log(s.ledger, "ledger", false);
  scan_status(s.scan(
                  s.reviews, keys::run_prefix(run),
                  [&](std::string_view k, std::string_view v) {
                    std::string where = "reviews/" + show(k);
                    if (auto rv = codec::decode_review(v, where); !rv) problem("bad_record", where, rv.err().reason);
                    return true;
                  },
                  ro),
              "reviews");

  // Every block of every SST file against its checksum.
  if (auto cs = s.db->VerifyChecksum(); !cs.ok()) problem("checksum", s.dir.string(), cs.ToString());
  // The metadata RocksDB reads at the next open: the MANIFEST (via CURRENT)
  // replayed record by record, and every OPTIONS file parsed.
  // Then the store opened again as the next command would (a second,
  // read-only instance: no lock), to find a WAL that lost acknowledged
  // writes since this one opened. A writer beside us (compactions deleting
  // files, a new MANIFEST) can fail one attempt: damage fails every one.
  for (int attempt = 1;; ++attempt) {
    std::optional<fsck_problem> found;
    auto note = [&](std::string kind, std::string detail) {
      found = fsck_problem{std::move(kind), s.dir.string(), std::move(detail)};
    };
    auto acked = read_acked(s.dir);
    std::vector<std::string> names;
    auto options = db_options();
    options.info_log = make_info_log(s.dir, false);
    rocksdb::Status ls;
    if (!acked) {
      note("wal", acked.err().reason);
    } else if (ls = rocksdb::DB::ListColumnFamilies(options, s.dir.string(), &names); !ls.ok()) {
      note("manifest", ls.ToString());
    } else {
      std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
      for (const auto& n : names) cfs.emplace_back(n, options);
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      rocksdb::DB* again = nullptr;
      auto os = rocksdb::DB::OpenForReadOnly(options, s.dir.string(), cfs, &handles, &again);
      if (!os.ok()) {
        note(os.ToString().find("MANIFEST") != std::string::npos ? "manifest" : "wal",
             "the store would not open again: " + os.ToString());
      } else {
        auto recovered = again->GetLatestSequenceNumber();
        if (*acked && recovered < **acked)
          note("wal", "acknowledged writes are missing: the store would recover to write sequence " +
                          std::to_string(recovered) + " but writes up to " + std::to_string(**acked) +
                          " were acknowledged; a write-ahead log (*.log) was truncated, damaged or "
                          "deleted");
        for (auto* h : handles) again->DestroyColumnFamilyHandle(h);
        again->Close();
        delete again;
      }
    }
    if (!found) break;
    if (attempt == 5) {
      problems.push_back(std::move(*found));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(s.dir, ec)) {
    auto name = e.path().filename().string();
    if (!name.starts_with("OPTIONS-") || name.ends_with(".dbtmp")) continue;
    rocksdb::ConfigOptions co;
    co.ignore_unknown_options = true;  // a newer RocksDB's options are no damage
    rocksdb::DBOptions dbo;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfd;
    auto ls = rocksdb::LoadOptionsFromFile(co, e.path().string(), &dbo, &cfd);
    if (!ls.ok()) problem("options", e.path().string(), ls.ToString());
  }
  if (ec) problem("read_error", s.dir.string(), "cannot list the store folder: " + ec.message());
  return problems;
}

write_timings run_store::write_stats() const noexcept { return impl_->writes_timed.read(); }

status run_store::flush() {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  auto st = s.db->Flush(fo, s.handles);
  if (!st.ok()) return s.from_status(st, "flush");
  return ok();
}

}  // namespace codehive::store
