// The HTTP API of a node (`run --http`, `coordinator --http`): the run store's
// runs as JSON, Prometheus metrics and the dashboard page, served by
// cpp-httplib on threads of its own. It only READS the store, through calls
// that take a RocksDB snapshot and no lock (load_run, read_ledger,
// list_runs), so a slow client or a big run never holds up an actor or a
// store write. Endpoints and metrics: /work/notes/readme-http.md (README).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/vocabulary.hpp"

namespace codehive {

namespace store {
class run_store;
}
struct live_view;

/// --http, --http-token-file and --http-linger as the commands take them.
struct http_flags {
  std::string listen;      ///< HOST:PORT ("" = no HTTP server; ":PORT" = 127.0.0.1)
  std::string token_file;  ///< bearer token file (else env CODEHIVE_HTTP_TOKEN)
  double linger_s = 0;     ///< run: keep serving this long after the run ended
};

/// A checked --http: where to listen and the token to require ("" = none).
struct http_config {
  std::string host;
  int port = 0;
  std::string token;
};

/// Validates the flags before anything starts: the address parses, and a
/// host other than loopback comes with a token (--http-token-file, else
/// CODEHIVE_HTTP_TOKEN). nullopt with `error` (a usage error, exit 2).
std::optional<http_config> check_http_flags(const http_flags& f, std::string& error);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

/// A run's answer to the plan-approval endpoints (run --approve-plan).
struct plan_reply {
  bool waiting = false;   ///< a plan waits for approval (after this request)
  bool accepted = false;  ///< the approval or rejection was taken
  std::string message;    ///< what happened, the plan's summary, or why an edit was refused
  int tasks = 0;
};

/// Asks the run `run_id` of this process: `action` query, approve (with
/// `body`, an edited plan's text, or nullopt: the plan file as it is now) or
/// reject (`body`: the reason). nullopt: no such run is running here.
using plan_decider = std::function<std::optional<plan_reply>(
  const std::string& run_id, msg::plan_action action, const std::optional<std::string>& body)>;

/// This process's live views (running planners, the coordinator's registry),
/// each the latest its actor published: it must not wait on an actor.
using live_source = std::function<std::vector<std::shared_ptr<const live_view>>()>;

class api_server {
 public:
  explicit api_server(std::shared_ptr<const store::run_store> store);
  ~api_server();
  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  /// Binds and serves from a thread pool of its own until stop(); false with
  /// `error` when it cannot listen.
  bool start(const http_config& cfg, std::string& error);
  /// Who answers GET /api/runs/{id}/approval and POST .../approve and
  /// .../reject (none: 404). Any time, from any thread; setting another (or
  /// none) waits for the calls in progress, so what the old one refers to
  /// may go once this returns.
  void set_plan_decider(plan_decider d);
  /// Who answers GET /api/nodes and the live part of /metrics (none: no
  /// nodes, no queue). Same rules as set_plan_decider.
  void set_live_source(live_source s);
  /// The bound port (after start).
  int port() const noexcept;
  /// "http://HOST:PORT/" ([HOST] for IPv6).
  std::string url() const;
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Emplaces `server` over `store`, starts it on `cfg` and prints its URL on
/// stdout as "http: URL" (tests and scripts read that line); false with
/// `error` when it cannot listen.
bool start_announced(std::optional<api_server>& server,
                     std::shared_ptr<const store::run_store> store, const http_config& cfg,
                     std::string& error);

}  // namespace codehive
