// File tracker: the only writer of the output folder. Applies edits
// atomically through workspace (path rules, apply_edit, write_file), keeps a
// version and a one-line summary per file, and answers queries. Detached, so
// its disk I/O never blocks a scheduler thread. Summaries come from the edit
// from the summarizer model (asynchronously: the record first gets the edit's
// own summary or the deterministic fallback, then the model's line).
#include <chrono>
#include <map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/answers.hpp"
#include "actors/prompts.hpp"
#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "llm/client.hpp"
#include "messages/error.hpp"
#include "workspace/edits.hpp"
#include "workspace/file_ops.hpp"
#include "workspace/path_rules.hpp"

namespace codehive {

namespace {

constexpr const char* exports_dir = "generated_files";

struct pending_summary {
  std::string path;
  std::int64_t version = 0;
};

struct file_tracker_state {
  static inline const char* name = "file_tracker";
  std::filesystem::path root;
  client_ptr summarizer;
  settings_ptr settings;
  std::string run_id;
  std::map<std::string, msg::applied_file> files;
  std::map<std::uint64_t, pending_summary> pending;
  std::vector<caf::typed_response_promise<std::vector<msg::applied_file>>> flushes;
  std::uint64_t next_call = 1;
  msg::usage use;
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
  if (!st.pending.empty())
    return;
  for (auto& rp : st.flushes)
    rp.deliver(listing(st));
  st.flushes.clear();
}

void summarize(tracker_ptr self, const std::string& path, std::int64_t version,
               const std::string& content) {
  auto& st = self->state;
  auto id = st.next_call++;
  st.pending[id] = {path, version};
  auto handle = caf::actor_cast<file_tracker_actor>(self);
  st.summarizer->chat(summary_prompt(*st.settings, path, content),
                      [handle, id](llm::result<llm::chat_response> r) {
                        caf::anon_send(handle, make_reply(id, "summarizer", std::move(r)));
                      });
}

caf::result<msg::applied_file> apply(tracker_ptr self, msg::file_edit& e) {
  auto& st = self->state;
  auto norm = ws::normalize_relative(e.path);
  if (!norm)
    return from_ws(norm.err());
  auto path = *norm;
  if ((path + "/").rfind(std::string{exports_dir} + "/", 0) == 0)
    return make_error(ec::edit_refused, path + " is reserved for codehive's exports");
  auto& rec = st.files[path];
  rec.path = path;
  if (e.action == "delete") {
    if (auto res = ws::delete_file(st.root, path); !res)
      return from_ws(res.err());
    rec.deleted = true;
    rec.changed_in_run = true;
    rec.version += 1;
    rec.bytes = 0;
    rec.modified_ms = now_ms();
    spdlog::info("run={} task={} tracker: deleted {}", e.run_id, e.task_id, path);
    return rec;
  }
  auto current = ws::read_file_if_exists(st.root, path);
  if (!current)
    return from_ws(current.err());
  ws::edit edit;
  if (e.kind == "whole")
    edit.kind = ws::edit_kind::whole;
  else if (e.kind == "html_section")
    edit.kind = ws::edit_kind::html_section;
  else if (e.kind == "search_replace")
    edit.kind = ws::edit_kind::search_replace;
  else
    return make_error(ec::edit_refused, "unknown edit kind '" + e.kind + "'");
  edit.section = e.section == "head" ? ws::section_name::head : ws::section_name::body;
  edit.content = e.content;
  for (auto& b : e.blocks)
    edit.blocks.push_back({b.search, b.replace});
  auto next = ws::apply_edit(*current, edit);
  if (!next)
    return from_ws(next.err());
  if (auto res = ws::write_file(st.root, path, *next); !res)
    return from_ws(res.err());
  rec.deleted = false;
  rec.changed_in_run = true;
  rec.version += 1;
  rec.bytes = static_cast<std::int64_t>(next->size());
  rec.hash = ws::content_hash_hex(*next);
  rec.modified_ms = now_ms();
  // The edit's own summary (or the fallback) serves at once; the summarizer's
  // line replaces it when it arrives. Partial edits (fixes) keep the summary:
  // they rarely change what a file is for, and a call per fix burns tokens.
  bool rewritten = e.kind == "whole" || !current->has_value();
  if (!e.summary.empty())
    rec.summary = one_line(e.summary);
  else if (rewritten || rec.summary.empty())
    rec.summary = fallback_summary(path, *next);
  if (rewritten && st.summarizer && st.settings->summarize_with_model)
    summarize(self, path, rec.version, *next);
  spdlog::info("run={} task={} tracker: wrote {} v{} ({} bytes, {})", e.run_id, e.task_id, path,
               rec.version, rec.bytes, e.kind);
  return rec;
}

file_tracker_actor::behavior_type file_tracker(tracker_ptr self, std::filesystem::path root,
                                               client_ptr summarizer, settings_ptr settings,
                                               std::string run_id) {
  auto& st = self->state;
  st.root = std::move(root);
  st.summarizer = std::move(summarizer);
  st.settings = std::move(settings);
  st.run_id = std::move(run_id);
  st.use.role = "summarizer";
  std::error_code err;
  std::filesystem::create_directories(st.root, err);
  // Files already in the folder: the planner sees them with a summary.
  for (const auto& path : ws::list_files(st.root)) {
    if (path.rfind(std::string{exports_dir} + "/", 0) == 0)
      continue;
    msg::applied_file rec;
    rec.path = path;
    if (auto content = ws::read_file(st.root, path); content) {
      rec.summary = fallback_summary(path, *content);
      rec.bytes = static_cast<std::int64_t>(content->size());
      rec.hash = ws::content_hash_hex(*content);
    }
    std::error_code ec2;
    auto t = std::filesystem::last_write_time(st.root / path, ec2);
    if (!ec2) {
      // g++ 12 lacks clock_cast: shift by the two clocks' current offset.
      auto sys = std::chrono::system_clock::now()
                 + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                   t - std::filesystem::file_time_type::clock::now());
      rec.modified_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          sys.time_since_epoch())
                          .count();
    }
    st.files[path] = rec;
  }
  spdlog::info("run={} tracker: {} existing files in {}", st.run_id, st.files.size(),
               st.root.string());
  return {
    [self](msg::file_edit& e) -> caf::result<msg::applied_file> { return apply(self, e); },
    [self](atom::list) -> std::vector<msg::applied_file> { return listing(self->state); },
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
          if (auto content = ws::read_file_if_exists(st.root, f.path); content && *content) {
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
      auto rp = self->make_response_promise<std::vector<msg::applied_file>>();
      st.flushes.push_back(rp);
      return rp;
    },
    [self](atom::usage) -> msg::usage { return self->state.use; },
    [self](atom::exports, std::vector<msg::export_file>& files) -> bool {
      auto& st = self->state;
      bool ok = true;
      for (auto& f : files) {
        auto rel = std::string{exports_dir} + "/" + f.name;
        if (auto res = ws::write_file(st.root, rel, f.content); !res) {
          spdlog::warn("run={} tracker: cannot write {}: {}", st.run_id, rel, res.err().describe());
          ok = false;
        }
      }
      return ok;
    },
    [self](msg::llm_reply& r) {
      auto& st = self->state;
      auto it = st.pending.find(r.call_id);
      if (it == st.pending.end())
        return;
      auto job = it->second;
      st.pending.erase(it);
      add_usage(st.use, r.use);
      st.use.role = "summarizer";
      auto rec = st.files.find(job.path);
      if (r.ok && rec != st.files.end() && rec->second.version == job.version) {
        if (auto s = parse_summary(r.content); s)
          rec->second.summary = *s.value;
        else
          spdlog::info("run={} tracker: summary of {} unusable ({}), keeping fallback", st.run_id,
                       job.path, s.error);
      } else if (!r.ok) {
        spdlog::info("run={} tracker: summarizer failed for {} ({}), keeping fallback", st.run_id,
                     job.path, r.error_message);
      }
      release_flushes(st);
    },
  };
}

}  // namespace

file_tracker_actor spawn_file_tracker(caf::actor_system& sys, std::filesystem::path root,
                                      client_ptr summarizer, settings_ptr settings,
                                      std::string run_id) {
  return sys.spawn<caf::detached>(file_tracker, std::move(root), std::move(summarizer),
                                  std::move(settings), std::move(run_id));
}

}  // namespace codehive
