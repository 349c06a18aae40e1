// run_store::transitions: several task moves in one synced write, each checked
// as if the ones before it were applied, all or nothing, kept across a reopen.
#include <gtest/gtest.h>

#include "store_test_util.hpp"

namespace codehive::store {
namespace {

using test::temp_dir;

task_move move(std::string task, task_state to, transition_info info = {}) {
  return task_move{std::move(task), to, std::move(info)};
}

class StoreTransitionBatch : public ::testing::Test {
 protected:
  void SetUp() override {
    open();
    auto r = store->create_run("a kanban board", "{}");
    ASSERT_TRUE(r) << r.err().describe();
    run = *r;
    ASSERT_TRUE(store->put_plan(run, test::make_plan(3)));
  }
  void open() {
    store.reset();
    auto st = run_store::open(dir.path() / "store");
    ASSERT_TRUE(st) << st.err().describe();
    store = std::move(*st);
  }
  std::vector<event> events() {
    auto ev = store->read_events(run);
    EXPECT_TRUE(ev) << ev.err().describe();
    return ev ? *ev : std::vector<event>{};
  }
  task_state state(const std::string& task) { return store->get_task(run, task)->state; }

  temp_dir dir;
  std::unique_ptr<run_store> store;
  std::string run;
};

TEST_F(StoreTransitionBatch, SeveralMovesLandTogetherInOneWriteWithAnEventEachInOrder) {
  ASSERT_TRUE(store->transition(run, "t0", task_state::assigned, by_worker("w1")));
  auto hash = store->put_file_version(run, "src/file0.js", "x", from_task("t0"));
  ASSERT_TRUE(hash);
  auto before = events().size();
  auto writes = store->write_stats().count;
  auto r = store->transitions(run, {move("t0", task_state::done, producing(*hash)),
                                    move("t1", task_state::assigned, by_worker("w1"))});
  ASSERT_TRUE(r) << r.err().describe();
  EXPECT_EQ(store->write_stats().count, writes + 1) << "one write (one sync) for both";
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].state, task_state::done);
  EXPECT_EQ((*r)[0].file_hash, *hash);
  EXPECT_EQ((*r)[1].state, task_state::assigned);
  EXPECT_EQ((*r)[1].attempts, 1);
  EXPECT_EQ(state("t0"), task_state::done);
  EXPECT_EQ(state("t1"), task_state::assigned);
  EXPECT_EQ(store->get_task(run, "t1")->worker, "w1");
  auto ev = events();
  ASSERT_EQ(ev.size(), before + 2);
  EXPECT_NE(ev[before].data_json.find(R"("task":"t0","from":"assigned","to":"done")"),
            std::string::npos)
    << ev[before].data_json;
  EXPECT_NE(ev[before + 1].data_json.find(R"("task":"t1","from":"pending","to":"assigned")"),
            std::string::npos)
    << ev[before + 1].data_json;
  EXPECT_EQ(ev[before].seq + 1, ev[before + 1].seq);
  auto problems = store->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0].kind << " " << (*problems)[0].detail;
}

TEST_F(StoreTransitionBatch, AnIllegalMoveInTheMiddleRefusesTheWholeBatchAndWritesNothing) {
  ASSERT_TRUE(store->transition(run, "t0", task_state::assigned, by_worker("w1")));
  auto before = events().size();
  auto writes = store->write_stats().count;
  auto r = store->transitions(run, {move("t0", task_state::failed, because("bad", "bad_json")),
                                    move("t1", task_state::done),  // pending -> done: illegal
                                    move("t2", task_state::assigned, by_worker("w2"))});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::illegal_transition);
  EXPECT_NE(r.err().reason.find("t1"), std::string::npos) << r.err().reason;
  EXPECT_NE(r.err().reason.find("pending -> done"), std::string::npos) << r.err().reason;
  EXPECT_EQ(store->write_stats().count, writes) << "nothing reached RocksDB";
  EXPECT_EQ(events().size(), before);
  EXPECT_EQ(state("t0"), task_state::assigned);
  EXPECT_EQ(state("t1"), task_state::pending);
  EXPECT_EQ(state("t2"), task_state::pending);
  EXPECT_EQ(store->get_task(run, "t0")->history.size(), 1u);
  // The store goes on: the legal part alone is written.
  ASSERT_TRUE(
    store->transitions(run, {move("t0", task_state::failed), move("t2", task_state::assigned)}));
  EXPECT_EQ(events().size(), before + 2);
}

TEST_F(StoreTransitionBatch, AnUnknownTaskOrFileHashRefusesTheWholeBatch) {
  auto before = events().size();
  auto ghost = store->transitions(
    run, {move("t0", task_state::assigned), move("ghost", task_state::assigned)});
  EXPECT_EQ(ghost.err().code, errc::not_found);
  auto hash =
    store->transitions(run, {move("t0", task_state::assigned),
                             move("t0", task_state::done, producing(sha256_hex("never stored")))});
  EXPECT_EQ(hash.err().code, errc::invalid_argument);
  EXPECT_EQ(
    store->transitions(run, {move("t0", task_state::assigned), move("", task_state::assigned)})
      .err()
      .code,
    errc::invalid_argument);
  EXPECT_EQ(events().size(), before);
  EXPECT_EQ(state("t0"), task_state::pending);
}

TEST_F(StoreTransitionBatch, TheSameTaskMovesSeveralTimesEachFromWhereTheLastLeftIt) {
  ASSERT_TRUE(store->transition(run, "t0", task_state::assigned, by_worker("w1")));
  auto before = events().size();
  // A failure, its retry and the next assignment: one controller event.
  auto r = store->transitions(run, {move("t0", task_state::failed, because("garbage", "bad_json")),
                                    move("t0", task_state::pending, because("retry")),
                                    move("t0", task_state::assigned, by_worker("w2"))});
  ASSERT_TRUE(r) << r.err().describe();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].state, task_state::failed);
  EXPECT_EQ((*r)[1].state, task_state::pending);
  EXPECT_EQ((*r)[2].state, task_state::assigned);
  auto t = store->get_task(run, "t0");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->state, task_state::assigned);
  EXPECT_EQ(t->attempts, 2);
  EXPECT_EQ(t->worker, "w2");
  EXPECT_EQ(t->last_error_code, "bad_json");
  ASSERT_EQ(t->history.size(), 4u);
  EXPECT_EQ(t->history[1].to, task_state::failed);
  EXPECT_EQ(t->history[2].from, task_state::failed);
  EXPECT_EQ(t->history[2].to, task_state::pending);
  EXPECT_EQ(t->history[3].from, task_state::pending);
  EXPECT_EQ(t->history[3].attempt, 2);
  EXPECT_EQ(events().size(), before + 3);
  // Checked in order too: the second of two assignments is illegal.
  auto twice =
    store->transitions(run, {move("t1", task_state::assigned), move("t1", task_state::assigned)});
  EXPECT_EQ(twice.err().code, errc::illegal_transition);
  EXPECT_EQ(state("t1"), task_state::pending);
  auto problems = store->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0].kind << " " << (*problems)[0].detail;
}

TEST_F(StoreTransitionBatch, ABatchIsKeptAcrossAReopenAndTheEventsGoOnWithoutAGap) {
  ASSERT_TRUE(
    store->transitions(run, {move("t0", task_state::assigned, by_worker("w1")),
                             move("t1", task_state::assigned, by_worker("w2")),
                             move("t1", task_state::pending, because("worker w2 lost"))}));
  auto before = events().size();
  open();
  EXPECT_EQ(state("t0"), task_state::assigned);
  EXPECT_EQ(state("t1"), task_state::pending);
  EXPECT_EQ(store->get_task(run, "t1")->history.size(), 2u);
  EXPECT_EQ(events().size(), before);
  ASSERT_TRUE(store->transition(run, "t2", task_state::assigned));
  auto ev = events();
  ASSERT_EQ(ev.size(), before + 1);
  EXPECT_EQ(ev.back().seq, before + 1);
  auto problems = store->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0].kind << " " << (*problems)[0].detail;
}

TEST_F(StoreTransitionBatch, AnEmptyBatchWritesNothing) {
  auto writes = store->write_stats().count;
  auto r = store->transitions(run, {});
  ASSERT_TRUE(r) << r.err().describe();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(store->write_stats().count, writes);
}

}  // namespace
}  // namespace codehive::store
