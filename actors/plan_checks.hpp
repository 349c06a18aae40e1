// A plan checked against the project it changes: a model that updates or
// deletes a file the project lacks, or deletes files the request never asked
// about, is asked again with the reason (like any other unusable plan), and
// what the user should know about the request itself is said.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "messages/messages.hpp"

namespace codehive {

/// File paths the request names ("js/app.js", "index.html", `style.css`):
/// words with a '/' and a file extension, or a known source extension
/// (.html, .css, .js, .json, .md, ...). Lower-cased, in order, once each.
std::vector<std::string> files_named_in(const std::string& request);

/// The summary a binary file of the project gets (no model reads it): it
/// tells the planner the file is there and may not be updated.
std::string binary_summary(std::size_t bytes);
bool is_binary_summary(const std::string& summary);

struct plan_verdict {
  std::string problem;             ///< "" when usable; else why not, for the re-ask
  std::vector<std::string> notes;  ///< for the user (e.g. a named file the project lacks)
};

/// `tasks` with normalized paths; `files` the project as the tracker listed
/// it. Refused: an update or delete of a file the project lacks, an update
/// of a binary file (binary_summary: no model can rewrite it), and more
/// than `max_unrequested_deletes` deletes of files the request does not
/// mention (by path, name or name without extension).
plan_verdict check_plan_against_project(const std::vector<msg::file_task>& tasks,
                                        const std::vector<msg::applied_file>& files,
                                        const std::string& request,
                                        std::size_t max_unrequested_deletes);

/// `{"<key>":"<text>"}`: the data of the store events "plan_refused" and
/// "plan_note", which keep what the user was shown about the plan.
std::string plan_event_json(const char* key, const std::string& text, int attempt = 0);

}  // namespace codehive
