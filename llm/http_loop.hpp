// The process's one HTTP event loop: a curl multi handle driven by its own
// thread. Every model call of the process goes through it; no caller thread
// ever blocks on the network. Callers submit requests from any thread; the
// completion callback (and any streaming-chunk callback) runs on the loop's
// thread, exactly once per request. Requests are grouped by endpoint; at most
// `max_in_flight` per endpoint are on the wire at once, the rest wait in a
// FIFO queue (background requests in a second one, served only when the
// first is empty). Delayed work (retry backoff) is scheduled on the loop's timers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/error.hpp"

namespace codehive::llm {

struct http_request {
  std::string method = "GET";  ///< "GET", "POST", ...
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds timeout{120000};  ///< whole transfer, from leaving the queue
  /// Key of the in-flight limit; empty: scheme://host:port of `url`.
  std::string endpoint;
  int max_in_flight = 4;  ///< limit for `endpoint` (latest submit wins), >= 1
  /// Waits while any request without this flag is queued for the same
  /// endpoint (summaries: they must never hold up a coder's call).
  bool background = false;
  /// A body larger than this is aborted while it arrives (errc::truncated,
  /// "larger than the reply cap"), never read whole; 0 = no cap.
  std::size_t max_body_bytes = 0;
  /// Streaming timeouts (0 = off), checked on the loop at least every 250 ms:
  /// no byte of the body within `first_byte_timeout` of leaving the queue, or
  /// a pause longer than `idle_timeout` between two pieces, ends the transfer
  /// with errc::timeout saying which. `timeout` still bounds the whole call.
  std::chrono::milliseconds first_byte_timeout{0};
  std::chrono::milliseconds idle_timeout{0};
  /// Streaming: called on the loop thread with each piece of a 2xx body as it
  /// arrives. Return false to abort the transfer (completes with errc::cancelled).
  std::function<bool(std::string_view)> on_chunk;
};

struct http_response {
  long status = 0;
  /// Header names lower-cased, values trimmed; of the final response only.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< whole body (also when streamed)
  std::chrono::milliseconds elapsed{0};  ///< from leaving the queue to completion
  /// When the request left the queue (went on the wire), and how long after
  /// that the first byte of the body came (nullopt: no body): a call's time
  /// to first byte, and the zero point of a streamed reply's first token.
  std::chrono::steady_clock::time_point sent_at{};
  std::optional<std::chrono::milliseconds> first_byte;

  /// First header with that name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

/// Transport failures come back as llm::error: unreachable, timeout, truncated
/// (connection closed mid-body), cancelled (shutdown or aborted by on_chunk).
/// Any HTTP status, 2xx or not, is a successful transfer.
using http_result = result<http_response>;
using http_callback = std::function<void(http_result)>;

class http_loop {
 public:
  http_loop();
  ~http_loop();  ///< shutdown()
  http_loop(const http_loop&) = delete;
  http_loop& operator=(const http_loop&) = delete;

  /// A process-wide loop, created on first use.
  static http_loop& instance();

  /// Thread-safe, never blocks on the network. After shutdown the callback
  /// runs at once (on the calling thread) with errc::cancelled.
  void submit(http_request req, http_callback cb);

  /// Runs `fn` on the loop thread after `delay`. At shutdown pending timers run
  /// at once (anything they submit then completes with errc::cancelled). After
  /// shutdown, `fn` runs at once on the calling thread.
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);

  /// schedule(0ms, fn).
  void post(std::function<void()> fn) { schedule(std::chrono::milliseconds{0}, std::move(fn)); }

  /// Stops the loop: queued and running requests complete with errc::cancelled,
  /// pending timers run, then the thread is joined. Idempotent. Must not be
  /// called from the loop thread (it would wait for itself); there it only
  /// requests the stop.
  void shutdown();

  bool on_loop_thread() const noexcept;

  /// Test/diagnostic hook: counters of one endpoint key.
  struct endpoint_stats {
    int in_flight = 0;
    int queued = 0;
    int max_in_flight_seen = 0;  ///< high-water mark of in_flight
    std::uint64_t started = 0;
    std::uint64_t completed = 0;
  };
  endpoint_stats stats(const std::string& endpoint) const;

  /// The endpoint key used when http_request::endpoint is empty.
  static std::string endpoint_of(std::string_view url);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace codehive::llm
