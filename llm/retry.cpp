#include "llm/retry.hpp"

#include <algorithm>
#include <random>

namespace codehive::llm {

std::chrono::milliseconds backoff_ceiling(int retry, std::chrono::milliseconds base,
                                          std::chrono::milliseconds max) noexcept {
  if (base.count() <= 0 || max.count() <= 0) return std::chrono::milliseconds{0};
  auto ceiling = base.count();
  for (int i = 0; i < retry && ceiling < max.count(); ++i) ceiling *= 2;
  return std::chrono::milliseconds{std::min<std::int64_t>(ceiling, max.count())};
}

std::chrono::milliseconds full_jitter(int retry, std::chrono::milliseconds base,
                                      std::chrono::milliseconds max, double unit_random) noexcept {
  auto ceiling = backoff_ceiling(retry, base, max).count();
  unit_random = std::clamp(unit_random, 0.0, 1.0);
  return std::chrono::milliseconds{static_cast<std::int64_t>(static_cast<double>(ceiling) * unit_random)};
}

bool should_retry(const error& e, int retries_done, const endpoint_config& cfg) noexcept {
  bool retryable = false;
  switch (e.code) {
    case errc::unreachable:
    case errc::timeout:
      retryable = true;
      break;
    case errc::http_status:
      retryable = e.http_status == 429 || (e.http_status >= 500 && e.http_status <= 599);
      break;
    default:
      break;
  }
  return retryable && retries_done < cfg.max_retries;
}

std::chrono::milliseconds retry_delay(const error& e, int retry, const endpoint_config& cfg) noexcept {
  auto delay = full_jitter(retry, cfg.backoff_base, cfg.backoff_max, unit_random());
  if (e.retry_after_ms >= 0) {
    auto server = std::min<std::int64_t>(e.retry_after_ms, cfg.backoff_max.count());
    if (server > delay.count()) delay = std::chrono::milliseconds{server};
  }
  return delay;
}

stream_limits stream_timeouts(const endpoint_config& cfg, std::chrono::milliseconds call) noexcept {
  stream_limits l;
  l.first_token = cfg.first_token_timeout.count() > 0 ? cfg.first_token_timeout : call;
  l.idle = cfg.idle_timeout.count() > 0 ? cfg.idle_timeout : call;
  l.whole = l.first_token + call;
  return l;
}

double unit_random() noexcept {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>{0.0, 1.0}(gen);
}

}  // namespace codehive::llm
