// The JavaScript syntax check through one long-lived node process: starting
// node costs tens of milliseconds, compiling a generated file a fraction of
// one, so a run's files go to one process that compiles each and answers what
// `node --check` would have printed. Findings are exactly check_js's (the same
// output, parsed by the same code; tests compare both on the same bad files).
// Blocking: call from a detached actor or a worker thread; one caller at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "workspace/validators.hpp"

namespace codehive::ws {

class line_process;

class node_checker {
 public:
  explicit node_checker(std::string node = "node",
                        std::chrono::milliseconds timeout = std::chrono::milliseconds{15000});
  ~node_checker();
  node_checker(const node_checker&) = delete;
  node_checker& operator=(const node_checker&) = delete;

  /// check_js(root, file, out, node, timeout), answered by the long-lived
  /// process. When it dies or does not answer within the timeout it is
  /// started once more; when that one fails too, this file and every later
  /// one go through check_js (one `node --check` per file): never skipped.
  void check(const std::filesystem::path& root, std::string_view file, std::string_view content,
             validation_report& out);

  /// How many files the long-lived process answered, how many went to
  /// `node --check` instead, how many times the process was started.
  std::size_t answered() const noexcept { return answered_; }
  std::size_t fell_back() const noexcept { return fell_back_; }
  std::size_t starts() const noexcept { return starts_; }
  /// True once the process failed twice: everything goes to check_js.
  bool given_up() const noexcept { return given_up_; }
  const std::string& node_name() const noexcept { return node_; }

 private:
  bool ensure_started();
  std::string node_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<line_process> proc_;
  std::size_t answered_ = 0, fell_back_ = 0, starts_ = 0;
  bool given_up_ = false;
};

/// The finding `node --check` printed as `text` for `file` (same parse as
/// check_js). Exposed for the checker and its tests.
finding node_check_finding(std::string_view file, bool module, const std::string& text);

/// Whether check_js treats `file` with `content` as an ES module (.mjs, or
/// import/export statements).
bool js_is_module(std::string_view file, std::string_view content);

}  // namespace codehive::ws
