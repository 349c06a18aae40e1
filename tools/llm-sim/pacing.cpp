#include "pacing.hpp"

#include <algorithm>

namespace llm_sim {

void stop_signal::trigger() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  cv_.notify_all();
}

bool stop_signal::stopped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopped_;
}

bool stop_signal::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !cv_.wait_until(lock, deadline, [this] { return stopped_; });
}

std::chrono::nanoseconds generation_time(const latency_model& lat, int completion_tokens) {
  if (lat.tokens_per_s <= 0 || completion_tokens <= 0) return std::chrono::nanoseconds{0};
  return std::chrono::nanoseconds(
      static_cast<long long>(1e9 * completion_tokens / lat.tokens_per_s));
}

std::vector<paced_piece> pace(std::string_view content, const latency_model& lat,
                              int completion_tokens) {
  std::vector<paced_piece> out;
  if (content.empty()) return out;
  const auto total = generation_time(lat, completion_tokens);
  constexpr auto min_gap = std::chrono::milliseconds(2);
  const std::size_t token_chunks = (content.size() + 3) / 4;
  std::size_t chunks = token_chunks;
  if (total.count() == 0)
    chunks = std::max<std::size_t>(1, (content.size() + 63) / 64);  // unpaced: ~16 tokens a chunk
  else
    chunks = std::clamp<std::size_t>(static_cast<std::size_t>(total / min_gap), 1, token_chunks);
  const std::size_t size = (content.size() + chunks - 1) / chunks;

  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t end = std::min(content.size(), pos + size);
    // Never cut a UTF-8 sequence: move the cut past continuation bytes.
    while (end < content.size() && (static_cast<unsigned char>(content[end]) & 0xC0) == 0x80) ++end;
    out.push_back({content.substr(pos, end - pos), {}});
    pos = end;
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i].due = total * static_cast<long long>(i + 1) / static_cast<long long>(out.size());
  return out;
}

}  // namespace llm_sim
