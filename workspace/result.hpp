// Errors of the workspace layer (path rules, file operations, edits,
// validators), as values. No exception escapes this library; no CAF here.
// Actors turn a ws::error into a caf::error at their boundary.
#pragma once

#include <string>
#include <utility>

#include "common/result.hpp"

namespace codehive::ws {

/// Every way a workspace operation can fail.
enum class errc {
  bad_path = 1,      ///< lexically invalid: empty, absolute, `..`, NUL/control chars, backslash, too long
  outside_root,      ///< resolves outside the output folder (symlink, realpath escape)
  symlink,           ///< a component (or the target) is a symlink; never followed
  not_found,         ///< file does not exist
  not_regular_file,  ///< exists but is a directory / device / socket ...
  empty_content,     ///< refusing to write or produce an empty file
  too_large,         ///< content over the size limit
  bad_content,       ///< NUL byte in a text file, or similar
  io_error,          ///< the OS said no (errno text in the reason)
  bad_edit,          ///< malformed edit (JSON shape, missing field, empty SEARCH)
  no_section,        ///< html_section: the document has no such <head>/<body>
  search_not_found,  ///< search_replace: a SEARCH text matches nowhere
  search_ambiguous,  ///< search_replace: a SEARCH text matches more than once
  spawn_failed,      ///< a subprocess could not be started
};

/// Stable lower-case name ("bad_path", "search_not_found", ...).
const char* to_string(errc e) noexcept;

/// A code and a reason ("path escapes the output folder: ../x");
/// `describe()` gives "<code>: <reason>".
using error = coded_error<errc>;

template <class T>
using result = basic_result<T, error>;
using status = result<unit>;

/// Shorthands: `return ws::fail(errc::bad_path, "...");`, `return ws::ok();`
using codehive::fail, codehive::ok, codehive::unit;

}  // namespace codehive::ws
