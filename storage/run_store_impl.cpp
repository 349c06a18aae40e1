// The reads and writes every part of the run store shares.
#include "storage/run_store_impl.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>

namespace codehive::store {

namespace fs = std::filesystem;
using namespace detail;

run_store::impl::~impl() {
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

// -- errors ----------------------------------------------------------------------

error run_store::impl::from_status(const rocksdb::Status& s, std::string_view what) const {
  if (s.IsCorruption())
    return fail(errc::corrupt, "store " + dir.string() + " is corrupt (" + std::string{what} + "): " + s.ToString());
  if (s.IsNotFound()) return fail(errc::not_found, std::string{what} + ": not found");
  return fail(errc::io_error, "store " + dir.string() + " (" + std::string{what} + "): " + s.ToString());
}

status run_store::impl::writable() const {
  if (opts.read_only) return fail(errc::read_only, "store " + dir.string() + " is open read-only");
  return ok();
}

// -- writes ----------------------------------------------------------------------

status run_store::impl::commit(rocksdb::WriteBatch& b, std::string_view what, bool sync) {
  if (write_failure)
    return fail(write_failure->code, "store " + dir.string() + " takes no more writes (" + std::string{what} +
                                         ") since one failed: " + write_failure->reason);
  auto t0 = std::chrono::steady_clock::now();
  auto options = wo;
  options.sync = wo.sync && sync;
  auto s = db->Write(options, &b);
  writes_timed.record(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
  if (!s.ok()) {
    auto e = from_status(s, what);
    if (e.code == errc::not_found) e.code = errc::io_error;
    write_failure = fail(e.code, e.reason + "; free space (or fix the disk) and resume the run");
    return e;
  }
  // An unsynced write is not acknowledged as durable: a machine crash may
  // lose it, and codehive.acked must never name more than the synced WAL holds.
  if (options.sync) record_ack();
  return ok();
}

result<std::uint64_t> run_store::impl::commit_with_event(rocksdb::WriteBatch& b, std::string_view run,
                                                         std::string_view type, std::string_view data_json,
                                                         std::int64_t at, std::string_view what) {
  return commit_with_events(b, run, type, {std::string{data_json}}, at, what);
}

result<std::uint64_t> run_store::impl::commit_with_events(rocksdb::WriteBatch& b, std::string_view run,
                                                          std::string_view type,
                                                          const std::vector<std::string>& data_json, std::int64_t at,
                                                          std::string_view what) {
  auto first = next_seq(next_event, events, run);
  if (!first) return std::move(first).err();
  auto seq = *first;
  for (const auto& data : data_json) put_event(b, run, seq++, type, data, at);
  if (auto c = commit(b, what); !c) return std::move(c).err();
  next_event[std::string{run}] = seq;
  return *first;
}

/// Its sequence goes into codehive.acked, rewritten in place (fixed width,
/// one sector: never torn) and not synced. The WAL was synced before, so
/// whatever value of this file survives a crash is covered by the durable
/// WAL; a database that recovers to less lost acknowledged writes (a
/// truncated, damaged or deleted WAL), which RocksDB's point-in-time
/// recovery alone would not say. One pwrite: microseconds beside the fsync.
void run_store::impl::record_ack() {
  if (acked_fd < 0) return;
  write_acked(acked_fd, db->GetLatestSequenceNumber());
}

void run_store::impl::put_event(rocksdb::WriteBatch& b, std::string_view run, std::uint64_t seq,
                                std::string_view type, std::string_view data_json, std::int64_t at) {
  event e;
  e.seq = seq;
  e.type = std::string{type};
  e.data_json = std::string{data_json};
  e.at_ms = at;
  b.Put(events, keys::seq_key(run, seq), codec::encode(e));
}

void run_store::impl::put_file_version(rocksdb::WriteBatch& b, std::string_view run, std::string_view path,
                                       const file_version& f) {
  auto rec = codec::encode(f);
  b.Put(files, keys::version(run, path, f.version), rec);
  b.Put(files, keys::current(run, path), rec);
}

// -- reads -----------------------------------------------------------------------

result<std::optional<std::string>> run_store::impl::get(rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                                                        const rocksdb::ReadOptions& ro) const {
  std::string v;
  auto s = db->Get(ro, cf, rocksdb::Slice{key.data(), key.size()}, &v);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return from_status(s, cf->GetName() + "/" + show(key));
  return std::optional<std::string>{std::move(v)};
}

result<std::uint64_t> run_store::impl::last_seq(rocksdb::ColumnFamilyHandle* cf, std::string_view run,
                                                const rocksdb::ReadOptions& base) const {
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

result<run_record> run_store::impl::read_run(std::string_view run, const rocksdb::ReadOptions& ro) const {
  if (run.empty() || has_nul(run)) return fail(errc::invalid_argument, "bad run id");
  auto v = get(runs, run, ro);
  if (!v) return std::move(v).err();
  if (!*v) return fail(errc::not_found, "no run " + std::string{run} + " in store " + dir.string());
  return codec::decode_run(**v, "runs/" + std::string{run});
}

status run_store::impl::require_run(std::string_view run) {
  if (known_runs.count(run) > 0) return ok();
  auto r = read_run(run);
  if (!r) return std::move(r).err();
  known_runs.emplace(run);
  return ok();
}

result<std::uint64_t> run_store::impl::next_seq(std::map<std::string, std::uint64_t, std::less<>>& cache,
                                                rocksdb::ColumnFamilyHandle* cf, std::string_view run) {
  if (auto it = cache.find(run); it != cache.end()) return it->second;
  auto last = last_seq(cf, run);
  if (!last) return std::move(last).err();
  cache.emplace(std::string{run}, *last + 1);
  return *last + 1;
}

result<task_record> run_store::impl::read_task(std::string_view run, std::string_view task,
                                               const rocksdb::ReadOptions& ro) const {
  auto v = get(tasks, keys::task(run, task), ro);
  if (!v) return std::move(v).err();
  if (!*v) return fail(errc::not_found, "no task " + std::string{task} + " in run " + std::string{run});
  return codec::decode_task(**v, "tasks/" + std::string{run} + "/" + std::string{task});
}

result<std::optional<file_version>> run_store::impl::read_current(std::string_view run, std::string_view path,
                                                                  const rocksdb::ReadOptions& ro) const {
  auto v = get(files, keys::current(run, path), ro);
  if (!v) return std::move(v).err();
  if (!*v) return std::optional<file_version>{};
  auto f = codec::decode_file_version(**v, "files/c/" + std::string{run} + "/" + std::string{path});
  if (!f) return std::move(f).err();
  return std::optional<file_version>{std::move(*f)};
}

result<bool> run_store::impl::has_blob(std::string_view hash, const rocksdb::ReadOptions& ro) const {
  std::string v;
  auto key = keys::blob(hash);
  auto s = db->Get(ro, files, key, &v);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return from_status(s, "files/b/" + std::string{hash});
  return true;
}

std::string run_store::impl::new_run_id() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S-", &tm);
  return std::string{buf} + hex(rng() & 0xffff, 4);
}

}  // namespace codehive::store
