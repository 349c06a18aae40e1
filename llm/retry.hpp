// Transport retry policy: exponential backoff with full jitter, Retry-After
// honoured. Pure functions (plus a thread-safe random source).
#pragma once

#include <chrono>
#include <cstdint>

#include "llm/error.hpp"
#include "llm/types.hpp"

namespace codehive::llm {

/// Upper bound of the backoff window before retry number `retry` (0-based):
/// min(max, base * 2^retry).
std::chrono::milliseconds backoff_ceiling(int retry, std::chrono::milliseconds base,
                                          std::chrono::milliseconds max) noexcept;

/// Full jitter: uniform in [0, backoff_ceiling(retry, base, max)], drawn from
/// `unit_random` in [0, 1).
std::chrono::milliseconds full_jitter(int retry, std::chrono::milliseconds base,
                                      std::chrono::milliseconds max, double unit_random) noexcept;

/// Whether a failed attempt deserves another: the error is retryable
/// (unreachable, timeout, HTTP 429 or 5xx) and `retries_done < cfg.max_retries`.
bool should_retry(const error& e, int retries_done, const endpoint_config& cfg) noexcept;

/// Delay before the next attempt after `e` (retry number `retry`, 0-based):
/// full jitter; when the server sent Retry-After and it is longer, that wait
/// instead, capped at cfg.backoff_max.
std::chrono::milliseconds retry_delay(const error& e, int retry, const endpoint_config& cfg) noexcept;

/// The limits of one streamed call. Unset (0) ones are derived from the
/// call's timeout `call`, so that streaming is never stricter than a plain
/// call: the first token may take `call` (the wait in a busy server's queue
/// and prompt processing), a pause between pieces may last `call`, and the
/// generation itself gets `call` again after the first token. The wait in the
/// queue therefore no longer eats the generation's time, which is what turned
/// a busy Ollama (one request at a time) into a storm of timed-out retries.
struct stream_limits {
  std::chrono::milliseconds first_token{0};
  std::chrono::milliseconds idle{0};
  std::chrono::milliseconds whole{0};  ///< for the whole transfer
};
stream_limits stream_timeouts(const endpoint_config& cfg, std::chrono::milliseconds call) noexcept;

/// A uniform double in [0, 1) from a thread-local generator.
double unit_random() noexcept;

}  // namespace codehive::llm
