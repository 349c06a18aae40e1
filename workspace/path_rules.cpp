#include "workspace/path_rules.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace codehive::ws {

namespace {

/// Printable form of a path for reasons: control bytes as \xNN, cut at 200.
std::string shown(std::string_view p) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : p.substr(0, 200)) {
    if (c < 0x20 || c == 0x7f) {
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    } else {
      s += static_cast<char>(c);
    }
  }
  if (p.size() > 200) s += "...";
  return s;
}

}  // namespace

result<std::string> normalize_relative(std::string_view rel) {
  if (rel.empty()) return fail(errc::bad_path, "empty path");
  if (rel.size() > max_path_bytes)
    return fail(errc::bad_path, "path is longer than " + std::to_string(max_path_bytes) + " bytes (" +
                                    std::to_string(rel.size()) + "; limit max_path_bytes): " + shown(rel));
  for (unsigned char c : rel) {
    if (c == 0) return fail(errc::bad_path, "path contains a NUL byte: " + shown(rel));
    if (c < 0x20 || c == 0x7f)
      return fail(errc::bad_path, "path contains a control character: " + shown(rel));
    if (c == '\\') return fail(errc::bad_path, "path contains a backslash (use '/'): " + shown(rel));
  }
  if (rel.front() == '/')
    return fail(errc::bad_path, "absolute path not allowed (paths are relative to the output folder): " +
                                    shown(rel));
  std::string out;
  out.reserve(rel.size());
  std::size_t depth = 0;
  std::size_t i = 0;
  while (i < rel.size()) {
    std::size_t j = rel.find('/', i);
    if (j == std::string_view::npos) j = rel.size();
    std::string_view comp = rel.substr(i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") return fail(errc::outside_root, "path escapes the output folder: " + shown(rel));
    if (comp.size() > max_component_bytes)
      return fail(errc::bad_path, "path component is longer than " + std::to_string(max_component_bytes) +
                                      " bytes: " + shown(comp.substr(0, 40)) + "...");
    if (++depth > max_path_depth)
      return fail(errc::bad_path, "path is nested more than " + std::to_string(max_path_depth) +
                                      " levels deep (limit max_path_depth): " + shown(rel));
    if (!out.empty()) out += '/';
    out += comp;
  }
  if (out.empty()) return fail(errc::bad_path, "path names the output folder itself: " + shown(rel));
  return out;
}

namespace {

/// Owns one file descriptor.
struct fd_owner {
  int fd = -1;
  explicit fd_owner(int f) : fd(f) {}
  fd_owner(const fd_owner&) = delete;
  fd_owner& operator=(const fd_owner&) = delete;
  ~fd_owner() {
    if (fd >= 0) ::close(fd);
  }
  void reset(int f) {
    if (fd >= 0) ::close(fd);
    fd = f;
  }
};

bool inside(const std::string& real, const std::string& root) {
  return real == root || (real.size() > root.size() && real.compare(0, root.size(), root) == 0 &&
                          (root.back() == '/' || real[root.size()] == '/'));
}

std::filesystem::file_type type_of(mode_t mode) {
  using ft = std::filesystem::file_type;
  if (S_ISREG(mode)) return ft::regular;
  if (S_ISDIR(mode)) return ft::directory;
  if (S_ISLNK(mode)) return ft::symlink;
  if (S_ISFIFO(mode)) return ft::fifo;
  if (S_ISSOCK(mode)) return ft::socket;
  if (S_ISBLK(mode)) return ft::block;
  if (S_ISCHR(mode)) return ft::character;
  return ft::unknown;
}

/// The filesystem rules for the normalized path `r` below the canonical root
/// `croot` (`given`: the root as named, for messages).
result<resolved_path> walk(const std::filesystem::path& croot, const std::filesystem::path& given, const std::string& r,
                           std::string_view rel) {
  // One openat() per component, relative to the folder opened before it, never
  // following a symlink: linear in the path, and no absolute path is built
  // (root + a long relative path may exceed PATH_MAX).
  fd_owner dir(::open(croot.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) {
    // A pinned folder removed (or replaced) since it was pinned.
    if (errno == ENOENT) return fail(errc::not_found, "output folder does not exist: " + given.string());
    if (errno == ENOTDIR) return fail(errc::not_regular_file, "output folder is not a directory: " + given.string());
    return fail(errc::io_error, "cannot open output folder " + croot.string() + ": " + std::strerror(errno));
  }
  auto type = std::filesystem::file_type::not_found;
  bool descended = false;
  std::size_t i = 0;
  while (i < r.size()) {
    std::size_t j = r.find('/', i);
    bool last = j == std::string::npos;
    if (last) j = r.size();
    std::string comp = r.substr(i, j - i);
    i = j + 1;
    struct stat st {};
    if (last) {
      if (::fstatat(dir.fd, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) break;  // does not exist yet
        if (errno == ENOTDIR) return fail(errc::bad_path, "a parent of the path is not a directory: " + r);
        return fail(errc::io_error, "cannot inspect " + r + ": " + std::strerror(errno));
      }
      if (S_ISLNK(st.st_mode)) return fail(errc::symlink, "path goes through a symlink: " + r);
      type = type_of(st.st_mode);
      break;
    }
    // A folder is opened straight away (O_NOFOLLOW: a symlink fails); only a
    // failure is looked at, to say why. One syscall per folder, not two.
    int next = ::openat(dir.fd, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      int e = errno;
      if (e == ENOENT) break;  // the rest does not exist yet
      if (e != ELOOP && e != ENOTDIR)
        return fail(errc::io_error, "cannot open " + r.substr(0, j) + ": " + std::strerror(e));
      if (::fstatat(dir.fd, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) break;  // removed meanwhile: as if it did not exist
        return fail(errc::io_error, "cannot inspect " + r.substr(0, j) + ": " + std::strerror(errno));
      }
      if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
        return fail(errc::bad_path, "a parent of the path is not a directory: " + r.substr(0, j));
      return fail(errc::symlink, "path goes through a symlink: " + r.substr(0, j));
    }
    dir.reset(next);
    descended = true;
  }
  // Defense in depth (bind mounts, races): the deepest existing folder must
  // really be inside the root. One readlink, where /proc is mounted.
  if (descended) {
    std::string link = "/proc/self/fd/" + std::to_string(dir.fd);
    std::string real(4096 + 1, '\0');
    auto n = ::readlink(link.c_str(), real.data(), real.size());
    if (n > 0 && static_cast<std::size_t>(n) < real.size()) {
      real.resize(static_cast<std::size_t>(n));
      if (!inside(real, croot.native()))
        return fail(errc::outside_root, "path escapes the output folder: " + shown(rel));
    }
  }
  return resolved_path{croot / r, r, type};
}

/// The realpath of `root`, which must be an existing folder.
result<std::filesystem::path> canonical_root(const std::filesystem::path& root) {
  std::error_code ec;
  auto croot = std::filesystem::canonical(root, ec);
  if (ec) return fail(errc::not_found, "output folder does not exist: " + root.string() + " (" + ec.message() + ")");
  if (!std::filesystem::is_directory(croot, ec))
    return fail(errc::not_regular_file, "output folder is not a directory: " + root.string());
  return croot;
}

}  // namespace

result<resolved_path> resolve_in_root(const std::filesystem::path& root, std::string_view rel) {
  auto norm = normalize_relative(rel);
  if (!norm) return std::move(norm).err();
  auto croot = canonical_root(root);
  if (!croot) return std::move(croot).err();
  return walk(*croot, root, *norm, rel);
}

output_root pin_root(const std::filesystem::path& root) {
  auto croot = canonical_root(root);
  return output_root{root, croot ? std::move(*croot) : std::filesystem::path{}};
}

result<resolved_path> resolve_in_root(const output_root& root, std::string_view rel) {
  if (root.canonical.empty()) return resolve_in_root(root.given, rel);
  auto norm = normalize_relative(rel);
  if (!norm) return std::move(norm).err();
  return walk(root.canonical, root.given, *norm, rel);
}

}  // namespace codehive::ws
