// The coder's context map, looked up rather than scanned: which files and
// planned tasks a task's instructions name, and which share the target's
// folder. build_context (controller.cpp) asks it once per coder or fixer
// request; scanning every file and task there made each request cost
// O(project): at 20,000 tasks that scan was the planner's largest cost.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/planner_run.hpp"
#include "common/path_names.hpp"

namespace codehive::planner {

/// The file names that `text` (a task's description and instructions) could
/// mean: the last component of every word made of characters a path may
/// hold, without a trailing '.', e.g. "call helper() from lib/a.js." -> "a.js"
/// (and "call", "helper", "from"). A name counts where it is a whole word, so
/// "app.js" does not name "myapp.js".
std::vector<std::string_view> names_in(std::string_view text);

/// Places in planner_run::files and ::tasks by file name and by folder, each
/// list in the order of those vectors, so a lookup lists what a full scan
/// would, in the same order.
class context_map {
 public:
  struct places {
    std::vector<std::size_t> files;  ///< indexes into planner_run::files, ascending
    std::vector<std::size_t> tasks;  ///< indexes into planner_run::tasks, ascending
  };

  /// Catches up with `run`: appended files and tasks are added; after a
  /// wholesale replacement (planner_run::layout_version moved) it indexes
  /// again from the start.
  void refresh(const planner_run& run);
  /// nullptr when nothing has that name / lies in that folder.
  const places* named(std::string_view name) const;
  const places* in_folder(std::string_view folder) const;

 private:
  void add(std::string_view path, std::size_t at, bool task);

  std::unordered_map<std::string, places> by_name_;
  std::unordered_map<std::string, places> by_folder_;
  std::uint64_t layout_version_ = 0;
  std::size_t files_seen_ = 0;
  std::size_t tasks_seen_ = 0;
};

}  // namespace codehive::planner
