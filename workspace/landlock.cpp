#include "workspace/landlock.hpp"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace codehive::ws {

namespace {

// Debian 12's headers (Linux 6.1) stop at ABI 2; TRUNCATE came with ABI 3.
constexpr std::uint64_t access_truncate = 1ULL << 14;

/// Every write-like access the running kernel knows (reads and execution
/// are left alone: a test suite may read the system's libraries).
std::uint64_t write_accesses(int abi) {
  std::uint64_t a = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR
                    | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR
                    | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG
                    | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO
                    | LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2)
    a |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    a |= access_truncate;
  return a;
}

int landlock_abi() {
  long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return v < 0 ? -errno : static_cast<int>(v);
}

}  // namespace

write_confinement& write_confinement::operator=(write_confinement&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

write_confinement::~write_confinement() {
  if (fd_ >= 0)
    ::close(fd_);
}

write_confinement write_confinement::prepare(const std::vector<std::filesystem::path>& writable,
                                             std::string& why_not) {
  write_confinement c;
  int abi = landlock_abi();
  if (abi < 1) {
    why_not = std::string{"landlock: "} + std::strerror(-abi);
    return c;
  }
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = write_accesses(abi);
  long fd = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (fd < 0) {
    why_not = std::string{"landlock: "} + std::strerror(errno);
    return c;
  }
  c.fd_ = static_cast<int>(fd);
  std::vector<std::filesystem::path> beneath = writable;
  beneath.emplace_back("/dev");
  for (const auto& dir : beneath) {
    if (dir.empty())
      continue;
    int at = ::open(dir.c_str(), O_PATH | O_CLOEXEC);
    if (at < 0) {
      why_not = "landlock: cannot open " + dir.string() + ": " + std::strerror(errno);
      return write_confinement{};
    }
    landlock_path_beneath_attr rule{};
    rule.allowed_access = attr.handled_access_fs;
    rule.parent_fd = at;
    long rc = ::syscall(SYS_landlock_add_rule, c.fd_, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    int saved = errno;
    ::close(at);
    if (rc != 0) {
      why_not = "landlock: cannot allow " + dir.string() + ": " + std::strerror(saved);
      return write_confinement{};
    }
  }
  return c;
}

int confine_self(int ruleset_fd) noexcept {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return errno;
  if (::syscall(SYS_landlock_restrict_self, ruleset_fd, 0) != 0)
    return errno;
  return 0;
}

const std::string& write_confinement_unavailable() {
  static const std::string why = [] {
    std::string reason;
    write_confinement::prepare({}, reason);
    return reason;
  }();
  return why;
}

}  // namespace codehive::ws
