#include "workspace/browser_devtools.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "workspace/spawn_attr.hpp"

extern char** environ;

namespace codehive::ws {

namespace {

int int_member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return -1;
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : -1;
}

}  // namespace

status devtools_browser::start(const std::filesystem::path& browser) {
  stop();
  program_ = browser;
  std::string tmpl = (std::filesystem::temp_directory_path() / "codehive-browser-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return fail(errc::io_error, "cannot create a temp profile directory");
  profile_ = tmpl;
  int to_browser[2], from_browser[2], err_pipe[2];
  if (::pipe2(to_browser, O_CLOEXEC) != 0) return fail(errc::spawn_failed, "pipe failed");
  if (::pipe2(from_browser, O_CLOEXEC) != 0) {
    ::close(to_browser[0]);
    ::close(to_browser[1]);
    return fail(errc::spawn_failed, "pipe failed");
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    for (int fd : {to_browser[0], to_browser[1], from_browser[0], from_browser[1]}) ::close(fd);
    return fail(errc::spawn_failed, "pipe failed");
  }
  // Move the child's ends above 2..4 so the dup2 to 3/4 never aliases them.
  int child_in = ::fcntl(to_browser[0], F_DUPFD_CLOEXEC, 10);
  int child_out = ::fcntl(from_browser[1], F_DUPFD_CLOEXEC, 10);
  ::close(to_browser[0]);
  ::close(from_browser[1]);
  wr_ = to_browser[1];
  rd_ = from_browser[0];
  err_ = err_pipe[0];
  // No network beyond loopback: every host name resolves to nothing (pages
  // are served from 127.0.0.1 by address); the page check also fails, per
  // request, anything not from its own server.
  std::vector<std::string> args = {browser.string(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-extensions",
                                   "--disable-dev-shm-usage",
                                   "--mute-audio",
                                   "--no-proxy-server",
                                   "--disable-breakpad",
                                   "--disable-crash-reporter",
                                   "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                                   "--user-data-dir=" + profile_.string(),
                                   "--remote-debugging-pipe",
                                   "about:blank"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "HOME=", 5) != 0) env_store.emplace_back(*e);
  env_store.push_back("HOME=" + profile_.string());
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_adddup2(&fa, child_in, 3);
  posix_spawn_file_actions_adddup2(&fa, child_out, 4);
  posix_spawn_file_actions_addchdir_np(&fa, profile_.c_str());
  child_spawn_attr attr;
  int rc = ::posix_spawn(&pid_, browser.c_str(), &fa, attr.get(), argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(child_in);
  ::close(child_out);
  ::close(err_pipe[1]);
  if (rc != 0) {
    pid_ = -1;
    stop();
    return fail(errc::spawn_failed, "cannot start " + browser.string() + ": " + std::strerror(rc));
  }
  for (int fd : {wr_, rd_, err_}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return ok();
}

bool devtools_browser::alive() {
  if (pid_ <= 0 || rd_ < 0 || wr_ < 0) return false;
  int st = 0;
  return ::waitpid(pid_, &st, WNOHANG) == 0;
}

int devtools_browser::send(const char* method, const std::string& session,
                           const std::function<void(json_writer&)>& params) {
  rapidjson::StringBuffer sb;
  json_writer w(sb);
  int id = ++next_id_;
  w.StartObject();
  w.Key("id");
  w.Int(id);
  w.Key("method");
  w.String(method);
  if (!session.empty()) {
    w.Key("sessionId");
    w.String(session.c_str());
  }
  if (params) {
    w.Key("params");
    w.StartObject();
    params(w);
    w.EndObject();
  }
  w.EndObject();
  out_.append(sb.GetString(), sb.GetSize());
  out_ += '\0';
  flush();
  return id;
}

bool devtools_browser::next(rapidjson::Document& msg, clock::time_point deadline) {
  while (true) {
    auto nul = in_.find('\0');
    if (nul != std::string::npos) {
      msg.Parse(in_.data(), nul);
      in_.erase(0, nul + 1);
      if (msg.HasParseError() || !msg.IsObject()) continue;
      return true;
    }
    if (rd_ < 0) return false;
    auto now = clock::now();
    if (now >= deadline) return false;
    flush();
    pollfd fds[3] = {{rd_, POLLIN, 0}, {err_, POLLIN, 0}, {wr_, static_cast<short>(out_.empty() ? 0 : POLLOUT), 0}};
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    ::poll(fds, 3, static_cast<int>(std::min<long long>(ms + 1, 100)));
    char buf[65536];
    if (err_ >= 0) {
      ssize_t n;
      while ((n = ::read(err_, buf, sizeof buf)) > 0) {
        stderr_.append(buf, static_cast<std::size_t>(n));
        if (stderr_.size() > 65536) stderr_.erase(0, stderr_.size() - 32768);
      }
      if (n == 0) {
        ::close(err_);
        err_ = -1;
      }
    }
    ssize_t n;
    while ((n = ::read(rd_, buf, sizeof buf)) > 0) in_.append(buf, static_cast<std::size_t>(n));
    if (n == 0) {
      ::close(rd_);
      rd_ = -1;
    }
  }
}

bool devtools_browser::reply(int id, rapidjson::Document& msg, clock::time_point deadline,
                             const std::function<void(const rapidjson::Document&)>& on_message) {
  while (next(msg, deadline)) {
    if (int_member(msg, "id") == id) return true;
    if (on_message) on_message(msg);
  }
  return false;
}

void devtools_browser::stop() {
  sigpipe_block no_sigpipe;  // the browser may be gone: writing Browser.close must not kill us
  if (pid_ > 0) {
    if (wr_ >= 0) send("Browser.close");
    auto until = clock::now() + std::chrono::milliseconds(1500);
    int st = 0;
    while (clock::now() < until) {
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_ || r < 0) break;
      ::usleep(20000);
    }
    // Its process group: renderers and the zygote outlive a killed browser process otherwise.
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  for (int* fd : {&wr_, &rd_, &err_})
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  in_.clear();
  out_.clear();
  spare = {};
  if (!profile_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(profile_, ec);
    profile_.clear();
  }
}

void devtools_browser::flush() {
  while (!out_.empty() && wr_ >= 0) {
    ssize_t n = ::write(wr_, out_.data(), out_.size());
    if (n > 0) {
      out_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EAGAIN) return;
    out_.clear();  // EPIPE: the browser is gone
    return;
  }
}

shared_browser& shared_browser::instance() {
  // Destroyed at exit (static destructors), which kills Chromium's process group.
  static shared_browser one;
  return one;
}

result<devtools_browser*> shared_browser::get(const std::filesystem::path& program) {
  if (browser_ && browser_->alive() && browser_->program() == program) return browser_.get();
  if (!browser_) browser_ = std::make_unique<devtools_browser>();
  ++launches_;
  if (auto s = browser_->start(program); !s) return s.err();
  return browser_.get();
}

void shared_browser::discard() {
  if (browser_) browser_->stop();
}

shared_browser::~shared_browser() {
  std::lock_guard<std::mutex> g(mu_);
  if (browser_) browser_->stop();
}

}  // namespace codehive::ws
