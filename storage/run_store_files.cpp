// File versions (content deduplicated by hash in blobs), delete markers, the
// summary of each version and the summaries cached by content.
#include "storage/run_store_impl.hpp"

namespace codehive::store {

using namespace detail;

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
  file_version f;
  f.path = std::string{path};
  f.version = *cur ? (*cur)->version + 1 : 1;
  f.hash = hash;
  f.size = content.size();
  f.task_id = meta.task_id;
  f.summary = meta.summary;
  f.at_ms = now_ms();
  rocksdb::WriteBatch b;
  if (!*hb) b.Put(s.files, keys::blob(hash), rocksdb::Slice{content.data(), content.size()});
  s.put_file_version(b, run, path, f);
  std::string data = "{\"path\":" + codec::quote(path) + ",\"version\":" + std::to_string(f.version) +
                     ",\"hash\":\"" + hash + "\",\"size\":" + std::to_string(f.size) +
                     ",\"task\":" + codec::quote(meta.task_id) + "}";
  if (auto c = s.commit_with_event(b, run, "file", data, f.at_ms, "put_file_version"); !c)
    return std::move(c).err();
  return f;
}

status run_store::set_summary(std::string_view run, std::string_view path,
                              std::string_view summary) {
  return write_summary(run, path, summary, false);
}

status run_store::set_summary_and_cache(std::string_view run, std::string_view path, std::string_view summary) {
  return write_summary(run, path, summary, true);
}

status run_store::write_summary(std::string_view run, std::string_view path, std::string_view summary, bool cache) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  if (auto p = check_path(path); !p) return std::move(p).err();
  if (cache && summary.empty()) return fail(errc::invalid_argument, "a cached summary needs a line");
  std::lock_guard lock{s.mu};
  if (auto r = s.require_run(run); !r) return r;
  auto cur = s.read_current(run, path);
  if (!cur) return std::move(cur).err();
  if (!*cur || (*cur)->deleted)
    return fail(errc::not_found, "no file " + std::string{path} + " in run " + std::string{run});
  auto f = std::move(**cur);
  rocksdb::WriteBatch b;
  bool changed = f.summary != summary;
  if (changed) {
    f.summary = std::string{summary};
    // Both keys hold the same record; no event: a summary is not a state change.
    s.put_file_version(b, run, path, f);
  }
  // The line by content too, in the same write: one sync, not two.
  if (cache) b.Put(s.files, keys::summary(f.hash), codec::encode_summary(summary, now_ms()));
  if (b.Count() == 0) return ok();
  // A cache line alone belongs to no run: it is synced with the store's next
  // synced write (within milliseconds in a run), and a machine crash before
  // that costs one summarizer call for that content later, never a state.
  return s.commit(b, cache ? "set_summary_and_cache" : "set_summary", changed);
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
  file_version f;
  f.path = std::string{path};
  f.version = (*cur)->version + 1;
  f.deleted = true;
  f.task_id = meta.task_id;
  f.summary = meta.summary;
  f.at_ms = now_ms();
  rocksdb::WriteBatch b;
  s.put_file_version(b, run, path, f);
  std::string data = "{\"path\":" + codec::quote(path) + ",\"version\":" + std::to_string(f.version) +
                     ",\"deleted\":true,\"task\":" + codec::quote(meta.task_id) + "}";
  if (auto c = s.commit_with_event(b, run, "file", data, f.at_ms, "delete_file"); !c) return std::move(c).err();
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
  auto sc = s.scan_records(s.files, keys::version_path_prefix(run, path), codec::decode_file_version,
                           append_to(out), snap.ro());
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

}  // namespace codehive::store
