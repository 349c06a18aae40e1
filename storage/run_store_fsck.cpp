// fsck: every record of a run checked against the others and against the
// store's files, and the store opened again as the next command would.
#include "storage/run_store_impl.hpp"

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <rocksdb/utilities/options_util.h>

namespace codehive::store {

namespace fs = std::filesystem;
using namespace detail;

namespace {

/// One fsck of one run, read from one snapshot: each check adds what it finds.
class fsck_walk {
 public:
  fsck_walk(const run_store::impl& s, std::string_view run) : s_(s), snap_(s.db), run_(run) {}

  std::vector<fsck_problem> problems;

  void problem(std::string kind, std::string where, std::string detail) {
    problems.push_back({std::move(kind), std::move(where), std::move(detail)});
  }

  /// The run's own record; an unknown or invalid run id is the error.
  status check_run() {
    auto r = s_.read_run(run_, ro());
    if (!r) {
      if (r.err().code == errc::not_found || r.err().code == errc::invalid_argument) return std::move(r).err();
      problem("bad_record", "runs/" + run_, r.err().reason);
    }
    return ok();
  }

  /// Versions and current pointers: keys matching records, each pointer at a
  /// version in the index, each content present and intact.
  void files() {
    auto vprefix = keys::version_prefix(run_);
    each_record(s_.files, vprefix, "files", codec::decode_file_version,
                [&](std::string_view k, const file_version& f, const std::string& where) {
                  auto tail = k.substr(vprefix.size());
                  if (tail.size() < 9 || tail[tail.size() - 9] != '\0' || tail.substr(0, tail.size() - 9) != f.path ||
                      keys::get_be(tail.substr(tail.size() - 8)) != f.version)
                    problem("bad_record", where, "key does not match the record's path/version");
                  versions_[f.path].insert(f.version);
                  if (!f.deleted) check_blob(f.hash, where);
                },
                "files/v");
    each_record(s_.files, keys::current_prefix(run_), "files", codec::decode_file_version,
                [&](std::string_view, const file_version& f, const std::string& where) {
                  if (versions_[f.path].count(f.version) == 0)
                    problem("dangling_current", where,
                            "points at version " + std::to_string(f.version) + ", which is not in the index");
                  if (!f.deleted) check_blob(f.hash, where);
                  current_.emplace(f.path, f);
                },
                "files/c");
  }

  /// Tasks: legal states and histories, known dependencies, done tasks have their file.
  void tasks() {
    std::map<std::string, task_record> tasks;
    auto tprefix = keys::run_prefix(run_);
    each_record(s_.tasks, tprefix, "tasks", codec::decode_task,
                [&](std::string_view k, const task_record& t, const std::string& where) {
                  if (k.substr(tprefix.size()) != t.spec.id)
                    problem("bad_record", where, "key does not match task id " + t.spec.id);
                  tasks.emplace(t.spec.id, t);
                },
                "tasks");
    for (const auto& [id, t] : tasks) check_task("tasks/" + run_ + "/" + id, t, tasks);
  }

  /// Events and ledger: sequences 1..n without gaps, keys matching records; reviews decode.
  void logs() {
    check_log(s_.events, "events", codec::decode_event);
    check_log(s_.ledger, "ledger", codec::decode_ledger);
    each_record(s_.reviews, keys::run_prefix(run_), "reviews", codec::decode_review,
                [](std::string_view, const review_round&, const std::string&) {}, "reviews");
  }

  /// Every block of every SST file against its checksum.
  void checksums() {
    if (auto cs = s_.db->VerifyChecksum(); !cs.ok()) problem("checksum", s_.dir.string(), cs.ToString());
  }

  /// The metadata RocksDB reads at the next open: the MANIFEST (via CURRENT)
  /// replayed record by record, and the store opened again as the next command
  /// would (a second, read-only instance: no lock), to find a WAL that lost
  /// acknowledged writes since this one opened. A writer beside us
  /// (compactions deleting files, a new MANIFEST) can fail one attempt:
  /// damage fails every one.
  void reopen() {
    for (int attempt = 1;; ++attempt) {
      auto found = reopen_once();
      if (!found) break;
      if (attempt == 5) {
        problems.push_back(std::move(*found));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
    }
  }

  /// Every OPTIONS file parsed.
  void options_files() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(s_.dir, ec)) {
      auto name = e.path().filename().string();
      if (!name.starts_with("OPTIONS-") || name.ends_with(".dbtmp")) continue;
      rocksdb::ConfigOptions co;
      co.ignore_unknown_options = true;  // a newer RocksDB's options are no damage
      rocksdb::DBOptions dbo;
      std::vector<rocksdb::ColumnFamilyDescriptor> cfd;
      auto ls = rocksdb::LoadOptionsFromFile(co, e.path().string(), &dbo, &cfd);
      if (!ls.ok()) problem("options", e.path().string(), ls.ToString());
    }
    if (ec) problem("read_error", s_.dir.string(), "cannot list the store folder: " + ec.message());
  }

 private:
  const rocksdb::ReadOptions& ro() const { return snap_.ro(); }

  /// Decodes every record under `prefix` in `cf` and hands it to
  /// on_record(key, record, "<label>/<key>"); one that does not decode is a
  /// bad_record, one the scan cannot read a read_error named `what`.
  template <class Decode, class OnRecord>
  void each_record(rocksdb::ColumnFamilyHandle* cf, const std::string& prefix, const char* label, Decode decode,
                   OnRecord on_record, const char* what) {
    auto st = s_.scan(
        cf, prefix,
        [&](std::string_view k, std::string_view v) {
          std::string where = std::string{label} + "/" + show(k);
          auto rec = decode(v, where);
          if (!rec)
            problem("bad_record", where, rec.err().reason);
          else
            on_record(k, *rec, where);
          return true;
        },
        ro());
    if (!st) problem("read_error", what, st.err().describe());
  }

  /// Present, and content matching its hash (each blob checked once).
  bool check_blob(const std::string& hash, const std::string& where) {
    auto it = blob_ok_.find(hash);
    if (it == blob_ok_.end()) {
      auto v = s_.get(s_.files, keys::blob(hash), ro());
      bool good = false;
      if (!v)
        problem("read_error", "files/b/" + hash, v.err().describe());
      else if (!*v)
        problem("dangling_blob", where, "names blob " + hash + ", which is not in the store");
      else if (sha256_hex(**v) != hash)
        problem("blob_corrupt", "files/b/" + hash, "content does not match its hash");
      else
        good = true;
      it = blob_ok_.emplace(hash, good).first;
    }
    return it->second;
  }

  void check_task(const std::string& where, const task_record& t, const std::map<std::string, task_record>& tasks) {
    task_state at = task_state::pending;
    int assigns = 0;
    for (const auto& h : t.history) {
      if (h.from != at || !legal_transition(h.from, h.to))
        problem("illegal_state", where,
                std::string{"history has "} + to_string(h.from) + " -> " + to_string(h.to) + " while the task was " +
                    to_string(at));
      if (h.to == task_state::assigned) ++assigns;
      at = h.to;
    }
    if (at != t.state)
      problem("illegal_state", where,
              std::string{"state is "} + to_string(t.state) + " but its history ends in " + to_string(at));
    if (assigns != t.attempts)
      problem("illegal_state", where,
              "attempts is " + std::to_string(t.attempts) + " but it was assigned " + std::to_string(assigns) +
                  " times");
    for (const auto& d : t.spec.depends_on)
      if (tasks.count(d) == 0) problem("unknown_dependency", where, "depends on unknown task " + d);
    if (t.state != task_state::done) return;
    if (!t.file_hash.empty()) {
      check_blob(t.file_hash, where);
    } else if (t.spec.type == "file" && t.spec.action != "delete") {
      auto it = current_.find(t.spec.path);
      if (it == current_.end() || it->second.deleted)
        problem("task_file_missing", where, "task is done but " + t.spec.path + " has no current version");
    }
  }

  /// Events or ledger entries: "<name>_gap" where a sequence number is skipped.
  template <class Decode>
  void check_log(rocksdb::ColumnFamilyHandle* cf, const char* name, Decode decode) {
    std::uint64_t expect = 1;
    auto prefix = keys::run_prefix(run_);
    // The key is checked before the record is decoded: a malformed key is
    // the problem even when its record is fine.
    auto st = s_.scan(
        cf, prefix,
        [&](std::string_view k, std::string_view v) {
          std::string where = std::string{name} + "/" + show(k);
          if (k.size() != prefix.size() + 8) {
            problem("bad_record", where, "malformed key");
            return true;
          }
          auto seq = keys::get_be(k.substr(prefix.size()));
          if (seq != expect)
            problem(std::string{name} + "_gap", std::string{name} + "/" + run_ + "#" + std::to_string(seq),
                    "expected sequence " + std::to_string(expect) + ", found " + std::to_string(seq));
          expect = seq + 1;
          auto rec = decode(v, where);
          if (!rec)
            problem("bad_record", where, rec.err().reason);
          else if (rec->seq != seq)
            problem("bad_record", where, "record says sequence " + std::to_string(rec->seq));
          return true;
        },
        ro());
    if (!st) problem("read_error", name, st.err().describe());
  }

  /// One attempt of reopen(): the problem it found, if any.
  std::optional<fsck_problem> reopen_once() const {
    auto found = [&](std::string kind, std::string detail) {
      return std::optional<fsck_problem>{fsck_problem{std::move(kind), s_.dir.string(), std::move(detail)}};
    };
    auto acked = read_acked(s_.dir);
    if (!acked) return found("wal", acked.err().reason);
    std::vector<std::string> names;
    auto options = db_options();
    options.info_log = make_info_log(s_.dir, false);
    if (auto ls = rocksdb::DB::ListColumnFamilies(options, s_.dir.string(), &names); !ls.ok())
      return found("manifest", ls.ToString());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, options);
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* again = nullptr;
    auto os = rocksdb::DB::OpenForReadOnly(options, s_.dir.string(), cfs, &handles, &again);
    if (!os.ok())
      return found(os.ToString().find("MANIFEST") != std::string::npos ? "manifest" : "wal",
                   "the store would not open again: " + os.ToString());
    auto recovered = again->GetLatestSequenceNumber();
    for (auto* h : handles) again->DestroyColumnFamilyHandle(h);
    again->Close();
    delete again;
    if (*acked && recovered < **acked)
      return found("wal", "acknowledged writes are missing: the store would recover to write sequence " +
                              std::to_string(recovered) + " but writes up to " + std::to_string(**acked) +
                              " were acknowledged; a write-ahead log (*.log) was truncated, damaged or deleted");
    return std::nullopt;
  }

  const run_store::impl& s_;
  snapshot snap_;
  std::string run_;
  std::map<std::string, bool> blob_ok_;                      ///< hash -> present and intact
  std::map<std::string, std::set<std::uint64_t>> versions_;  ///< path -> versions present
  std::map<std::string, file_version> current_;
};

}  // namespace

result<std::vector<fsck_problem>> run_store::fsck(std::string_view run) const {
  fsck_walk walk{*impl_, run};
  if (auto r = walk.check_run(); !r) return std::move(r).err();
  walk.files();
  walk.tasks();
  walk.logs();
  walk.checksums();
  walk.reopen();
  walk.options_files();
  return std::move(walk.problems);
}

}  // namespace codehive::store
