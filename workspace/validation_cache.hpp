// Validation as a stage of the pipeline: each file version is checked when it
// lands (precheck), its findings kept by content hash (SHA-256), and the
// round's validation reuses what still matches. Only what is missing or
// changed is checked again; an HTML page also when a file it references or
// loads scripts from changed (its refs and handlers depend on them). The
// whole-project checks (command, browser) always run. validate() gives the
// same findings in the same order as validate_output (tests compare both).
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
  void precheck(const std::filesystem::path& root, const std::string& file, const validator_options& opts);

  /// validate_output(root, opts), reusing the cached findings of every file
  /// whose content (and, for a page, whose referenced files) did not change.
  validation_report validate(const std::filesystem::path& root, const validator_options& opts);

  /// Files whose checks ran (were not reused) during the last validate(), in
  /// order.
  const std::vector<std::string>& rechecked() const noexcept { return rechecked_; }
  /// Files checked by precheck() so far (misses only), in order.
  const std::vector<std::string>& prechecked() const noexcept { return prechecked_; }
  /// Drops every cached finding (the next validate checks everything).
  void clear() { entries_.clear(); }
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

  bool long_lived_node_;
  std::map<std::string, entry> entries_;
  std::unique_ptr<node_checker> node_;
  std::vector<std::string> rechecked_, prechecked_;
};

}  // namespace codehive::ws
