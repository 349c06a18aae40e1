// One headless Chromium process driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: the browser reads NUL-terminated JSON commands on
// fd 3 and writes replies/events on fd 4), and the process-wide instance the
// page check reuses across pages and validation rounds: starting Chromium is
// most of a page check's time. Internal to workspace/.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "workspace/result.hpp"

namespace codehive::ws {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Blocks SIGPIPE in this thread while talking to the browser.
class sigpipe_block {
 public:
  sigpipe_block() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~sigpipe_block() {
    timespec zero{0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_{}, old_{};
};

/// One Chromium process (own process group, fresh profile in a temp dir that
/// is removed with it) and its DevTools pipe.
class devtools_browser {
 public:
  using clock = std::chrono::steady_clock;

  devtools_browser() = default;
  ~devtools_browser() { stop(); }
  devtools_browser(const devtools_browser&) = delete;
  devtools_browser& operator=(const devtools_browser&) = delete;

  status start(const std::filesystem::path& browser);
  /// Started, and neither exited nor closed its pipe.
  bool alive();
  pid_t pid() const noexcept { return pid_; }
  const std::filesystem::path& program() const noexcept { return program_; }

  /// Sends a command; returns its id.
  int send(const char* method, const std::string& session = {}, const std::function<void(json_writer&)>& params = {});
  /// The next message until `deadline`; false on timeout or EOF.
  bool next(rapidjson::Document& msg, clock::time_point deadline);
  /// Waits for the reply to command `id`; other messages go to `on_message`.
  bool reply(int id, rapidjson::Document& msg, clock::time_point deadline,
             const std::function<void(const rapidjson::Document&)>& on_message);
  const std::string& stderr_text() const { return stderr_; }

  /// A browser context with a blank tab, made after a check for the next one:
  /// its renderer process starts meanwhile (most of a warm check's set-up
  /// time on a loaded machine). Empty strings: none.
  struct spare_tab {
    std::string context, target;
  };
  spare_tab spare;

  /// Browser.close, a moment to exit, then SIGKILL to its process group.
  void stop();

 private:
  void flush();

  pid_t pid_ = -1;
  int wr_ = -1, rd_ = -1, err_ = -1;
  int next_id_ = 0;
  std::string in_, out_, stderr_;
  std::filesystem::path program_, profile_;
};

/// The one Chromium of this process: started on first use, started again
/// when it died or was stopped, or when another program is asked for; killed
/// with its process group at exit (killed by a signal, our process closes the
/// pipe by dying, and Chromium exits on that). Users take the lock for a whole page check
/// (one conversation at a time on the pipe).
class shared_browser {
 public:
  static shared_browser& instance();

  /// Locks; the caller then uses browser(). Not re-entrant.
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }
  /// With the lock held: a running Chromium for `program`, started if needed.
  result<devtools_browser*> get(const std::filesystem::path& program);
  /// With the lock held: the running Chromium for `program`, or null (none is started).
  devtools_browser* running(const std::filesystem::path& program) {
    return browser_ && browser_->alive() && browser_->program() == program ? browser_.get() : nullptr;
  }
  /// With the lock held: stops it (it did not answer); the next get() starts a new one.
  void discard();

  /// How many times a Chromium was started, and the running one's pid (-1: none).
  long launches() const noexcept { return launches_; }
  pid_t pid() const noexcept { return browser_ ? browser_->pid() : -1; }

  ~shared_browser();

 private:
  shared_browser() = default;
  std::mutex mu_;
  std::unique_ptr<devtools_browser> browser_;
  long launches_ = 0;
};

}  // namespace codehive::ws
