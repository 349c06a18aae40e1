// The summary cache (files/"s\0<hash>"): a line per content, shared by runs,
// kept across a reopen, invisible to fsck and to a run's file listing, and
// read-only opens can read it.
#include <gtest/gtest.h>

#include "store_test_util.hpp"

namespace codehive::store {
namespace {

using test::temp_dir;

TEST(StoreSummaryCache, ALineByContentHashOutlivesTheRunAndTheProcess) {
  temp_dir dir;
  auto path = dir.path() / "store";
  auto content = std::string{"body { color: brown; }\n"};
  auto hash = sha256_hex(content);
  std::string run;
  {
    auto st = run_store::open(path);
    ASSERT_TRUE(st) << st.err().describe();
    auto& s = **st;
    auto missing = s.cached_summary(hash);
    ASSERT_TRUE(missing) << missing.err().describe();
    EXPECT_FALSE(*missing);
    run = *s.create_run("a bakery", "{}");
    ASSERT_TRUE(s.put_file(run, "css/style.css", content, from_task({}, "fallback")));
    ASSERT_TRUE(s.put_cached_summary(hash, "styles of the bakery"));
    ASSERT_TRUE(s.put_cached_summary(hash, "the bakery's styles"));  // replaces
    EXPECT_FALSE(s.put_cached_summary("", "x"));
    EXPECT_FALSE(s.put_cached_summary(hash, ""));
    auto files = s.list_files(run, true);
    ASSERT_TRUE(files);
    EXPECT_EQ(files->size(), 1u) << "a cache entry is no file of the run";
    auto problems = s.fsck(run);
    ASSERT_TRUE(problems);
    EXPECT_TRUE(problems->empty()) << (*problems)[0].detail;
  }
  store_options ro;
  ro.read_only = true;
  auto st = run_store::open(path, ro);
  ASSERT_TRUE(st) << st.err().describe();
  auto line = (*st)->cached_summary(hash);
  ASSERT_TRUE(line) << line.err().describe();
  ASSERT_TRUE(*line);
  EXPECT_EQ(**line, "the bakery's styles");
  EXPECT_FALSE((*st)->put_cached_summary(hash, "no")) << "read-only";
}

TEST(StoreSummaryCache, TheSummarizersLineGoesToTheVersionAndTheCacheInOneWrite) {
  temp_dir dir;
  auto st = run_store::open(dir.path() / "store");
  ASSERT_TRUE(st) << st.err().describe();
  auto& s = **st;
  auto run = *s.create_run("a bakery", "{}");
  auto content = std::string{"export const price = 3;\n"};
  auto hash = sha256_hex(content);
  ASSERT_TRUE(s.put_file(run, "js/price.js", content, from_task("t1", "fallback")));
  auto writes = s.write_stats().count;
  auto w = s.set_summary_and_cache(run, "js/price.js", "the price of a loaf");
  ASSERT_TRUE(w) << w.err().describe();
  EXPECT_EQ(s.write_stats().count, writes + 1) << "one batch, one sync";
  auto files = s.list_files(run);
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].summary, "the price of a loaf");
  auto line = s.cached_summary(hash);
  ASSERT_TRUE(line && *line);
  EXPECT_EQ(**line, "the price of a loaf");
  // The same line again still writes the cache (a line per content), once.
  writes = s.write_stats().count;
  ASSERT_TRUE(s.set_summary_and_cache(run, "js/price.js", "the price of a loaf"));
  EXPECT_EQ(s.write_stats().count, writes + 1);
  EXPECT_FALSE(s.set_summary_and_cache(run, "js/none.js", "x")) << "no such file";
  EXPECT_FALSE(s.set_summary_and_cache(run, "js/price.js", "")) << "a cached line is never empty";
  auto problems = s.fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0].detail;
}

}  // namespace
}  // namespace codehive::store
