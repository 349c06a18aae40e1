#include "nodes/run_files.hpp"

#include <cctype>
#include <chrono>
#include <set>

#include "actors/exports.hpp"
#include "actors/run_restore.hpp"
#include "storage/run_store.hpp"

namespace codehive {

namespace fs = std::filesystem;

fs::path client_workspace(const fs::path& root, const std::string& client_host,
                          const std::string& client_out) {
  auto name = fs::path{client_out}.lexically_normal().filename().string();
  if (name.empty())
    name = fs::path{client_out}.lexically_normal().parent_path().filename().string();
  std::string safe;
  for (char c : name)
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  if (safe.empty() || safe.size() > 40)
    safe = safe.empty() ? "out" : safe.substr(0, 40);
  auto id = store::sha256_hex(client_host + "\n" + client_out).substr(0, 12);
  return root / (safe + "-" + id);
}

msg::fetched_files fetch_run_files(const store::run_store& runs, const retry_policy& policy,
                                   const msg::fetch_files& req, std::size_t max_content_bytes) {
  msg::fetched_files out;
  std::size_t content_bytes = 0;
  auto rec = runs.get_run(req.run_id);
  if (!rec) {
    out.message = "no run " + req.run_id + " on this coordinator";
    return out;
  }
  out.state = store::to_string(rec->state);
  auto files = runs.list_files(req.run_id, true);
  if (!files) {
    out.message = "run store: " + files.err().describe();
    return out;
  }
  std::set<std::string> wanted(req.paths.begin(), req.paths.end());
  for (const auto& f : *files) {
    if (is_export_path(f.path) || (!wanted.empty() && wanted.count(f.path) == 0))
      continue;
    msg::file_copy c;
    c.run_id = req.run_id;
    c.path = f.path;
    c.version = static_cast<std::int64_t>(f.version);
    c.hash = f.hash;
    c.deleted = f.deleted;
    c.task_id = f.task_id;
    c.summary = f.summary;
    if (req.content && !f.deleted) {
      auto content = runs.get_file(req.run_id, f.path);
      if (!content) {
        out.message = "run store: " + f.path + ": " + content.err().describe();
        return out;
      }
      if (content_bytes > 0 && content_bytes + content->content.size() > max_content_bytes)
        break;  // the rest in the client's next request
      content_bytes += content->content.size();
      c.content = std::move(content->content);
      c.has_content = true;
    }
    out.files.push_back(std::move(c));
  }
  if (req.paths.empty()) {
    std::string err;
    auto restored = restore_run(runs, req.run_id, policy, err);
    if (!restored) {
      out.message = "cannot rebuild run " + req.run_id + " from the store: " + err;
      return out;
    }
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    out.exports = render_exports(restored->run, now);
  }
  out.ok = true;
  return out;
}

}  // namespace codehive
