// A whole run read at once, from one snapshot.
#include "storage/run_store_impl.hpp"

#include <algorithm>

namespace codehive::store {

using namespace detail;

result<run_snapshot> run_store::load_run(std::string_view run) const {
  auto& s = *impl_;
  snapshot snap{s.db};
  const auto& ro = snap.ro();
  run_snapshot out;
  auto r = s.read_run(run, ro);
  if (!r) return std::move(r).err();
  out.run = std::move(*r);
  auto prefix = keys::run_prefix(run);
  auto sc = s.scan_records(s.tasks, prefix, codec::decode_task, append_to(out.tasks), ro);
  if (!sc) return std::move(sc).err();
  std::stable_sort(out.tasks.begin(), out.tasks.end(),
                   [](const task_record& a, const task_record& b) { return a.plan_index < b.plan_index; });
  sc = s.scan_records(s.files, keys::current_prefix(run), codec::decode_file_version, append_to(out.files), ro);
  if (!sc) return std::move(sc).err();
  sc = s.scan_records(s.reviews, prefix, codec::decode_review, append_to(out.rounds), ro);
  if (!sc) return std::move(sc).err();
  sc = s.scan_records(
      s.ledger, prefix, codec::decode_ledger,
      [&](const ledger_entry& e) {
        out.ledger_total.add(e);
        out.ledger_by_role[e.use.role].add(e);
        out.ledger_by_model[e.use.model].add(e);
        return true;
      },
      ro);
  if (!sc) return std::move(sc).err();
  auto last = s.last_seq(s.events, run, ro);
  if (!last) return std::move(last).err();
  out.last_event_seq = *last;
  return out;
}

}  // namespace codehive::store
