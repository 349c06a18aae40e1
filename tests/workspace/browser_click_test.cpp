// The browser click-through and the shared Chromium, with Debian's real
// Chromium: the committed fixture (tests/fixtures/clickthrough/) has four
// errors that only interaction shows; the check must report each with its
// file and line, and nothing else.
#include "workspace/browser_check.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "ws_test_util.hpp"

namespace ws = codehive::ws;
using namespace std::chrono_literals;

namespace {

class browser_click : public ws::test::temp_dir_test {
 protected:
  void SetUp() override {
    temp_dir_test::SetUp();
    if (!ws::find_browser()) {
      std::printf(
        "[  SKIPPED ] no chromium/google-chrome on PATH (apt-get install chromium to run this)\n");
      GTEST_SKIP() << "no chromium/google-chrome on PATH";
    }
  }
  /// Limits far above what the fixture needs, saying what they wait for: a
  /// busy 2-core CI machine makes Chromium slow, never wrong.
  static ws::browser_options generous() {
    ws::browser_options o;
    o.timeout = 60s;         // Chromium's start-up, the page load, and one interaction each
    o.click_timeout = 120s;  // all interactions of one page
    return o;
  }
};

}  // namespace

TEST_F(browser_click, the_fixture_reports_each_planted_error_with_file_and_line_and_nothing_else) {
  std::filesystem::copy(std::filesystem::path(CODEHIVE_SOURCE_DIR) / "tests/fixtures/clickthrough",
                        root, std::filesystem::copy_options::recursive);
  ws::validation_report rep;
  ws::check_browser(root, generous(), rep);
  EXPECT_TRUE(rep.skipped.empty()) << describe(rep);
  // file, line, what the message must say: js/app.js's "planted" comments.
  const std::set<std::tuple<std::string, int, std::string>> planted = {
    {"js/app.js", 9, "refreshBoard is not defined"},
    {"js/app.js", 15, "404"},
    {"js/app.js", 19, "toUppercase is not a function"},
    {"js/app.js", 30, "Cannot read properties of null (reading 'name')"},
  };
  std::set<std::tuple<std::string, int, std::string>> found;
  for (const auto& f : rep.findings) {
    EXPECT_EQ(f.check, "browser_click") << describe(rep);
    bool matched = false;
    for (const auto& [file, line, text] : planted)
      if (f.file == file && f.line == line && f.message.find(text) != std::string::npos) {
        found.insert({file, line, text});
        matched = true;
      }
    EXPECT_TRUE(matched) << "not planted: " << f.file << ":" << f.line << " " << f.message << "\n"
                         << describe(rep);
  }
  EXPECT_EQ(found, planted) << describe(rep);
  EXPECT_EQ(rep.findings.size(), planted.size()) << describe(rep);
  // The messages say what was done on which page.
  std::string all = describe(rep);
  EXPECT_NE(all.find("page index.html: clicking <button#broken> \"Broken\""), std::string::npos)
    << all;
  EXPECT_NE(all.find("js/plugins/chart.js"), std::string::npos) << all;
}

// Through validate_output, as a validation round runs it: the click-through's
// findings go out with the others, and the static checks find nothing to add.
TEST_F(browser_click, a_validation_round_reports_the_click_through_findings) {
  std::filesystem::copy(std::filesystem::path(CODEHIVE_SOURCE_DIR) / "tests/fixtures/clickthrough",
                        root, std::filesystem::copy_options::recursive);
  ws::validator_options o;
  o.browser_timeout = 60s;  // Chromium's start-up and the page load on a busy machine
  auto rep = ws::validate_output(root, o);
  std::set<std::pair<std::string, int>> where;
  for (const auto& f : rep.findings) {
    EXPECT_EQ(f.check, "browser_click") << describe(rep);
    where.insert({f.file, f.line});
  }
  const std::set<std::pair<std::string, int>> planted = {
    {"js/app.js", 9}, {"js/app.js", 15}, {"js/app.js", 19}, {"js/app.js", 30}};
  EXPECT_EQ(where, planted) << describe(rep);
}

// validators.browser_click: false reaches the browser check through
// validate_output: the same fixture then has nothing to report.
TEST_F(browser_click, a_validation_round_without_click_through_reports_only_the_load) {
  std::filesystem::copy(std::filesystem::path(CODEHIVE_SOURCE_DIR) / "tests/fixtures/clickthrough",
                        root, std::filesystem::copy_options::recursive);
  ws::validator_options o;
  o.browser_timeout = 60s;  // Chromium's start-up and the page load on a busy machine
  o.browser_click = false;
  auto rep = ws::validate_output(root, o);
  EXPECT_TRUE(rep.clean()) << describe(rep);
}

TEST_F(browser_click, without_click_through_only_the_load_is_checked) {
  std::filesystem::copy(std::filesystem::path(CODEHIVE_SOURCE_DIR) / "tests/fixtures/clickthrough",
                        root, std::filesystem::copy_options::recursive);
  auto o = generous();
  o.click = false;
  ws::validation_report rep;
  ws::check_browser(root, o, rep);
  EXPECT_TRUE(rep.clean()) << describe(rep);
  EXPECT_TRUE(rep.skipped.empty()) << describe(rep);
}

TEST_F(browser_click, a_linked_local_page_is_clicked_through_too) {
  put(root / "index.html",
      "<!doctype html><html><body><a href=\"more/page%202.html\">more</a></body></html>\n");
  put(root / "more/page 2.html",
      "<!doctype html><html><body>\n"
      "<button onclick=\"missingHelper()\">go</button>\n"
      "</body></html>\n");
  ws::validation_report rep;
  ws::check_browser(root, generous(), rep);
  expect_only_finding(rep, {.check = "browser_click",
                            .file = "more/page 2.html",
                            .line = 2,
                            .says = "missingHelper is not defined"});
}

// A handler that navigates by itself (not through a link our listener can
// stop) does not end the click-through: the page is loaded again and the
// controls not handled yet are still clicked.
TEST_F(browser_click, a_handler_that_navigates_away_does_not_end_the_click_through) {
  put(root / "index.html",
      "<!doctype html><html><body>\n"
      "<button onclick=\"location.href = 'other.html'\">leave</button>\n"
      "<button onclick=\"afterLeaving()\">stay</button>\n"
      "</body></html>\n");
  put(root / "other.html", "<!doctype html><html><body>elsewhere</body></html>\n");
  ws::validation_report rep;
  ws::check_browser(root, generous(), rep);
  expect_only_finding(rep,
                      {.file = "index.html", .line = 3, .says = "afterLeaving is not defined"});
}

TEST_F(browser_click, a_handler_in_an_endless_loop_is_a_finding) {
  put(root / "index.html",
      "<!doctype html><html><body>\n"
      "<button id=\"spin\" onclick=\"while (true) {}\">spin</button>\n"
      "</body></html>\n");
  auto o = generous();
  // The interaction's limit: the first 4 s run out, the retry's 12 s too;
  // both far beyond a click that returns.
  o.timeout = 4s;
  ws::validation_report rep;
  ws::check_browser(root, o, rep);
  expect_only_finding(
    rep, {.check = "browser_click", .says = "clicking <button#spin> \"spin\" did not return"});
  // The looping renderer went with its page: the next check works.
  put(root / "index.html",
      "<!doctype html><html><body><button onclick=\"nope()\">x</button></body></html>\n");
  ws::validation_report next;
  ws::check_browser(root, generous(), next);
  expect_only_finding(next, {.says = "nope is not defined"});
}

TEST_F(browser_click, nothing_beyond_the_private_server_is_requested) {
  // An address, not a name (names do not resolve at all): the request is
  // failed by the check itself, not by the network.
  put(root / "index.html",
      "<!doctype html><html><body>\n"
      "<button onclick=\"fetch('http://192.0.2.1/track').catch(e => console.error('blocked: ' + "
      "e.message))\">"
      "track</button>\n</body></html>\n");
  ws::validation_report rep;
  ws::check_browser(root, generous(), rep);
  std::string all = describe(rep);
  EXPECT_NE(all.find("ERR_BLOCKED_BY_CLIENT"), std::string::npos) << all;
  EXPECT_NE(all.find("blocked: Failed to fetch"), std::string::npos) << all;
}

// --- one Chromium for the process -------------------------------------------------

TEST_F(browser_click, one_chromium_serves_many_checks_and_is_started_again_when_it_died) {
  ws::stop_browser_process();
  long before = ws::browser_process().launches;
  EXPECT_EQ(ws::browser_process().pid, -1);
  // Pages share nothing: the second page does not see what the first stored.
  put(root / "index.html",
      "<!doctype html><html><body><script>\n"
      "if (localStorage.getItem('seen')) throw new Error('state leaked from an earlier page');\n"
      "localStorage.setItem('seen', '1');\n"
      "</script></body></html>\n");
  ws::validation_report first, second;
  ws::check_browser(root, generous(), first);
  auto one = ws::browser_process();
  ws::check_browser(root, generous(), second);
  auto two = ws::browser_process();
  EXPECT_TRUE(first.clean()) << describe(first);
  EXPECT_TRUE(second.clean()) << describe(second);
  EXPECT_EQ(one.launches, before + 1);
  EXPECT_EQ(two.launches, before + 1);  // reused: no second start
  EXPECT_GT(one.pid, 0);
  EXPECT_EQ(two.pid, one.pid);
  ASSERT_EQ(::kill(two.pid, 0), 0);

  // Killed from outside: the next check starts a new one and still finds what it should.
  ASSERT_EQ(::kill(two.pid, SIGKILL), 0);
  put(root / "index.html",
      "<!doctype html><html><body><script>\nthrow new Error('after the "
      "restart');\n</script></body></html>\n");
  ws::validation_report third;
  ws::check_browser(root, generous(), third);
  auto three = ws::browser_process();
  expect_only_finding(third, {.says = "after the restart"});
  EXPECT_EQ(three.launches, before + 2);
  EXPECT_GT(three.pid, 0);
  EXPECT_NE(three.pid, one.pid);

  ws::stop_browser_process();
  EXPECT_EQ(ws::browser_process().pid, -1);
  EXPECT_NE(::kill(three.pid, 0), 0);  // gone (reaped), not left running
}

// Issue 14's "done means": on the demo's output. The demo's coder first writes
// js/app.js without clearDone(), which index.html's "Clear done" button calls
// (configs/demo/answers/coder/js/app.js.json): the click-through finds exactly
// that; on the demo's final app (after the fix) it finds nothing.
TEST_F(browser_click, on_the_demos_output_it_finds_exactly_the_planted_error_and_nothing_after_the_fix) {
  const auto demo = std::filesystem::path(CODEHIVE_SOURCE_DIR) / "configs/demo";
  std::filesystem::copy(demo / "app", root, std::filesystem::copy_options::recursive);
  ws::validation_report fixed;
  ws::check_browser(root, generous(), fixed);
  EXPECT_TRUE(fixed.skipped.empty()) << describe(fixed);
  EXPECT_TRUE(fixed.findings.empty()) << "the demo's final app should be clean:\n"
                                      << describe(fixed);

  rapidjson::Document answer;
  auto text = get(demo / "answers/coder/js/app.js.json");
  answer.Parse(text.c_str());
  ASSERT_TRUE(answer.IsObject() && answer.HasMember("content")) << text.substr(0, 200);
  put(root / "js/app.js", answer["content"].GetString());
  ws::validation_report first;
  ws::check_browser(root, generous(), first);
  EXPECT_TRUE(first.skipped.empty()) << describe(first);
  ASSERT_EQ(first.findings.size(), 1u) << describe(first);
  const auto& f = first.findings[0];
  EXPECT_EQ(f.check, "browser_click") << describe(first);
  EXPECT_EQ(f.file, "index.html") << describe(first);
  EXPECT_EQ(f.line, 16) << describe(first);
  EXPECT_NE(f.message.find("clearDone is not defined"), std::string::npos) << describe(first);
}
