// Path rules: every path a model names is relative to the output folder and
// must stay inside it. Lexical rules first (no I/O), then filesystem rules
// (no symlinked component, realpath inside the root).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "workspace/result.hpp"

namespace codehive::ws {

inline constexpr std::size_t max_component_bytes = 255;
inline constexpr std::size_t max_path_bytes = 4096;

/// Lexical check and normalization, no I/O. Returns "a/b/c.txt": `./`
/// segments and duplicate/trailing slashes removed. Refuses (errc::bad_path,
/// specific reason): empty, absolute, any `..` segment, NUL or control
/// characters, backslash, a component over 255 bytes, a path over 4096 bytes,
/// and a path naming the root itself ("." or "./").
result<std::string> normalize_relative(std::string_view rel);

struct resolved_path {
  std::filesystem::path absolute;  ///< canonical root / relative
  std::string relative;            ///< the normalized relative path
};

/// normalize_relative + filesystem rules against `root` (which may itself be
/// reached through symlinks; it is canonicalized first and must exist as a
/// directory). Every existing component below the root must be a real
/// directory/file, not a symlink (errc::symlink), and its realpath must stay
/// inside the root (errc::outside_root). Components that do not exist yet are
/// fine (a write creates them). The final component may be anything that is
/// not a symlink; callers check its type.
result<resolved_path> resolve_in_root(const std::filesystem::path& root, std::string_view rel);

}  // namespace codehive::ws
