#include "workspace/browser_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "workspace/static_server.hpp"

#include "ws_test_util.hpp"

namespace ws = codehive::ws;
using namespace std::chrono_literals;

namespace {

class browser_check : public ws::test::temp_dir_test {
 protected:
  void SetUp() override {
    temp_dir_test::SetUp();
    if (!ws::find_browser()) {
      std::printf("[  SKIPPED ] no chromium/google-chrome on PATH (apt-get install chromium to run this)\n");
      GTEST_SKIP() << "no chromium/google-chrome on PATH";
    }
  }
};

}  // namespace

TEST_F(browser_check, an_uncaught_error_in_a_linked_script_is_a_finding) {
  put(root / "index.html",
       "<!doctype html><html><head><script src=\"js/app.js\"></script></head>\n"
       "<body><p>hi</p></body></html>\n");
  put(root / "js/app.js", "const board = 1;\nboard.render();\n");
  ws::validation_report rep;
  ws::check_browser(root, {}, rep);
  expect_only_finding(
    rep, {.check = "browser", .file = "js/app.js", .line = 2, .says = "Uncaught TypeError"});
}

TEST_F(browser_check, an_uncaught_error_in_an_inline_script_and_a_console_error) {
  put(root / "page one.html",
       "<!doctype html><html><body>\n"
       "<script>\n"
       "console.error('board failed to load');\n"
       "console.log('just a log line');\n"
       "throw new Error('kaboom');\n"
       "</script></body></html>\n");
  ws::validation_report rep;
  ws::browser_options o;
  o.page = "page one.html";
  ws::check_browser(root, o, rep);
  ASSERT_EQ(rep.findings.size(), 2u) << describe(rep);
  EXPECT_EQ(rep.findings[0].file, "page one.html");
  EXPECT_EQ(rep.findings[0].line, 3);
  EXPECT_NE(rep.findings[0].message.find("console.error: board failed to load"), std::string::npos)
    << describe(rep);
  EXPECT_EQ(rep.findings[1].file, "page one.html");
  EXPECT_EQ(rep.findings[1].line, 5);
  EXPECT_NE(rep.findings[1].message.find("Uncaught Error: kaboom"), std::string::npos)
    << describe(rep);
}

TEST_F(browser_check, errors_in_timers_rejections_and_missing_resources_are_caught) {
  put(root / "index.html",
       "<!doctype html><html><body><img src=\"missing.png\">\n"
       "<script>\n"
       "setTimeout(() => { undefinedLater(); }, 1500);\n"
       "Promise.reject(new Error('nobody catches me'));\n"
       "</script></body></html>\n");
  ws::validation_report rep;
  ws::check_browser(root, {}, rep);
  std::string all = describe(rep);
  EXPECT_NE(all.find("undefinedLater is not defined"), std::string::npos) << all;
  EXPECT_NE(all.find("nobody catches me"), std::string::npos) << all;
  EXPECT_NE(all.find("missing.png"), std::string::npos) << all;
}

TEST_F(browser_check, an_endless_loop_is_reported_and_the_browser_killed) {
  put(root / "index.html", "<!doctype html><html><body><script>while (true) {}</script></body></html>\n");
  ws::validation_report rep;
  ws::browser_options o;
  o.timeout = 5s;
  auto start = std::chrono::steady_clock::now();
  ws::check_browser(root, o, rep);
  // Not a speed check: the check must end (the looping browser killed), within
  // its own allowances: start-up 5 s, a retry's start-up 30 s where a loaded
  // machine needs it, the page 5 s; far less than a browser left running.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 90s);
  expect_only_finding(rep, {.says = "did not finish loading"});
}

TEST_F(browser_check, a_clean_page_is_clean) {
  put(root / "index.html",
       "<!doctype html><html><head><script src=\"app.js\"></script></head>\n"
       "<body><button onclick=\"go()\">go</button>\n"
       "<script>console.log('ready'); document.body.dataset.ok = '1';</script></body></html>\n");
  put(root / "app.js", "function go() { return 1; }\nwindow.addEventListener('load', () => go());\n");
  ws::validation_report rep;
  ws::check_browser(root, {}, rep);
  EXPECT_TRUE(rep.clean()) << describe(rep);
  EXPECT_TRUE(rep.skipped.empty()) << describe(rep);
}

TEST_F(browser_check, es_modules_load_over_http_and_a_bad_import_is_caught) {
  put(root / "index.html", "<!doctype html><html><body><script type=\"module\" src=\"js/main.js\"></script></body></html>\n");
  put(root / "js/main.js", "import { x } from './lib.js';\ndocument.body.dataset.x = String(x);\n");
  put(root / "js/lib.js", "export const x = 1;\n");
  ws::validation_report clean;
  ws::check_browser(root, {}, clean);
  EXPECT_TRUE(clean.clean()) << describe(clean);
  put(root / "js/main.js", "import { y } from './lib.js';\nconsole.log(y);\n");
  ws::validation_report bad;
  ws::check_browser(root, {}, bad);
  expect_only_finding(bad, {.file = "js/main.js", .says = "does not provide an export named 'y'"});
}

TEST_F(browser_check, a_missing_page_is_skipped_not_a_finding) {
  ws::validation_report rep;
  ws::check_browser(root, {}, rep);
  EXPECT_TRUE(rep.clean());
  expect_only_skipped(rep, "browser");
}

// --- the static server ----------------------------------------------------------

namespace {

class static_server : public ws::test::temp_dir_test {
 protected:
  /// A raw connection to the server, so the test decides when to speak.
  int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{60, 0};  // only a bound against a hang: the server answers at once
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  /// Sends a GET and reads one response (headers plus Content-Length body).
  static std::string get(int fd, const std::string& target) {
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "send failed";
    std::string in;
    char buf[4096];
    while (true) {
      auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto cl = in.find("Content-Length: ");
        std::size_t len = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
        if (in.size() >= end + 4 + len) return in.substr(0, end + 4 + len);
      }
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return in;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }
};

}  // namespace

// Chromium opens connections early and may use them late on a loaded machine;
// the old server closed a connection idle for 3 s and answered the empty
// request with a 404 ("Failed to load resource: 404 (index.html)").
TEST_F(static_server, a_connection_idle_for_seconds_is_still_served) {
  put(root / "index.html", "<p>hi</p>");
  ws::static_server server;
  ASSERT_TRUE(server.start(root).ok());
  int fd = connect_to(server.port());
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));  // idle past the old 3 s limit
  auto first = get(fd, "/index.html");
  EXPECT_EQ(first.rfind("HTTP/1.1 200", 0), 0u) << first;
  EXPECT_NE(first.find("<p>hi</p>"), std::string::npos) << first;
  // Kept alive: the same connection serves the next request too.
  auto second = get(fd, "/");
  EXPECT_EQ(second.rfind("HTTP/1.1 200", 0), 0u) << second;
  ::close(fd);
  server.stop();
}

TEST_F(static_server, serves_only_the_output_folder) {
  put(root / "js/app.js", "let a;");
  put(dir / "secret.txt", "outside");
  ::symlink((dir / "secret.txt").c_str(), (root / "link.txt").c_str());
  ws::static_server server;
  ASSERT_TRUE(server.start(root).ok());
  int fd = connect_to(server.port());
  auto js = get(fd, "/js/app.js?v=1");
  EXPECT_EQ(js.rfind("HTTP/1.1 200", 0), 0u) << js;
  EXPECT_NE(js.find("text/javascript"), std::string::npos) << js;
  for (const char* bad : {"/../secret.txt", "/%2e%2e/secret.txt", "/link.txt", "/missing.js"}) {
    int c = connect_to(server.port());
    auto r = get(c, bad);
    EXPECT_EQ(r.find("outside"), std::string::npos) << bad << ": " << r;
    EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), std::string::npos) << bad << ": " << r;
    ::close(c);
  }
  ::close(fd);
}

// --- a browser that does not answer in time ----------------------------------------

namespace {

/// A "browser" that hangs without answering on its first `hangs` starts, then
/// is the real Chromium.
std::filesystem::path slow_browser(const std::filesystem::path& dir, int hangs) {
  auto script = dir / "slow-browser.sh";
  auto real = ws::find_browser()->string();
  std::ofstream f(script);
  f << "#!/bin/sh\n"
    << "n=$(cat '" << (dir / "starts").string() << "' 2>/dev/null || echo 0)\n"
    << "echo $((n + 1)) > '" << (dir / "starts").string() << "'\n"
    << "if [ \"$n\" -lt " << hangs << " ]; then exec sleep 600; fi\n"
    << "exec '" << real << "' \"$@\"\n";
  f.close();
  ::chmod(script.c_str(), 0755);
  return script;
}

/// The browser check of `root` by a browser that hangs on its first `hangs` starts, each
/// start allowed `timeout`.
ws::validation_report check_with_slow_browser(const std::filesystem::path& dir,
                                              const std::filesystem::path& root, int hangs,
                                              std::chrono::milliseconds timeout) {
  ws::browser_options o;
  o.browser = slow_browser(dir, hangs);
  o.timeout = timeout;
  ws::validation_report rep;
  ws::check_browser(root, o, rep);
  return rep;
}

}  // namespace

// "no reply to Runtime.enable" on a loaded machine used to skip the check:
// now Chromium gets a second start with a longer allowance.
TEST_F(browser_check, a_browser_that_does_not_answer_is_retried_once) {
  put(root / "index.html", "<!doctype html><html><body><script>throw new Error('seen on the retry');</script></body></html>\n");
  auto rep = check_with_slow_browser(dir, root, 1, 3s);
  EXPECT_TRUE(rep.skipped.empty()) << describe(rep);
  expect_only_finding(rep, {.says = "seen on the retry"});
  EXPECT_EQ(get(dir / "starts"), "2\n");
}

// Never silently skipped: when the retry does not answer either, the skip
// says so, and the browser is not started a third time.
TEST_F(browser_check, a_browser_that_never_answers_is_skipped_saying_why) {
  put(root / "index.html", "<!doctype html><html><body></body></html>\n");
  auto rep = check_with_slow_browser(dir, root, 2, 1s);
  EXPECT_TRUE(rep.findings.empty()) << describe(rep);
  expect_only_skipped(rep, "", "did not answer, twice");
  EXPECT_EQ(get(dir / "starts"), "2\n");
}
