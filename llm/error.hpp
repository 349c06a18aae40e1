// Errors of the model layer, as values. The model layer does not depend on CAF
// (so it builds and tests fast); actors turn an llm::error into a caf::error at
// their boundary (see messages/).
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "common/result.hpp"

namespace codehive::llm {

/// Every way a model call can fail. Retryable ones are marked.
enum class errc {
  unreachable = 1,      ///< connect refused / DNS / reset before a reply (retryable)
  timeout,              ///< connect or whole-call timeout (retryable)
  http_status,          ///< non-2xx; `http_status` and the server's `error` text set (429/5xx retryable)
  budget_refused,       ///< refused locally: the run's token/cost budget would be exceeded
  bad_json,             ///< reply (or its content) is not the JSON we asked for
  schema_mismatch,      ///< JSON parsed but does not validate against the requested schema
  context_overflow,     ///< prompt estimated larger than the model's configured context window
  empty_answer,         ///< server answered 2xx with no content
  truncated,            ///< stream ended before `done` / finish_reason
  model_missing,        ///< health check: server up, model not pulled / not served
  bad_config,           ///< malformed model spec or configuration
  cancelled,            ///< the caller cancelled / the loop shut down
};

/// Stable lower-case name, used in logs, the ledger and tests ("timeout", ...).
const char* to_string(errc e) noexcept;

struct error {
  errc code = errc::unreachable;
  std::string message;        ///< human-readable, says what to do where it can
  int http_status = 0;        ///< for errc::http_status
  int retry_after_ms = -1;    ///< from a Retry-After header, when the server sent one
  int attempts = 1;           ///< how many tries were made before giving up

  /// True for failures worth another try at the transport level.
  bool retryable() const noexcept;
  std::string describe() const;  ///< "<code>: <message>" (+ " (HTTP n)")
};

template <class T>
using result = basic_result<T, error>;
using codehive::unit;
using status = result<unit>;

}  // namespace codehive::llm
