#include "nodes/http/api_server.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <shared_mutex>
#include <thread>

#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "common/json_member.hpp"
#include "common/read_file.hpp"
#include "common/secret_file.hpp"
#include "nodes/commands/settings_resolution.hpp"
#include "nodes/http/api_json.hpp"
#include "nodes/http/ttft_histogram.hpp"
#include "storage/run_store.hpp"

namespace codehive {

extern const char* const dashboard_html;  // nodes/dashboard/index.html, embedded at build time

namespace {

/// Compares without an early exit, so the time taken says nothing about how
/// much of a guessed token was right.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

/// "HOST:PORT", ":PORT", "PORT", "[::1]:PORT" -> host (default 127.0.0.1) and port.
bool parse_listen(const std::string& text, std::string& host, int& port, std::string& error) {
  std::string h, p;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [IPV6]:PORT, not " + text;
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string::npos) {
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  } else {
    p = text;
  }
  host = h.empty() ? "127.0.0.1" : h;
  char* end = nullptr;
  errno = 0;
  long v = p.empty() ? -1 : std::strtol(p.c_str(), &end, 10);
  if (p.empty() || errno != 0 || *end != '\0' || v < 0 || v > 65535) {
    error = "expected HOST:PORT (port 0-65535, 0 = any free port), not " + text;
    return false;
  }
  port = static_cast<int>(v);
  return true;
}

void reply(httplib::Response& res, const api_reply& r, const char* type) {
  res.status = r.status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(r.body, type);
}

constexpr const char* json_type = "application/json";

/// {"run", "waiting", "accepted", "tasks", "message"} of a plan_reply.
std::string plan_json(const std::string& run, const plan_reply& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  json_member(w, "run", run);
  json_member(w, "waiting", r.waiting);
  json_member(w, "accepted", r.accepted);
  json_member(w, "tasks", r.tasks);
  json_member(w, "message", r.message);
  w.EndObject();
  return buf.GetString();
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::optional<http_config> check_http_flags(const http_flags& f, std::string& error) {
  http_config c;
  if (!parse_listen(f.listen, c.host, c.port, error)) {
    error = "--http: " + error;
    return std::nullopt;
  }
  if (f.linger_s < 0) {
    error = "--http-linger must not be negative";
    return std::nullopt;
  }
  auto token = http_token_source(f.token_file, read_environment());
  if (token && !token->file.empty()) {
    if (auto w = secret_file_warning(f.token_file, "the HTTP token file",
                                     "anyone who reads it can use the HTTP API (read runs, "
                                     "approve or reject plans)"))
      spdlog::warn("{}", *w);
    auto read = read_whole_file(f.token_file);
    if (!read) {
      error = "--http-token-file: cannot read " + f.token_file;
      return std::nullopt;
    }
    c.token = trim(*read);
    if (c.token.empty()) {
      error = "--http-token-file: " + f.token_file + " is empty";
      return std::nullopt;
    }
  } else if (token) {
    c.token = trim(token->value);
  }
  if (!is_loopback_host(c.host) && c.token.empty()) {
    error = "--http " + f.listen + " listens beyond loopback: give a bearer token with "
            "--http-token-file FILE or CODEHIVE_HTTP_TOKEN (clients send "
            "\"Authorization: Bearer TOKEN\"), or listen on 127.0.0.1";
    return std::nullopt;
  }
  return c;
}

struct api_server::impl {
  std::shared_ptr<const store::run_store> store;
  httplib::Server server;
  http_config cfg;
  int port = 0;
  std::atomic<bool> done{false};
  std::atomic<bool> stopping{false};  // ends the event streams' waits
  std::thread thread;
  std::shared_mutex decider_mu;  // shared while a decider call runs
  plan_decider decider;
  std::shared_mutex live_mu;  // shared while a live source call runs
  live_source live;

  live_views views() {
    std::shared_lock lock{live_mu};
    return live ? live() : live_views{};
  }

  /// GET /api/runs/{id}/approval, POST .../approve and .../reject: the
  /// running run's word (200; 409 when no plan waits; 422 when an edited
  /// plan is refused, the plan still waiting; 404 when the run is not
  /// running in this process).
  void decide(const httplib::Request& req, httplib::Response& res, msg::plan_action action) {
    const std::string id = req.matches[1];
    std::optional<std::string> body;
    if (!req.body.empty()) body = req.body;
    std::optional<plan_reply> r;
    {
      std::shared_lock lock{decider_mu};
      if (decider) r = decider(id, action, body);
    }
    res.set_header("Cache-Control", "no-store");
    if (!r) {
      res.status = 404;
      res.set_content(error_json("run " + id + " is not running in this process"), json_type);
      return;
    }
    if (action != msg::plan_action::query && !r->accepted) res.status = r->waiting ? 422 : 409;
    res.set_content(plan_json(id, *r), json_type);
  }

  /// GET /api/runs/{id}/events: the run's event log as Server-Sent Events,
  /// from after Last-Event-ID (or ?after=N) on; new events as they are
  /// stored (polled every 250 ms), until the run is no longer running and
  /// every event is sent. A comment line every ~15 s finds a vanished client.
  void events(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    auto rec = store->get_run(id);
    if (!rec) {
      auto code = rec.err().code;
      bool missing = code == store::errc::not_found || code == store::errc::invalid_argument;
      res.status = missing ? 404 : 500;
      res.set_content(error_json(missing ? "no run " + id : "cannot read run " + id + ": " + rec.err().describe()),
                      json_type);
      return;
    }
    std::string after = req.get_header_value("Last-Event-ID");
    if (after.empty()) after = req.get_param_value("after");
    std::uint64_t next = 1;
    if (!after.empty()) {
      char* end = nullptr;
      auto v = std::strtoull(after.c_str(), &end, 10);
      if (end == after.c_str() || *end != '\0') {
        res.status = 400;
        res.set_content(error_json("Last-Event-ID / after must be an event number"), json_type);
        return;
      }
      next = v + 1;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    const store::run_store* st = store.get();
    auto idle_ticks = std::make_shared<int>(0);
    res.set_chunked_content_provider(
        "text/event-stream", [this, st, id, next, idle_ticks](std::size_t, httplib::DataSink& sink) mutable {
          // The state first: a stopped run's last events are all stored before it says so.
          auto rec = st->get_run(id);
          bool running = rec && rec->state == store::run_state::running;
          auto evs = st->read_events(id, next, 256);
          if (!evs) {
            sink.done();
            return true;
          }
          if (!evs->empty()) {
            std::string chunk;
            for (const auto& e : *evs) {
              chunk += "id: " + std::to_string(e.seq) + "\nevent: " + e.type + "\n";
              std::size_t from = 0;  // one data: line per line of the JSON text
              for (;;) {
                auto nl = e.data_json.find('\n', from);
                chunk += "data: " + e.data_json.substr(from, nl == std::string::npos ? nl : nl - from) + "\n";
                if (nl == std::string::npos) break;
                from = nl + 1;
              }
              chunk += "\n";
              next = e.seq + 1;
            }
            *idle_ticks = 0;
            return sink.write(chunk.data(), chunk.size());
          }
          if (!running || stopping) {
            sink.done();
            return true;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(250));
          if (++*idle_ticks >= 60) {
            *idle_ticks = 0;
            static constexpr std::string_view ping = ": keep-alive\n\n";
            return sink.write(ping.data(), ping.size());
          }
          return true;
        });
  }
};

api_server::api_server(std::shared_ptr<const store::run_store> store) : impl_(std::make_unique<impl>()) {
  impl_->store = std::move(store);
}

api_server::~api_server() { stop(); }

bool api_server::start(const http_config& cfg, std::string& error) {
  auto& m = *impl_;
  m.cfg = cfg;
  // Short timeouts: a stalled client frees its pool thread soon.
  m.server.set_read_timeout(10, 0);
  m.server.set_write_timeout(10, 0);
  m.server.set_keep_alive_timeout(30);
  // httplib writes a reply's headers and body apart: without TCP_NODELAY the
  // body waits for the client's delayed ACK, about 40 ms for every request on
  // a kept-alive connection (measured on llm-sim, the same library).
  m.server.set_tcp_nodelay(true);
  // Room for an edited plan of a few thousand tasks (POST .../approve).
  m.server.set_payload_max_length(4 * 1024 * 1024);
  // Each open event stream holds a thread: room for a few dashboards and scrapers.
  m.server.new_task_queue = [] { return new httplib::ThreadPool(32); };
  if (cfg.host.find(':') != std::string::npos) m.server.set_address_family(AF_INET6);

  const std::string token = cfg.token;
  m.server.set_pre_routing_handler([token](const httplib::Request& req, httplib::Response& res) {
    // The dashboard page itself holds no data and a browser cannot send a
    // header when it navigates: it is served to anyone, and its scripts send
    // the token (from the URL's #token=...) with every API request.
    if (token.empty() || (req.path == "/" && req.method == "GET"))
      return httplib::Server::HandlerResponse::Unhandled;
    const std::string header = req.get_header_value("Authorization");
    std::string_view got = header;
    constexpr std::string_view scheme = "Bearer ";
    bool ok = got.size() > scheme.size() && got.substr(0, scheme.size()) == scheme &&
              same_secret(got.substr(scheme.size()), token);
    if (ok) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(error_json("missing or wrong bearer token"), json_type);
    return httplib::Server::HandlerResponse::Handled;
  });

  const store::run_store* st = m.store.get();
  m.server.Get("/api/runs", [st](const httplib::Request&, httplib::Response& res) {
    reply(res, runs_reply(*st), json_type);
  });
  m.server.Get(R"(/api/runs/([^/]+))", [st](const httplib::Request& req, httplib::Response& res) {
    reply(res, run_reply(*st, req.matches[1]), json_type);
  });
  m.server.Get(R"(/api/runs/([^/]+)/events)",
               [&m](const httplib::Request& req, httplib::Response& res) { m.events(req, res); });
  m.server.Get(R"(/api/runs/([^/]+)/approval)",
               [&m](const httplib::Request& req, httplib::Response& res) { m.decide(req, res, msg::plan_action::query); });
  m.server.Post(R"(/api/runs/([^/]+)/approve)",
                [&m](const httplib::Request& req, httplib::Response& res) { m.decide(req, res, msg::plan_action::approve); });
  m.server.Post(R"(/api/runs/([^/]+)/reject)",
                [&m](const httplib::Request& req, httplib::Response& res) { m.decide(req, res, msg::plan_action::reject); });
  m.server.Get(R"(/api/runs/([^/]+)/files)", [st](const httplib::Request& req, httplib::Response& res) {
    reply(res, files_reply(*st, req.matches[1]), json_type);
  });
  m.server.Get(R"(/api/runs/([^/]+)/file)", [st](const httplib::Request& req, httplib::Response& res) {
    reply(res, file_version_reply(*st, req.matches[1], req.get_param_value("path"), req.get_param_value("version")),
          json_type);
  });
  m.server.Get("/api/nodes", [&m](const httplib::Request&, httplib::Response& res) {
    using namespace std::chrono;
    reply(res, nodes_reply(m.views(), duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()),
          json_type);
  });
  m.server.Get("/metrics", [st, &m](const httplib::Request&, httplib::Response& res) {
    reply(res, metrics_reply(*st, m.views(), &ttft_histogram::process()),
          "text/plain; version=0.0.4; charset=utf-8");
  });
  m.server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(dashboard_html, "text/html; charset=utf-8");
  });
  // Everything else (paths, methods) ends as a JSON 404/405 via the error handler.
  m.server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // an answer of ours (401, a run's 404) stays
    res.set_content(error_json(res.status == 404 ? "no such endpoint: " + req.path
                                                 : "bad request (" + std::to_string(res.status) + ")"),
                    json_type);
  });

  if (cfg.port == 0) {
    m.port = m.server.bind_to_any_port(cfg.host);
  } else {
    m.port = m.server.bind_to_port(cfg.host, cfg.port) ? cfg.port : -1;
  }
  if (m.port <= 0) {
    error = "cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) + ": " + std::strerror(errno);
    return false;
  }
  m.thread = std::thread([&m] {
    m.server.listen_after_bind();
    m.done = true;
  });
  spdlog::info("http: serving the API on {}", url());
  return true;
}

void api_server::set_plan_decider(plan_decider d) {
  std::unique_lock lock{impl_->decider_mu};
  impl_->decider = std::move(d);
}
void api_server::set_live_source(live_source s) {
  std::unique_lock lock{impl_->live_mu};
  impl_->live = std::move(s);
}
int api_server::port() const noexcept { return impl_->port; }

std::string api_server::url() const {
  const auto& h = impl_->cfg.host;
  std::string host = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  return "http://" + host + ":" + std::to_string(impl_->port) + "/";
}

bool start_announced(std::optional<api_server>& server,
                     std::shared_ptr<const store::run_store> store, const http_config& cfg,
                     std::string& error) {
  server.emplace(std::move(store));
  if (!server->start(cfg, error))
    return false;
  std::printf("http: %s\n", server->url().c_str());
  std::fflush(stdout);
  return true;
}

void api_server::stop() {
  auto& m = *impl_;
  if (!m.thread.joinable()) return;
  // Server::stop() only stops a running server; listen_after_bind() marks it
  // running first thing (or returns at once on error).
  while (!m.server.is_running() && !m.done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  m.stopping = true;
  m.server.stop();
  m.thread.join();
}

}  // namespace codehive
