// Runs: creating one, its configuration, its state (running until stopped).
#include "storage/run_store_impl.hpp"

namespace codehive::store {

using namespace detail;

namespace {

/// A run's configuration as stored: a JSON object ("" is "{}").
result<std::string> config_text(std::string_view config_json) {
  std::string config = config_json.empty() ? std::string{"{}"} : std::string{config_json};
  if (!codec::is_json_object(config)) return fail(errc::invalid_argument, "run config is not a JSON object");
  return config;
}

}  // namespace

result<std::string> run_store::create_run(std::string_view request, std::string_view config_json) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  auto config = config_text(config_json);
  if (!config) return std::move(config).err();
  std::lock_guard lock{s.mu};
  run_record r;
  for (int i = 0;; ++i) {
    r.id = s.new_run_id();
    auto v = s.get(s.runs, r.id);
    if (!v) return std::move(v).err();
    if (!*v && s.known_runs.count(r.id) == 0) break;
    if (i > 64) return fail(errc::io_error, "cannot find a free run id");
  }
  r.request = std::string{request};
  r.config_json = std::move(*config);
  r.state = run_state::running;
  r.created_ms = r.updated_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.runs, r.id, codec::encode(r));
  // A new run's first event: sequence 1.
  if (auto c = s.commit_with_event(b, r.id, "run_created",
                                   "{\"id\":" + codec::quote(r.id) + ",\"request\":" + codec::quote(r.request) + "}",
                                   r.created_ms, "create_run");
      !c)
    return std::move(c).err();
  s.known_runs.insert(r.id);
  return r.id;
}

result<run_record> run_store::get_run(std::string_view run) const { return impl_->read_run(run); }

result<std::vector<run_record>> run_store::list_runs() const {
  auto& s = *impl_;
  std::vector<run_record> out;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it{s.db->NewIterator(ro, s.runs)};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto r = codec::decode_run(sv(it->value()), "runs/" + show(sv(it->key())));
    if (!r) return std::move(r).err();
    out.push_back(std::move(*r));
  }
  if (!it->status().ok()) return s.from_status(it->status(), "runs scan");
  return out;
}

status run_store::set_run_config(std::string_view run, std::string_view config_json) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  std::lock_guard lock{s.mu};
  auto r = s.read_run(run);
  if (!r) return std::move(r).err();
  auto config = config_text(config_json);
  if (!config) return std::move(config).err();
  r->config_json = std::move(*config);
  r->updated_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.runs, r->id, codec::encode(*r));
  return s.commit(b, "set_run_config");
}

status run_store::set_run_state(std::string_view run, run_state to, std::string_view reason,
                                int exit_code) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  std::lock_guard lock{s.mu};
  auto r = s.read_run(run);
  if (!r) return std::move(r).err();
  run_state from = r->state;
  bool legal = from == run_state::running ? to != run_state::running : to == run_state::running;
  if (!legal)
    return fail(errc::illegal_transition, "run " + std::string{run} + ": " + to_string(from) + " -> " +
                                              to_string(to) + " is not allowed");
  r->state = to;
  r->state_reason = std::string{reason};
  r->exit_code = exit_code;
  r->updated_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.runs, r->id, codec::encode(*r));
  std::string data = std::string{"{\"from\":\""} + to_string(from) + "\",\"to\":\"" + to_string(to) +
                     "\",\"reason\":" + codec::quote(reason) + "}";
  if (auto c = s.commit_with_event(b, run, "run_state", data, r->updated_ms, "set_run_state"); !c)
    return std::move(c).err();
  s.known_runs.insert(r->id);
  return ok();
}

}  // namespace codehive::store
