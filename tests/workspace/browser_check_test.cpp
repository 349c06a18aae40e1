#include "workspace/browser_check.hpp"

#include <gtest/gtest.h>

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
  static std::string dump(const ws::validation_report& r) {
    std::string s;
    for (const auto& f : r.findings) s += f.file + ":" + std::to_string(f.line) + " " + f.message + "\n";
    for (const auto& k : r.skipped) s += "skipped " + k.check + ": " + k.reason + "\n";
    return s;
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
  ASSERT_EQ(rep.findings.size(), 1u) << dump(rep);
  EXPECT_EQ(rep.findings[0].check, "browser");
  EXPECT_EQ(rep.findings[0].file, "js/app.js");
  EXPECT_EQ(rep.findings[0].line, 2);
  EXPECT_NE(rep.findings[0].message.find("Uncaught TypeError"), std::string::npos) << dump(rep);
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
  ASSERT_EQ(rep.findings.size(), 2u) << dump(rep);
  EXPECT_EQ(rep.findings[0].file, "page one.html");
  EXPECT_EQ(rep.findings[0].line, 3);
  EXPECT_NE(rep.findings[0].message.find("console.error: board failed to load"), std::string::npos) << dump(rep);
  EXPECT_EQ(rep.findings[1].file, "page one.html");
  EXPECT_EQ(rep.findings[1].line, 5);
  EXPECT_NE(rep.findings[1].message.find("Uncaught Error: kaboom"), std::string::npos) << dump(rep);
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
  std::string all = dump(rep);
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
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  ASSERT_EQ(rep.findings.size(), 1u) << dump(rep);
  EXPECT_NE(rep.findings[0].message.find("did not finish loading"), std::string::npos) << dump(rep);
}

TEST_F(browser_check, a_clean_page_is_clean) {
  put(root / "index.html",
       "<!doctype html><html><head><script src=\"app.js\"></script></head>\n"
       "<body><button onclick=\"go()\">go</button>\n"
       "<script>console.log('ready'); document.body.dataset.ok = '1';</script></body></html>\n");
  put(root / "app.js", "function go() { return 1; }\nwindow.addEventListener('load', () => go());\n");
  ws::validation_report rep;
  ws::check_browser(root, {}, rep);
  EXPECT_TRUE(rep.clean()) << dump(rep);
  EXPECT_TRUE(rep.skipped.empty()) << dump(rep);
}

TEST_F(browser_check, es_modules_load_over_http_and_a_bad_import_is_caught) {
  put(root / "index.html", "<!doctype html><html><body><script type=\"module\" src=\"js/main.js\"></script></body></html>\n");
  put(root / "js/main.js", "import { x } from './lib.js';\ndocument.body.dataset.x = String(x);\n");
  put(root / "js/lib.js", "export const x = 1;\n");
  ws::validation_report clean;
  ws::check_browser(root, {}, clean);
  EXPECT_TRUE(clean.clean()) << dump(clean);
  put(root / "js/main.js", "import { y } from './lib.js';\nconsole.log(y);\n");
  ws::validation_report bad;
  ws::check_browser(root, {}, bad);
  ASSERT_EQ(bad.findings.size(), 1u) << dump(bad);
  EXPECT_EQ(bad.findings[0].file, "js/main.js");
  EXPECT_NE(bad.findings[0].message.find("does not provide an export named 'y'"), std::string::npos) << dump(bad);
}

TEST_F(browser_check, a_missing_page_is_skipped_not_a_finding) {
  ws::validation_report rep;
  ws::check_browser(root, {}, rep);
  EXPECT_TRUE(rep.clean());
  ASSERT_EQ(rep.skipped.size(), 1u);
  EXPECT_EQ(rep.skipped[0].check, "browser");
}
