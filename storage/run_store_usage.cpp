// The ledger of model calls (tokens, latency, cost) and its totals.
#include "storage/run_store_impl.hpp"

namespace codehive::store {

using namespace detail;

result<ledger_totals> run_store::ledger_total(std::string_view run) const {
  auto& s = *impl_;
  std::lock_guard lock{s.mu};  // no append can slip between the scan and the cache
  if (auto it = s.ledger_sums.find(run); it != s.ledger_sums.end()) return it->second;
  if (auto r = s.read_run(run); !r) return std::move(r).err();
  ledger_totals t;
  auto sc = s.scan_records(s.ledger, keys::run_prefix(run), codec::decode_ledger,
                           [&](ledger_entry e) {
                             t.add(e);
                             return true;
                           });
  if (!sc) return std::move(sc).err();
  if (!s.opts.read_only) s.ledger_sums.emplace(std::string{run}, t);  // a read-only store sees no appends
  return t;
}

result<std::uint64_t> run_store::append_ledger(std::string_view run, const ledger_entry& entry) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  if (entry.outcome != "ok" && entry.outcome != "error")
    return fail(errc::invalid_argument, "ledger outcome must be \"ok\" or \"error\", not \"" + entry.outcome + "\"");
  std::lock_guard lock{s.mu};
  if (auto q = s.require_run(run); !q) return std::move(q).err();
  auto seq = s.next_seq(s.next_ledger, s.ledger, run);
  if (!seq) return std::move(seq).err();
  ledger_entry e = entry;
  e.seq = *seq;
  e.at_ms = now_ms();
  rocksdb::WriteBatch b;
  b.Put(s.ledger, keys::seq_key(run, e.seq), codec::encode(e));
  if (auto c = s.commit(b, "append_ledger"); !c) return std::move(c).err();
  s.next_ledger[std::string{run}] = *seq + 1;
  if (auto it = s.ledger_sums.find(run); it != s.ledger_sums.end()) it->second.add(e);
  return e.seq;
}

result<std::vector<ledger_entry>> run_store::read_ledger(std::string_view run) const {
  auto& s = *impl_;
  snapshot snap{s.db};
  if (auto r = s.read_run(run, snap.ro()); !r) return std::move(r).err();
  std::vector<ledger_entry> out;
  auto sc = s.scan_records(s.ledger, keys::run_prefix(run), codec::decode_ledger, append_to(out), snap.ro());
  if (!sc) return std::move(sc).err();
  return out;
}

}  // namespace codehive::store
