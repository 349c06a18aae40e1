// Writing a run's four exports (generated_files/{tasks,code_review,
// file_tracker,status}.json) from a run state rebuilt out of the store: what
// `codehive export` writes, and what a resume of a finished run rewrites.
#pragma once

#include <filesystem>
#include <string>

#include "actors/planner_run.hpp"

namespace codehive {

/// Renders and writes OUT/generated_files/*.json; false with `error` naming
/// the file that could not be written.
bool write_generated_files(const planner_run& run, const std::filesystem::path& out,
                           std::string& error);

}  // namespace codehive
