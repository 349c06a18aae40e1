// The client's copy of a coordinator run's results (`run --coordinator --out
// DIR`, `export RUN --coordinator`): every file version the coordinator sends
// is checked against its content hash and written into DIR with the
// workspace's file operations (never outside DIR, atomic), deletions too;
// where DIR is a git repository each version the run wrote becomes one
// commit, as the file tracker commits a local run's edits. At the end
// `complete` asks the coordinator for the run's files and fetches whatever
// the copy missed (a client that reconnected, or was started again).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "vcs/repository.hpp"

namespace caf {
class actor_system;
}

namespace codehive {

class client_copy {
 public:
  /// `repo`: commit every version the run wrote (null: no history);
  /// `run_branch`: commit on codehive/RUN (git.branch "run"), checked out at
  /// the first version.
  client_copy(std::filesystem::path root, std::optional<vcs::repository> repo, bool run_branch);

  /// One version, pushed or fetched. Thread-safe. A copy of another run than
  /// the first one seen, an older version than the one here, or content whose
  /// hash does not match is not written (counted as refused when it is bad).
  void apply(const msg::file_copy& c);

  /// Fetches the run's file list from the coordinator, then the content of
  /// every file whose copy here is missing or differs, and carries out the
  /// run's deletions; writes the exports (generated_files/). False with
  /// `error` when the coordinator refuses or a file cannot be written.
  bool complete(caf::actor_system& sys, const registry_actor& reg, const std::string& token,
                const std::string& run_id, std::string& error);

  std::size_t written() const;  ///< versions written (pushed or fetched)
  std::size_t fetched() const;  ///< of them, fetched by complete()
  std::size_t refused() const;  ///< versions refused (bad hash, bad path, write failed)
  std::size_t commits() const;  ///< git commits made
  std::size_t files() const;    ///< files of the run in the copy after complete()

 private:
  void commit(const msg::file_copy& c, const std::string& path);
  bool apply_locked(const msg::file_copy& c, std::string& error);
  /// `c`'s version of `path` is on disk (its hash checked by the caller): remembered, committed.
  void remember_locked(const msg::file_copy& c, const std::string& path);

  mutable std::mutex mu_;
  std::filesystem::path root_;
  std::optional<vcs::repository> repo_;
  bool run_branch_ = false;
  bool branch_ready_ = false;
  std::string run_id_;
  std::map<std::string, std::int64_t> versions_;  ///< path -> version in the copy
  std::optional<std::set<std::string>> committed_;  ///< "task@version" of the run's commits
  std::size_t written_ = 0, fetched_ = 0, refused_ = 0, commits_ = 0, files_ = 0;
  bool fetching_ = false;
};

/// One fetch_files round trip: the answer, or nullopt with `error` when none came.
using fetch_round_trip =
  std::function<std::optional<msg::fetched_files>(const msg::fetch_files&, std::string& error)>;

/// Fetches the contents of `paths` (request `base` with its token and run) in
/// requests of at most `batch` paths, asking again for the files an answer
/// left out (the coordinator caps an answer's bytes), and hands each file
/// that comes to `take`. False with `error` when no answer comes, one is
/// refused, or one brings none of the files asked for.
bool fetch_in_batches(const fetch_round_trip& ask, const msg::fetch_files& base,
                      std::vector<std::string> paths, std::size_t batch,
                      const std::function<void(const msg::file_copy&)>& take, std::string& error);

/// Where DIR is a git repository (or `create`: made one), the history for a
/// client copy: refuses a DIR with uncommitted changes unless `allow_dirty`
/// (nullopt repo, `error` set). No repository and none asked for: nullopt,
/// empty error. `commit` false (config git.commit) and not `create`: none.
std::optional<vcs::repository> open_client_history(const std::filesystem::path& dir, bool commit,
                                                   bool create, bool allow_dirty,
                                                   std::string& error);

}  // namespace codehive
