// A dashboard page watched in headless Chromium in real time, over the
// DevTools pipe the page check uses (workspace/browser_devtools.hpp).
//
// Why not `chromium --dump-dom --virtual-time-budget=MS`: the dump comes when
// the page's virtual time runs out, and virtual time advances as fast as the
// page's requests let it. So whether the page was still open when the run
// ended depended on how long each API request took: it held while a request
// on a kept-alive connection cost 44 ms, and ran out long before the run's
// end once the API answered in 0.1 ms. Here the page runs its own timers in
// real time, as in a user's browser, and the test asks it (Runtime.evaluate)
// until what it waits for is true, within a generous limit.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "workspace/browser_devtools.hpp"

namespace codehive::http_test {

class page_watch {
 public:
  /// Starts Chromium and navigates a fresh tab to `url`; an empty string on
  /// success, else what failed. The page loads and runs on its own from here.
  std::string open(const std::filesystem::path& chromium, const std::string& url, int timeout_ms);

  /// Runs `expression` in the page: its value when it is a string, "" for any
  /// other value, nullopt when the page did not answer within `timeout_ms`.
  std::optional<std::string> eval(const std::string& expression, int timeout_ms);

  /// Runs `expression` about every 200 ms until it gives a non-empty string,
  /// which is returned; nullopt when `timeout_ms` passed first.
  std::optional<std::string> wait_for(const std::string& expression, int timeout_ms);

  /// The page as HTML (document.documentElement.outerHTML: the markup
  /// `--dump-dom` prints, without the doctype); empty when it did not answer.
  std::string dom(int timeout_ms);

  /// Closes the browser (its event stream to the API with it).
  void close() { browser_.stop(); }

  /// Uncaught exceptions the page threw (Runtime.exceptionThrown), as text.
  const std::vector<std::string>& exceptions() const { return exceptions_; }
  /// Chromium's stderr so far, for failure messages.
  const std::string& browser_log() const { return browser_.stderr_text(); }

 private:
  void on_message(const rapidjson::Document& msg);

  ws::devtools_browser browser_;
  std::string session_;
  std::vector<std::string> exceptions_;
};

/// The page's uncaught exceptions, one per line ("" when none).
std::string exceptions_text(const page_watch& page);

/// The dashboard's HTML once one of its refreshes that read the selected run
/// in `state` has ended (#watch's data-refreshed-state); then the browser is
/// closed. nullopt when no such refresh ended within `timeout_ms`, with what
/// the test should print in `why` (the page's exceptions, Chromium's log).
std::optional<std::string> dashboard_once(page_watch& page, const std::string& state, int timeout_ms,
                                          std::string& why);

}  // namespace codehive::http_test
