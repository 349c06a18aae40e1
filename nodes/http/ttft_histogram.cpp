#include "nodes/http/ttft_histogram.hpp"

namespace codehive {

void ttft_histogram::observe(const std::string& role, const std::string& model, double seconds) {
  std::lock_guard lk{mu_};
  auto& s = series_[{role, model}];
  for (std::size_t i = 0; i < bounds_s.size(); ++i)
    if (seconds <= bounds_s[i]) ++s.le[i];
  ++s.count;
  s.sum_s += seconds;
}

std::map<ttft_histogram::key, ttft_histogram::series> ttft_histogram::snapshot() const {
  std::lock_guard lk{mu_};
  return series_;
}

ttft_histogram& ttft_histogram::process() {
  static ttft_histogram h;
  return h;
}

}  // namespace codehive
