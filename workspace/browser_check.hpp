// Browser load check: headless Chromium loads a page of the output folder
// and reports uncaught exceptions (also in timers and unhandled promise
// rejections), console.error/console.assert calls and failed resource loads.
// The folder is served by a private static server on 127.0.0.1 (cpp-httplib;
// ES modules and fetch() do not work from file://; file:// is the fallback),
// and Chromium is
// driven over the DevTools protocol (--remote-debugging-pipe), since its log
// output does not tell console.error from console.log. Every Chromium process
// runs in its own process group, killed when the check ends or times out.
// A Chromium that does not answer in time (slow start on a loaded machine) is
// started again once with a longer allowance (3x timeout, at least 30 s).
// Skipped (not a finding) when no Chromium is installed, or when it did not
// answer either time (the reason says so). Blocking.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "workspace/validators.hpp"

namespace codehive::ws {

/// chromium, chromium-browser, google-chrome, google-chrome-stable on $PATH.
std::optional<std::filesystem::path> find_browser();

struct browser_options {
  std::string page = "index.html";             ///< relative to the root
  std::chrono::milliseconds timeout{30000};    ///< wall clock for Chromium's start-up (the retry gets 3x, at
                                               ///< least 30 s), and again for the page load
  std::chrono::milliseconds virtual_time{3000};///< after the load event: virtual time run (timers fast-forwarded)
  std::filesystem::path browser;               ///< empty: find_browser()
};

/// Loads root/page and appends one finding (check "browser") per uncaught
/// exception, console error or failed load (at most 20), with the file
/// (relative to root) and 1-based line Chromium reports. A page that does not
/// finish loading within `timeout` (an endless loop) is a finding too.
void check_browser(const std::filesystem::path& root, const browser_options& opts, validation_report& out);

}  // namespace codehive::ws
