// The latency model in time: interruptible waits (so a stopping server never
// waits out a hang or a slow reply) and the split of a reply into paced chunks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "scenario.hpp"

namespace llm_sim {

/// Set once when the server stops; every wait wakes up at once.
class stop_signal {
 public:
  void trigger();
  bool stopped() const;
  /// Sleeps until `deadline`; false when stopped first.
  bool wait_until(std::chrono::steady_clock::time_point deadline);
  bool wait_for(std::chrono::milliseconds d) {
    return wait_until(std::chrono::steady_clock::now() + d);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

/// Time to generate `completion_tokens` at `lat.tokens_per_s` (0 when unpaced).
std::chrono::nanoseconds generation_time(const latency_model& lat, int completion_tokens);

/// One chunk of a streamed reply and when (after the first token's time) it is due.
struct paced_piece {
  std::string_view text;
  std::chrono::nanoseconds due{0};
};

/// Splits `content` into chunks of about a token (grouped so that chunks are
/// at least ~2 ms apart), never inside a UTF-8 sequence; the last one is due
/// at generation_time().
std::vector<paced_piece> pace(std::string_view content, const latency_model& lat,
                              int completion_tokens);

}  // namespace llm_sim
