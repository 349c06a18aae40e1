#include "model_runtime.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "json_out.hpp"

namespace llm_sim {

namespace {

std::string describe(const std::map<std::string, std::string>& options) {
  std::string out;
  for (const auto& [k, v] : options) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out.empty() ? "-" : out;
}

}  // namespace

model_runtime::model_runtime(settings s, stop_signal& stop) : settings_(s), stop_(stop) {}

model_runtime::admission model_runtime::acquire(const std::string& model,
                                                std::map<std::string, std::string> runner_options,
                                                bool unload_after) {
  admission out;
  if (settings_.reloads && !runner_options.count("num_ctx"))
    runner_options["num_ctx"] = std::to_string(settings_.default_num_ctx);
  if (!settings_.reloads) runner_options.clear();  // llama.cpp: one fixed runner

  std::unique_lock<std::mutex> lock(mutex_);
  if (waiting_ >= settings_.max_queue) {
    out.queue_full = true;
    return out;
  }
  ++waiting_;
  for (;;) {
    if (stop_.stopped()) {
      --waiting_;
      return out;
    }
    model_state& m = models_[model];
    if (!m.loading) {
      const bool same = m.loaded && m.options == runner_options;
      if (same && m.active < settings_.slots) break;
      if (!same && m.active == 0) {
        // Load, or reload with the new options: Ollama waits for the runner to
        // go idle, then restarts it; every request for the model waits meanwhile.
        const bool reload = m.loaded;
        if (reload)
          spdlog::info("reloading {}: runner options {} -> {}", model, describe(m.options),
                       describe(runner_options));
        else if (settings_.reloads)
          spdlog::info("loading {}: runner options {}", model, describe(runner_options));
        m.loading = true;
        lock.unlock();
        const auto t0 = std::chrono::steady_clock::now();
        const bool ok = stop_.wait_for(std::chrono::milliseconds(settings_.reload_ms));
        out.load = std::chrono::steady_clock::now() - t0;
        lock.lock();
        model_state& n = models_[model];
        n.loading = false;
        if (!ok) {
          --waiting_;
          cv_.notify_all();
          return out;
        }
        n.loaded = true;
        n.options = runner_options;
        n.since = std::chrono::system_clock::now();
        ++loads_[model];
        if (reload) ++reloads_;
        cv_.notify_all();
        continue;  // take a slot on the next pass (it is free: nothing is active)
      }
    }
    if (!out.waited) {
      out.waited = true;
      ++queued_;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  --waiting_;
  model_state& m = models_[model];
  ++m.active;
  if (unload_after) m.unload_when_idle = true;
  max_active_[model] = std::max<long>(max_active_[model], m.active);
  out.slot = std::shared_ptr<void>(this, [model](model_runtime* self) { self->release(model); });
  return out;
}

void model_runtime::release(const std::string& model) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    model_state& m = models_[model];
    --m.active;
    if (m.active == 0 && m.unload_when_idle) {
      m.loaded = false;
      m.unload_when_idle = false;
      m.options.clear();
    }
  }
  cv_.notify_all();
}

std::string model_runtime::stats_members() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  std::lock_guard<std::mutex> lock(mutex_);
  // Written as members of an object that is never closed: the caller splices them in.
  w.StartObject();
  json_out::counts(w, "model_loads", loads_);
  w.Key("reloads");
  w.Int64(reloads_);
  w.Key("queued");
  w.Int64(queued_);
  json_out::counts(w, "max_concurrent", max_active_);
  w.EndObject();
  std::string s(buf.GetString(), buf.GetSize());
  return s.substr(1, s.size() - 2);
}

void model_runtime::reset_counts() {
  std::lock_guard<std::mutex> lock(mutex_);
  loads_.clear();
  max_active_.clear();
  reloads_ = 0;
  queued_ = 0;
}

std::vector<model_runtime::loaded_model> model_runtime::loaded() const {
  std::vector<loaded_model> out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, m] : models_) {
    if (!m.loaded) continue;
    loaded_model l;
    l.name = name;
    l.since = m.since;
    if (auto it = m.options.find("num_ctx"); it != m.options.end()) l.num_ctx = std::atol(it->second.c_str());
    out.push_back(l);
  }
  return out;
}

}  // namespace llm_sim
