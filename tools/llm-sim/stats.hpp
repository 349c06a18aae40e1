// Request counts served by GET /sim/stats and zeroed by POST /sim/reset.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "chat_request.hpp"

namespace llm_sim {

class stats {
 public:
  /// Marks one chat request in flight until the returned handle is released
  /// (a streamed reply keeps it until the stream ends).
  std::shared_ptr<void> enter();

  /// Counts a request that reached a chat endpoint: total, by role, path,
  /// role|path, api, and whether it carried a Bearer token.
  void count_request(const chat_request& req);
  void count_rule(const std::string& name);
  void count_unmatched();
  void count_fault(const std::string& kind);
  /// Requests refused before matching: bad_request, unknown_model, json_schema_unsupported.
  void count_rejected(const std::string& why);

  /// The counts as a JSON object (see README).
  std::string to_json() const;
  /// Zeroes every count; max_in_flight restarts from the requests in flight now.
  void reset();

 private:
  void leave();

  mutable std::mutex mutex_;
  long total_ = 0;
  long unmatched_ = 0;
  long with_bearer_ = 0;
  long in_flight_ = 0;
  long max_in_flight_ = 0;
  std::map<std::string, long> by_role_, by_path_, by_role_path_, by_rule_, by_api_, faults_,
      rejected_;
};

}  // namespace llm_sim
