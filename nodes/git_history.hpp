// The output folder's git history at the start of `codehive run` / `resume`:
// make the repository (--git), refuse a folder with uncommitted changes
// (unless --allow-dirty), move to the run's branch ("run" mode), and tell the
// file tracker to commit (pipeline.git.active).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "nodes/config.hpp"

namespace codehive {

namespace store {
class run_store;
}

struct git_start {
  bool create = false;       ///< --git: make the folder a repository when it is none
  bool allow_dirty = false;  ///< --allow-dirty
};

/// nullopt when the run may start (cfg.pipeline.git.active says whether it
/// commits); else the exit code, with the reason printed. On a continued run,
/// changes that are the run's own (a file whose content is the run's stored
/// version: written before a crash, not committed yet) do not count as dirty.
std::optional<int> prepare_git_history(codehive_config& cfg, const git_start& flags,
                                       const std::filesystem::path& out_dir,
                                       const std::string& run_id, bool continuing,
                                       const store::run_store& runs);

}  // namespace codehive
