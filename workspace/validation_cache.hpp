// Validation as a stage of the pipeline: each file version is checked when it
// lands (precheck), its findings kept by content hash (SHA-256), and the
// round's validation reuses what still matches. Only what is missing or
// changed is checked again; an HTML page also when a file it references or
// loads scripts from changed (its refs and handlers depend on them). The
// browser check of the entry page (opts.browser_page) runs as soon as the
// page and every local file it references have landed (a precheck of one of
// them), and its findings are kept with the state of every file Chromium was
// served; the round reuses them while none of those changed. The first
// precheck starts Chromium, so no check waits for its start-up. The command
// always runs. validate() gives the same findings in the same order as
// validate_output (tests compare both).
// JavaScript goes to one long-lived node process (node_checker.hpp).
// Blocking; one caller at a time (the detached validator actor).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "workspace/browser_check.hpp"
#include "workspace/validators.hpp"

namespace codehive::ws {

class node_checker;

class validation_cache {
 public:
  /// `long_lived_node`: JavaScript through one node process (else one
  /// `node --check` per file, as validate_output).
  explicit validation_cache(bool long_lived_node = true);
  ~validation_cache();
  validation_cache(const validation_cache&) = delete;
  validation_cache& operator=(const validation_cache&) = delete;

  /// Checks root/file now unless this version's findings are cached already
  /// (a file version just landed). Files opts does not check are ignored.
  /// With opts.browser, when the file is the entry page, one of its local
  /// references or one the last page load was served, and the page and all
  /// its local references exist: the page's browser check, unless its cached
  /// result still holds.
  void precheck(const std::filesystem::path& root, const std::string& file, const validator_options& opts);

  /// validate_output(root, opts), reusing the cached findings of every file
  /// whose content (and, for a page, whose referenced files) did not change.
  validation_report validate(const std::filesystem::path& root, const validator_options& opts);

  /// Files whose checks ran (were not reused) during the last validate(), in
  /// order.
  const std::vector<std::string>& rechecked() const noexcept { return rechecked_; }
  /// Files checked by precheck() so far (misses only), in order.
  const std::vector<std::string>& prechecked() const noexcept { return prechecked_; }
  /// How many times the browser check ran (not reused), prechecks included.
  std::size_t browser_checks() const noexcept { return browser_checks_; }
  /// Whether the last validate() reused a page load's findings.
  bool browser_reused() const noexcept { return browser_reused_; }
  /// Drops every cached finding (the next validate checks everything).
  void clear() {
    entries_.clear();
    browser_ = {};
  }
  const node_checker* node() const noexcept { return node_.get(); }

 private:
  struct entry {
    std::string hash;                                       ///< of the file's content
    std::vector<std::pair<std::string, std::string>> deps;  ///< page: file -> state when checked
    std::vector<finding> findings;
  };
  /// Findings of root/file with `content` appended to `out`, from the cache
  /// when it still matches; returns whether the checks ran.
  bool check_file(const std::filesystem::path& root, const std::string& file, const std::string& ext,
                  const std::string& content, const validator_options& opts, validation_report& out);

  /// The entry page's browser check: findings while `deps` hold.
  struct browser_entry {
    bool valid = false;
    std::string options;  ///< page, click-through, timeout: what else the result depends on
    std::map<std::string, std::string> deps;
    std::vector<finding> findings;
  };
  /// The browser check's findings (and skipped notes) appended to `out`, from
  /// the cache when it still holds; returns whether the check ran.
  bool check_page(const std::filesystem::path& root, const validator_options& opts, validation_report& out);
  /// precheck's part for the browser check: runs it when `file` concerns the
  /// entry page and everything the page references exists.
  void precheck_page(const std::filesystem::path& root, const std::string& file, const validator_options& opts);

  bool long_lived_node_;
  std::map<std::string, entry> entries_;
  browser_entry browser_;
  std::size_t browser_checks_ = 0;
  bool browser_reused_ = false;
  bool browser_started_ = false;  ///< Chromium started by the first precheck
  std::unique_ptr<node_checker> node_;
  std::vector<std::string> rechecked_, prechecked_;
};

}  // namespace codehive::ws
