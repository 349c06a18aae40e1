// Path rules: every path a model names is relative to the output folder and
// must stay inside it. Lexical rules first (no I/O), then filesystem rules
// (no symlinked component, realpath inside the root).
//
// Both cost time linear in the path: resolution walks the components once
// with openat() from the root (canonicalising every prefix was cubic: a path
// 1,000 folders deep took 109 s). The limits below bound what a model may
// plan; each error names the limit it hit.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "workspace/result.hpp"

namespace codehive::ws {

/// One name (file or folder): the usual file-system limit.
inline constexpr std::size_t max_component_bytes = 255;
/// A whole relative path. Well under PATH_MAX (4096), which must still hold
/// the output folder's own absolute path in front of it (tools we run, such
/// as node and the browser, take absolute paths).
inline constexpr std::size_t max_path_bytes = 1024;
/// Folders plus the file's name: generated projects nest a handful deep; a
/// path deeper than this is a model's mistake, not a project layout.
inline constexpr std::size_t max_path_depth = 64;

/// Lexical check and normalization, no I/O. Returns "a/b/c.txt": `./`
/// segments and duplicate/trailing slashes removed. Refuses (errc::bad_path,
/// specific reason): empty, absolute, any `..` segment, NUL or control
/// characters, backslash, a component over max_component_bytes, a path over
/// max_path_bytes or with more than max_path_depth components, and a path
/// naming the root itself ("." or "./").
result<std::string> normalize_relative(std::string_view rel);

struct resolved_path {
  std::filesystem::path absolute;  ///< canonical root / relative
  std::string relative;            ///< the normalized relative path
  /// What the last component is (never a symlink: those are refused);
  /// not_found when it, or a folder above it, does not exist yet.
  std::filesystem::file_type type = std::filesystem::file_type::not_found;
};

/// The output folder, canonicalised once and kept. Canonicalising costs a
/// readlink and a stat per component of the folder's absolute path; the file
/// tracker resolves several paths per task, so it pins the folder at start
/// and pays that once. Paths resolved against a pinned folder still get
/// every rule below the folder (no symlink, realpath inside it).
struct output_root {
  std::filesystem::path given;      ///< as named (making it again uses this)
  std::filesystem::path canonical;  ///< its realpath; empty: it was not a folder when pinned
};

/// Canonicalises `root` now. A root that does not exist (or is no folder) is
/// pinned unresolved: resolving against it then canonicalises every time, as
/// resolve_in_root(path) does, so it works once the folder is made.
output_root pin_root(const std::filesystem::path& root);

/// normalize_relative + filesystem rules against `root` (which may itself be
/// reached through symlinks; it is canonicalized first and must exist as a
/// directory). Every existing component below the root must be a real
/// directory/file, not a symlink (errc::symlink), and its realpath must stay
/// inside the root (errc::outside_root). Components that do not exist yet are
/// fine (a write creates them). The final component may be anything that is
/// not a symlink; callers check its type.
result<resolved_path> resolve_in_root(const std::filesystem::path& root, std::string_view rel);

/// The same against a pinned folder: no canonicalisation per path. The
/// folder gone since it was pinned is errc::not_found, as for a path root.
result<resolved_path> resolve_in_root(const output_root& root, std::string_view rel);

}  // namespace codehive::ws
