#include "actors/edit_history.hpp"

#include <spdlog/spdlog.h>

#include "actors/run_restore.hpp"
#include "storage/run_store.hpp"

namespace codehive {

std::unique_ptr<edit_history> edit_history::open(const std::filesystem::path& root,
                                                 const std::string& run_id,
                                                 const git_settings& settings,
                                                 const store::run_store& store) {
  if (!settings.active)
    return nullptr;
  auto repo = vcs::repository::open(root);
  if (!repo) {
    spdlog::error("run={} tracker: no git history: {}", run_id, repo.err().describe());
    return nullptr;
  }
  auto done = repo->committed_keys(run_id);
  if (!done) {
    spdlog::error("run={} tracker: no git history: {}", run_id, done.err().describe());
    return nullptr;
  }
  auto commits = repo->run_commits(run_id);
  if (!commits) {
    spdlog::error("run={} tracker: no git history: {}", run_id, commits.err().describe());
    return nullptr;
  }
  std::set<std::string> paths;
  for (const auto& c : *commits)
    paths.insert(c.tag.path);
  spdlog::info("run={} tracker: committing every edit to git ({} commits of this run already)",
               run_id, done->size());
  return std::unique_ptr<edit_history>{
    new edit_history{std::move(*repo), run_id, store, std::move(*done), std::move(paths)}};
}

edit_history::edit_history(vcs::repository repo, std::string run_id, const store::run_store& store,
                           std::set<std::string> done, std::set<std::string> committed_paths)
  : repo_(std::move(repo)),
    run_id_(std::move(run_id)),
    store_(store),
    done_(std::move(done)),
    committed_paths_(std::move(committed_paths)) {}

void edit_history::record(const msg::file_edit& e, const msg::applied_file& rec) {
  if (e.kind == msg::edit_kind::folder)
    return;  // git keeps no folders
  commit(rec.path, e.task_id, rec.version, e.use.model, e.summary);
}

void edit_history::catch_up() {
  auto files = store_.list_files(run_id_, true);
  if (!files) {
    spdlog::error("run={} tracker: cannot list the stored files for git: {}", run_id_,
                  files.err().describe());
    return;
  }
  for (const auto& f : *files)
    if (!f.task_id.empty())  // found in the folder at the start: the user's, not the run's
      commit(f.path, f.task_id, static_cast<std::int64_t>(f.version), {}, f.summary);
}

void edit_history::commit(const std::string& path, const std::string& task, std::int64_t version,
                          const std::string& model, const std::string& summary) {
  auto key = vcs::commit_key(task, version);
  if (done_.count(key) > 0)
    return;
  if (committed_paths_.count(path) == 0)
    keep_users_version(path);
  // The subject names what was asked: the task's description, or for a fix
  // the review issue it answers (both stored with the task).
  std::string what = task;
  if (auto t = store_.get_task(run_id_, task); t && !t->spec.description.empty())
    what = t->spec.description;
  bool fix = task.rfind(fix_task_prefix, 0) == 0;
  auto subject = std::string{"codehive: "} + (fix ? "fix " : "") + path + ": " + what;
  if (subject.size() > 120)
    subject = subject.substr(0, 117) + "...";
  std::string body = "Run " + run_id_ + ", " + (fix ? "review issue " : "task ") + task
                     + (model.empty() ? std::string{} : ", model " + model) + ".";
  if (!summary.empty())
    body += "\n" + summary;
  auto made = repo_.commit_path(
    path, vcs::commit_message(subject, body, {run_id_, task, path, version, model}));
  if (!made) {
    spdlog::error("run={} task={} tracker: cannot commit {} v{} to git: {}", run_id_, task, path,
                  version, made.err().describe());
    return;
  }
  done_.insert(key);
  committed_paths_.insert(path);
  if (*made)
    spdlog::info("run={} task={} tracker: committed {} v{} as {}", run_id_, task, path, version,
                 made->value().substr(0, 12));
}

void edit_history::keep_users_version(const std::string& path) {
  // The found version is the path's first one, with no task: what the disk
  // held when the run started. A path the run created has none.
  auto versions = store_.file_history(run_id_, path);
  if (!versions || versions->empty() || !versions->front().task_id.empty()
      || versions->front().deleted)
    return;
  const auto& found = versions->front();
  auto bytes = store_.get_blob(found.hash);
  if (!bytes) {
    spdlog::error("run={} tracker: cannot read the found version of {}: {}", run_id_, path,
                  bytes.err().describe());
    return;
  }
  auto message = "codehive: your uncommitted changes to " + path
                 + "\n\nThe file as run " + run_id_
                 + " found it, committed apart before the run changes it (--allow-dirty),\n"
                   "so that the run's own commits hold only its edits and undoing the run "
                   "gives this version back.\n";
  auto made = repo_.commit_content(path, *bytes, message);
  if (!made) {
    spdlog::error("run={} tracker: cannot commit the uncommitted changes to {}: {}", run_id_, path,
                  made.err().describe());
    return;
  }
  if (*made)
    spdlog::warn("run={} tracker: committed your uncommitted changes to {} as {}, apart from the "
                 "run's edit of it",
                 run_id_, path, made->value().substr(0, 12));
}

}  // namespace codehive
