// Helpers for the run store suites: temp dirs, raw RocksDB access (to plant
// damage), and child processes (the test binary re-executed in a child mode,
// see main.cpp), so RocksDB never runs in a forked copy of a threaded process.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "storage/run_store.hpp"

namespace codehive::store::test {

/// A fresh "<tmp>/codehive-store-XXXXXX", removed with everything under it.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

/// The store's database opened directly, every column family by name.
class raw_db {
 public:
  explicit raw_db(const std::filesystem::path& dir);
  ~raw_db();
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) const;
  void put(const std::string& cf, const std::string& key, const std::string& value);
  void del(const std::string& cf, const std::string& key);
  /// Value or "" when absent.
  std::string get(const std::string& cf, const std::string& key) const;
  /// Every key of a column family.
  std::vector<std::string> keys(const std::string& cf) const;
  rocksdb::DB* db() const { return db_; }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

/// Result of a child process run of this test binary.
struct child_result {
  int pid = 0;
  bool exited = false;
  int exit_code = -1;
  bool signaled = false;
  int signal = 0;
  std::string output;  ///< everything the child wrote to the report pipe
};

/// Runs this binary with CODEHIVE_STORE_CHILD=`mode` and the report pipe's fd
/// in CODEHIVE_STORE_FD; waits for it and collects the pipe.
child_result run_child(const std::string& mode);

/// Child entry (main.cpp calls it when CODEHIVE_STORE_CHILD is set).
int child_main(const std::string& mode, int report_fd);

/// Store options with one change from the defaults: read-only (as `codehive fsck` opens
/// a store), no fsync per write, no store created when there is none.
store_options read_only();
store_options no_sync();
store_options no_create();

/// The whole file ("" when it cannot be read); `s` written over `p`.
std::string slurp(const std::filesystem::path& p);
void spit(const std::filesystem::path& p, const std::string& s);

/// A plan of `n` file tasks "t0".."t<n-1>" (t<i> depends on t<i-1> when chain).
std::vector<task_spec> make_plan(int n, bool chain = false);

}  // namespace codehive::store::test
