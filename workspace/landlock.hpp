// Confining a child's writes to a few folders with Landlock (Linux 5.13+):
// a validator command runs model-written code (`npm test`), which may read
// the machine as the user can but must write only inside the output folder
// and its scratch home. Unprivileged, no mount namespace needed; where the
// kernel lacks Landlock the child runs unconfined and the reason is said.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace codehive::ws {

/// A Landlock ruleset allowing every kind of write beneath `writable` (and
/// /dev, for /dev/null and the terminal) and nowhere else; reading and
/// executing are not restricted. Prepared in the parent, applied by the
/// forked child with confine_self() between fork and exec.
class write_confinement {
 public:
  /// A ruleset, or an empty confinement with the reason in `why_not`.
  static write_confinement prepare(const std::vector<std::filesystem::path>& writable,
                                   std::string& why_not);

  write_confinement() = default;
  write_confinement(write_confinement&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  write_confinement& operator=(write_confinement&& o) noexcept;
  write_confinement(const write_confinement&) = delete;
  write_confinement& operator=(const write_confinement&) = delete;
  ~write_confinement();

  /// The ruleset's descriptor (close-on-exec), -1 when there is none.
  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

/// In the child (system calls only): no new privileges, then the ruleset.
/// 0, or the errno of the call that failed.
int confine_self(int ruleset_fd) noexcept;

/// "" when this kernel has Landlock, else why not. Probed once.
const std::string& write_confinement_unavailable();

}  // namespace codehive::ws
