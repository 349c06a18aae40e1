// Validators: checks on the output folder whose findings go to the reviewer.
// Each check appends findings (problems in the generated project) and skipped
// checks (a tool is missing: informational, never a finding) to a report.
// Blocking (subprocesses): call from a detached actor or a worker thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace codehive::ws {

/// One problem in the generated project.
struct finding {
  std::string file;     ///< relative to the output folder; empty for whole-project checks
  int line = 0;         ///< 1-based; 0 when unknown
  std::string check;    ///< "json", "js_syntax", "html_ref", "html_handler", "command", "browser", "read"
  std::string message;  ///< what is wrong, specific enough to fix
};

/// A check that could not run (e.g. node or chromium not installed).
struct skipped_check {
  std::string check;
  std::string reason;
};

struct validation_report {
  std::vector<finding> findings;
  std::vector<skipped_check> skipped;
  std::vector<std::string> checked_files;  ///< relative paths looked at
  bool clean() const noexcept { return findings.empty(); }
};

struct validator_options {
  std::vector<std::string> files;  ///< relative paths to check; empty: every file (list_files).
                                   ///< Listed files that no longer exist are ignored; a list with any
                                   ///< .html/.js/.mjs/.css file also gets every page's HTML checks.
  bool json = true;                ///< .json files parse
  bool js = true;                  ///< node --check on .js/.mjs (skipped when node is absent)
  bool html = true;                ///< local href/src exist, inline handlers name defined functions
  std::string node = "node";       ///< program name or path
  std::chrono::milliseconds node_timeout{15000};
  std::string command;             ///< shell command run in the output folder; empty: none
  std::chrono::milliseconds command_timeout{120000};
  /// Variables of ours the command may see beyond PATH, LANG, LC_ALL, TERM
  /// and TZ (see run_sandboxed_shell). None by default: no API key reaches
  /// model-written code unless the config names it here.
  std::vector<std::string> command_env_allow;
  bool browser = true;             ///< headless Chromium load of browser_page (see browser_check.hpp);
                                   ///< skipped when Chromium or the page is absent
  std::string browser_page = "index.html";
  bool browser_click = true;       ///< the click-through after the load (browser_options::click)
  std::chrono::milliseconds browser_timeout{30000};
};

/// Runs the enabled checks. Never throws.
validation_report validate_output(const std::filesystem::path& root, const validator_options& opts = {});

namespace detail {
/// validate_output's walk (which files, in which order, whole-project checks
/// last) with the per-file checks left to `check_file(file, ext, content,
/// report)`: the uncached run and the cache (validation_cache.hpp) share it,
/// so both give the same findings in the same order.
using file_check_fn = std::function<void(const std::string& file, const std::string& ext,
                                         const std::string& content, validation_report& out)>;
/// `browser` (when given) replaces the browser check (opts.browser), in its
/// place: last, after the command (the cache reuses a page load's findings).
using browser_check_fn = std::function<void(validation_report& out)>;
validation_report validate_with(const std::filesystem::path& root, const validator_options& opts,
                                const file_check_fn& check_file, const browser_check_fn& browser = {});
/// Lower-case extension of a relative path ("" when none).
std::string ext_of(std::string_view file);
}  // namespace detail

// --- individual checks --------------------------------------------------

/// `content` parses as JSON; on error one finding with the line of the offset.
void check_json(std::string_view file, std::string_view content, validation_report& out);

/// `node --check` on root/file. Files using `import`/`export` statements (or
/// named .mjs) are checked as ES modules. Finding with the line from node's
/// "file:line" output. Skipped (once per report) when node is not found.
void check_js(const std::filesystem::path& root, std::string_view file, validation_report& out,
              const std::string& node = "node",
              std::chrono::milliseconds timeout = std::chrono::milliseconds{15000});

/// For root/file (HTML, `content`): every local href/src (link, script, img,
/// a, source, iframe, ...) exists inside the root (after stripping ?query and
/// #fragment; http(s):, //, data:, mailto:, tel:, javascript:, # are skipped);
/// every inline on<event> handler calls only functions defined in the page's
/// inline scripts or its local <script src> files (function f(, async
/// function f(, f = function, const/let/var f = ... =>, window.f = ...), or
/// well-known globals. Findings carry the line of the attribute.
/// `looked_at` (when given) receives every file of the folder the result
/// depends on (existence or content), for the cache of findings.
void check_html(const std::filesystem::path& root, std::string_view file, std::string_view content,
                validation_report& out, std::vector<std::string>* looked_at = nullptr);

/// Runs `command` with /bin/sh -c in root, contained by run_sandboxed_shell
/// (minimal environment plus `env_allow`, a scratch HOME, no network where
/// the machine allows it); non-zero exit or timeout is one finding (check
/// "command") with the exit status and the output's tail.
void check_command(const std::filesystem::path& root, const std::string& command,
                   std::chrono::milliseconds timeout, validation_report& out,
                   const std::vector<std::string>& env_allow = {});

}  // namespace codehive::ws
