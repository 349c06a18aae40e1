// Issue 16: a disk that fills while the store writes. Every write from the
// first failure on returns an error (errc::io_error naming the cause), the
// process never aborts (RocksDB's debug assertion on a file writer used again
// after an error), the store closes, and once space is freed it opens with
// every acknowledged write and takes new ones.
//
// Needs a small filesystem: a tmpfs mounted here (root, CAP_SYS_ADMIN). Where
// mounting is not permitted the test is skipped, saying why.
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>

#include "store_test_util.hpp"

namespace codehive::store {
namespace {

namespace fs = std::filesystem;
using test::temp_dir;

/// A tmpfs of `size` mounted on a fresh folder; unmounted at the end.
class small_disk {
 public:
  explicit small_disk(const std::string& size) {
    mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    if (!mounted_) why_ = std::strerror(errno);
  }
  ~small_disk() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  small_disk(const small_disk&) = delete;
  small_disk& operator=(const small_disk&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const fs::path& path() const { return dir_.path(); }
  /// Frees space, as a user would: the filesystem grows to `size`.
  bool grow(const std::string& size) {
    return ::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  temp_dir dir_;
  bool mounted_ = false;
  std::string why_;
};

/// Fills a store on a tmpfs of `size` and checks it as the file comment says.
void fill_and_resume(const std::string& size) {
  SCOPED_TRACE("a disk of " + size);
  small_disk disk{size};
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs here (" << disk.why() << "): needs root";
  auto p = disk.path() / "store";
  auto c = test::run_child("fill|" + p.string());
  ASSERT_FALSE(c.signaled) << "the writer died of signal " << c.signal << " (" << strsignal(c.signal)
                           << ") when the disk filled; it reported:\n" << c.output.substr(c.output.size() > 2000 ? c.output.size() - 2000 : 0);
  ASSERT_EQ(c.exit_code, 0) << c.output;

  std::string run;
  std::map<std::string, std::string> acked;  // path -> hash
  std::string first_error;
  int errors = 0;
  std::istringstream lines(c.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("run ", 0) == 0) run = line.substr(4);
    if (line.rfind("ack ", 0) == 0) {
      auto sp = line.find(' ', 4);
      acked[line.substr(4, sp - 4)] = line.substr(sp + 1);
    }
    if (line.rfind("error ", 0) == 0) first_error = line.substr(6);
    if (line.rfind("error ", 0) == 0 || line.rfind("again ", 0) == 0) {
      ++errors;
      EXPECT_EQ(line.find("io_error"), 6u) << line;
    }
  }
  ASSERT_FALSE(run.empty()) << c.output;
  EXPECT_EQ(errors, 4) << "every write after the disk filled is an error:\n" << c.output;
  EXPECT_NE(first_error.find("space"), std::string::npos) << "the cause is named: " << first_error;
  EXPECT_NE(c.output.find("closed"), std::string::npos) << "the store closed normally";
  ASSERT_FALSE(acked.empty()) << "nothing was written before the disk filled";
  ::testing::Test::RecordProperty("first_error_" + size, first_error);

  // Space freed: everything acknowledged is there, and the store takes more.
  ASSERT_TRUE(disk.grow("64m")) << std::strerror(errno);
  auto st = run_store::open(p);
  ASSERT_TRUE(st) << st.err().describe();
  for (const auto& [path, hash] : acked) {
    auto f = (*st)->get_file(run, path);
    ASSERT_TRUE(f) << path << ": " << f.err().describe();
    EXPECT_EQ(f->meta.hash, hash) << path;
  }
  auto h = (*st)->put_file_version(run, "after.txt", "space again\n");
  EXPECT_TRUE(h) << h.err().describe();
  auto problems = (*st)->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << problems->front().kind << ": " << problems->front().detail;
}

TEST(StoreDiskFull, WritesFailWithAnErrorNeverAnAbortAndTheStoreResumes) {
  // Small disks fill in the WAL; larger ones also while memtables are
  // flushed to SST files and compacted (background writes).
  for (const char* size : {"1m", "2m", "4m", "8m"}) {
    fill_and_resume(size);
    if (HasFailure() || IsSkipped()) return;
  }
}

}  // namespace
}  // namespace codehive::store
