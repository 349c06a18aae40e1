// Reading a project codehive did not write: which of its files a model may
// see and change. Skipped: what .gitignore files exclude (workspace/gitignore.hpp),
// `.git/` and `node_modules/` always, symlinks, files over the size limit
// every written file has (default_max_file_bytes), empty files (the store
// keeps no empty content), and codehive's own temp files. Binary files (a NUL
// byte or not valid UTF-8: a model can neither read nor rewrite them) are
// skipped too, unless the caller takes them (scan_options::on_binary) to keep
// their bytes: they are part of the project even if no model may touch them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "workspace/file_ops.hpp"

namespace codehive::ws {

/// True when `text` is valid UTF-8 (no overlong forms, no surrogates).
bool is_utf8(std::string_view text);

struct scan_options {
  std::size_t max_bytes = default_max_file_bytes;
  /// Folders directly under the root that are not the project's (codehive's
  /// exports), skipped like ignored ones.
  std::vector<std::string> reserved_folders;
  /// When set, binary files of at most max_binary_bytes go to it (path,
  /// bytes) instead of being skipped; larger ones are skipped as too large.
  std::function<void(const std::string&, std::string)> on_binary;
  std::size_t max_binary_bytes = 8 * default_max_file_bytes;
};

struct skipped_file {
  std::string path;
  std::string reason;  ///< "binary", "too large (N bytes)", "empty", "unreadable: ..."
};

struct scan_report {
  std::vector<std::string> files;  ///< handed to on_file, sorted
  std::vector<std::string> binary;  ///< handed to on_binary, sorted
  std::vector<skipped_file> skipped;
  std::size_t ignored = 0;  ///< files and folders .gitignore excluded
};

/// Walks `root` (sorted, depth first) and calls `on_file(rel, content)` for
/// each file a model may work on. Never follows a symlink.
scan_report scan_project(const std::filesystem::path& root,
                         const std::function<void(const std::string&, std::string)>& on_file,
                         const scan_options& opts = {});

}  // namespace codehive::ws
