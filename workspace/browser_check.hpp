// Browser check: headless Chromium loads a page of the output folder and
// reports uncaught exceptions (also in timers and unhandled promise
// rejections), console.error/console.assert calls and failed resource loads;
// then it clicks through the page (every button and link once, types into
// inputs, submits forms; see browser_click_script.hpp) and reports what that
// throws, and does the same on the local pages the entry page links to.
// The folder is served by a private static server on 127.0.0.1 (cpp-httplib;
// ES modules and fetch() do not work from file://; file:// is the fallback);
// nothing else is reachable (host names do not resolve, and every request not
// for that server is failed). Chromium is driven over the DevTools protocol
// (--remote-debugging-pipe, browser_devtools.hpp), since its log output does
// not tell console.error from console.log.
// One Chromium per process, started on first use and reused across pages and
// validation rounds (each page in a browser context of its own: no shared
// cookies, storage or cache), started again when it died; killed with its
// process group at exit. Checks take turns on it (one at a time).
// A Chromium that does not answer in time (slow start on a loaded machine) is
// started again once with a longer allowance (3x timeout, at least 30 s); a
// click-through that does not finish in time is run again once with 3x the
// time too. Skipped (not a finding) when no Chromium is installed, or when it
// did not answer either time (the reason says so). Blocking.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <sys/types.h>

#include "workspace/validators.hpp"

namespace codehive::ws {

/// chromium, chromium-browser, google-chrome, google-chrome-stable on $PATH.
std::optional<std::filesystem::path> find_browser();

struct browser_options {
  std::string page = "index.html";                 ///< relative to the root
  std::chrono::milliseconds timeout{30000};        ///< wall clock for Chromium's start-up (the retry gets 3x, at
                                                   ///< least 30 s), again for the page load, and for
                                                   ///< each interaction of the click-through
  std::chrono::milliseconds virtual_time{3000};    ///< after the load event: virtual time run (timers fast-forwarded)
  std::filesystem::path browser;                   ///< empty: find_browser()
  bool click = true;                               ///< click-through after the load (config validators.browser_click)
  std::chrono::milliseconds click_timeout{60000};  ///< per page, for all its interactions (the retry gets 3x)
  int max_interactions = 150;                      ///< per page: a page that keeps adding controls ends somewhere
  int max_linked_pages = 10;                       ///< local pages linked from the entry page, clicked through too
};

/// What one check's result depends on: every path Chromium asked the page
/// server for, with the state of what it was given (file_state.hpp). Not
/// `recorded` when the page was loaded from file:// (no server: unknown).
struct browser_deps {
  bool recorded = false;
  std::map<std::string, std::string> files;
};

/// Loads root/page and appends one finding (check "browser") per uncaught
/// exception, console error or failed load (at most 20), with the file
/// (relative to root) and 1-based line Chromium reports (for a failed load:
/// where it was requested). A page that does not finish loading within
/// `timeout` (an endless loop) is a finding too. With `click`, then one
/// finding (check "browser_click") per distinct error the click-through
/// raises, on the entry page and on the local pages it links to (at most 20 per page);
/// a handler that does not return (an endless loop) is a finding.
/// `deps` (when given) receives what the result depends on.
void check_browser(const std::filesystem::path& root, const browser_options& opts, validation_report& out,
                   browser_deps* deps = nullptr);

/// The process's shared Chromium: how many times one was started, and the
/// running one's pid (-1: none). For tests and benchmarks.
struct browser_process_info {
  long launches = 0;
  pid_t pid = -1;
};
browser_process_info browser_process();

/// Starts the shared Chromium now, unless it runs (or none is installed), so
/// that the first check does not wait for its start-up (seconds); blocking.
void start_browser_process(const browser_options& opts = {});

/// Stops the shared Chromium now (it is also stopped at exit); the next check starts a new one.
void stop_browser_process();

}  // namespace codehive::ws
