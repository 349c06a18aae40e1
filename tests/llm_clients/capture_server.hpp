// A tiny capturing HTTP server for wire-level tests: answers every request
// with a responder and records what arrived (path, query, body, headers).
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace codehive::llm::testing {

struct captured {
  std::string path;
  std::string body;
  std::map<std::string, std::string> headers;
  std::map<std::string, std::string> params;  ///< query string
};

class capture_server {
 public:
  using responder = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit capture_server(responder r, const std::string& bind_address = "127.0.0.1") : respond_(std::move(r)) {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lk{mu_};
        captured c{req.path, req.body, {}, {}};
        for (const auto& [k, v] : req.headers) c.headers[k] = v;
        for (const auto& [k, v] : req.params) c.params[k] = v;
        seen_.push_back(std::move(c));
      }
      respond_(req, res);
    };
    svr_.Post(".*", handler);
    svr_.Get(".*", handler);
    port_ = svr_.bind_to_any_port(bind_address);
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
  }
  ~capture_server() {
    svr_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<captured> seen() {
    std::lock_guard lk{mu_};
    return seen_;
  }

 private:
  responder respond_;
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<captured> seen_;
};

}  // namespace codehive::llm::testing
