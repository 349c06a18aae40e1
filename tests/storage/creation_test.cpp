// Store creation (issue 15): a store is built in a temporary sibling folder and
// renamed into place, so a crash at any step leaves it absent or whole; a store
// an older codehive began in place and never finished (no run in it) is
// finished, not refused; a store with runs that is damaged is still refused.
// Also the marker's schema version (issue 16): a newer one refuses the store.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <sstream>

#include "store_test_util.hpp"

namespace codehive::store {
namespace {

namespace fs = std::filesystem;
using namespace test;

/// Names in `dir` starting with `prefix` (none when `dir` is absent).
std::vector<std::string> names_like(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  return out;
}

/// The store at `p` works for every later command: a read-only look (what
/// `codehive runs` does) sees no store or an empty one, never a damaged one;
/// a writer opens it, records a run, and a reader then lists that run.
void expect_usable_after(const fs::path& p, const std::string& what) {
  {
    auto ro = run_store::open(p, read_only());
    if (ro) {
      auto runs = (*ro)->list_runs();
      ASSERT_TRUE(runs) << what << ": " << runs.err().describe();
      EXPECT_TRUE(runs->empty()) << what;
    } else {
      EXPECT_EQ(ro.err().code, errc::not_found) << what << ": " << ro.err().describe();
    }
  }
  std::string run;
  {
    auto st = run_store::open(p);
    ASSERT_TRUE(st) << what << ": " << st.err().describe();
    auto r = (*st)->create_run("after " + what, "{}");
    ASSERT_TRUE(r) << what << ": " << r.err().describe();
    run = *r;
  }
  auto ro = run_store::open(p, read_only());
  ASSERT_TRUE(ro) << what << ": " << ro.err().describe();
  auto runs = (*ro)->list_runs();
  ASSERT_TRUE(runs) << what;
  ASSERT_EQ(runs->size(), 1u) << what;
  EXPECT_EQ(runs->front().id, run) << what;
}

TEST(StoreCreation, KilledAtEveryStepLeavesNoStoreOrAWholeOne) {
  // Every step of run_store.cpp's creation, in order (creation_step()).
  const std::vector<std::string> steps = {"temp", "marker", "database", "meta", "built", "renamed"};
  for (const auto& step : steps) {
    SCOPED_TRACE("killed at step " + step);
    temp_dir d;
    auto p = d / "home" / "store";  // the parent is created too
    auto c = test::run_child("create|" + p.string() + "|" + step);
    ASSERT_TRUE(c.signaled) << "the child did not reach step " << step << ": exit " << c.exit_code
                            << ", " << c.output;
    EXPECT_EQ(c.signal, SIGKILL);
    // Before the rename nothing is at the store's path; after it, all of it.
    EXPECT_EQ(fs::exists(p), step == "renamed");
    if (step != "renamed") {
      EXPECT_EQ(names_like(d / "home", ".store.creating-").size(), 1u) << "the half-built temp folder";
    }
    expect_usable_after(p, "a kill at " + step);
    EXPECT_TRUE(names_like(d / "home", ".store.creating-").empty())
        << "the dead process's temp folder is cleaned up by the next writer";
  }
}

TEST(StoreCreation, LeftoversOfAnEarlierInterruptedCreationAreClearedAtTheRename) {
  // An older codehive wrote the marker (or its temp file) and took the lock,
  // then died: the folder holds only those. A kill right after they are
  // cleared (before the rename) leaves an empty folder, which a writer fills.
  temp_dir d;
  auto p = d / "store";
  fs::create_directories(p);
  spit(p / "CODEHIVE_STORE.tmp", "{\"v\":1,");
  spit(p / "LOCK", "");
  auto c = test::run_child("create|" + p.string() + "|cleared");
  ASSERT_TRUE(c.signaled) << "exit " << c.exit_code << ", " << c.output;
  EXPECT_TRUE(fs::is_empty(p));
  expect_usable_after(p, "a kill after the leftovers were cleared");

  temp_dir d2;
  auto p2 = d2 / "store";
  fs::create_directories(p2);
  spit(p2 / "CODEHIVE_STORE.tmp", "");
  expect_usable_after(p2, "an uninterrupted creation over leftovers");
  EXPECT_FALSE(fs::exists(p2 / "CODEHIVE_STORE.tmp"));
}

TEST(StoreCreation, TempFolderOfALiveProcessIsLeftAloneAndNeverTakenForTheStore) {
  temp_dir d;
  auto p = d / "store";
  auto live = d / (".store.creating-" + std::to_string(::getpid()) + "-0123abcd");
  fs::create_directories(live);
  spit(live / "CODEHIVE_STORE", "half");
  expect_usable_after(p, "a creation beside another's temp folder");
  EXPECT_TRUE(fs::exists(live / "CODEHIVE_STORE")) << "a live process's folder was removed";
}

TEST(StoreCreation, StorePathThatIsASymlinkIsCreatedWhereItPoints) {
  temp_dir d;
  fs::create_directories(d / "disk" / "store");  // an empty folder on "another disk"
  fs::create_symlink(d / "disk" / "store", d / "store");
  expect_usable_after(d / "store", "a creation through a symlink");
  EXPECT_TRUE(fs::is_symlink(d / "store")) << "the link was replaced";
  EXPECT_TRUE(fs::exists(d / "disk" / "store" / "CODEHIVE_STORE"));
}

// -- stores an older codehive began in place ---------------------------------

constexpr const char* legacy_marker =
    R"({"v":1,"schema_version":1,"store_id":"00112233aabbccdd","created_ms":1,"created_by":"codehive 0.0.9"})";

/// What an older codehive left when killed while creating in place: the
/// marker, then a RocksDB database with the column families `cfs` and no record.
void plant_unfinished(const fs::path& p, const std::vector<std::string>& cfs) {
  fs::create_directories(p);
  spit(p / "CODEHIVE_STORE", legacy_marker);
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  descs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{});
  for (const auto& n : cfs) descs.emplace_back(n, rocksdb::ColumnFamilyOptions{});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(o, p.string(), descs, &handles, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  delete db;
}

/// A reader says there is no store yet (and changes nothing); a writer
/// finishes it, keeping the marker's store id.
void expect_finished(const fs::path& p, const std::string& what) {
  std::vector<std::string> before;
  for (const auto& e : fs::directory_iterator(p)) before.push_back(e.path().filename().string());
  {
    auto ro = run_store::open(p, read_only());
    ASSERT_FALSE(ro) << what << ": a reader opened an unfinished store";
    EXPECT_EQ(ro.err().code, errc::not_found) << what << ": " << ro.err().describe();
    EXPECT_NE(ro.err().reason.find("interrupted"), std::string::npos) << ro.err().reason;
  }
  std::vector<std::string> after;
  for (const auto& e : fs::directory_iterator(p)) after.push_back(e.path().filename().string());
  EXPECT_EQ(before.size(), after.size()) << what << ": the reader changed the folder";
  {
    auto st = run_store::open(p);
    ASSERT_TRUE(st) << what << ": " << st.err().describe();
    EXPECT_EQ((*st)->store_id(), "00112233aabbccdd") << what;
  }
  expect_usable_after(p, what);
}

TEST(StoreCreation, UnfinishedStoreMissingColumnFamiliesIsFinished) {
  temp_dir d;
  plant_unfinished(d / "store", {"runs", "tasks"});
  expect_finished(d / "store", "column families missing");
}

TEST(StoreCreation, UnfinishedStoreMissingCurrentIsFinished) {
  temp_dir d;
  plant_unfinished(d / "store", {"runs", "tasks", "files", "reviews", "ledger", "events", "meta"});
  fs::remove(d / "store" / "CURRENT");
  expect_finished(d / "store", "CURRENT missing");
}

TEST(StoreCreation, UnfinishedStoreMissingTheMetaRecordIsFinished) {
  temp_dir d;
  plant_unfinished(d / "store", {"runs", "tasks", "files", "reviews", "ledger", "events", "meta"});
  expect_finished(d / "store", "meta record missing");
}

/// A store with a run: damage that looks like an unfinished creation is still
/// damage, refused as before, and nothing in it is touched.
class StoreCreationDamaged : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = run_store::open(p);
    ASSERT_TRUE(st) << st.err().describe();
    ASSERT_TRUE((*st)->create_run("a run", "{}"));
  }
  /// `db_opens`: RocksDB itself opens the store (the damage is in our records),
  /// writing its own files, as any open does; nothing of ours is reset.
  void expect_refused(const std::string& mention, bool db_opens = false) {
    std::size_t before = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(p)) ++before;
    for (bool ro : {false, true}) {
      store_options o;
      o.read_only = ro;
      auto st = run_store::open(p, o);
      ASSERT_FALSE(st) << "a damaged store with a run was opened";
      EXPECT_EQ(st.err().code, errc::corrupt) << st.err().describe();
      EXPECT_NE(st.err().reason.find(mention), std::string::npos) << st.err().reason;
    }
    std::size_t after = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(p)) ++after;
    if (!db_opens) {
      EXPECT_EQ(before, after) << "open changed the damaged store";
    }
  }
  temp_dir d;
  fs::path p = d / "store";
};

TEST_F(StoreCreationDamaged, CurrentMissingIsStillRefused) {
  fs::remove(p / "CURRENT");
  expect_refused("CURRENT is missing");
}

TEST_F(StoreCreationDamaged, MetaRecordMissingIsStillRefused) {
  {
    raw_db db{p};
    db.del("meta", "schema");
  }
  expect_refused("meta/schema record is missing", /*db_opens=*/true);
  raw_db db{p};
  EXPECT_EQ(db.keys("runs").size(), 1u) << "the run is still there";
}

// -- the marker's schema version (issue 16) -----------------------------------

TEST(StoreSchema, NewerMarkerIsRefusedByEveryOpen) {
  temp_dir d;
  auto p = d / "store";
  {
    auto st = run_store::open(p);
    ASSERT_TRUE(st) << st.err().describe();
    ASSERT_TRUE((*st)->create_run("a run", "{}"));
  }
  auto marker = slurp(p / "CODEHIVE_STORE");
  auto pos = marker.find(R"("schema_version":1)");
  ASSERT_NE(pos, std::string::npos) << marker;
  marker.replace(pos, 18, R"("schema_version":99)");
  spit(p / "CODEHIVE_STORE", marker);
  for (bool ro : {false, true}) {
    store_options o;
    o.read_only = ro;
    auto st = run_store::open(p, o);
    ASSERT_FALSE(st) << "a store marked schema 99 was opened (read_only " << ro << ")";
    EXPECT_EQ(st.err().code, errc::newer_schema) << st.err().describe();
    EXPECT_NE(st.err().reason.find("schema version 99"), std::string::npos) << st.err().reason;
    EXPECT_NE(st.err().reason.find("upgrade codehive"), std::string::npos) << st.err().reason;
  }
  EXPECT_EQ(slurp(p / "CODEHIVE_STORE"), marker) << "the marker was rewritten";
}

TEST(StoreSchema, NewerMarkerOfAnUnfinishedStoreIsRefusedNotFinished) {
  temp_dir d;
  auto p = d / "store";
  fs::create_directories(p);
  spit(p / "CODEHIVE_STORE",
       R"({"v":1,"schema_version":99,"store_id":"00112233aabbccdd","created_ms":1,"created_by":"codehive 9"})");
  auto st = run_store::open(p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, errc::newer_schema) << st.err().describe();
  EXPECT_TRUE(fs::exists(p / "CODEHIVE_STORE"));
}

}  // namespace
}  // namespace codehive::store
