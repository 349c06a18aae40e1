// The run's exports, generated_files/{tasks,code_review,file_tracker,status}.json,
// rendered from the run state. Keys of the first three stay compatible with
// the earlier JavaScript proof of concept. No CAF, no I/O (the file tracker
// writes them).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "actors/planner_run.hpp"

namespace codehive {

/// The exports' folder inside the output folder: codehive's own, never a
/// project file (no task writes there; copies and listings skip it).
inline constexpr const char* exports_dir = "generated_files";

/// `path` (relative, normalized) is the exports' folder or inside it.
inline bool is_export_path(std::string_view path) {
  std::string_view dir{exports_dir};
  return path.substr(0, dir.size()) == dir && (path.size() == dir.size() || path[dir.size()] == '/');
}

/// Size cap for writing an export: none. Exports are rendered by codehive,
/// not written by a model, and must stay complete and current at any plan
/// size (the project files' 1 MiB cap stopped status.json near 2,800 tasks).
inline constexpr std::size_t max_export_bytes = std::numeric_limits<std::size_t>::max();

std::string tasks_json(const planner_run& run);
std::string code_review_json(const planner_run& run);
std::string file_tracker_json(const planner_run& run);
std::string status_json(const planner_run& run, std::int64_t now_ms);

/// All four as (name, content) pairs.
std::vector<msg::export_file> render_exports(const planner_run& run, std::int64_t now_ms);

/// "2026-11-21T16:04:05.123Z"
std::string iso8601_utc(std::int64_t epoch_ms);

}  // namespace codehive
