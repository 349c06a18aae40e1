// The store folder's own files, beside RocksDB's: the marker, codehive.pid
// (who holds the store), codehive.acked (the last acknowledged write), the info
// log; and the default place of the store.
#include "storage/run_store_impl.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace codehive::store {

namespace fs = std::filesystem;

result<fs::path> default_store_path() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x == '/')
    return fs::path{x} / "codehive" / "store";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return fs::path{h} / ".local" / "share" / "codehive" / "store";
  return fail(errc::not_found, "neither XDG_DATA_HOME nor HOME is set: give the store path in the config");
}

namespace detail {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string hex(std::uint64_t x, int digits) {
  static constexpr char h[] = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, x >>= 4) s[static_cast<std::size_t>(i)] = h[x & 0xf];
  return s;
}

bool starts_with(const rocksdb::Slice& s, std::string_view p) {
  return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}

/// Printable form of a key for messages: NUL shown as '/'.
std::string show(std::string_view key) {
  std::string out;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\0')
      out.push_back('/');
    else if (u < 0x20 || u >= 0x7f)
      out += "\\x" + hex(u, 2);
    else
      out.push_back(c);
  }
  return out;
}

result<std::string> read_small_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(errc::io_error, "cannot read " + p.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes `p` atomically (temp file, fsync, rename, fsync of the directory).
status write_file_durably(const fs::path& p, std::string_view data) {
  auto tmp = p;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(errc::io_error, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  const char* d = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, d, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return fail(errc::io_error, "cannot write " + tmp.string() + ": " + std::strerror(e));
    }
    d += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    return fail(errc::io_error, "cannot sync " + tmp.string() + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), p.c_str()) != 0)
    return fail(errc::io_error, "cannot rename " + tmp.string() + ": " + std::strerror(errno));
  fsync_dir(p.parent_path());
  return ok();
}

error damaged(const fs::path& dir, const std::string& what) {
  return fail(errc::corrupt, "store " + dir.string() + " is damaged (" + what +
                                 "); refusing to open or reset it: move it aside or restore a "
                                 "backup");
}

/// The pid written into codehive.pid by the process holding the store, if any.
std::string holder_pid(const fs::path& dir) {
  auto text = read_small_file(dir / pid_name);
  if (!text) return "";
  std::string s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return "";
  return s;
}

/// Writes `seq` as codehive.acked's fixed-width content at offset 0.
bool write_acked(int fd, std::uint64_t seq) {
  char buf[acked_width + 2];
  std::snprintf(buf, sizeof buf, "%020llu\n", static_cast<unsigned long long>(seq));
  return ::pwrite(fd, buf, acked_width + 1, 0) == static_cast<ssize_t>(acked_width + 1);
}

/// The sequence recorded in codehive.acked: nullopt when there is no such
/// file (a store of an older codehive, or one used unsynced), an error when
/// it is not what write_acked writes.
result<std::optional<std::uint64_t>> read_acked(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / acked_name, ec)) return std::optional<std::uint64_t>{};
  auto text = read_small_file(dir / acked_name);
  if (!text) return std::move(text).err();
  if (text->size() != acked_width + 1 || (*text)[acked_width] != '\n' ||
      text->find_first_not_of("0123456789") != acked_width)
    return damaged(dir, std::string{acked_name} + " is not a sequence number");
  return std::optional<std::uint64_t>{std::strtoull(text->c_str(), nullptr, 10)};
}

error map_open_status(const fs::path& dir, const rocksdb::Status& s) {
  std::string text = s.ToString();
  // RocksDB 7.8: "While lock file: DIR/LOCK: Resource temporarily unavailable" (another
  // process) or "lock hold by current process, acquire time ..." (this one).
  if (s.IsIOError() && (text.find("While lock file") != std::string::npos ||
                        text.find("lock hold by current process") != std::string::npos)) {
    auto pid = holder_pid(dir);
    bool self = text.find("hold by current process") != std::string::npos ||
                (!pid.empty() && pid == std::to_string(::getpid()));
    if (self)
      return fail(errc::in_use, "store " + dir.string() + " is already open in this process (pid " +
                                    std::to_string(::getpid()) + ")");
    return fail(errc::in_use, "store " + dir.string() +
                                  " is in use by another codehive process (pid " +
                                  (pid.empty() ? std::string{"unknown"} : pid) + ")");
  }
  if (s.IsCorruption() || s.IsNotFound() || s.IsPathNotFound() ||
      text.find("No such file") != std::string::npos)
    return damaged(dir, text);
  return fail(errc::io_error, "cannot open store " + dir.string() + ": " + text);
}


rocksdb::Options db_options() {
  rocksdb::Options o;
  o.OptimizeForSmallDb();
  o.paranoid_checks = true;
  o.keep_log_file_num = 3;
  o.max_manifest_file_size = 64 << 20;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  return o;
}

namespace {

/// RocksDB's info log ("LOG"), written by us: RocksDB's own file logger aborts
/// the process when it logs again after one of its writes failed (a full disk:
/// the debug assertion `sync_without_flush_called_`, which Debian's librocksdb
/// keeps), and it logs exactly then. This one ignores write errors. fd -1
/// discards (read-only opens write nothing into the store).
class info_log final : public rocksdb::Logger {
 public:
  explicit info_log(int fd) : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), fd_(fd) {}
  ~info_log() override {
    if (fd_ >= 0) ::close(fd_);
  }
  info_log(const info_log&) = delete;
  info_log& operator=(const info_log&) = delete;
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    char line[2048];
    auto t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    auto n = std::strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    int m = std::vsnprintf(line + n, sizeof line - n - 1, format, ap);
    if (m < 0) return;
    n = std::min(sizeof line - 2, n + static_cast<std::size_t>(m));
    line[n++] = '\n';
    ssize_t w = ::write(fd_, line, n);  // O_APPEND: one line per write; errors ignored
    (void)w;
  }

 private:
  int fd_;
};

}  // namespace

/// The info log of the store in `dir`: appended to dir/LOG (moved to LOG.old
/// past 1 MiB) when `write`, else discarded.
std::shared_ptr<rocksdb::Logger> make_info_log(const fs::path& dir, bool write) {
  if (!write) return std::make_shared<info_log>(-1);
  std::error_code ec;
  if (fs::file_size(dir / "LOG", ec) > (1u << 20) && !ec) fs::rename(dir / "LOG", dir / "LOG.old", ec);
  return std::make_shared<info_log>(
      ::open((dir / "LOG").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
}

void fsync_dir(const fs::path& d) {
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}


}  // namespace detail
}  // namespace codehive::store
