// Creating a store: built whole in a temporary sibling folder and renamed into
// place, so that every later open sees it absent or whole.
#include "storage/run_store_impl.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace codehive::store::detail {

namespace fs = std::filesystem;

namespace {

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

}  // namespace

void creation_step(const char* step) {
  const char* at = std::getenv("CODEHIVE_STORE_CREATE_KILL_AT");
  if (at != nullptr && std::strcmp(at, step) == 0) ::kill(::getpid(), SIGKILL);
}

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

}  // namespace codehive::store::detail
