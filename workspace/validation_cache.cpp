#include "workspace/validation_cache.hpp"

#include "workspace/file_ops.hpp"
#include "workspace/node_checker.hpp"
#include "workspace/sha256.hpp"
#include "workspace/subprocess.hpp"

namespace codehive::ws {

namespace {

/// What a page's checks saw of a file they depend on: its content's hash,
/// absent, or why it could not be read (a directory, ...). A page's cached
/// findings hold while every such state is unchanged.
std::string dep_state(const std::filesystem::path& root, const std::string& rel) {
  auto c = read_file(root, rel);
  if (c) return "f:" + sha256_hex(*c);
  if (c.err().code == errc::not_found) return "-";
  return std::string("e:") + to_string(c.err().code);
}

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

void validation_cache::precheck(const std::filesystem::path& root, const std::string& file,
                                const validator_options& opts) {
  auto ext = detail::ext_of(file);
  if (!wanted(ext, opts)) return;
  auto content = read_file(root, file);
  if (!content) return;  // gone or unreadable: the round's validation reports it
  validation_report scratch;
  if (check_file(root, file, ext, *content, opts, scratch)) prechecked_.push_back(file);
}

validation_report validation_cache::validate(const std::filesystem::path& root, const validator_options& opts) {
  rechecked_.clear();
  return detail::validate_with(root, opts,
                               [&](const std::string& f, const std::string& e, const std::string& content,
                                   validation_report& rep) {
                                 if (check_file(root, f, e, content, opts, rep)) rechecked_.push_back(f);
                               });
}

}  // namespace codehive::ws
