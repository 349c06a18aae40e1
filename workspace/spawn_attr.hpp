// The posix_spawn attributes every child process of ours gets: a process group
// of its own (so a timeout can kill the whole tree it starts), no blocked
// signals, and SIGPIPE back to its default action. Internal to workspace/.
#pragma once

#include <signal.h>
#include <spawn.h>

namespace codehive::ws {

class child_spawn_attr {
 public:
  child_spawn_attr() {
    posix_spawnattr_init(&attr_);
    posix_spawnattr_setpgroup(&attr_, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~child_spawn_attr() { posix_spawnattr_destroy(&attr_); }
  child_spawn_attr(const child_spawn_attr&) = delete;
  child_spawn_attr& operator=(const child_spawn_attr&) = delete;

  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

}  // namespace codehive::ws
