#include "workspace/validation_cache.hpp"

#include <algorithm>

#include "workspace/file_ops.hpp"
#include "workspace/file_state.hpp"
#include "workspace/node_checker.hpp"
#include "workspace/sha256.hpp"
#include "workspace/subprocess.hpp"

namespace codehive::ws {

namespace {

/// What a page's checks saw of a file they depend on: its content's hash,
/// absent, or why it could not be read (a directory, ...). A page's cached
/// findings hold while every such state is unchanged.
std::string dep_state(const std::filesystem::path& root, const std::string& rel) { return file_state(root, rel); }

bool is_page(const std::string& ext) { return ext == "html" || ext == "htm"; }

bool wanted(const std::string& e, const validator_options& opts) {
  return (opts.json && e == "json") || (opts.js && (e == "js" || e == "mjs")) || (opts.html && is_page(e));
}

}  // namespace

validation_cache::validation_cache(bool long_lived_node) : long_lived_node_(long_lived_node) {}

validation_cache::~validation_cache() = default;

bool validation_cache::check_file(const std::filesystem::path& root, const std::string& file,
                                  const std::string& ext, const std::string& content,
                                  const validator_options& opts, validation_report& out) {
  auto hash = sha256_hex(content);
  if (auto it = entries_.find(file); it != entries_.end() && it->second.hash == hash) {
    bool same = true;
    for (const auto& [dep, state] : it->second.deps)
      if (dep_state(root, dep) != state) {
        same = false;
        break;
      }
    if (same) {
      out.findings.insert(out.findings.end(), it->second.findings.begin(), it->second.findings.end());
      return false;
    }
  }
  // Checked straight into `out`, as validate_output does, so "skipped" notes
  // land exactly as there; only the findings are kept.
  auto findings_before = out.findings.size();
  auto skipped_before = out.skipped.size();
  entry e;
  e.hash = std::move(hash);
  bool ran = true;
  if (ext == "js" || ext == "mjs") {
    // Without node the check notes "skipped" once per report, so later
    // scripts add no note: none of them may be cached as clean.
    ran = find_on_path(opts.node).has_value();
    if (long_lived_node_) {
      if (!node_ || node_->node_name() != opts.node) node_ = std::make_unique<node_checker>(opts.node, opts.node_timeout);
      node_->check(root, file, content, out);
    } else {
      check_js(root, file, out, opts.node, opts.node_timeout);
    }
  } else if (ext == "json") {
    check_json(file, content, out);
  } else {
    std::vector<std::string> looked_at;
    check_html(root, file, content, out, &looked_at);
    for (auto& d : looked_at) {
      auto state = dep_state(root, d);
      e.deps.emplace_back(std::move(d), std::move(state));
    }
  }
  // A check that could not run (node missing or failing) is not a result:
  // it is tried again next time.
  if (ran && out.skipped.size() == skipped_before) {
    e.findings.assign(out.findings.begin() + static_cast<std::ptrdiff_t>(findings_before), out.findings.end());
    entries_[file] = std::move(e);
  } else {
    entries_.erase(file);
  }
  return true;
}

browser_options browser_options_of(const validator_options& opts) {
  browser_options b;
  b.page = opts.browser_page;
  b.click = opts.browser_click;
  b.timeout = opts.browser_timeout;
  return b;
}

bool validation_cache::check_page(const std::filesystem::path& root, const validator_options& opts,
                                  validation_report& out) {
  auto b = browser_options_of(opts);
  auto key = b.page + "\n" + (b.click ? "click" : "load") + "\n" + std::to_string(b.timeout.count());
  if (browser_.valid && browser_.options == key
      && std::all_of(browser_.deps.begin(), browser_.deps.end(),
                     [&](const auto& d) { return dep_state(root, d.first) == d.second; })) {
    out.findings.insert(out.findings.end(), browser_.findings.begin(), browser_.findings.end());
    return false;
  }
  // Into `out` directly, as validate_output does; only the findings are kept.
  auto findings_before = out.findings.size();
  auto skipped_before = out.skipped.size();
  browser_deps deps;
  check_browser(root, b, out, &deps);
  ++browser_checks_;
  browser_ = {};
  // Skipped (no Chromium, no page, Chromium did not answer, click-through not
  // finished) is no result: tried again next time. So is a load whose served
  // files are unknown (file:// fallback).
  if (deps.recorded && out.skipped.size() == skipped_before) {
    browser_.valid = true;
    browser_.options = std::move(key);
    browser_.deps = std::move(deps.files);
    browser_.findings.assign(out.findings.begin() + static_cast<std::ptrdiff_t>(findings_before), out.findings.end());
  }
  return true;
}

void validation_cache::precheck_page(const std::filesystem::path& root, const std::string& file,
                                     const validator_options& opts) {
  const auto& page = opts.browser_page;
  auto content = read_file(root, page);
  if (!content) return;  // not landed yet
  // The page's local references (and the scripts its handlers may live in).
  std::vector<std::string> refs;
  validation_report scratch;
  check_html(root, page, *content, scratch, &refs);
  bool concerns = file == page || std::find(refs.begin(), refs.end(), file) != refs.end()
                  || (browser_.valid && browser_.deps.count(file) > 0);
  if (!concerns) return;
  for (const auto& r : refs)
    if (dep_state(root, r) == "-") return;  // not everything has landed: a later precheck starts it
  check_page(root, opts, scratch);
}

void validation_cache::precheck(const std::filesystem::path& root, const std::string& file,
                                const validator_options& opts) {
  auto ext = detail::ext_of(file);
  if (wanted(ext, opts)) {
    // Gone or unreadable: the round's validation reports it.
    if (auto content = read_file(root, file)) {
      validation_report scratch;
      if (check_file(root, file, ext, *content, opts, scratch)) prechecked_.push_back(file);
    }
  }
  if (opts.browser) {
    // The first landed version starts Chromium, while the coders work: the
    // page check (here or in the round) then does not wait for its start-up.
    if (!browser_started_) {
      browser_started_ = true;
      start_browser_process(browser_options_of(opts));
    }
    precheck_page(root, file, opts);
  }
}

validation_report validation_cache::validate(const std::filesystem::path& root, const validator_options& opts) {
  rechecked_.clear();
  browser_reused_ = false;
  return detail::validate_with(
    root, opts,
    [&](const std::string& f, const std::string& e, const std::string& content, validation_report& rep) {
      if (check_file(root, f, e, content, opts, rep)) rechecked_.push_back(f);
    },
    [&](validation_report& rep) { browser_reused_ = !check_page(root, opts, rep); });
}

}  // namespace codehive::ws
