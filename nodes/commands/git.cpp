// The output folder's git history from the CLI: the checks before a run
// (nodes/git_history.hpp), `codehive undo RUN` and `codehive diff RUN`.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "actors/run_config.hpp"
#include "common/read_file.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/git_history.hpp"
#include "nodes/store_location.hpp"
#include "storage/run_store.hpp"
#include "vcs/repository.hpp"
#include "workspace/file_ops.hpp"

namespace codehive {

namespace fs = std::filesystem;

namespace {

/// The paths of `dirty` that are not the run's own stored versions.
std::vector<std::string> users_changes(std::vector<std::string> dirty, const fs::path& out_dir,
                                       const std::string& run_id, const store::run_store& runs) {
  auto files = runs.list_files(run_id, true);
  if (!files)
    return dirty;
  std::map<std::string, const store::file_version*> stored;
  for (const auto& f : *files)
    stored[f.path] = &f;
  std::vector<std::string> out;
  for (auto& path : dirty) {
    auto it = stored.find(path);
    if (it != stored.end()) {
      const auto& f = *it->second;
      std::error_code ec;
      if (f.deleted && !fs::exists(out_dir / path, ec))
        continue;
      auto now = read_whole_file(out_dir / path);
      if (now && !f.deleted && store::sha256_hex(*now) == f.hash)
        continue;
    }
    out.push_back(std::move(path));
  }
  return out;
}

/// The output folder of `o.run_id`: --out, else the one the store recorded.
std::optional<fs::path> run_folder(const char* cmd, const store_query_options& o) {
  if (!o.out.empty())
    return fs::path{o.out};
  std::string err;
  auto cfg = load_config_for(o.config, err);
  if (!cfg) {
    command_error(cmd, err, exit_code::usage);
    return std::nullopt;
  }
  auto dir = resolve_store_path(o.store, *cfg, err);
  std::unique_ptr<store::run_store> st;
  if (dir)
    st = open_store(*dir, /*read_only=*/true, cfg->store.sync, err);
  if (!st) {
    command_error(cmd, err + " (or pass --out DIR)", exit_code::usage);
    return std::nullopt;
  }
  auto rec = st->get_run(o.run_id);
  if (!rec) {
    command_error(
      cmd,
      "no run " + o.run_id + " in " + dir->string() + " (see `codehive runs`, or pass --out DIR)",
      exit_code::usage);
    return std::nullopt;
  }
  return fs::path{run_settings_from_json(rec->config_json).out_dir};
}

std::optional<vcs::repository> open_run_repository(const char* cmd, const store_query_options& o) {
  auto dir = run_folder(cmd, o);
  if (!dir)
    return std::nullopt;
  if (!vcs::is_repository(*dir)) {
    command_error(
      cmd, dir->string() + " is not a git repository: run " + o.run_id + " made no commits there",
      exit_code::usage);
    return std::nullopt;
  }
  auto repo = vcs::repository::open(*dir);
  if (!repo) {
    command_error(cmd, repo.err().describe(), exit_code::usage);
    return std::nullopt;
  }
  return std::move(*repo);
}

}  // namespace

std::optional<int> prepare_git_history(codehive_config& cfg, const git_start& flags,
                                       const fs::path& out_dir, const std::string& run_id,
                                       bool continuing, const store::run_store& runs) {
  auto& git = cfg.pipeline.git;
  git.active = false;
  if (!git.commit && !flags.create)
    return std::nullopt;
  std::optional<vcs::repository> repo;
  if (!vcs::is_repository(out_dir)) {
    if (!flags.create)
      return std::nullopt;  // no repository, none asked for: no history
    auto made = vcs::repository::init(out_dir, run_id);
    if (!made)
      return command_error("run", "--git: " + made.err().describe(), exit_code::local_io);
    std::printf("  git: made %s a repository\n", out_dir.string().c_str());
    repo = std::move(*made);
  } else {
    auto opened = vcs::repository::open(out_dir);
    if (!opened)
      return command_error("run", opened.err().describe(), exit_code::usage);
    repo = std::move(*opened);
  }
  if (auto ex = repo->exclude_exports(); !ex)
    return command_error("run", ex.err().describe(), exit_code::local_io);
  // A write cut short by a crash left a temp file: the tracker removes it at
  // start anyway, and it is no change of the user's.
  ws::remove_stale_temp_files(out_dir);
  auto dirty = repo->dirty_paths();
  if (!dirty)
    return command_error("run", dirty.err().describe(), exit_code::local_io);
  auto theirs =
    continuing ? users_changes(std::move(*dirty), out_dir, run_id, runs) : std::move(*dirty);
  if (!theirs.empty() && !flags.allow_dirty) {
    std::string list;
    for (std::size_t i = 0; i < theirs.size() && i < 20; ++i)
      list += "\n    " + theirs[i];
    if (theirs.size() > 20)
      list += "\n    ... and " + std::to_string(theirs.size() - 20) + " more";
    return command_error("run",
                     out_dir.string() + " has uncommitted changes that the run could overwrite:" + list +
                       "\n  commit or stash them first, or pass --allow-dirty (the run then commits only the "
                       "files it writes, each one you changed first as you left it, in a commit of its own)",
                     exit_code::usage);
  }
  if (git.branch == "run") {
    if (auto b = repo->use_branch(vcs::run_branch(run_id)); !b)
      return command_error("run", b.err().describe(), exit_code::usage);
  }
  git.active = true;
  std::printf("  git: one commit per accepted edit on %s%s\n",
              git.branch == "run" ? vcs::run_branch(run_id).c_str() : "the current branch",
              theirs.empty() ? ""
                             : " (--allow-dirty: your uncommitted changes are left out; a file of them the "
                               "run edits is committed first as you left it)");
  return std::nullopt;
}

int undo_command(const store_query_options& o) {
  auto repo = open_run_repository("undo", o);
  if (!repo)
    return exit_code::usage;
  auto commits = repo->run_commits(o.run_id);
  if (!commits)
    return command_error("undo", commits.err().describe(), exit_code::local_io);
  auto made = repo->undo_run(o.run_id);
  if (!made)
    return command_error("undo", made.err().describe(), exit_code::usage);
  std::printf("undid run %s: %zu commit(s) taken back by %s in %s\n", o.run_id.c_str(),
              commits->size(), made->substr(0, 12).c_str(), repo->workdir().string().c_str());
  return exit_code::ok;
}

int diff_command(const store_query_options& o) {
  auto repo = open_run_repository("diff", o);
  if (!repo)
    return exit_code::usage;
  auto text = repo->diff_run(o.run_id);
  if (!text)
    return command_error("diff", text.err().describe(), exit_code::local_io);
  if (text->empty())
    return command_error("diff", "run " + o.run_id + " has no commits", exit_code::usage);
  std::fwrite(text->data(), 1, text->size(), stdout);
  return exit_code::ok;
}

}  // namespace codehive
