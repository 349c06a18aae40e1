// Validation as a pipeline stage: findings cached per file version must be
// exactly what the uncached validate_output gives (same findings, same order),
// before and after a fix; a fix round re-checks only what changed and the
// pages that depend on it; the long-lived node checker gives node --check's
// findings and falls back to it when the process fails.
#include "workspace/validation_cache.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "workspace/browser_check.hpp"
#include "workspace/node_checker.hpp"
#include "workspace/subprocess.hpp"
#include "ws_test_util.hpp"

namespace ws = codehive::ws;
using namespace std::chrono_literals;

namespace {

bool have_node() { return ws::find_on_path("node").has_value(); }

std::string dump(const ws::validation_report& r) {
  std::string s;
  for (const auto& f : r.findings) s += f.file + ":" + std::to_string(f.line) + " [" + f.check + "] " + f.message + "\n";
  for (const auto& k : r.skipped) s += "skipped [" + k.check + "] " + k.reason + "\n";
  s += "checked:";
  for (const auto& f : r.checked_files) s += " " + f;
  return s;
}

class validation_cache : public ws::test::temp_dir_test {
 protected:
  /// A small web project with one planted problem of each kind.
  void plant(bool with_app = true) {
    put(root / "data.json", "{\n  \"items\": [1, 2,]\n}\n");  // bad JSON, line 2
    put(root / "config.json", "{\"ok\": true}\n");
    if (with_app) put_app();
    put(root / "js/util.js", "function helper() { return 1; }\n");
    put(root / "index.html",
        "<!doctype html>\n<link rel=\"stylesheet\" href=\"css/missing.css\">\n"
        "<script src=\"js/app.js\"></script>\n<button onclick=\"launch()\">go</button>\n");
    put(root / "about.html", "<script src=\"js/util.js\"></script>\n<a onclick=\"helper()\">x</a>\n");
    put(root / "README.md", "# not checked\n");
  }
  void put_app() { put(root / "js/app.js", "function start() {\n  let x = (;\n}\n"); }  // syntax error, line 2
  ws::validator_options options() const {
    ws::validator_options o;
    o.browser = false;       // the browser check is the same call in both; it has its own suite
    o.command = "exit 3";    // a whole-project finding after the per-file ones
    return o;
  }
  static void expect_same(const ws::validation_report& cached, const ws::validation_report& uncached) {
    EXPECT_EQ(dump(cached), dump(uncached));
  }
  /// `checker`'s report on `file` (written with `src`) equals node --check's; a finding?
  bool expect_checker_as_node_check(ws::node_checker& checker, const std::string& file,
                                    const std::string& src) {
    put(root / file, src);
    ws::validation_report per_file, long_lived;
    ws::check_js(root, file, per_file);
    checker.check(root, file, src, long_lived);
    EXPECT_EQ(dump(long_lived), dump(per_file)) << file;
    return !per_file.findings.empty();
  }
  /// The cache's report for `o` equals validate_output's (run first); the files the
  /// cache checked again for it.
  std::vector<std::string> rechecked_for(ws::validation_cache& cache,
                                         const ws::validator_options& o) {
    auto uncached = ws::validate_output(root, o);
    expect_same(cache.validate(root, o), uncached);
    return cache.rechecked();
  }
};

}  // namespace

TEST_F(validation_cache, cached_and_incremental_findings_equal_uncached_ones_in_order) {
  if (!have_node()) GTEST_SKIP() << "node is not installed";
  plant(/*with_app=*/false);
  ws::validation_cache cache;
  auto o = options();
  // Versions land one by one, the page before the script it loads.
  cache.precheck(root, "index.html", o);
  cache.precheck(root, "data.json", o);
  put_app();
  for (const char* f : {"js/app.js", "config.json", "js/util.js", "about.html", "README.md"})
    cache.precheck(root, f, o);
  EXPECT_EQ(cache.prechecked(), (std::vector<std::string>{"index.html", "data.json", "js/app.js", "config.json",
                                                          "js/util.js", "about.html"}));

  // Round 1: every file.
  auto uncached = ws::validate_output(root, o);
  auto cached = cache.validate(root, o);
  expect_same(cached, uncached);
  ASSERT_GE(uncached.findings.size(), 5u) << dump(uncached);
  EXPECT_EQ(uncached.findings.back().check, "command");
  // index.html was prechecked before js/app.js existed, so it is checked again;
  // everything else is reused.
  EXPECT_EQ(cache.rechecked(), (std::vector<std::string>{"index.html"}));
  // Asked again with nothing changed: nothing is checked, same report.
  expect_same(cache.validate(root, o), uncached);
  EXPECT_TRUE(cache.rechecked().empty());

  // A fix round: the script is fixed but no longer defines what index.html calls.
  put(root / "js/app.js", "function launch() {}\nfunction start() {\n  return 1;\n}\n");
  cache.precheck(root, "js/app.js", o);
  auto fix = o;
  fix.files = {"js/app.js"};
  // The script was checked when it landed; only the page that loads it is
  // checked again (about.html does not depend on it).
  EXPECT_EQ(rechecked_for(cache, fix), (std::vector<std::string>{"index.html"}));
  // And the changed file itself when it did not go through precheck.
  put(root / "js/app.js", "function start() {\n  return 1;\n}\n");
  EXPECT_EQ(rechecked_for(cache, fix), (std::vector<std::string>{"js/app.js", "index.html"}));

  // A missing reference appears: the page that referenced it is checked again.
  put(root / "css/missing.css", "body {}\n");
  EXPECT_EQ(rechecked_for(cache, o), (std::vector<std::string>{"index.html"}));

  // A JSON fix touches no web file: the pages are not even looked at.
  put(root / "data.json", "{\"items\": [1, 2]}\n");
  auto only_json = o;
  only_json.files = {"data.json"};
  EXPECT_EQ(rechecked_for(cache, only_json), (std::vector<std::string>{"data.json"}));
  // A deleted file is dropped as validate_output drops it.
  std::filesystem::remove(root / "js/util.js");
  expect_same(cache.validate(root, o), ws::validate_output(root, o));
  EXPECT_EQ(cache.rechecked(), (std::vector<std::string>{"about.html"}));
}

TEST_F(validation_cache, per_file_node_check_mode_gives_the_same_report) {
  if (!have_node()) GTEST_SKIP() << "node is not installed";
  plant();
  ws::validation_cache cache(/*long_lived_node=*/false);
  auto o = options();
  expect_same(cache.validate(root, o), ws::validate_output(root, o));
  EXPECT_EQ(cache.rechecked().size(), 6u);
}

TEST_F(validation_cache, a_missing_node_is_skipped_as_today_and_not_cached) {
  plant();
  ws::validation_cache cache;
  auto o = options();
  o.node = "definitely-not-node-xyz";
  cache.precheck(root, "js/app.js", o);
  EXPECT_TRUE(cache.prechecked().size() == 1u);
  auto cached = cache.validate(root, o);
  expect_same(cached, ws::validate_output(root, o));
  ASSERT_EQ(cached.skipped.size(), 1u);
  // Not a result: asked again, the scripts are tried again.
  cache.validate(root, o);
  EXPECT_EQ(cache.rechecked(), (std::vector<std::string>{"js/app.js", "js/util.js"}));
}

// --- the long-lived node checker ---------------------------------------------------

namespace {

/// Sources node --check refuses (and a few it accepts), scripts and modules.
const std::vector<std::pair<std::string, std::string>> js_cases = {
    {"a.js", "function f( {\n  return 1;\n}\n"},
    {"b.js", "let a = 1;\nlet a = 2;\n"},
    {"c.js", "return 5;\n"},  // fine in CommonJS: node wraps scripts in a function
    {"d.js", "import x from './y.js';\nexport const z = ;\n"},
    {"e.mjs", "export const a = 1;\nawait foo();\nlet b = 'unterminated;\n"},
    {"f.js", "const s = `abc\n"},
    {"g.js", "await foo();\n"},
    {"h.js", "'use strict';\nwith (a) {}\n"},
    {"i.js", "class A { constructor() { super(); } }\n"},
    {"j.js", "#!/usr/bin/env node\nconsole.log(1);\n"},
    {"k.mjs", "export const a = 1;\nexport const a = 2;\n"},
    {"l.js", "export default function () {}\n"},
    {"m.js", "const x = {\n  a: 1,\n  b: 2\n;\n"},
    {"n.js", "if (x) {\n"},
    {"o.js", "let ok = 1;\n"},
};

}  // namespace

TEST_F(validation_cache, node_checker_gives_node_check_findings) {
  if (!have_node()) GTEST_SKIP() << "node is not installed";
  ws::node_checker checker;
  int bad = 0;
  for (const auto& [file, src] : js_cases)
    bad += expect_checker_as_node_check(checker, file, src) ? 1 : 0;
  EXPECT_GE(bad, 10);  // the cases do exercise errors
  EXPECT_EQ(checker.answered(), js_cases.size());  // none went to node --check
  EXPECT_EQ(checker.fell_back(), 0u);
  EXPECT_EQ(checker.starts(), 1u);
}

TEST_F(validation_cache, node_checker_restarts_once_then_falls_back_to_node_check) {
  if (!have_node()) GTEST_SKIP() << "node is not installed";
  // A "node" whose long-lived mode dies at once but whose --check works.
  auto fake = dir / "fake-node";
  put(fake, "#!/bin/sh\nif [ \"$1\" = \"--check\" ]; then exec node \"$@\"; fi\nexit 1\n");
  ::chmod(fake.c_str(), 0755);
  ws::node_checker checker(fake.string());
  const std::vector<std::pair<std::string, std::string>> cases(js_cases.begin(), js_cases.begin() + 4);
  for (const auto& [file, src] : cases)
    expect_checker_as_node_check(checker, file, src);
  EXPECT_EQ(checker.starts(), 2u);
  EXPECT_TRUE(checker.given_up());
  EXPECT_EQ(checker.answered(), 0u);
  EXPECT_EQ(checker.fell_back(), cases.size());
}

// The page load as a pipeline stage: it starts with the precheck that
// completes the page (the page and every local file it references exist),
// the round reuses it while nothing Chromium was served changed, and cached
// or not the round's findings are validate_output's, in the same order.
TEST_F(validation_cache,
       the_page_load_starts_once_the_page_and_its_references_landed_and_the_round_reuses_it) {
  if (!ws::find_browser())
    GTEST_SKIP() << "no chromium/google-chrome on PATH";
  ws::validator_options o;
  o.js = false;             // node's checks are covered above; this is about the page load
  o.browser_click = false;  // the load alone: the click-through's findings are cached the same way
  const std::string page =
    "<!doctype html>\n<link rel=\"stylesheet\" href=\"css/site.css\">\n"
    "<script src=\"js/app.js\"></script>\n<p>hi</p>\n";
  const std::string broken = "var ready = true;\nstartTheApp();\n";  // ReferenceError at line 2
  const std::string fixed = "var ready = true;\nconsole.log('started');\n";
  ws::validation_cache cache;

  // The page lands first: its script and stylesheet are missing, no load yet.
  ws::stop_browser_process();
  put(root / "index.html", page);
  cache.precheck(root, "index.html", o);
  // The first precheck started Chromium, so that no page check waits for its start-up.
  EXPECT_NE(ws::browser_process().pid, -1);
  put(root / "css/site.css", "p { color: red; }\n");
  cache.precheck(root, "css/site.css", o);
  EXPECT_EQ(cache.browser_checks(), 0u);
  // The last reference lands: the page is loaded now.
  put(root / "js/app.js", broken);
  cache.precheck(root, "js/app.js", o);
  EXPECT_EQ(cache.browser_checks(), 1u);
  // A file the page does not load changes nothing.
  put(root / "js/unused.js", "var x = 1;\n");
  cache.precheck(root, "js/unused.js", o);
  EXPECT_EQ(cache.browser_checks(), 1u);

  // The round reuses the load; same findings as the uncached validation.
  auto cached = cache.validate(root, o);
  EXPECT_TRUE(cache.browser_reused());
  EXPECT_EQ(cache.browser_checks(), 1u);
  auto uncached = ws::validate_output(root, o);
  expect_same(cached, uncached);
  bool reported = false;
  for (const auto& f : cached.findings)
    reported =
      reported || (f.check == "browser" && f.message.find("startTheApp") != std::string::npos);
  EXPECT_TRUE(reported) << dump(cached);

  // A fix lands: its precheck loads the page again, the round reuses that.
  put(root / "js/app.js", fixed);
  cache.precheck(root, "js/app.js", o);
  EXPECT_EQ(cache.browser_checks(), 2u);
  cached = cache.validate(root, o);
  EXPECT_TRUE(cache.browser_reused());
  expect_same(cached, ws::validate_output(root, o));
  for (const auto& f : cached.findings)
    EXPECT_NE(f.check, "browser") << dump(cached);

  // A served file changed without a precheck (the stylesheet): the round
  // loads the page itself, and the next round reuses that load.
  put(root / "css/site.css", "p { color: blue; }\n");
  cached = cache.validate(root, o);
  EXPECT_FALSE(cache.browser_reused());
  EXPECT_EQ(cache.browser_checks(), 3u);
  expect_same(cached, ws::validate_output(root, o));
  cache.validate(root, o);
  EXPECT_TRUE(cache.browser_reused());
  EXPECT_EQ(cache.browser_checks(), 3u);

  // A page with a reference that never lands is loaded by the round only.
  put(root / "index.html", page + "<img src=\"img/logo.png\">\n");
  cache.precheck(root, "index.html", o);
  EXPECT_EQ(cache.browser_checks(), 3u);
  cached = cache.validate(root, o);
  EXPECT_FALSE(cache.browser_reused());
  expect_same(cached, ws::validate_output(root, o));
}

TEST(line_process, a_child_that_does_not_answer_is_killed_after_the_timeout) {
  auto p = ws::line_process::start({"sleep", "600"});
  ASSERT_TRUE(p) << p.err().reason;
  auto a = (*p)->ask("hello", 200ms);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.err().code, ws::errc::io_error);
  EXPECT_FALSE((*p)->alive());
}

TEST(line_process, answers_line_by_line) {
  auto p = ws::line_process::start({"cat"});
  ASSERT_TRUE(p) << p.err().reason;
  for (const std::string& s : std::vector<std::string>{"one", "two {\"x\": 1}", std::string(200000, 'y')}) {
    auto a = (*p)->ask(s, 60s);
    ASSERT_TRUE(a) << a.err().reason;
    EXPECT_EQ(*a, s);
  }
}
