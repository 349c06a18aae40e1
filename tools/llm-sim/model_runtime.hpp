// Loaded models and their slots, for the personalities that have them:
// Ollama (a runner per model, reloaded when its runner options change;
// OLLAMA_NUM_PARALLEL requests at once, the rest queue) and llama.cpp server
// (total_slots at once, the rest queue). Queued requests wait; they are not
// refused until max_queue are waiting.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pacing.hpp"

namespace llm_sim {

class model_runtime {
 public:
  struct settings {
    int slots = 1;               ///< requests one model generates at once
    int max_queue = 512;         ///< waiting requests (all models) before 503
    bool reloads = false;        ///< Ollama: runner options change => reload
    int reload_ms = 0;           ///< time a (re)load takes
    long default_num_ctx = 4096; ///< num_ctx of a request that sends none
  };

  model_runtime(settings s, stop_signal& stop);

  /// What acquire() did for one request.
  struct admission {
    std::shared_ptr<void> slot;  ///< held while the reply is generated; null: refused
    bool queue_full = false;     ///< refused: max_queue requests already waiting
    bool waited = false;         ///< it queued behind other requests
    std::chrono::nanoseconds load{0};  ///< time spent (re)loading the model for it
  };

  /// Blocks until `model` is loaded with `runner_options` (reloading it once
  /// its in-flight requests are done, when they differ) and a slot is free.
  /// `unload_after`: Ollama keep_alive 0, the model unloads when it goes idle.
  /// Returns a null slot when the queue is full or the server stops.
  admission acquire(const std::string& model, std::map<std::string, std::string> runner_options,
                    bool unload_after);

  /// `"model_loads":{…},"reloads":N,"queued":N,"max_concurrent":{…}` (no braces).
  std::string stats_members() const;
  void reset_counts();

  struct loaded_model {
    std::string name;
    long num_ctx = 0;
    std::chrono::system_clock::time_point since;
  };
  std::vector<loaded_model> loaded() const;

 private:
  struct model_state {
    bool loaded = false;
    bool loading = false;
    bool unload_when_idle = false;
    std::map<std::string, std::string> options;
    int active = 0;
    std::chrono::system_clock::time_point since;
  };
  void release(const std::string& model);

  settings settings_;
  stop_signal& stop_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, model_state> models_;
  int waiting_ = 0;
  // counts for /sim/stats
  std::map<std::string, long> loads_, max_active_;
  long reloads_ = 0;
  long queued_ = 0;
};

}  // namespace llm_sim
