#include "nodes/client_copy.hpp"

#include <chrono>
#include <deque>
#include <iterator>
#include <limits>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/exports.hpp"
#include "actors/run_restore.hpp"
#include "messages/error.hpp"
#include "workspace/sha256.hpp"
#include "workspace/file_ops.hpp"
#include "workspace/path_rules.hpp"

namespace codehive {

namespace fs = std::filesystem;

namespace {

/// Contents asked for in one fetch: a project of thousands of files comes in
/// several answers, none of them huge.
constexpr std::size_t fetch_batch = 64;
constexpr auto fetch_timeout = std::chrono::seconds(120);

/// The sha256 of root/path as it is now ("" when missing or unreadable).
std::string hash_on_disk(const fs::path& root, const std::string& path) {
  auto cur = ws::read_file_if_exists(root, path, std::numeric_limits<std::size_t>::max());
  if (!cur || !cur->has_value())
    return {};
  return ws::sha256_hex(**cur);
}

bool exists_on_disk(const fs::path& root, const std::string& path) {
  auto cur = ws::read_file_if_exists(root, path, std::numeric_limits<std::size_t>::max());
  return cur && cur->has_value();
}

/// One fetch_files round trip from a plain thread; nullopt with `error` when
/// the coordinator did not answer.
std::optional<msg::fetched_files> ask(caf::actor_system& sys, const registry_actor& reg,
                                      msg::fetch_files req, std::string& error) {
  caf::scoped_actor self{sys};
  std::optional<msg::fetched_files> out;
  self->request(reg, fetch_timeout, std::move(req))
    .receive([&](msg::fetched_files& r) { out = std::move(r); },
             [&](caf::error& e) { error = describe(e); });
  return out;
}

}  // namespace

bool fetch_in_batches(const fetch_round_trip& ask, const msg::fetch_files& base,
                      std::vector<std::string> paths, std::size_t batch,
                      const std::function<void(const msg::file_copy&)>& take, std::string& error) {
  std::deque<std::string> rest(std::make_move_iterator(paths.begin()),
                               std::make_move_iterator(paths.end()));
  while (!rest.empty()) {
    auto req = base;
    req.content = true;
    req.paths.clear();
    while (!rest.empty() && req.paths.size() < batch) {
      req.paths.push_back(std::move(rest.front()));
      rest.pop_front();
    }
    std::string why;
    auto got = ask(req, why);
    if (!got) {
      error = "cannot fetch the run's files from the coordinator: " + why;
      return false;
    }
    if (!got->ok) {
      error = got->message;
      return false;
    }
    std::set<std::string> answered;
    for (const auto& f : got->files) {
      answered.insert(f.path);
      take(f);
    }
    if (answered.empty()) {
      error = "the coordinator answered none of the " + std::to_string(req.paths.size())
              + " files asked for (the first: " + req.paths.front() + ")";
      return false;
    }
    // A capped answer: what it left out goes first into the next request.
    for (auto it = req.paths.rbegin(); it != req.paths.rend(); ++it)
      if (answered.count(*it) == 0)
        rest.push_front(std::move(*it));
  }
  return true;
}

client_copy::client_copy(fs::path root, std::optional<vcs::repository> repo, bool run_branch)
  : root_(std::move(root)), repo_(std::move(repo)), run_branch_(run_branch) {}

void client_copy::apply(const msg::file_copy& c) {
  std::lock_guard lock{mu_};
  std::string err;
  if (!apply_locked(c, err)) {
    ++refused_;
    spdlog::warn("run={} copy: {} v{} not written: {}", c.run_id, c.path, c.version, err);
  }
}

bool client_copy::apply_locked(const msg::file_copy& c, std::string& error) {
  if (run_id_.empty())
    run_id_ = c.run_id;
  if (c.run_id != run_id_) {
    error = "a copy of run " + c.run_id + ", this folder follows " + run_id_;
    return false;
  }
  auto norm = ws::normalize_relative(c.path);
  if (!norm) {
    error = norm.err().describe();
    return false;
  }
  const auto& path = *norm;
  if (is_export_path(path)) {
    error = "generated_files/ is reserved for the run's exports";
    return false;
  }
  if (auto it = versions_.find(path); it != versions_.end() && it->second > c.version)
    return true;  // an older version than the one here (a push overtaken by a fetch)
  if (c.deleted) {
    if (exists_on_disk(root_, path)) {
      if (auto d = ws::delete_file(root_, path); !d) {
        error = d.err().describe();
        return false;
      }
      ++written_;
      if (fetching_)
        ++fetched_;
      spdlog::info("run={} copy: deleted {} (v{})", run_id_, path, c.version);
    }
  } else {
    if (!c.has_content) {
      // A listing entry: nothing to write. When the file is here already
      // (written by an earlier client that died before committing it) it is
      // remembered, and committed.
      if (hash_on_disk(root_, path) == c.hash)
        remember_locked(c, path);
      return true;
    }
    if (ws::sha256_hex(c.content) != c.hash) {
      error = "its content does not match its hash " + c.hash.substr(0, 16)
              + " (damaged on the way)";
      return false;
    }
    if (hash_on_disk(root_, path) != c.hash) {
      if (auto w = ws::write_file(root_, path, c.content, ws::stored_bytes_options()); !w) {
        error = w.err().describe();
        return false;
      }
      ++written_;
      if (fetching_)
        ++fetched_;
      spdlog::info("run={} copy: wrote {} v{} ({} bytes)", run_id_, path, c.version,
                   c.content.size());
    }
  }
  versions_[path] = c.version;
  commit(c, path);
  return true;
}

void client_copy::remember_locked(const msg::file_copy& c, const std::string& path) {
  if (c.run_id != run_id_)
    return;  // this folder follows another run
  if (auto it = versions_.find(path); it != versions_.end() && it->second > c.version)
    return;  // a newer version is here already
  versions_[path] = c.version;
  commit(c, path);
}

void client_copy::commit(const msg::file_copy& c, const std::string& path) {
  if (!repo_ || c.task_id.empty())
    return;  // no history, or a file found in the folder before the run (not the run's)
  if (run_branch_ && !branch_ready_) {
    if (auto b = repo_->use_branch(vcs::run_branch(run_id_)); !b) {
      spdlog::error("run={} copy: no git history: {}", run_id_, b.err().describe());
      repo_.reset();
      return;
    }
    branch_ready_ = true;
  }
  if (!committed_) {
    auto keys = repo_->committed_keys(run_id_);
    if (!keys) {
      spdlog::error("run={} copy: no git history: {}", run_id_, keys.err().describe());
      repo_.reset();
      return;
    }
    committed_ = std::move(*keys);
  }
  auto key = vcs::commit_key(c.task_id, c.version);
  if (committed_->count(key) > 0)
    return;
  bool fix = is_fix_task(c.task_id);
  auto subject = std::string{"codehive: "} + (fix ? "fix " : "") + path + ": "
                 + (c.summary.empty() ? c.task_id : c.summary);
  if (subject.size() > 120)
    subject = subject.substr(0, 117) + "...";
  std::string body = "Run " + run_id_ + ", " + (fix ? "review issue " : "task ") + c.task_id
                     + (c.model.empty() ? std::string{} : ", model " + c.model)
                     + " (written on the coordinator, copied here).";
  auto made = repo_->commit_path(
    path, vcs::commit_message(subject, body, {run_id_, c.task_id, path, c.version, c.model}));
  if (!made) {
    spdlog::error("run={} copy: cannot commit {} v{}: {}", run_id_, path, c.version,
                  made.err().describe());
    return;
  }
  committed_->insert(key);
  if (*made)
    ++commits_;
}

bool client_copy::complete(caf::actor_system& sys, const registry_actor& reg,
                           const std::string& token, const std::string& run_id,
                           std::string& error) {
  msg::fetch_files list_req;
  list_req.token = token;
  list_req.run_id = run_id;
  std::string why;
  auto listing = ask(sys, reg, list_req, why);
  if (!listing) {
    error = "cannot list the run's files on the coordinator: " + why;
    return false;
  }
  if (!listing->ok) {
    error = listing->message;
    return false;
  }
  std::vector<std::string> missing;
  {
    std::lock_guard lock{mu_};
    if (run_id_.empty())
      run_id_ = run_id;
    fetching_ = true;
    files_ = 0;
    for (const auto& f : listing->files) {
      auto norm = ws::normalize_relative(f.path);
      if (!norm || is_export_path(*norm))
        continue;
      if (f.deleted) {
        std::string err;
        if (!apply_locked(f, err)) {
          ++refused_;
          error = f.path + ": " + err;
        }
        continue;
      }
      ++files_;
      if (hash_on_disk(root_, *norm) != f.hash)
        missing.push_back(f.path);
      else
        remember_locked(f, *norm);  // already here: remembered (and committed when it is the run's)
    }
  }
  // Only what is fetched below needs its hash checked again at the end: the
  // rest was read just now, and no push can change it (a push of an older
  // version is ignored, one of this version writes the same bytes).
  std::vector<std::string> fetched_paths = missing;
  msg::fetch_files content_req;
  content_req.token = token;
  content_req.run_id = run_id;
  auto round_trip = [&](const msg::fetch_files& req, std::string& why_not) {
    return ask(sys, reg, req, why_not);
  };
  auto take = [&](const msg::file_copy& f) {
    std::lock_guard lock{mu_};
    std::string err;
    if (!apply_locked(f, err)) {
      ++refused_;
      error = f.path + ": " + err;
    }
  };
  if (!fetch_in_batches(round_trip, content_req, std::move(missing), fetch_batch, take, why)) {
    error = why;
    return false;
  }
  {
    std::lock_guard lock{mu_};
    fetching_ = false;
    // Every file of the run must now be here with its final content.
    std::set<std::string> fetched_set(fetched_paths.begin(), fetched_paths.end());
    for (const auto& f : listing->files) {
      auto norm = ws::normalize_relative(f.path);
      if (!norm || is_export_path(*norm) || f.deleted || fetched_set.count(f.path) == 0)
        continue;
      if (hash_on_disk(root_, *norm) != f.hash) {
        error = *norm + " is not complete in " + root_.string()
                + (error.empty() ? std::string{} : " (" + error + ")");
        return false;
      }
    }
  }
  for (const auto& e : listing->exports) {
    auto rel = std::string{exports_dir} + "/" + e.name;
    if (auto w = ws::write_file(root_, rel, e.content, ws::stored_bytes_options()); !w) {
      error = "cannot write " + rel + ": " + w.err().describe();
      return false;
    }
  }
  return true;
}

std::size_t client_copy::written() const {
  std::lock_guard lock{mu_};
  return written_;
}
std::size_t client_copy::fetched() const {
  std::lock_guard lock{mu_};
  return fetched_;
}
std::size_t client_copy::refused() const {
  std::lock_guard lock{mu_};
  return refused_;
}
std::size_t client_copy::commits() const {
  std::lock_guard lock{mu_};
  return commits_;
}
std::size_t client_copy::files() const {
  std::lock_guard lock{mu_};
  return files_;
}

std::optional<vcs::repository> open_client_history(const fs::path& dir, bool commit, bool create,
                                                   bool allow_dirty, std::string& error) {
  error.clear();
  if (!commit && !create)
    return std::nullopt;
  std::optional<vcs::repository> repo;
  if (!vcs::is_repository(dir)) {
    if (!create)
      return std::nullopt;
    auto made = vcs::repository::init(dir, "(submitted to the coordinator)");
    if (!made) {
      error = "--git: " + made.err().describe();
      return std::nullopt;
    }
    repo = std::move(*made);
  } else {
    auto opened = vcs::repository::open(dir);
    if (!opened) {
      error = opened.err().describe();
      return std::nullopt;
    }
    repo = std::move(*opened);
  }
  if (auto ex = repo->exclude_exports(); !ex) {
    error = ex.err().describe();
    return std::nullopt;
  }
  ws::remove_stale_temp_files(dir);
  auto dirty = repo->dirty_paths();
  if (!dirty) {
    error = dirty.err().describe();
    return std::nullopt;
  }
  if (!dirty->empty() && !allow_dirty) {
    std::string list;
    for (std::size_t i = 0; i < dirty->size() && i < 20; ++i)
      list += "\n    " + (*dirty)[i];
    error = dir.string() + " has uncommitted changes that the run's results could overwrite:"
            + list + "\n  commit or stash them first, or pass --allow-dirty";
    return std::nullopt;
  }
  return repo;
}

}  // namespace codehive
