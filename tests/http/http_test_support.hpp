// What the HTTP suites share: the "http: URL" line a process prints, the
// Prometheus text format parsed strictly, and the dashboard as headless
// chromium renders it (the DOM's attributes, the screenshot's format).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/cluster/node_process.hpp"

namespace codehive::http_test {

/// Waits for the line "http: http://HOST:PORT/"; "http://127.0.0.1:PORT"
/// (HOST may be 0.0.0.0).
std::optional<std::string> wait_base_url(cluster_test::node_process& p, int timeout_ms);

// -- Prometheus text -------------------------------------------------------------

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Parses the text exposition format strictly enough to catch a malformed
/// line: every sample needs a # TYPE for its family before it; label values
/// are quoted with \\, \" and \n escapes; the value is a number.
bool parse_prometheus(const std::string& text, std::vector<sample>& out, std::string& why);

/// The sum of the samples named `name` whose labels include `match`.
double sum_of(const std::vector<sample>& samples, const std::string& name,
              const std::map<std::string, std::string>& match = {});

// -- the dashboard in chromium -----------------------------------------------------

/// The attribute `name` of the first element whose opening tag contains `tag`.
std::string attr_of(const std::string& dom, const std::string& tag, const std::string& name);

/// &quot; &lt; &gt; &#39; &amp; back to their characters.
std::string unescape_html(std::string s);

/// chromium's command line for a headless page load without a sandbox, a GPU
/// or any call home, with its profile in `profile`; the caller adds what to
/// do (--dump-dom, --screenshot=F, --virtual-time-budget=MS) and the URL.
std::vector<std::string> headless_chromium(const std::string& chromium, const std::filesystem::path& profile);

/// True when `file` starts with PNG's eight signature bytes.
bool is_png(const std::filesystem::path& file);

}  // namespace codehive::http_test
