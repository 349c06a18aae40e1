// The page check's static file server: the output folder on 127.0.0.1 (port
// chosen by the OS), for Chromium to load pages over HTTP (ES modules, fetch()
// and XHR do not work from file:// URLs). Internal to workspace/.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "workspace/result.hpp"

namespace codehive::ws {

/// cpp-httplib, with keep-alive and timeouts far above a page check's length:
/// the raw-socket server it replaces dropped a connection idle for 3 s, which
/// a loaded machine turned into a spurious "Failed to load resource: 404".
/// GET/HEAD only; every path goes through read_file() (path rules: nothing
/// outside the output folder, no symlinks), anything else is 404.
class static_server {
 public:
  static_server();
  ~static_server();
  static_server(const static_server&) = delete;
  static_server& operator=(const static_server&) = delete;

  /// Listens and serves `root` from a thread of its own until stop().
  status start(const std::filesystem::path& root);
  int port() const noexcept;
  void stop();
  /// Every path asked for so far (relative to the root) with the state of
  /// what was answered (file_state.hpp: the content's hash, or absent): what a
  /// page check's result depends on, recorded as served, so a file that
  /// changes after it was served still counts as changed.
  std::map<std::string, std::string> served() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace codehive::ws
