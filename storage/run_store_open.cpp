// Opening a store: the marker and the database checked against each other and
// against what was acknowledged before, and an interrupted creation finished.
#include "storage/run_store_impl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace codehive::store {

namespace fs = std::filesystem;
using namespace detail;

namespace {

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

/// Opens a store whose folder has CURRENT. `creation_cut` is set when the
/// refusal is one an interrupted in-place creation causes (the manifest or a
/// column family or the meta record missing), for open() to judge.
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

run_store::run_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
run_store::~run_store() = default;

const fs::path& run_store::dir() const noexcept { return impl_->dir; }
const std::string& run_store::store_id() const noexcept { return impl_->store_id; }

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
