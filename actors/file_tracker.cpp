// File tracker: the only writer of the output folder. Applies edits
// atomically through workspace (path rules, apply_edit, write_file), keeps a
// version and a one-line summary per file, and answers queries. Detached, so
// its disk I/O never blocks a scheduler thread. Summaries come from the edit
// from the summarizer model (asynchronously: the record first gets the edit's
// own summary or the deterministic fallback, then the model's line).
//
// Durability: every edit goes to the run store (synced) before the disk, so
// the folder never holds content the store lacks; at start the folder is made
// to match the store (a file damaged or half-written at a crash is rewritten
// from its stored version) and files the store does not know are recorded.
//
// A project codehive did not write (workspace/project_scan.hpp: .gitignore
// and files over the size limit left out) is summarised once per content
// (its binary files are stored as they are, never summarised or read to a
// model, so `codehive export` rebuilds the whole project; what stays out is
// kept as the event "files_left_out" for export's note): the store caches
// each summary by content hash, so a second run on the same folder asks the
// summarizer only about files that changed, and the plan waits (the first
// `list`) until the summaries are in.
#include <chrono>
#include <deque>
#include <limits>
#include <map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "actors/answers.hpp"
#include "actors/edit_history.hpp"
#include "actors/exports.hpp"
#include "actors/model_job.hpp"
#include "actors/plan_checks.hpp"
#include "actors/prompts.hpp"
#include "actors/run_restore.hpp"
#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "llm/client.hpp"
#include "messages/error.hpp"
#include "storage/run_store.hpp"
#include "workspace/edits.hpp"
#include "workspace/file_ops.hpp"
#include "workspace/path_rules.hpp"
#include "workspace/project_scan.hpp"

namespace codehive {

namespace {


struct pending_summary {
  std::string path;
  std::int64_t version = 0;
  bool scan = false;  ///< a found file's: the first listing waits for it
};

/// A found file waiting for the summarizer (a few at a time: a project of
/// 2,000 files must not open 2,000 requests at once).
struct scan_job {
  std::string path;
  std::int64_t version = 0;
  std::string content;
};

constexpr std::size_t scan_summaries_in_flight = 4;

struct file_tracker_state {
  static inline const char* name = "file_tracker";
  std::filesystem::path root;
  /// The root canonicalised once, at start: an edit's paths are resolved
  /// against it without a realpath of the root per file operation.
  ws::output_root folder;
  client_ptr summarizer;
  settings_ptr settings;
  std::string run_id;
  store_ptr store;
  std::map<std::string, msg::applied_file> files;
  std::map<std::uint64_t, pending_summary> pending;
  std::vector<caf::typed_response_promise<std::vector<msg::applied_file>>> flushes;
  std::int64_t flush_asked_ms = 0;  ///< when the first waiting flush came (its log line)
  std::deque<scan_job> scan_queue;
  std::size_t scan_in_flight = 0;
  /// Listings asked for while found files are still being summarised.
  std::vector<caf::typed_response_promise<std::vector<msg::applied_file>>> lists;
  std::uint64_t next_call = 1;
  msg::usage use;
  std::unique_ptr<edit_history> history;  ///< commits each applied edit; null: no git history
  progress_actor copies;  ///< gets every applied version (run --coordinator's client copy)
};

using tracker_ptr = file_tracker_actor::stateful_pointer<file_tracker_state>;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::vector<msg::applied_file> listing(const file_tracker_state& st) {
  std::vector<msg::applied_file> out;
  for (const auto& [path, rec] : st.files)
    out.push_back(rec);
  return out;
}

void release_flushes(file_tracker_state& st) {
  if (!st.pending.empty() || st.flushes.empty())
    return;
  spdlog::info("run={} tracker: the last summary came, {} ms after the end asked for the final "
               "records",
               st.run_id, now_ms() - st.flush_asked_ms);
  for (auto& rp : st.flushes)
    rp.deliver(listing(st));
  st.flushes.clear();
}

void summarize(tracker_ptr self, const std::string& path, std::int64_t version,
               const std::string& content, bool scan = false) {
  auto& st = self->state;
  auto id = st.next_call++;
  st.pending[id] = {path, version, scan};
  auto handle = caf::actor_cast<file_tracker_actor>(self);
  st.summarizer->chat(summary_prompt(*st.settings, path, content),
                      [handle, id](llm::result<llm::chat_response> r) {
                        caf::anon_send(handle, make_reply(id, "summarizer", std::move(r)));
                      });
}

/// Sends queued scan summaries while fewer than the cap are on their way;
/// once none is left, the waiting listings get the summarised files.
void pump_scan(tracker_ptr self) {
  auto& st = self->state;
  while (st.scan_in_flight < scan_summaries_in_flight && !st.scan_queue.empty()) {
    auto job = std::move(st.scan_queue.front());
    st.scan_queue.pop_front();
    ++st.scan_in_flight;
    summarize(self, job.path, job.version, job.content, true);
  }
  if (st.scan_in_flight == 0 && st.scan_queue.empty()) {
    for (auto& rp : st.lists)
      rp.deliver(listing(st));
    st.lists.clear();
  }
}

caf::error from_store(const store::error& e) {
  return make_error(ec::io_error, "run store: " + e.describe());
}

/// The store's record of a version, as the tracker reports it.
void take_version(msg::applied_file& rec, const store::file_version& v) {
  rec.version = static_cast<std::int64_t>(v.version);
  rec.hash = v.hash;
}

/// Everything that could refuse the edit's result on disk, checked before the
/// store records it as a version: refused content must never become a stored
/// version (`codehive export` would fail on it, a resume would write it). The
/// path and what is there were checked by the read of the current content just
/// before (read_file_if_exists refuses a path outside the folder, a symlink and
/// anything that is not a regular file; a missing file is fine): resolving it
/// again here cost a walk of the path per edit and could refuse nothing more.
/// What remains after this is the disk itself (full, unwritable): then the
/// store is ahead of the folder, and the next start rewrites the file from it.
caf::error check_writable(const std::string& path, const std::string& content) {
  if (auto c = ws::check_content(content, ws::default_max_file_bytes, ws::is_text_path(path)); !c)
    return from_ws(c.err());
  return {};
}

/// Sends the version just applied to the clients that keep a copy of the
/// results; only after the store and the disk have it, so a copy is never
/// ahead of the run.
void send_copy(const file_tracker_state& st, const msg::file_edit& e, const msg::applied_file& rec,
               const std::string& content) {
  if (!st.copies)
    return;
  msg::file_copy c;
  c.run_id = st.run_id;
  c.path = rec.path;
  c.version = rec.version;
  c.hash = rec.hash;
  c.deleted = rec.deleted;
  c.has_content = !rec.deleted;
  if (!rec.deleted)
    c.content = content;
  c.task_id = e.task_id;
  c.model = e.use.model;
  c.summary = rec.summary;
  caf::anon_send(st.copies, std::move(c));
}

caf::result<msg::applied_file> apply(tracker_ptr self, msg::file_edit& e) {
  auto& st = self->state;
  auto norm = ws::normalize_relative(e.path);
  if (!norm)
    return from_ws(norm.err());
  auto path = *norm;
  if (is_export_path(path))
    return make_error(ec::edit_refused, path + " is reserved for codehive's exports");
  // Work on a copy: a refused edit leaves no record behind (not even an empty one).
  auto known = st.files.find(path);
  msg::applied_file rec = known != st.files.end() ? known->second : msg::applied_file{};
  rec.path = path;
  if (e.kind == msg::edit_kind::folder) {
    // A planned folder: made (or, if empty, deleted) for real. Folders have
    // no content, so no version is stored; a resume makes it again.
    auto done = e.action == msg::task_action::remove ? ws::delete_empty_folder(st.folder, path)
                                                     : ws::make_folder(st.folder, path);
    if (!done)
      return from_ws(done.err());
    rec.deleted = e.action == msg::task_action::remove;
    rec.modified_ms = now_ms();
    spdlog::info("run={} task={} tracker: {} folder {}", e.run_id, e.task_id,
                 rec.deleted ? "deleted" : "made", path);
    return rec;
  }
  if (e.action == msg::task_action::remove) {
    // Only a file that is there can be deleted: check before the store says so.
    auto there = ws::resolve_in_root(st.folder, path);
    if (!there)
      return from_ws(there.err());
    if (there->type != std::filesystem::file_type::regular)
      return make_error(ec::edit_refused, "cannot delete " + path + ": no such file");
    auto v = st.store->delete_file(st.run_id, path, store::from_task(e.task_id));
    if (!v)
      return from_store(v.err());
    if (auto res = ws::delete_file(st.folder, path); !res)
      return from_ws(res.err());
    rec.deleted = true;
    rec.changed_in_run = true;
    take_version(rec, *v);
    rec.bytes = 0;
    rec.modified_ms = now_ms();
    st.files[path] = rec;
    if (st.history)
      st.history->record(e, rec);
    send_copy(st, e, rec, {});
    spdlog::info("run={} task={} tracker: deleted {}", e.run_id, e.task_id, path);
    return rec;
  }
  auto current = ws::read_file_if_exists(st.folder, path);
  if (!current)
    return from_ws(current.err());
  auto parsed = workspace_edit_of(e);
  if (!parsed)
    return make_error(ec::edit_refused, parsed.error);
  const auto& edit = *parsed.value;
  auto next = ws::apply_edit(*current, edit);
  if (!next)
    return from_ws(next.err());
  if (auto refused = check_writable(path, *next))
    return refused;
  // The edit's own summary (or the fallback) serves at once; the summarizer's
  // line replaces it when it arrives. Partial edits (fixes) keep the summary:
  // they rarely change what a file is for, and a call per fix burns tokens.
  bool rewritten = e.kind == msg::edit_kind::whole || !current->has_value();
  auto summary = rec.summary;
  if (!e.summary.empty())
    summary = one_line(e.summary);
  else if (rewritten || summary.empty())
    summary = fallback_summary(path, *next);
  auto v = st.store->put_file(st.run_id, path, *next, store::from_task(e.task_id, summary));
  if (!v)
    return from_store(v.err());
  if (auto res = ws::write_file(st.folder, path, *next); !res)
    return from_ws(res.err());
  rec.deleted = false;
  rec.changed_in_run = true;
  take_version(rec, *v);
  rec.bytes = static_cast<std::int64_t>(next->size());
  rec.modified_ms = now_ms();
  rec.summary = std::move(summary);
  st.files[path] = rec;
  if (st.history)
    st.history->record(e, rec);
  send_copy(st, e, rec, *next);
  if (rewritten && st.summarizer && st.settings->summarize_with_model)
    summarize(self, path, rec.version, *next);
  spdlog::info("run={} task={} tracker: wrote {} v{} ({} bytes, {})", e.run_id, e.task_id, path,
               rec.version, rec.bytes, to_string(e.kind));
  return rec;
}

std::int64_t modified_ms_of(const std::filesystem::path& file) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(file, ec);
  if (ec)
    return 0;
  // g++ 12 lacks clock_cast: shift by the two clocks' current offset.
  auto sys = std::chrono::system_clock::now()
             + std::chrono::duration_cast<std::chrono::system_clock::duration>(
               t - std::filesystem::file_time_type::clock::now());
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

/// Makes the folder match the store: every stored file whose content on disk
/// differs (or is missing) is rewritten from its stored version, every stored
/// deletion is carried out. The tracker's records come from the store.
void restore_folder(file_tracker_state& st) {
  auto files = st.store->list_files(st.run_id, true);
  if (!files) {
    spdlog::error("run={} tracker: cannot list the stored files: {}", st.run_id,
                  files.err().describe());
    return;
  }
  for (const auto& f : *files) {
    st.files[f.path] = applied_of(f);
    auto on_disk = ws::read_file_if_exists(st.folder, f.path);
    bool present = on_disk && on_disk->has_value();
    if (f.deleted) {
      if (present && ws::delete_file(st.folder, f.path))
        spdlog::info("run={} tracker: deleted {} again (the store says it is deleted)", st.run_id,
                     f.path);
      continue;
    }
    if (present && store::sha256_hex(**on_disk) == f.hash)
      continue;
    auto stored = st.store->get_file(st.run_id, f.path);
    if (!stored) {
      spdlog::error("run={} tracker: cannot read {} from the store: {}", st.run_id, f.path,
                    stored.err().describe());
      continue;
    }
    // The stored bytes, as they were written or found.
    if (auto w = ws::write_file(st.folder, f.path, stored->content, ws::stored_bytes_options()); !w)
      spdlog::error("run={} tracker: cannot restore {}: {}", st.run_id, f.path,
                    w.err().describe());
    else
      spdlog::info("run={} tracker: restored {} v{} from the store ({})", st.run_id, f.path,
                   f.version, present ? "it differed on disk" : "it was missing");
  }
}

/// A file found in the folder goes to the store as it is (no task: version
/// 0, there before the run, untouched) and to the records; false if the
/// store refused it (logged).
bool record_found(file_tracker_state& st, const std::string& path, const std::string& content,
                  std::string summary) {
  msg::applied_file rec;
  rec.path = path;
  rec.summary = std::move(summary);
  rec.bytes = static_cast<std::int64_t>(content.size());
  rec.modified_ms = modified_ms_of(st.root / path);
  auto v = st.store->put_file(st.run_id, path, content, store::from_task({}, rec.summary));
  if (!v) {
    spdlog::error("run={} tracker: cannot record {} in the store: {}", st.run_id, path,
                  v.err().describe());
    return false;
  }
  rec.hash = v->hash;
  st.files[path] = std::move(rec);
  return true;
}

/// What the scan left out (too large, empty, unreadable) and the folder it
/// is in, as the event "files_left_out": `codehive export` cannot rebuild
/// those files and says so. Only when something was left out.
void keep_left_out(file_tracker_state& st, const ws::scan_report& report) {
  if (report.skipped.empty())
    return;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto str = [&](const std::string& s) {
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("folder");
  str(st.root.string());
  w.Key("files");
  w.StartArray();
  for (const auto& skip : report.skipped) {
    w.StartObject();
    w.Key("path");
    str(skip.path);
    w.Key("reason");
    str(skip.reason);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  if (auto r = st.store->append_event(st.run_id, "files_left_out", buf.GetString()); !r)
    spdlog::error("run={} tracker: cannot keep the list of files left out: {}", st.run_id,
                  r.err().describe());
}

/// Files in the folder that the store does not know (the project being
/// updated, or files a user added): recorded as found, so the store holds the
/// whole project and `codehive export` can rebuild it. Their summaries come
/// from the store's cache when this content was summarised before (any run),
/// else from the summarizer (queued).
void record_unknown_files(tracker_ptr self) {
  auto& st = self->state;
  ws::scan_options opts;
  opts.reserved_folders = {exports_dir};
  opts.max_binary_bytes = st.settings->max_binary_bytes;
  opts.on_binary = [&](const std::string& path, std::string content) {
    // Its bytes as found; its summary says what it is (no model reads it).
    if (st.files.count(path) == 0)
      record_found(st, path, content, binary_summary(content.size()));
  };
  bool ask = st.summarizer && st.settings->summarize_with_model;
  std::size_t cached = 0;
  std::size_t recorded = 0;
  auto report = ws::scan_project(
    st.root,
    [&](const std::string& path, std::string content) {
      if (st.files.count(path) > 0)
        return;
      // The store holds only what the tracker could write back (a resume or
      // `codehive export` rewrites every stored file).
      if (auto c = ws::check_content(content, ws::default_max_file_bytes, ws::is_text_path(path));
          !c) {
        spdlog::info("run={} tracker: {} is not recorded: {}", st.run_id, path, c.err().describe());
        return;
      }
      auto hash = store::sha256_hex(content);
      std::optional<std::string> known;
      if (auto c = st.store->cached_summary(hash); c && *c)
        known = std::move(**c);
      if (!record_found(st, path, content, known ? *known : fallback_summary(path, content)))
        return;
      ++recorded;
      if (known)
        ++cached;
      else if (ask)
        st.scan_queue.push_back({path, st.files[path].version, std::move(content)});
    },
    opts);
  for (const auto& skip : report.skipped)
    spdlog::info("run={} tracker: {} left out of the project: {}", st.run_id, skip.path,
                 skip.reason);
  keep_left_out(st, report);
  if (!report.files.empty() || report.ignored > 0)
    spdlog::info(
      "run={} tracker: scanned {}: {} files ({} new to this run, {} summaries cached, "
      "{} to summarise), {} ignored by .gitignore, {} skipped",
      st.run_id, st.root.string(), report.files.size(), recorded, cached, st.scan_queue.size(),
      report.ignored, report.skipped.size());
  pump_scan(self);
}

file_tracker_actor::behavior_type file_tracker(tracker_ptr self, std::filesystem::path root,
                                               client_ptr summarizer, settings_ptr settings,
                                               std::string run_id, store_ptr store,
                                               progress_actor copies) {
  auto& st = self->state;
  st.copies = std::move(copies);
  st.store = std::move(store);
  st.root = std::move(root);
  st.summarizer = std::move(summarizer);
  st.settings = std::move(settings);
  st.run_id = std::move(run_id);
  st.use.role = "summarizer";
  std::error_code err;
  std::filesystem::create_directories(st.root, err);
  st.folder = ws::pin_root(st.root);
  // A process killed in the middle of a write leaves its temp file behind.
  for (const auto& tmp : ws::remove_stale_temp_files(st.root))
    spdlog::info("run={} tracker: removed {} (a write cut short by a crash)", st.run_id, tmp);
  restore_folder(st);
  record_unknown_files(self);
  st.history = edit_history::open(st.root, st.run_id, st.settings->git, *st.store);
  if (st.history)
    st.history->catch_up();  // versions a crash left uncommitted
  spdlog::info("run={} tracker: {} existing files in {}", st.run_id, st.files.size(),
               st.root.string());
  return {
    [self](msg::file_edit& e) -> caf::result<msg::applied_file> { return apply(self, e); },
    [self](atom::list) -> caf::result<std::vector<msg::applied_file>> {
      auto& st = self->state;
      if (st.scan_in_flight == 0 && st.scan_queue.empty())
        return listing(st);
      // The plan lists every file with its summary: wait for the found ones.
      auto rp = self->make_response_promise<std::vector<msg::applied_file>>();
      st.lists.push_back(rp);
      return rp;
    },
    [self](atom::read, std::vector<std::string>& paths) -> std::vector<msg::context_file> {
      auto& st = self->state;
      std::vector<msg::context_file> out;
      for (auto& p : paths) {
        msg::context_file f;
        auto norm = ws::normalize_relative(p);
        f.path = norm ? *norm : p;
        if (auto it = st.files.find(f.path); it != st.files.end())
          f.summary = it->second.summary;
        if (norm) {
          // A binary file's bytes are no context for a model: its summary is.
          if (auto content = ws::read_file_if_exists(st.folder, f.path);
              content && *content && (*content)->find('\0') == std::string::npos
              && ws::is_utf8(**content)) {
            f.content = std::move(**content);
            f.has_content = true;
          }
        }
        out.push_back(std::move(f));
      }
      return out;
    },
    [self](atom::flush) -> caf::result<std::vector<msg::applied_file>> {
      auto& st = self->state;
      if (st.pending.empty())
        return listing(st);
      // At the end of a run: a summarizer slower than the coders leaves a
      // backlog here, and the run's end waits for it (bounded by the asker).
      if (st.flushes.empty()) {
        st.flush_asked_ms = now_ms();
        spdlog::info("run={} tracker: {} summaries still on their way; the final records wait "
                     "for them",
                     st.run_id, st.pending.size());
      }
      auto rp = self->make_response_promise<std::vector<msg::applied_file>>();
      st.flushes.push_back(rp);
      return rp;
    },
    [self](atom::usage) -> msg::usage { return self->state.use; },
    [self](atom::exports, std::vector<msg::export_file>& files) -> bool {
      auto& st = self->state;
      bool ok = true;
      // Exports are ours, not a model's output: the project files' size cap
      // does not apply (status.json passes 1 MiB near 2,800 tasks, and a
      // capped export silently stopped updating).
      ws::write_options wo;
      wo.max_bytes = max_export_bytes;
      for (auto& f : files) {
        auto rel = std::string{exports_dir} + "/" + f.name;
        if (auto res = ws::write_file(st.folder, rel, f.content, wo); !res) {
          spdlog::warn("run={} tracker: cannot write {}: {}", st.run_id, rel, res.err().describe());
          ok = false;
        }
      }
      return ok;
    },
    [self](msg::llm_reply& r) {
      auto& st = self->state;
      auto taken = take_job(st.pending, r.call_id);
      if (!taken)
        return;
      auto job = std::move(*taken);
      add_usage(st.use, r.use);
      st.use.role = "summarizer";
      auto rec = st.files.find(job.path);
      if (r.ok && rec != st.files.end() && rec->second.version == job.version) {
        if (auto s = parse_summary(r.content); s) {
          rec->second.summary = *s.value;
          // Cached by content too (the next scan of this file, in any run,
          // asks no model), in the same write.
          if (auto w = st.store->set_summary_and_cache(st.run_id, job.path, *s.value); !w)
            spdlog::warn("run={} tracker: cannot store the summary of {}: {}", st.run_id, job.path,
                         w.err().describe());
        } else
          spdlog::info("run={} tracker: summary of {} unusable ({}), keeping fallback", st.run_id,
                       job.path, s.error);
      } else if (!r.ok) {
        spdlog::info("run={} tracker: summarizer failed for {} ({}), keeping fallback", st.run_id,
                     job.path, r.error_message);
      }
      if (job.scan) {
        --st.scan_in_flight;
        pump_scan(self);
      }
      release_flushes(st);
    },
  };
}

}  // namespace

file_tracker_actor spawn_file_tracker(caf::actor_system& sys, std::filesystem::path root,
                                      client_ptr summarizer, settings_ptr settings,
                                      std::string run_id, store_ptr store,
                                      progress_actor copies) {
  return sys.spawn<caf::detached>(file_tracker, std::move(root), std::move(summarizer),
                                  std::move(settings), std::move(run_id), std::move(store),
                                  std::move(copies));
}

}  // namespace codehive
