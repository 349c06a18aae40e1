// The file tracker's git history: every edit it accepted and stored becomes
// one commit (vcs/), named by run, task (or review issue) and model. Called
// only from the tracker, a detached actor, so blocking on disk is fine there.
//
// No duplicates after a crash: every commit carries `Codehive-Task` and
// `Codehive-Version` trailers; at start the run's commits on HEAD are read
// once, and a version whose "task@version" is among them is never committed
// again. A version stored (and written) but not yet committed when the
// process died is committed at the next start (catch_up).
//
// The user's uncommitted changes (a run with --allow-dirty) never go into a
// codehive commit: before the run's first commit of a path, the path as the
// run found it (its found version in the store) is committed on its own,
// "codehive: your uncommitted changes to PATH", with no run trailer, so that
// `codehive undo` gives the user's version back and keeps it. Dirty files
// the run does not touch stay uncommitted and untouched.
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "actors/settings.hpp"
#include "messages/messages.hpp"
#include "vcs/repository.hpp"

namespace codehive {

namespace store {
class run_store;
}

class edit_history {
 public:
  /// nullptr when the run does not commit (settings.active unset, or the
  /// folder is no repository: then the reason is logged).
  static std::unique_ptr<edit_history> open(const std::filesystem::path& root,
                                            const std::string& run_id, const git_settings& settings,
                                            const store::run_store& store);

  /// Commits `rec.path` as the tracker just wrote it (or deleted it) for `e`.
  /// A failure is logged, not returned: the edit is stored and on disk, and
  /// the next start commits it (catch_up).
  void record(const msg::file_edit& e, const msg::applied_file& rec);

  /// Commits the stored versions of this run that HEAD lacks (written before
  /// a crash, committed never): the latest version of each path the run wrote.
  void catch_up();

 private:
  edit_history(vcs::repository repo, std::string run_id, const store::run_store& store,
               std::set<std::string> done, std::set<std::string> committed_paths);
  /// Commits `path` as the run found it, when HEAD holds something else
  /// (the user's uncommitted change), before the run's first commit of it.
  void keep_users_version(const std::string& path);
  void commit(const std::string& path, const std::string& task, std::int64_t version,
              const std::string& model, const std::string& summary);

  vcs::repository repo_;
  std::string run_id_;
  const store::run_store& store_;
  std::set<std::string> done_;  ///< "task@version" of the run's commits on HEAD
  std::set<std::string> committed_paths_;  ///< paths the run's commits on HEAD touch
};

}  // namespace codehive
