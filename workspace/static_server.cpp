#include "workspace/static_server.hpp"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <httplib.h>

#include "workspace/file_ops.hpp"
#include "workspace/file_state.hpp"

namespace codehive::ws {

namespace {

const char* content_type(std::string_view rel) {
  auto dot = rel.rfind('.');
  std::string e = dot == std::string_view::npos ? "" : std::string(rel.substr(dot + 1));
  for (auto& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (e == "html" || e == "htm") return "text/html; charset=utf-8";
  if (e == "js" || e == "mjs") return "text/javascript; charset=utf-8";
  if (e == "css") return "text/css; charset=utf-8";
  if (e == "json" || e == "map") return "application/json";
  if (e == "svg") return "image/svg+xml";
  if (e == "png") return "image/png";
  if (e == "jpg" || e == "jpeg") return "image/jpeg";
  if (e == "gif") return "image/gif";
  if (e == "webp") return "image/webp";
  if (e == "ico") return "image/x-icon";
  if (e == "wasm") return "application/wasm";
  if (e == "woff2") return "font/woff2";
  if (e == "woff") return "font/woff";
  if (e == "txt" || e == "md") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

struct static_server::impl {
  std::filesystem::path root;
  httplib::Server server;
  int port = 0;
  std::atomic<bool> done{false};
  std::thread thread;
  mutable std::mutex served_mutex;  // httplib answers on a pool of threads
  std::map<std::string, std::string> served;

  void serve(const httplib::Request& req, httplib::Response& res) {
    std::string rel = req.path;  // percent-decoded by httplib
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    if (rel.empty() || rel.back() == '/') rel += "index.html";
    res.set_header("Cache-Control", "no-store");
    auto file = read_file(root, rel);
    {
      std::lock_guard<std::mutex> lock(served_mutex);
      // Served twice with different content (it changed during the check):
      // a state no file has, so no result of this check is ever reused.
      auto state = file_state_of(file);
      auto [it, fresh] = served.emplace(rel, state);
      if (!fresh && it->second != state) it->second = "!changed while served";
    }
    if (file) {
      res.set_content(std::move(*file), content_type(rel));
    } else if (rel == "favicon.ico") {  // Chromium asks for it on its own
      res.status = 204;
    } else {
      res.status = 404;
      res.set_content("not found\n", "text/plain");
    }
  }
};

static_server::static_server() : impl_(std::make_unique<impl>()) {}

static_server::~static_server() { stop(); }

status static_server::start(const std::filesystem::path& root) {
  auto& m = *impl_;
  m.root = root;
  // Far longer than any page check: a connection Chromium opened early and
  // uses late (a loaded machine) must still be there.
  m.server.set_keep_alive_timeout(300);
  m.server.set_keep_alive_max_count(10000);
  m.server.set_read_timeout(300, 0);
  m.server.set_write_timeout(300, 0);
  m.server.set_payload_max_length(64 * 1024);
  m.server.Get(".*", [&m](const httplib::Request& req, httplib::Response& res) { m.serve(req, res); });
  m.port = m.server.bind_to_any_port("127.0.0.1");
  if (m.port <= 0) return fail(errc::io_error, std::string("cannot listen on loopback: ") + std::strerror(errno));
  m.thread = std::thread([&m] {
    m.server.listen_after_bind();
    m.done = true;
  });
  return ok();
}

int static_server::port() const noexcept { return impl_->port; }

std::map<std::string, std::string> static_server::served() const {
  std::lock_guard<std::mutex> lock(impl_->served_mutex);
  return impl_->served;
}

void static_server::stop() {
  auto& m = *impl_;
  if (!m.thread.joinable()) return;
  // Server::stop() only stops a server that runs; listen_after_bind() marks it
  // running first thing (or returns at once on error).
  while (!m.server.is_running() && !m.done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  m.server.stop();
  m.thread.join();
}

}  // namespace codehive::ws
