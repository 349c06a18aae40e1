// Issue 16: the store detects the loss of acknowledged writes. A write-ahead
// log that is truncated, bit-flipped or deleted after its writes were
// acknowledged makes every open refuse the store (errc::corrupt naming what
// is missing), where RocksDB's point-in-time recovery alone would quietly
// recover to an earlier point; a torn tail that no one was told about (a
// crash in the middle of a write) is still no damage. fsck reports damaged
// OPTIONS files and a damaged MANIFEST.
#include <gtest/gtest.h>

#include <fstream>

#include "store_test_util.hpp"

namespace codehive::store {
namespace {

namespace fs = std::filesystem;
using namespace test;

/// A synced store with one run and a few acknowledged writes, closed (its
/// records are still only in the WAL: RocksDB does not flush at close).
/// Returns the run id.
std::string acknowledged_writes(const fs::path& p) {
  auto st = run_store::open(p);
  EXPECT_TRUE(st) << st.err().describe();
  auto run = (*st)->create_run("a run whose writes were acknowledged", "{}");
  EXPECT_TRUE(run);
  EXPECT_TRUE((*st)->put_plan(*run, test::make_plan(20)));
  for (int i = 0; i < 20; ++i)
    EXPECT_TRUE((*st)->transition(*run, "t" + std::to_string(i), task_state::assigned, by_worker("w")));
  return *run;
}

/// The largest write-ahead log of the store (the one holding the writes).
fs::path biggest_wal(const fs::path& p) {
  fs::path best;
  std::uintmax_t size = 0;
  for (const auto& e : fs::directory_iterator(p))
    if (e.path().extension() == ".log" && e.file_size() > size) {
      best = e.path();
      size = e.file_size();
    }
  return best;
}

void expect_loss_refused(const fs::path& p, const std::string& what) {
  for (bool ro : {false, true}) {
    store_options o;
    o.read_only = ro;
    auto st = run_store::open(p, o);
    ASSERT_FALSE(st) << what << ": a store that lost acknowledged writes was opened (read_only " << ro
                     << ")";
    EXPECT_EQ(st.err().code, errc::corrupt) << st.err().describe();
    EXPECT_NE(st.err().reason.find("acknowledged writes are missing"), std::string::npos) << st.err().reason;
    EXPECT_NE(st.err().reason.find(p.string()), std::string::npos) << st.err().reason;
  }
}

class StoreWalLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    run = acknowledged_writes(p);
    wal = biggest_wal(p);
    ASSERT_FALSE(wal.empty()) << "no write-ahead log with the writes in it";
    ASSERT_GT(fs::file_size(wal), 1000u);
  }
  temp_dir d;
  fs::path p = d / "store";
  std::string run;
  fs::path wal;
};

TEST_F(StoreWalLoss, TruncatedWalIsRefused) {
  fs::resize_file(wal, fs::file_size(wal) / 2);
  expect_loss_refused(p, "WAL cut in half");
}

TEST_F(StoreWalLoss, BitFlippedWalIsRefused) {
  auto size = fs::file_size(wal);
  std::fstream io(wal, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(static_cast<std::streamoff>(size / 2));
  char c = 0;
  io.get(c);
  io.seekp(static_cast<std::streamoff>(size / 2));
  io.put(static_cast<char>(c ^ 0x10));
  io.close();
  expect_loss_refused(p, "one bit flipped in the middle of the WAL");
}

TEST_F(StoreWalLoss, DeletedWalIsRefused) {
  fs::remove(wal);
  expect_loss_refused(p, "WAL deleted");
}

TEST_F(StoreWalLoss, TornTailOfAnUnacknowledgedWriteIsNoDamage) {
  // A crash in the middle of writing a record leaves part of it: no one was
  // told that write happened, so the store opens with everything acknowledged.
  {
    std::ofstream out(wal, std::ios::binary | std::ios::app);
    std::string torn(300, '\x5a');
    torn[0] = '\x11';
    out.write(torn.data(), static_cast<std::streamsize>(torn.size()));
  }
  auto st = run_store::open(p);
  ASSERT_TRUE(st) << st.err().describe();
  auto snap = (*st)->load_run(run);
  ASSERT_TRUE(snap) << snap.err().describe();
  EXPECT_EQ(snap->tasks.size(), 20u);
  for (const auto& t : snap->tasks) EXPECT_EQ(t.state, task_state::assigned) << t.spec.id;
}

TEST_F(StoreWalLoss, ReopenedStoreKeepsCheckingAndAcceptsWhatItWrote) {
  // Reopen (recovery flushes the WAL into an SST), write more, close: clean.
  {
    auto st = run_store::open(p);
    ASSERT_TRUE(st) << st.err().describe();
    ASSERT_TRUE((*st)->transition(run, "t0", task_state::failed));
  }
  auto st = run_store::open(p, read_only());
  ASSERT_TRUE(st) << st.err().describe();
  auto problems = (*st)->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << problems->front().kind << ": " << problems->front().detail;
}

// -- fsck of RocksDB's own metadata ------------------------------------------------

bool has_kind(const std::vector<fsck_problem>& ps, const std::string& kind) {
  for (const auto& p : ps)
    if (p.kind == kind) return true;
  return false;
}

/// A store holding a run's acknowledged writes, to damage and fsck.
class StoreFsckMetadata : public ::testing::Test {
 protected:
  void SetUp() override { run = acknowledged_writes(p); }
  /// fsck of the run through `st` works and reports a problem of `kind`.
  void expect_fsck_finds(run_store& st, const std::string& kind) {
    auto problems = st.fsck(run);
    ASSERT_TRUE(problems) << problems.err().describe();
    EXPECT_TRUE(has_kind(*problems, kind)) << problems->size() << " problems";
  }
  temp_dir d;
  fs::path p = d / "store";
  std::string run;
};

TEST_F(StoreFsckMetadata, FindsAGarbageOptionsFile) {
  int planted = 0;
  for (const auto& e : fs::directory_iterator(p)) {
    auto n = e.path().filename().string();
    if (n.rfind("OPTIONS-", 0) == 0 && e.path().extension() != ".dbtmp") {
      std::ofstream out(e.path(), std::ios::binary | std::ios::trunc);
      out << "\x01\x02 this is not an options file [[[\n";
      ++planted;
    }
  }
  ASSERT_GT(planted, 0) << "no OPTIONS file";
  auto st = run_store::open(p, read_only());
  ASSERT_TRUE(st) << st.err().describe();
  expect_fsck_finds(**st, "options");
}

TEST_F(StoreFsckMetadata, FindsAManifestDamagedWhileTheStoreIsOpen) {
  auto st = run_store::open(p, read_only());
  ASSERT_TRUE(st) << st.err().describe();
  {
    auto clean = (*st)->fsck(run);
    ASSERT_TRUE(clean);
    EXPECT_TRUE(clean->empty()) << clean->front().kind << ": " << clean->front().detail;
  }
  int flipped = 0;
  for (const auto& e : fs::directory_iterator(p))
    if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      auto size = fs::file_size(e.path());
      std::fstream io(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      io.seekp(static_cast<std::streamoff>(size / 2));
      std::string junk(8, '\xa5');
      io.write(junk.data(), static_cast<std::streamsize>(junk.size()));
      ++flipped;
    }
  ASSERT_GT(flipped, 0);
  expect_fsck_finds(**st, "manifest");
}

TEST_F(StoreFsckMetadata, FindsAWalThatLostAcknowledgedWritesWhileTheStoreIsOpen) {
  auto st = run_store::open(p, read_only());  // as `codehive fsck` opens it
  ASSERT_TRUE(st) << st.err().describe();
  auto wal = biggest_wal(p);
  ASSERT_FALSE(wal.empty());
  fs::resize_file(wal, fs::file_size(wal) / 3);
  expect_fsck_finds(**st, "wal");
}

}  // namespace
}  // namespace codehive::store
