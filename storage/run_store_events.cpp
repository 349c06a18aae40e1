// The run's event log (one sequence per run, no gaps) and its review rounds.
#include "storage/run_store_impl.hpp"

namespace codehive::store {

using namespace detail;

status run_store::put_review_round(std::string_view run, const review_round& round) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  if (round.round < 1) return fail(errc::invalid_argument, "review rounds start at 1");
  review_round r = round;
  if (r.findings_json.empty()) r.findings_json = "[]";
  if (!codec::is_json(r.findings_json))
    return fail(errc::invalid_argument, "review findings are not JSON");
  std::lock_guard lock{s.mu};
  if (auto q = s.require_run(run); !q) return q;
  r.at_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.reviews, keys::review(run, r.round), codec::encode(r));
  std::string data =
      "{\"round\":" + std::to_string(r.round) + ",\"issues\":" + std::to_string(r.issues.size()) + "}";
  if (auto c = s.commit_with_event(b, run, "review", data, r.at_ms, "put_review_round"); !c) return std::move(c).err();
  return ok();
}

result<std::uint64_t> run_store::append_event(std::string_view run, std::string_view type,
                                              std::string_view data_json) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  if (type.empty()) return fail(errc::invalid_argument, "empty event type");
  std::string data = data_json.empty() ? std::string{"null"} : std::string{data_json};
  if (!codec::is_json(data)) return fail(errc::invalid_argument, "event data is not JSON");
  std::lock_guard lock{s.mu};
  if (auto q = s.require_run(run); !q) return std::move(q).err();
  rocksdb::WriteBatch b;
  return s.commit_with_event(b, run, type, data, now_ms(), "append_event");
}

result<std::vector<event>> run_store::read_events(std::string_view run, std::uint64_t from_seq,
                                                  std::size_t max) const {
  auto& s = *impl_;
  snapshot snap{s.db};
  if (auto r = s.read_run(run, snap.ro()); !r) return std::move(r).err();
  std::vector<event> out;
  if (max == 0) return out;
  auto sc = s.scan_records(
      s.events, keys::run_prefix(run), codec::decode_event,
      [&](event e) {
        out.push_back(std::move(e));
        return out.size() < max;
      },
      snap.ro(), keys::seq_key(run, from_seq));
  if (!sc) return std::move(sc).err();
  return out;
}

}  // namespace codehive::store
