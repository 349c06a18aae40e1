#include "workspace/file_ops.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "workspace/path_rules.hpp"

namespace codehive::ws {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

/// Owns one file descriptor.
class fd_guard {
 public:
  explicit fd_guard(int fd = -1) : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  fd_guard(fd_guard&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  fd_guard& operator=(fd_guard&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  ~fd_guard() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::vector<std::string> split(const std::string& rel) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= rel.size()) {
    std::size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    parts.push_back(rel.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

/// A resolved path's components and the canonical root they hang from.
struct located {
  std::vector<std::string> parts;
  std::filesystem::path croot;
};

located locate(const resolved_path& r) {
  located out{split(r.relative), r.absolute};
  for (std::size_t k = 0; k < out.parts.size(); ++k) out.croot = out.croot.parent_path();
  return out;
}

/// Calls `fn(path, name)` for every regular file under the canonical `croot`:
/// symlinks are not followed, `.git` and `node_modules` are not entered.
template <class Fn>
void for_each_regular_file(const std::filesystem::path& croot, Fn fn) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::recursive_directory_iterator it(croot, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const auto& entry = *it;
    std::error_code e2;
    auto st = entry.symlink_status(e2);
    if (e2 || fs::is_symlink(st)) continue;
    auto name = entry.path().filename().string();
    if (fs::is_directory(st)) {
      if (name == ".git" || name == "node_modules") it.disable_recursion_pending();
      continue;
    }
    if (fs::is_regular_file(st)) fn(entry.path(), name);
  }
}

/// The directory that holds the last component of `rel`, opened component by
/// component with O_NOFOLLOW (a symlink swapped in after resolve_in_root is
/// still refused). With `create`, missing directories are made.
result<fd_guard> open_parent(const std::filesystem::path& croot, const std::vector<std::string>& parts,
                             bool create) {
  fd_guard dir(::open(croot.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return fail(errc::io_error, "cannot open output folder " + croot.string() + ": " + errno_text(errno));
  std::string so_far;
  for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
    const auto& c = parts[k];
    so_far += (so_far.empty() ? "" : "/") + c;
    bool made = false;
    if (create) {
      if (::mkdirat(dir.get(), c.c_str(), 0755) == 0) made = true;
      else if (errno != EEXIST) return fail(errc::io_error, "cannot create directory " + so_far + ": " + errno_text(errno));
    }
    fd_guard next(::openat(dir.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) {
      int e = errno;
      if (e == ELOOP) return fail(errc::symlink, "path goes through a symlink: " + so_far);
      if (e == ENOENT) return fail(errc::not_found, "directory does not exist: " + so_far);
      if (e == ENOTDIR) {
        struct stat st{};
        if (::fstatat(dir.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
          return fail(errc::symlink, "path goes through a symlink: " + so_far);
        return fail(errc::bad_path, "a parent of the path is not a directory: " + so_far);
      }
      return fail(errc::io_error, "cannot open directory " + so_far + ": " + errno_text(e));
    }
    if (made) ::fsync(dir.get());
    dir = std::move(next);
  }
  return dir;
}

bool write_all(int fd, std::string_view data) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

std::string lower_ext(std::string_view rel) {
  auto slash = rel.rfind('/');
  auto name = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string e(name.substr(dot + 1));
  for (auto& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return e;
}

result<std::optional<std::string>> read_impl(const output_root& root, std::string_view rel, std::size_t max_bytes,
                                             bool missing_ok) {
  auto res = resolve_in_root(root, rel);
  if (!res) {
    if (missing_ok && res.err().code == errc::not_found) return std::optional<std::string>{};
    return std::move(res).err();
  }
  auto [parts, croot] = locate(*res);
  auto dir = open_parent(croot, parts, false);
  if (!dir) {
    if (missing_ok && dir.err().code == errc::not_found) return std::optional<std::string>{};
    return std::move(dir).err();
  }
  fd_guard fd(::openat(dir->get(), parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    int e = errno;
    if (e == ENOENT) {
      if (missing_ok) return std::optional<std::string>{};
      return fail(errc::not_found, "file does not exist: " + res->relative);
    }
    if (e == ELOOP) return fail(errc::symlink, "refusing to read a symlink: " + res->relative);
    return fail(errc::io_error, "cannot open " + res->relative + ": " + errno_text(e));
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return fail(errc::io_error, "cannot stat " + res->relative + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return fail(errc::not_regular_file, "not a regular file: " + res->relative);
  if (static_cast<std::size_t>(st.st_size) > max_bytes)
    return fail(errc::too_large, res->relative + " is " + std::to_string(st.st_size) + " bytes, over the limit of " +
                                     std::to_string(max_bytes));
  std::string data;
  data.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errc::io_error, "cannot read " + res->relative + ": " + errno_text(errno));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  return std::optional<std::string>{std::move(data)};
}

/// An entry of the output folder that a deletion is about to remove: the
/// folder holding it (opened by open_parent), its name there, its lstat.
struct existing_entry {
  fd_guard dir;
  std::string name;
  std::string relative;
  struct stat st{};
};

/// `rel` as an existing entry, its type not yet judged; errc::not_found says
/// "<what> does not exist".
result<existing_entry> find_existing(const output_root& root, std::string_view rel, const char* what) {
  auto res = resolve_in_root(root, rel);
  if (!res) return std::move(res).err();
  auto [parts, croot] = locate(*res);
  auto dir = open_parent(croot, parts, false);
  if (!dir) return std::move(dir).err();
  existing_entry e{std::move(*dir), parts.back(), res->relative};
  if (::fstatat(e.dir.get(), e.name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return fail(errc::not_found, std::string{what} + " does not exist: " + e.relative);
    return fail(errc::io_error, "cannot inspect " + e.relative + ": " + errno_text(errno));
  }
  return e;
}

}  // namespace

bool is_text_path(std::string_view rel) {
  static const char* binary[] = {"png", "jpg", "jpeg", "gif", "webp", "ico", "bmp", "avif", "woff", "woff2",
                                 "ttf", "otf", "eot", "pdf", "zip", "gz", "tgz", "wasm", "mp3", "mp4",
                                 "ogg", "wav", "webm", "bin", "so", "a", "o", "exe", "class", "jar"};
  auto e = lower_ext(rel);
  for (auto* b : binary)
    if (e == b) return false;
  return true;
}

status check_content(std::string_view content, std::size_t max_bytes, bool text) {
  if (content.empty()) return fail(errc::empty_content, "refusing to write an empty file");
  if (content.size() > max_bytes)
    return fail(errc::too_large, "content is " + std::to_string(content.size()) + " bytes, over the limit of " +
                                     std::to_string(max_bytes));
  if (text) {
    auto pos = content.find('\0');
    if (pos != std::string_view::npos)
      return fail(errc::bad_content, "text file contains a NUL byte at offset " + std::to_string(pos));
  }
  return ok();
}

status write_file(const std::filesystem::path& root, std::string_view rel, std::string_view content,
                  const write_options& opts) {
  return write_file(pin_root(root), rel, content, opts);
}

status write_file(const output_root& root, std::string_view rel, std::string_view content, const write_options& opts) {
  if (auto c = check_content(content, opts.max_bytes, is_text_path(rel) && !opts.any_bytes); !c) return c;
  // The folder is made when it is missing: not a folder when pinned (made
  // first, as write_file always did), or removed since (the resolve says
  // not_found, which nothing below the folder is). No stat per write.
  const output_root* folder = &root;
  output_root remade;
  auto make_root = [&]() -> status {
    std::error_code ec;
    std::filesystem::create_directories(root.given, ec);
    if (ec) return fail(errc::io_error, "cannot create output folder " + root.given.string() + ": " + ec.message());
    remade = pin_root(root.given);
    folder = &remade;
    return ok();
  };
  if (opts.create_root && root.canonical.empty())
    if (auto m = make_root(); !m) return m;
  auto res = resolve_in_root(*folder, rel);
  if (!res && res.err().code == errc::not_found && opts.create_root && folder == &root) {
    if (auto m = make_root(); !m) return m;
    res = resolve_in_root(*folder, rel);
  }
  if (!res) return std::move(res).err();
  auto [parts, croot] = locate(*res);
  auto dir = open_parent(croot, parts, true);
  if (!dir) return std::move(dir).err();
  const std::string& name = parts.back();
  struct stat st{};
  bool keep_mode = false;
  if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) return fail(errc::symlink, "refusing to write through a symlink: " + res->relative);
    if (!S_ISREG(st.st_mode)) return fail(errc::not_regular_file, "target exists and is not a regular file: " + res->relative);
    keep_mode = true;
  } else if (errno != ENOENT) {
    return fail(errc::io_error, "cannot inspect " + res->relative + ": " + errno_text(errno));
  }
  static std::atomic<unsigned long> counter{0};
  std::string tmp = ".codehive-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  mode_t mode = 0644;
  fd_guard fd(::openat(dir->get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) return fail(errc::io_error, "cannot create a temp file next to " + res->relative + ": " + errno_text(errno));
  auto cleanup = [&](std::string why) {
    fd.reset();
    ::unlinkat(dir->get(), tmp.c_str(), 0);
    return fail(errc::io_error, std::move(why));
  };
  if (keep_mode) ::fchmod(fd.get(), st.st_mode & 07777);  // an executable script stays executable
  if (!write_all(fd.get(), content)) return cleanup("cannot write " + res->relative + ": " + errno_text(errno));
  if (::fsync(fd.get()) != 0) return cleanup("cannot fsync " + res->relative + ": " + errno_text(errno));
  fd.reset();
  if (::renameat(dir->get(), tmp.c_str(), dir->get(), name.c_str()) != 0)
    return cleanup("cannot rename temp file over " + res->relative + ": " + errno_text(errno));
  ::fsync(dir->get());
  return ok();
}

result<std::string> read_file(const std::filesystem::path& root, std::string_view rel, std::size_t max_bytes) {
  return read_file(pin_root(root), rel, max_bytes);
}

result<std::string> read_file(const output_root& root, std::string_view rel, std::size_t max_bytes) {
  auto r = read_impl(root, rel, max_bytes, false);
  if (!r) return std::move(r).err();
  return std::move(**r);
}

result<std::optional<std::string>> read_file_if_exists(const std::filesystem::path& root, std::string_view rel,
                                                       std::size_t max_bytes) {
  return read_impl(pin_root(root), rel, max_bytes, true);
}

result<std::optional<std::string>> read_file_if_exists(const output_root& root, std::string_view rel,
                                                       std::size_t max_bytes) {
  return read_impl(root, rel, max_bytes, true);
}

status delete_file(const std::filesystem::path& root, std::string_view rel) { return delete_file(pin_root(root), rel); }

status delete_file(const output_root& root, std::string_view rel) {
  auto e = find_existing(root, rel, "file");
  if (!e) return std::move(e).err();
  const auto mode = e->st.st_mode;
  if (S_ISLNK(mode)) return fail(errc::symlink, "refusing to delete a symlink: " + e->relative);
  if (S_ISDIR(mode)) return fail(errc::not_regular_file, "refusing to delete a directory: " + e->relative);
  if (!S_ISREG(mode)) return fail(errc::not_regular_file, "not a regular file: " + e->relative);
  if (::unlinkat(e->dir.get(), e->name.c_str(), 0) != 0)
    return fail(errc::io_error, "cannot delete " + e->relative + ": " + errno_text(errno));
  ::fsync(e->dir.get());
  return ok();
}

status make_folder(const std::filesystem::path& root, std::string_view rel) { return make_folder(pin_root(root), rel); }

status make_folder(const output_root& root, std::string_view rel) {
  auto res = resolve_in_root(root, rel);
  if (!res) return std::move(res).err();
  auto [parts, croot] = locate(*res);
  // open_parent makes every component but the last: give it one more.
  parts.emplace_back(".");
  auto dir = open_parent(croot, parts, true);
  if (!dir) return std::move(dir).err();
  return ok();
}

status delete_empty_folder(const std::filesystem::path& root, std::string_view rel) {
  return delete_empty_folder(pin_root(root), rel);
}

status delete_empty_folder(const output_root& root, std::string_view rel) {
  auto e = find_existing(root, rel, "folder");
  if (!e) return std::move(e).err();
  if (!S_ISDIR(e->st.st_mode)) return fail(errc::bad_path, "not a folder: " + e->relative);
  if (::unlinkat(e->dir.get(), e->name.c_str(), AT_REMOVEDIR) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST)
      return fail(errc::bad_edit, "folder " + e->relative + " is not empty: delete its files first");
    return fail(errc::io_error, "cannot delete " + e->relative + ": " + errno_text(errno));
  }
  ::fsync(e->dir.get());
  return ok();
}

std::vector<std::string> list_files(const std::filesystem::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  auto croot = std::filesystem::canonical(root, ec);
  if (ec) return out;
  for_each_regular_file(croot, [&](const std::filesystem::path& path, const std::string& name) {
    if (name.rfind(".codehive-tmp-", 0) != 0) out.push_back(path.lexically_relative(croot).generic_string());
  });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> remove_stale_temp_files(const std::filesystem::path& root) {
  static constexpr std::string_view prefix = ".codehive-tmp-";
  std::vector<std::string> removed;
  std::error_code ec;
  auto croot = std::filesystem::canonical(root, ec);
  if (ec) return removed;
  for_each_regular_file(croot, [&](const std::filesystem::path& path, const std::string& name) {
    if (name.rfind(prefix, 0) != 0) return;
    // ".codehive-tmp-PID-N": a live writer's file stays (another process may
    // be writing to this folder right now; our own writes are too).
    auto pid_text = name.substr(prefix.size(), name.find('-', prefix.size()) - prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9)
      return;
    auto pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) return;
    auto rel = path.lexically_relative(croot).generic_string();
    std::error_code e2;
    if (std::filesystem::remove(path, e2)) removed.push_back(std::move(rel));
  });
  return removed;
}

std::uint64_t content_hash(std::string_view content) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : content) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string content_hash_hex(std::string_view content) {
  static const char* hex = "0123456789abcdef";
  auto h = content_hash(content);
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = hex[h & 15];
    h >>= 4;
  }
  return s;
}

}  // namespace codehive::ws
