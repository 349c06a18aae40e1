// The output folder as a git repository: every edit the file tracker accepts
// becomes one commit whose trailers name the run, the task, the path and the
// stored version, so a resumed run can tell what it already committed and
// `codehive undo` / `codehive diff` can find a run's commits. No CAF: callers
// are the file tracker (a detached actor) and the CLI; every call blocks on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace codehive::vcs {

struct error {
  std::string message;
  const std::string& describe() const { return message; }
};

template <class T>
using result = basic_result<T, error>;

/// What a codehive commit says about itself, in its trailers (`Codehive-Run: RUN`, ...).
struct commit_tag {
  std::string run;
  std::string task;  ///< task id, or the fix's id ("fix:<round>:<n>")
  std::string path;
  std::int64_t version = 0;  ///< the run store's version of `path` this commit holds
  std::string model;
};

struct commit_info {
  std::string id;       ///< 40 hex digits
  std::string subject;  ///< first line of the message
  commit_tag tag;
};

/// The branch a run commits to in "run" mode.
std::string run_branch(const std::string& run_id);

/// The message of a codehive commit: subject, a body line, then the trailers.
std::string commit_message(const std::string& subject, const std::string& body, const commit_tag& tag);

/// The tag a message's trailers hold (run empty when it is no codehive commit).
commit_tag parse_tag(const std::string& message);

/// "task@version": how a resumed run recognises a version it already committed.
std::string commit_key(const std::string& task, std::int64_t version);

/// True when `dir` itself (not a folder above it) is the top of a git work tree.
bool is_repository(const std::filesystem::path& dir);

class repository {
 public:
  /// Opens the repository whose work tree is exactly `dir` (no search upwards:
  /// an output folder inside someone else's checkout is not theirs to commit to).
  static result<repository> open(const std::filesystem::path& dir);
  /// Makes `dir` a repository; when it already holds files, commits them as
  /// they are ("the folder before run RUN"), so `undo` has a state to go back to.
  static result<repository> init(const std::filesystem::path& dir, const std::string& run_id);

  repository(repository&&) noexcept;
  repository& operator=(repository&&) noexcept;
  ~repository();

  const std::filesystem::path& workdir() const { return workdir_; }

  /// Paths with uncommitted changes: modified, staged, deleted or untracked
  /// (ignored files are not the user's work in progress).
  result<std::vector<std::string>> dirty_paths() const;

  /// Keeps codehive's own files (generated_files/) out of the history and out
  /// of dirty_paths, through .git/info/exclude (the user's .gitignore is theirs).
  result<unit> exclude_exports();

  /// "run" mode: HEAD moves to codehive/RUN (made at HEAD when new; checked out,
  /// refusing to overwrite changes, when it exists, e.g. on resume).
  result<unit> use_branch(const std::string& branch);

  /// Commits `path` (relative, '/'-separated) as it is on disk now, or its
  /// deletion when it is gone, on top of HEAD; nothing else of the work tree or
  /// the index goes in. nullopt when HEAD already holds exactly that.
  result<std::optional<std::string>> commit_path(const std::string& path, const std::string& message);
  /// Commits `bytes` as the content of `path` on top of HEAD, whatever the
  /// disk holds (the user's version kept in the run store, committed apart
  /// before codehive's edit of it); the index entry of `path` follows, the
  /// work tree is not touched. nullopt when HEAD already holds exactly that.
  result<std::optional<std::string>> commit_content(const std::string& path, const std::string& bytes,
                                                    const std::string& message);

  /// "task@version" of every commit of `run_id` on HEAD's first-parent history.
  result<std::set<std::string>> committed_keys(const std::string& run_id) const;

  /// The run's commits, oldest first, on its branch (codehive/RUN when it
  /// exists, else HEAD), with the branch's reference name.
  result<std::vector<commit_info>> run_commits(const std::string& run_id, std::string* ref = nullptr) const;

  /// One revert commit that takes the run's changes back out. When the
  /// branch is checked out the work tree follows (refusing to overwrite
  /// uncommitted changes); commits on top that touch the same lines are
  /// refused as a conflict. Returns the revert commit's id.
  result<std::string> undo_run(const std::string& run_id);

  /// Every commit of the run, oldest first: its id and message, then its
  /// unified diff against its parent.
  result<std::string> diff_run(const std::string& run_id) const;

 private:
  struct impl;
  explicit repository(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
  std::filesystem::path workdir_;
};

}  // namespace codehive::vcs
