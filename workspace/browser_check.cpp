// Headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: the browser reads NUL-terminated JSON commands on
// fd 3 and writes replies/events on fd 4). This tells console.error apart
// from console.log, which Chromium's stderr log does not.
#include "workspace/browser_check.hpp"
#include "workspace/html_scan.hpp"
#include "workspace/spawn_attr.hpp"
#include "workspace/static_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "workspace/file_ops.hpp"
#include "workspace/path_rules.hpp"
#include "workspace/subprocess.hpp"

extern char** environ;

namespace codehive::ws {

namespace {

using clock = std::chrono::steady_clock;

std::string file_url(const std::filesystem::path& p) {
  static const char* hex = "0123456789ABCDEF";
  std::string u = "file://";
  for (unsigned char c : p.string()) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      u += static_cast<char>(c);
    } else {
      u += '%';
      u += hex[c >> 4];
      u += hex[c & 15];
    }
  }
  return u;
}

/// A fresh, private temp directory, removed on destruction.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "codehive-browser-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

const rapidjson::Value* member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string str_of(const rapidjson::Value* v) {
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

int int_of(const rapidjson::Value* v, int dflt = -1) { return v && v->IsInt() ? v->GetInt() : dflt; }

std::string first_line(std::string s) {
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

/// One Chromium process with its DevTools pipe.
class devtools_session {
 public:
  ~devtools_session() { stop(); }

  status start(const std::filesystem::path& browser, const std::filesystem::path& profile) {
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
                                     "--user-data-dir=" + profile.string(),
                                     "--remote-debugging-pipe",
                                     "about:blank"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; e && *e; ++e)
      if (std::strncmp(*e, "HOME=", 5) != 0) env_store.emplace_back(*e);
    env_store.push_back("HOME=" + profile.string());
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
    posix_spawn_file_actions_addchdir_np(&fa, profile.c_str());
    child_spawn_attr attr;
    int rc = ::posix_spawn(&pid_, browser.c_str(), &fa, attr.get(), argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(child_in);
    ::close(child_out);
    ::close(err_pipe[1]);
    if (rc != 0) {
      pid_ = -1;
      return fail(errc::spawn_failed, "cannot start " + browser.string() + ": " + std::strerror(rc));
    }
    for (int fd : {wr_, rd_, err_}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return ok();
  }

  /// Sends a command; returns its id.
  int send(const char* method, const std::string& session = {},
           const std::function<void(rapidjson::Writer<rapidjson::StringBuffer>&)>& params = {}) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
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

  /// Waits for the next message until `deadline`; false on timeout or EOF.
  bool next(rapidjson::Document& msg, clock::time_point deadline) {
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

  /// Waits for the reply to command `id` (events meanwhile go to `on_event`).
  bool reply(int id, rapidjson::Document& msg, clock::time_point deadline,
             const std::function<void(const rapidjson::Document&)>& on_event) {
    while (next(msg, deadline)) {
      if (int_of(member(msg, "id")) == id) return true;
      if (member(msg, "method")) on_event(msg);
    }
    return false;
  }

  const std::string& stderr_text() const { return stderr_; }

  void stop() {
    if (pid_ > 0) {
      // Browser.close was sent by the caller where possible; give it a moment.
      auto until = clock::now() + std::chrono::milliseconds(1500);
      int st = 0;
      while (clock::now() < until) {
        pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_ || r < 0) break;
        ::usleep(20000);
      }
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
    }
    for (int* fd : {&wr_, &rd_, &err_})
      if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
      }
  }

 private:
  void flush() {
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

  pid_t pid_ = -1;
  int wr_ = -1, rd_ = -1, err_ = -1;
  int next_id_ = 0;
  std::string in_, out_, stderr_;
};

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

}  // namespace

std::optional<std::filesystem::path> find_browser() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"})
    if (auto p = find_on_path(name)) return p;
  return std::nullopt;
}

namespace {

/// One Chromium session: start it, attach to a page, load `url`, let timers
/// run. Returns "" when Chromium answered throughout (its findings, if any,
/// appended to `found`), else why it did not answer within `startup`: the
/// caller retries that, since a loaded machine starts Chromium slowly.
std::string load_once(const std::filesystem::path& browser, const browser_options& opts, const std::string& url,
                      const std::string& url_root, std::chrono::milliseconds startup, std::vector<finding>& found) {
  temp_dir profile;
  if (profile.path.empty()) return "cannot create a temp profile directory";
  auto rel_of = [&](const std::string& u) {
    if (u.rfind(url_root, 0) == 0) return html::percent_decode(u.substr(url_root.size()));
    return u;
  };
  devtools_session dt;
  if (auto s = dt.start(browser, profile.path); !s) return s.err().reason;
  // One allowance for start-up (slow on a loaded machine), one for the page.
  auto deadline = clock::now() + startup;
  rapidjson::Document msg;
  int reported = 0;
  bool loaded = false, budget_done = false;
  auto add = [&](std::string file, int line, std::string text) {
    if (++reported > 20) return;
    found.push_back({std::move(file), line, "browser", "page " + opts.page + ": " + std::move(text)});
  };
  auto on_event = [&](const rapidjson::Document& m) {
    const std::string method = str_of(member(m, "method"));
    const rapidjson::Value* params = member(m, "params");
    if (!params) return;
    if (method == "Runtime.exceptionThrown") {
      const auto* d = member(*params, "exceptionDetails");
      if (!d) return;
      std::string text = str_of(member(*d, "text"));
      const auto* ex = member(*d, "exception");
      std::string desc = ex ? first_line(str_of(member(*ex, "description"))) : "";
      if (ex && desc.empty()) {
        const auto* v = member(*ex, "value");
        if (v && v->IsString()) desc = str_of(v);
      }
      if (!desc.empty() && text.find(desc) == std::string::npos) text += " " + desc;
      std::string u = str_of(member(*d, "url"));
      add(u.empty() ? opts.page : rel_of(u), int_of(member(*d, "lineNumber")) + 1, text);
    } else if (method == "Runtime.consoleAPICalled") {
      std::string type = str_of(member(*params, "type"));
      if (type != "error" && type != "assert") return;
      std::string text;
      if (const auto* args = member(*params, "args"); args && args->IsArray())
        for (const auto& a : args->GetArray()) {
          const auto* v = member(a, "value");
          std::string piece = v && v->IsString() ? str_of(v) : str_of(member(a, "description"));
          if (piece.empty() && v && v->IsNumber()) piece = std::to_string(v->GetDouble());
          if (!text.empty()) text += ' ';
          text += piece;
        }
      std::string file = opts.page;
      int line = 0;
      if (const auto* stack = member(*params, "stackTrace"))
        if (const auto* frames = member(*stack, "callFrames"); frames && frames->IsArray() && !frames->Empty()) {
          const auto& f = (*frames)[0];
          std::string u = str_of(member(f, "url"));
          if (!u.empty()) file = rel_of(u);
          line = int_of(member(f, "lineNumber")) + 1;
        }
      add(file, line, "console." + type + ": " + first_line(text));
    } else if (method == "Log.entryAdded") {
      const auto* e = member(*params, "entry");
      if (!e || str_of(member(*e, "level")) != "error") return;
      std::string source = str_of(member(*e, "source"));
      if (source == "javascript" || source == "console-api") return;  // reported through Runtime
      std::string u = str_of(member(*e, "url"));
      std::string text = str_of(member(*e, "text"));
      if (!u.empty()) text += " (" + rel_of(u) + ")";
      add(opts.page, 0, text);
    } else if (method == "Page.loadEventFired") {
      loaded = true;
    } else if (method == "Emulation.virtualTimeBudgetExpired") {
      budget_done = true;
    }
  };

  auto no_answer = [&](const std::string& why) {
    return why + " within " + std::to_string(startup.count() / 1000) + " s" +
           (dt.stderr_text().empty() ? "" : ": " + tail_lines(dt.stderr_text(), 3));
  };
  // 1. find (or make) a page target and attach to it
  int id = dt.send("Target.getTargets");
  if (!dt.reply(id, msg, deadline, on_event)) return no_answer("Chromium did not answer on the DevTools pipe");
  std::string target;
  if (const auto* res = member(msg, "result"))
    if (const auto* infos = member(*res, "targetInfos"); infos && infos->IsArray())
      for (const auto& t : infos->GetArray())
        if (str_of(member(t, "type")) == "page") {
          target = str_of(member(t, "targetId"));
          break;
        }
  if (target.empty()) {
    id = dt.send("Target.createTarget", {}, [](auto& w) {
      w.Key("url");
      w.String("about:blank");
    });
    if (!dt.reply(id, msg, deadline, on_event)) return no_answer("Chromium did not create a page");
    if (const auto* res = member(msg, "result")) target = str_of(member(*res, "targetId"));
  }
  id = dt.send("Target.attachToTarget", {}, [&](auto& w) {
    w.Key("targetId");
    w.String(target.c_str());
    w.Key("flatten");
    w.Bool(true);
  });
  std::string session;
  if (dt.reply(id, msg, deadline, on_event))
    if (const auto* res = member(msg, "result")) session = str_of(member(*res, "sessionId"));
  if (session.empty()) return no_answer("cannot attach to the page target");
  for (const char* m : {"Runtime.enable", "Log.enable", "Page.enable"}) {
    id = dt.send(m, session);
    if (!dt.reply(id, msg, deadline, on_event)) return no_answer(std::string("no reply to ") + m);
  }
  // 2. load the page
  deadline = clock::now() + opts.timeout;
  id = dt.send("Page.navigate", session, [&](auto& w) {
    w.Key("url");
    w.String(url.c_str());
  });
  if (dt.reply(id, msg, deadline, on_event))
    if (const auto* res = member(msg, "result"))
      if (auto err = str_of(member(*res, "errorText")); !err.empty()) add(opts.page, 0, "cannot load: " + err);
  while (!loaded && dt.next(msg, deadline))
    if (member(msg, "method")) on_event(msg);
  if (!loaded) {
    add(opts.page, 0,
        "did not finish loading within " + std::to_string(opts.timeout.count() / 1000) + " s (an endless loop?)");
  } else {
    // 3. let timers run: virtual time fast-forwards setTimeout/intervals.
    id = dt.send("Emulation.setVirtualTimePolicy", session, [&](auto& w) {
      w.Key("policy");
      w.String("pauseIfNetworkFetchesPending");
      w.Key("budget");
      w.Int64(static_cast<std::int64_t>(opts.virtual_time.count()));
    });
    auto settle = std::min(deadline, clock::now() + opts.virtual_time + std::chrono::seconds(2));
    while (!budget_done && dt.next(msg, settle))
      if (member(msg, "method")) on_event(msg);
  }
  dt.send("Browser.close");
  dt.stop();
  return {};
}

}  // namespace

void check_browser(const std::filesystem::path& root, const browser_options& opts, validation_report& out) {
  std::optional<std::filesystem::path> browser;
  if (!opts.browser.empty()) browser = find_on_path(opts.browser.string());
  else browser = find_browser();
  if (!browser) {
    out.skipped.push_back(
        {"browser", "no Chromium found on PATH (chromium, chromium-browser, google-chrome): page load not checked"});
    return;
  }
  auto page = resolve_in_root(root, opts.page);
  struct stat st{};
  if (!page || ::stat(page->absolute.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    out.skipped.push_back({"browser", "no " + opts.page + " in the output folder: page load not checked"});
    return;
  }
  // Served over loopback HTTP (ES modules and fetch() fail on file://); the
  // file:// URL is the fallback when no socket can be opened.
  static_server server;
  std::string url, url_root;
  if (server.start(root)) {
    url_root = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
    std::string path;
    for (char ch : page->relative) {
      if (std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("/-_.~").find(ch) != std::string_view::npos)
        path += ch;
      else
        path += file_url(std::string(1, ch)).substr(7);
    }
    url = url_root + path;
  } else {
    std::error_code ec;
    url = file_url(page->absolute);
    url_root = file_url(std::filesystem::canonical(root, ec)) + "/";
  }
  sigpipe_block no_sigpipe;
  // A Chromium that does not answer in time (a loaded machine: "no reply to
  // Runtime.enable") gets a second, fresh start with a longer allowance; only
  // when that fails too is the check skipped, saying why both times.
  std::vector<finding> found;
  auto first = load_once(*browser, opts, url, url_root, opts.timeout, found);
  if (first.empty()) {
    out.findings.insert(out.findings.end(), found.begin(), found.end());
    return;
  }
  spdlog::warn("page check of {}: Chromium did not answer ({}); retrying once with a longer allowance", opts.page,
               first);
  found.clear();
  auto longer = std::max<std::chrono::milliseconds>(opts.timeout * 3, std::chrono::seconds(30));
  auto second = load_once(*browser, opts, url, url_root, longer, found);
  if (second.empty()) {
    out.findings.insert(out.findings.end(), found.begin(), found.end());
    return;
  }
  out.skipped.push_back({"browser", "Chromium did not answer, twice: " + first + "; then " + second});
}

}  // namespace codehive::ws
