// Durability and refusal: reopen, SIGKILL mid-write, foreign and damaged
// directories, a second opener, fsck on planted damage, newer schemas.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "store_test_util.hpp"

namespace codehive::store {
namespace {

namespace fs = std::filesystem;
using namespace test;

/// Files of `dir` whose name starts with `prefix` / ends with `suffix`.
std::vector<fs::path> files_like(const fs::path& dir, const std::string& prefix,
                                 const std::string& suffix = "") {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0 && n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(e.path());
  }
  return out;
}

/// A store at dir/"store" with one run: 3 tasks, t0 done with a file, a
/// review round, two ledger entries. Returns the run id.
std::string populate(const fs::path& p, store_options opts = {}) {
  auto st = run_store::open(p, opts);
  EXPECT_TRUE(st) << st.err().describe();
  auto& s = **st;
  auto run = s.create_run("todo app", R"({"coders":2})");
  EXPECT_TRUE(run);
  EXPECT_TRUE(s.put_plan(*run, test::make_plan(3, true)));
  EXPECT_TRUE(s.transition(*run, "t0", task_state::assigned, by_worker("w0")));
  auto h = s.put_file_version(*run, "src/file0.js", "let x = 1;\n", from_task("t0"));
  EXPECT_TRUE(h);
  EXPECT_TRUE(s.transition(*run, "t0", task_state::done, producing(*h)));
  EXPECT_TRUE(s.transition(*run, "t1", task_state::assigned, by_worker("w1")));
  review_round r;
  r.round = 1;
  r.issues = {{"src/file0.js", "p", "i"}};
  EXPECT_TRUE(s.put_review_round(*run, r));
  ledger_entry e;
  e.use.role = "coder";
  e.use.model = "small";
  e.use.prompt_tokens = 10;
  EXPECT_TRUE(s.append_ledger(*run, e));
  EXPECT_TRUE(s.append_ledger(*run, e));
  return *run;
}

TEST(StoreReopen, AfterCloseEverythingIsThereAndSequencesContinue) {
  temp_dir d;
  auto p = d / "store";
  auto run = populate(p);
  auto st = run_store::open(p);
  ASSERT_TRUE(st) << st.err().describe();
  auto snap = (*st)->load_run(run);
  ASSERT_TRUE(snap) << snap.err().describe();
  EXPECT_EQ(snap->run.request, "todo app");
  EXPECT_EQ(snap->run.config_json, R"({"coders":2})");
  ASSERT_EQ(snap->tasks.size(), 3u);
  EXPECT_EQ(snap->tasks[0].state, task_state::done);
  EXPECT_EQ(snap->tasks[1].state, task_state::assigned);
  EXPECT_EQ(snap->tasks[1].worker, "w1");
  ASSERT_EQ(snap->files.size(), 1u);
  EXPECT_EQ((*st)->get_file(run, "src/file0.js")->content, "let x = 1;\n");
  ASSERT_EQ(snap->rounds.size(), 1u);
  EXPECT_EQ(snap->ledger_total.calls, 2u);
  EXPECT_EQ(snap->ledger_total.prompt_tokens, 20);
  EXPECT_EQ(snap->last_event_seq, 7u);
  // Sequences pick up where they were: no gap, no overwrite.
  EXPECT_EQ((*st)->append_event(run, "resumed", "{}").value(), 8u);
  EXPECT_EQ((*st)->append_ledger(run, ledger_entry{}).value(), 3u);
  auto problems = (*st)->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0].kind << ": " << (*problems)[0].detail;
  EXPECT_EQ((*st)->list_runs()->size(), 1u);
}

TEST(StoreReopen, NoSyncStoreAlsoKeepsDataAcrossCloseAndFlush) {
  temp_dir d;
  auto p = d / "store";
  auto run = populate(p, no_sync());
  {
    auto st = run_store::open(p, no_sync());
    ASSERT_TRUE(st);
    ASSERT_TRUE((*st)->flush());
  }
  auto st = run_store::open(p);
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)->load_run(run)->tasks.size(), 3u);
}

TEST(StoreCrash, SigkilledWriterLosesNoAcknowledgedTransition) {
  temp_dir d;
  auto p = d / "store";
  constexpr int n = 300;
  std::string run;
  {
    auto st = run_store::open(p);
    ASSERT_TRUE(st);
    run = (*st)->create_run("crash test", "{}").value();
    ASSERT_TRUE((*st)->put_plan(run, test::make_plan(n)));
  }
  auto child = test::run_child("crash|" + p.string() + "|" + run + "|" + std::to_string(n));
  ASSERT_TRUE(child.signaled) << "exit " << child.exit_code << ": " << child.output;
  EXPECT_EQ(child.signal, SIGKILL);
  std::map<std::string, std::string> acked;  // task -> last acknowledged state
  std::istringstream lines(child.output);
  std::string task, state;
  int ack_count = 0;
  while (lines >> task >> state) {
    acked[task] = state;
    ++ack_count;
  }
  ASSERT_GE(ack_count, n) << "the child was killed before half of its writes";
  EXPECT_LT(ack_count, 2 * n) << "the child was not killed mid-way";

  auto st = run_store::open(p);
  ASSERT_TRUE(st) << st.err().describe();
  auto snap = (*st)->load_run(run);
  ASSERT_TRUE(snap) << snap.err().describe();
  int unacked_changes = 0;
  std::uint64_t transitions = 0;
  for (const auto& t : snap->tasks) {
    transitions += t.history.size();
    auto it = acked.find(t.spec.id);
    if (it == acked.end()) {
      if (t.state != task_state::pending) ++unacked_changes;
      continue;
    }
    if (it->second == "done") {
      EXPECT_EQ(t.state, task_state::done) << t.spec.id << " was acknowledged done";
    } else {
      EXPECT_TRUE(t.state == task_state::assigned || t.state == task_state::done) << t.spec.id;
      if (t.state == task_state::done) ++unacked_changes;
      EXPECT_EQ(t.attempts, 1);
      EXPECT_EQ(t.worker, "w" + std::to_string(std::stoi(t.spec.id.substr(1)) % 4));
    }
  }
  // At most the one transition in flight when the signal came is there unacknowledged.
  EXPECT_LE(unacked_changes, 1);
  EXPECT_EQ(transitions, static_cast<std::uint64_t>(ack_count + unacked_changes));
  // Every change has its event: run_created + plan + transitions + file versions, no gap.
  EXPECT_EQ(snap->last_event_seq, 2 + transitions + snap->files.size());
  for (const auto& t : snap->tasks)
    if (t.state == task_state::done) {
      auto f = (*st)->get_file(run, t.spec.path);
      ASSERT_TRUE(f) << f.err().describe();
      EXPECT_EQ(f->content, "content of " + t.spec.id + "\n");
      EXPECT_EQ(f->meta.hash, t.file_hash);
    }
  auto problems = (*st)->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0].kind << ": " << (*problems)[0].detail;
  // The store is usable: the interrupted lifecycle continues.
  for (const auto& t : snap->tasks)
    if (t.state == task_state::assigned) {
      ASSERT_TRUE((*st)->transition(run, t.spec.id, task_state::pending, because("worker lost")));
    }
}

TEST(StoreRefuse, ForeignDirectoryIsNotTouched) {
  temp_dir d;
  auto p = d / "mine";
  fs::create_directories(p);
  std::ofstream(p / "notes.txt") << "my notes";
  auto st = run_store::open(p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, errc::foreign_directory);
  EXPECT_NE(st.err().reason.find(p.string()), std::string::npos) << st.err().reason;
  EXPECT_NE(st.err().reason.find("not a codehive store"), std::string::npos);
  EXPECT_FALSE(fs::exists(p / "CURRENT"));
  EXPECT_FALSE(fs::exists(p / "CODEHIVE_STORE"));
  EXPECT_EQ(slurp(p / "notes.txt"), "my notes");
  // A regular file as the store path.
  auto f = d / "file";
  std::ofstream(f) << "x";
  EXPECT_EQ(run_store::open(f).err().code, errc::foreign_directory);
}

TEST(StoreRefuse, SomeoneElsesRocksDbIsForeign) {
  temp_dir d;
  auto p = d / "other-db";
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, p.string(), &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions{}, "k", "v").ok());
    delete db;
  }
  auto st = run_store::open(p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, errc::foreign_directory);
}

TEST(StoreRefuse, EmptyDirectoryBecomesAStoreButReadOnlyDoesNotCreate) {
  temp_dir d;
  EXPECT_EQ(run_store::open(d / "absent", read_only()).err().code, errc::not_found);
  EXPECT_EQ(run_store::open(d / "absent", no_create()).err().code, errc::not_found);
  EXPECT_FALSE(fs::exists(d / "absent" / "CURRENT"));
  fs::create_directories(d / "empty");
  EXPECT_TRUE(run_store::open(d / "empty"));
}

class StoreDamaged : public ::testing::Test {
 protected:
  void SetUp() override { run = populate(p); }
  /// Opening fails with errc::corrupt naming the path; nothing is reset.
  void expect_refused_as_damaged(const std::string& mention) {
    auto before = files_like(p, "");
    auto st = run_store::open(p);
    ASSERT_FALSE(st) << "a damaged store was opened";
    RecordProperty("message", st.err().describe());
    EXPECT_EQ(st.err().code, errc::corrupt) << st.err().describe();
    EXPECT_NE(st.err().reason.find(p.string()), std::string::npos) << st.err().reason;
    EXPECT_NE(st.err().reason.find(mention), std::string::npos) << st.err().reason;
    EXPECT_EQ(files_like(p, "").size(), before.size()) << "open changed the damaged store";
  }
  temp_dir d;
  fs::path p = d / "store";
  std::string run;
};

TEST_F(StoreDamaged, MissingCurrentIsRefusedNotReset) {
  fs::remove(p / "CURRENT");
  expect_refused_as_damaged("CURRENT");
  EXPECT_FALSE(fs::exists(p / "CURRENT"));
}

TEST_F(StoreDamaged, TruncatedCurrentIsRefused) {
  fs::resize_file(p / "CURRENT", 0);
  expect_refused_as_damaged("damaged");
}

TEST_F(StoreDamaged, TruncatedManifestIsRefused) {
  auto manifests = files_like(p, "MANIFEST-");
  ASSERT_FALSE(manifests.empty());
  for (const auto& m : manifests) fs::resize_file(m, 20);
  expect_refused_as_damaged("damaged");
}

TEST_F(StoreDamaged, MissingManifestIsRefused) {
  for (const auto& m : files_like(p, "MANIFEST-")) fs::remove(m);
  expect_refused_as_damaged("damaged");
}

TEST_F(StoreDamaged, GarbageInAnSstIsReportedNotACrash) {
  {
    auto st = run_store::open(p);
    ASSERT_TRUE(st);
    ASSERT_TRUE((*st)->flush());
  }
  auto ssts = files_like(p, "", ".sst");
  ASSERT_FALSE(ssts.empty());
  for (const auto& f : ssts) {
    auto size = fs::file_size(f);
    std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(size / 4));
    std::string garbage(static_cast<std::size_t>(size / 2), '\xa5');
    io.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto st = run_store::open(p);
  if (!st) {
    RecordProperty("message", "open: " + st.err().describe());
    EXPECT_EQ(st.err().code, errc::corrupt) << st.err().describe();
    EXPECT_NE(st.err().reason.find(p.string()), std::string::npos);
    return;
  }
  // Opened: every read that touches a damaged block says so.
  auto snap = (*st)->load_run(run);
  ASSERT_FALSE(snap) << "load_run read garbage without noticing";
  RecordProperty("message", "load_run: " + snap.err().describe());
  EXPECT_EQ(snap.err().code, errc::corrupt) << snap.err().describe();
  EXPECT_NE(snap.err().reason.find("corrupt"), std::string::npos);
}

TEST(StoreRefuse, SecondProcessIsToldWhoHoldsTheStore) {
  temp_dir d;
  auto p = d / "store";
  auto st = run_store::open(p);
  ASSERT_TRUE(st);
  auto child = test::run_child("open|" + p.string());
  ASSERT_TRUE(child.exited);
  RecordProperty("message", child.output);
  EXPECT_EQ(child.exit_code, 3) << child.output;
  EXPECT_EQ(child.output.rfind("in_use\t", 0), 0u) << child.output;
  EXPECT_NE(child.output.find("store " + p.string() + " is in use by another codehive process (pid " +
                              std::to_string(::getpid()) + ")"),
            std::string::npos)
      << child.output;
  // Once closed, the other process may open it.
  st = fail(errc::not_found, "closed");
  auto again = test::run_child("open|" + p.string());
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output, "ok\n");
}

TEST(StoreRefuse, SecondOpenInTheSameProcessIsRefused) {
  temp_dir d;
  auto p = d / "store";
  auto st = run_store::open(p);
  ASSERT_TRUE(st);
  auto second = run_store::open(p);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.err().code, errc::in_use);
  EXPECT_NE(second.err().reason.find("already open in this process"), std::string::npos)
      << second.err().reason;
}

TEST(StoreReadOnly, OpensBesideTheWriterAndRefusesWrites) {
  temp_dir d;
  auto p = d / "store";
  auto run = populate(p);
  auto writer = run_store::open(p);
  ASSERT_TRUE(writer);
  auto reader = run_store::open(p, read_only());
  ASSERT_TRUE(reader) << reader.err().describe();
  EXPECT_EQ((*reader)->load_run(run)->tasks.size(), 3u);
  EXPECT_EQ((*reader)->create_run("x", "{}").err().code, errc::read_only);
  EXPECT_EQ((*reader)->transition(run, "t2", task_state::assigned).err().code, errc::read_only);
}

class StoreFsck : public ::testing::Test {
 protected:
  void SetUp() override {
    run = populate(p);
    auto st = run_store::open(p);
    ASSERT_TRUE(st);
    auto problems = (*st)->fsck(run);
    ASSERT_TRUE(problems);
    ASSERT_TRUE(problems->empty()) << (*problems)[0].kind << ": " << (*problems)[0].detail;
  }
  std::vector<fsck_problem> check() {
    auto st = run_store::open(p);
    EXPECT_TRUE(st) << st.err().describe();
    if (!st) return {};
    auto problems = (*st)->fsck(run);
    EXPECT_TRUE(problems) << problems.err().describe();
    return problems ? *problems : std::vector<fsck_problem>{};
  }
  static bool has(const std::vector<fsck_problem>& ps, const std::string& kind) {
    for (const auto& x : ps)
      if (x.kind == kind) return true;
    return false;
  }
  static std::string seq_key(const std::string& run, std::uint64_t seq) {
    std::string k = run;
    k.push_back('\0');
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((seq >> (8 * i)) & 0xff));
    return k;
  }
  temp_dir d;
  fs::path p = d / "store";
  std::string run;
};

TEST_F(StoreFsck, FindsAVersionPointingAtAMissingBlob) {
  {
    raw_db db{p};
    std::string blob = std::string{"b"} + '\0' + sha256_hex("let x = 1;\n");
    ASSERT_FALSE(db.get("files", blob).empty());
    db.del("files", blob);
  }
  auto ps = check();
  EXPECT_TRUE(has(ps, "dangling_blob"));
  auto st = run_store::open(p);
  EXPECT_EQ((*st)->get_file(run, "src/file0.js").err().code, errc::corrupt);
}

TEST_F(StoreFsck, FindsADoneTaskWithoutItsFile) {
  {
    raw_db db{p};
    auto key = std::string{"c"} + '\0' + run + '\0' + "src/file0.js";
    ASSERT_FALSE(db.get("files", key).empty());
    // The task names its hash: drop that, and the current version too.
    std::string task_key = run + '\0' + "t0";
    auto rec = db.get("tasks", task_key);
    auto pos = rec.find(sha256_hex("let x = 1;\n"));
    ASSERT_NE(pos, std::string::npos);
    rec.erase(pos, 64);
    db.put("tasks", task_key, rec);
    db.del("files", key);
  }
  auto ps = check();
  EXPECT_TRUE(has(ps, "task_file_missing"));
}

TEST_F(StoreFsck, FindsAnEventSequenceGap) {
  {
    raw_db db{p};
    db.del("events", seq_key(run, 3));
  }
  auto ps = check();
  ASSERT_TRUE(has(ps, "events_gap"));
  for (const auto& x : ps) {
    if (x.kind == "events_gap") {
      EXPECT_NE(x.detail.find("expected sequence 3, found 4"), std::string::npos) << x.detail;
    }
  }
}

TEST_F(StoreFsck, FindsAnIllegalTaskState) {
  {
    raw_db db{p};
    std::string key = run + '\0' + "t2";
    auto rec = db.get("tasks", key);
    auto pos = rec.find(R"("state":"pending")");
    ASSERT_NE(pos, std::string::npos);
    rec.replace(pos, 17, R"("state":"done")");
    db.put("tasks", key, rec);
  }
  auto ps = check();
  EXPECT_TRUE(has(ps, "illegal_state"));
}

TEST_F(StoreFsck, FindsACorruptBlobAndAMalformedRecord) {
  {
    raw_db db{p};
    db.put("files", std::string{"b"} + '\0' + sha256_hex("let x = 1;\n"), "tampered");
    db.put("tasks", run + '\0' + "t1", "{not json");
  }
  auto ps = check();
  EXPECT_TRUE(has(ps, "blob_corrupt"));
  EXPECT_TRUE(has(ps, "bad_record"));
  auto st = run_store::open(p);
  EXPECT_EQ((*st)->load_run(run).err().code, errc::corrupt);
}

TEST(StoreSchema, NewerStoreIsRefused) {
  temp_dir d;
  auto p = d / "store";
  populate(p);
  {
    raw_db db{p};
    auto meta = db.get("meta", "schema");
    auto pos = meta.find(R"("schema_version":1)");
    ASSERT_NE(pos, std::string::npos) << meta;
    meta.replace(pos, 18, R"("schema_version":7)");
    db.put("meta", "schema", meta);
  }
  auto st = run_store::open(p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, errc::newer_schema);
  EXPECT_NE(st.err().reason.find("schema version 7"), std::string::npos) << st.err().reason;
  EXPECT_NE(st.err().reason.find("upgrade codehive"), std::string::npos) << st.err().reason;
}

TEST(StoreSchema, NewerRecordIsRefused) {
  temp_dir d;
  auto p = d / "store";
  auto run = populate(p);
  {
    raw_db db{p};
    auto rec = db.get("runs", run);
    ASSERT_EQ(rec.rfind(R"({"v":1,)", 0), 0u) << rec;
    rec.replace(0, 7, R"({"v":2,)");
    db.put("runs", run, rec);
  }
  auto st = run_store::open(p);
  ASSERT_TRUE(st) << st.err().describe();
  auto snap = (*st)->load_run(run);
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.err().code, errc::newer_schema);
  EXPECT_NE(snap.err().reason.find("version 2"), std::string::npos) << snap.err().reason;
  EXPECT_EQ((*st)->list_runs().err().code, errc::newer_schema);
}

TEST(StoreSchema, ExtraColumnFamiliesOfANewerCodehiveDoNotBreakOpen) {
  temp_dir d;
  auto p = d / "store";
  auto run = populate(p);
  {
    raw_db db{p};
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db.db()->CreateColumnFamily(rocksdb::ColumnFamilyOptions{}, "future", &h).ok());
    db.db()->DestroyColumnFamilyHandle(h);
  }
  auto st = run_store::open(p);
  ASSERT_TRUE(st) << st.err().describe();
  EXPECT_TRUE((*st)->load_run(run));
}

}  // namespace
}  // namespace codehive::store
