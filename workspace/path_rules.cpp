#include "workspace/path_rules.hpp"

#include <sys/stat.h>

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
    return fail(errc::bad_path, "path is longer than " + std::to_string(max_path_bytes) +
                                    " bytes (" + std::to_string(rel.size()) + ")");
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
    if (!out.empty()) out += '/';
    out += comp;
  }
  if (out.empty()) return fail(errc::bad_path, "path names the output folder itself: " + shown(rel));
  return out;
}

result<resolved_path> resolve_in_root(const std::filesystem::path& root, std::string_view rel) {
  auto norm = normalize_relative(rel);
  if (!norm) return std::move(norm).err();
  std::error_code ec;
  auto croot = std::filesystem::canonical(root, ec);
  if (ec) return fail(errc::not_found, "output folder does not exist: " + root.string() + " (" + ec.message() + ")");
  if (!std::filesystem::is_directory(croot, ec))
    return fail(errc::not_regular_file, "output folder is not a directory: " + root.string());
  const std::string& r = *norm;
  std::filesystem::path cur = croot;
  std::size_t i = 0;
  while (i < r.size()) {
    std::size_t j = r.find('/', i);
    bool last = j == std::string::npos;
    if (last) j = r.size();
    cur /= r.substr(i, j - i);
    std::string so_far = r.substr(0, j);
    i = j + 1;
    struct stat st{};
    if (::lstat(cur.c_str(), &st) != 0) {
      if (errno == ENOENT) break;  // the rest does not exist yet
      if (errno == ENOTDIR) return fail(errc::bad_path, "a parent of the path is not a directory: " + so_far);
      return fail(errc::io_error, "cannot inspect " + so_far + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) return fail(errc::symlink, "path goes through a symlink: " + so_far);
    if (!last && !S_ISDIR(st.st_mode))
      return fail(errc::bad_path, "a parent of the path is not a directory: " + so_far);
    // Defense in depth (bind mounts, races): the real location must stay inside.
    auto real = std::filesystem::canonical(cur, ec);
    if (ec) return fail(errc::io_error, "cannot resolve " + so_far + ": " + ec.message());
    auto rs = real.native();
    auto rootS = croot.native();
    if (!(rs == rootS || (rs.size() > rootS.size() && rs.compare(0, rootS.size(), rootS) == 0 &&
                          (rootS.back() == '/' || rs[rootS.size()] == '/'))))
      return fail(errc::outside_root, "path escapes the output folder: " + std::string(rel));
  }
  return resolved_path{croot / r, r};
}

}  // namespace codehive::ws
