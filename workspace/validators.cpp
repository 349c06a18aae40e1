#include "workspace/validators.hpp"

#include <algorithm>
#include <cctype>

#include "workspace/browser_check.hpp"
#include "workspace/file_ops.hpp"

namespace codehive::ws {

namespace detail {

std::string ext_of(std::string_view f) {
  auto slash = f.rfind('/');
  auto name = slash == std::string_view::npos ? f : f.substr(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string e(name.substr(dot + 1));
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

validation_report validate_with(const std::filesystem::path& root, const validator_options& opts,
                                const file_check_fn& check_file, const browser_check_fn& browser) {
  validation_report rep;
  const bool all = opts.files.empty();
  auto files = all ? list_files(root) : opts.files;
  // A changed script or stylesheet can break a page that did not change, and
  // the HTML checks are cheap: with an explicit list that touches web files,
  // every page of the folder gets its HTML checks.
  if (!all && opts.html) {
    bool web = false;
    for (const auto& f : files) {
      auto e = ext_of(f);
      web = web || e == "html" || e == "htm" || e == "js" || e == "mjs" || e == "css";
    }
    if (web)
      for (const auto& f : list_files(root)) {
        auto e = ext_of(f);
        if ((e == "html" || e == "htm") && std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
      }
  }
  for (const auto& f : files) {
    auto e = ext_of(f);
    bool wanted = (opts.json && e == "json") || (opts.js && (e == "js" || e == "mjs")) ||
                  (opts.html && (e == "html" || e == "htm"));
    if (!wanted) continue;
    auto content = read_file(root, f);
    if (!content && content.err().code == errc::not_found) continue;  // deleted in this run
    rep.checked_files.push_back(f);
    if (!content) {
      rep.findings.push_back({f, 0, "read", "cannot read: " + content.err().reason});
      continue;
    }
    check_file(f, e, *content, rep);
  }
  if (!opts.command.empty()) check_command(root, opts.command, opts.command_timeout, rep, opts.command_env_allow);
  if (opts.browser && browser) {
    browser(rep);
  } else if (opts.browser) {
    browser_options b;
    b.page = opts.browser_page;
    b.click = opts.browser_click;
    b.timeout = opts.browser_timeout;
    check_browser(root, b, rep);
  }
  return rep;
}

}  // namespace detail

validation_report validate_output(const std::filesystem::path& root, const validator_options& opts) {
  return detail::validate_with(root, opts,
                               [&](const std::string& f, const std::string& e, const std::string& content,
                                   validation_report& rep) {
                                 if (e == "js" || e == "mjs") check_js(root, f, rep, opts.node, opts.node_timeout);
                                 else if (e == "json") check_json(f, content, rep);
                                 else check_html(root, f, content, rep);
                               });
}

}  // namespace codehive::ws
