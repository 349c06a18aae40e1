// File operations inside the output folder. Every path goes through
// resolve_in_root(); symlinks are never followed; writes are atomic
// (temp file in the same directory, fsync, rename, fsync the directory).
// Each takes the folder as a path (canonicalised per call) or pinned
// (ws::pin_root: canonicalised once, for a caller that writes many files).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workspace/path_rules.hpp"
#include "workspace/result.hpp"

namespace codehive::ws {

inline constexpr std::size_t default_max_file_bytes = 1u << 20;  // 1 MiB

/// True unless the extension names a known binary format (.png, .jpg, .gif,
/// .webp, .ico, .woff(2), .ttf, .otf, .pdf, .zip, .wasm, ...). Text files
/// may not contain NUL bytes.
bool is_text_path(std::string_view rel);

/// Refuses empty content (errc::empty_content), content over `max_bytes`
/// (errc::too_large), and a NUL byte when `text` (errc::bad_content).
status check_content(std::string_view content, std::size_t max_bytes = default_max_file_bytes,
                     bool text = true);

struct write_options {
  std::size_t max_bytes = default_max_file_bytes;
  bool create_root = true;  ///< create the output folder itself if missing
  /// NUL bytes allowed whatever the extension: bytes kept from a project's
  /// binary file (restored or exported), not a model's text.
  bool any_bytes = false;
};

/// For bytes the run store already holds (a restore, an export, a client's
/// copy of a coordinator's run): no size cap (the store took them) and NUL
/// bytes allowed whatever the extension (a project's binary files, as found).
inline write_options stored_bytes_options() {
  write_options wo;
  wo.max_bytes = std::numeric_limits<std::size_t>::max();
  wo.any_bytes = true;
  return wo;
}

/// Atomic write of `content` to root/rel. Creates parent directories (each
/// checked: inside the root, not a symlink). The target, if it exists, must be
/// a regular file (not a symlink, not a directory). Leaves no temp file behind
/// on success or failure.
status write_file(const std::filesystem::path& root, std::string_view rel, std::string_view content,
                  const write_options& opts = {});
status write_file(const output_root& root, std::string_view rel, std::string_view content,
                  const write_options& opts = {});

/// Reads root/rel (regular file, not a symlink, at most `max_bytes`).
result<std::string> read_file(const std::filesystem::path& root, std::string_view rel,
                              std::size_t max_bytes = 16 * default_max_file_bytes);
result<std::string> read_file(const output_root& root, std::string_view rel,
                              std::size_t max_bytes = 16 * default_max_file_bytes);

/// Like read_file, but a missing file is std::nullopt rather than an error.
result<std::optional<std::string>> read_file_if_exists(const std::filesystem::path& root,
                                                       std::string_view rel,
                                                       std::size_t max_bytes = 16 * default_max_file_bytes);
result<std::optional<std::string>> read_file_if_exists(const output_root& root, std::string_view rel,
                                                       std::size_t max_bytes = 16 * default_max_file_bytes);

/// Deletes root/rel: only a regular file inside the root; refuses
/// directories, symlinks (even inside the root) and missing files
/// (errc::not_found). Fsyncs the parent directory.
status delete_file(const std::filesystem::path& root, std::string_view rel);
status delete_file(const output_root& root, std::string_view rel);

/// Makes root/rel and its parents (each checked: inside the root, not a
/// symlink); an existing folder is fine.
status make_folder(const std::filesystem::path& root, std::string_view rel);
status make_folder(const output_root& root, std::string_view rel);

/// Deletes the folder root/rel if it is empty; a folder with files in it is
/// refused (errc::bad_edit), as is anything that is not a folder.
status delete_empty_folder(const std::filesystem::path& root, std::string_view rel);
status delete_empty_folder(const output_root& root, std::string_view rel);

/// All regular files under root, relative, '/'-separated, sorted. Does not
/// descend into symlinks, `.git` or `node_modules`.
std::vector<std::string> list_files(const std::filesystem::path& root);

/// Removes the temp files of write_file calls that never finished (their
/// process was killed mid-write): ".codehive-tmp-PID-N" regular files under
/// root whose PID is not a live process. Same walk as list_files. Returns the
/// relative paths removed. Call at start, before any write of this process.
std::vector<std::string> remove_stale_temp_files(const std::filesystem::path& root);

/// Stable 64-bit content hash (FNV-1a 64), for file versions.
std::uint64_t content_hash(std::string_view content) noexcept;
/// The same as 16 lower-case hex digits.
std::string content_hash_hex(std::string_view content);

}  // namespace codehive::ws
