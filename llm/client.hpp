// The one interface every model backend implements. Calls are asynchronous:
// they return at once, the work runs on the process's single curl-multi loop
// (see http_loop.hpp), and the callback runs on that loop's thread exactly once.
// Callers in actors must not do heavy work in the callback: send a message to
// the actor and return.
#pragma once

#include <functional>
#include <memory>

#include "llm/error.hpp"
#include "llm/profile.hpp"
#include "llm/types.hpp"

namespace codehive::llm {

class http_loop;

using chat_callback = std::function<void(result<chat_response>)>;
using health_callback = std::function<void(result<health_report>)>;

class client {
 public:
  virtual ~client() = default;

  /// Sends one chat request (with transport retries per the endpoint config).
  /// When `req.json_schema` is set, the reply's content is extracted as JSON
  /// and validated against the schema; failures come back as bad_json /
  /// schema_mismatch with the reason, ready to be fed back to the model;
  /// on success `content` is then the extracted JSON text. A request refused
  /// before any traffic (context_overflow, budget_refused via
  /// endpoint_config::gate, bad_config) also completes on the loop thread.
  virtual void chat(chat_request req, chat_callback cb) = 0;

  /// Checks the server answers and serves the configured model.
  virtual void health(health_callback cb) = 0;

  virtual const endpoint_config& config() const noexcept = 0;

  /// What this client sends now (config pins plus what it learned from the
  /// server's refusals). Thread-safe.
  virtual profile_report profile() const { return initial_profile(config()); }
};

/// Builds the backend for `cfg.spec.kind` on `loop`. The loop must outlive it.
std::shared_ptr<client> make_client(http_loop& loop, endpoint_config cfg);

/// Blocking helpers for tools, CLIs and tests (never call from an actor).
result<chat_response> chat_sync(client& c, chat_request req);
result<health_report> health_sync(client& c);

}  // namespace codehive::llm
