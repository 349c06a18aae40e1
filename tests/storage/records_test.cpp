// Round trips of every record, the task and run state machines, file versions.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include "storage/codec.hpp"
#include "store_test_util.hpp"

namespace codehive::store {
namespace {

using test::temp_dir;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = run_store::open(dir.path() / "store");
    ASSERT_TRUE(st) << st.err().describe();
    store = std::move(*st);
    auto r = store->create_run("a kanban board", R"({"coders":4,"model":"m"})");
    ASSERT_TRUE(r) << r.err().describe();
    run = *r;
  }
  std::size_t event_count() {
    auto ev = store->read_events(run);
    EXPECT_TRUE(ev) << ev.err().describe();
    return ev ? ev->size() : 0;
  }
  temp_dir dir;
  std::unique_ptr<run_store> store;
  std::string run;
};

TEST(StoreSha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(StoreStateMachine, ExactlyTheDocumentedTransitionsAreLegal) {
  using enum task_state;
  const task_state all[] = {pending, assigned, done, failed};
  int legal = 0;
  for (auto from : all)
    for (auto to : all)
      if (legal_transition(from, to)) ++legal;
  EXPECT_EQ(legal, 5);
  EXPECT_TRUE(legal_transition(pending, assigned));
  EXPECT_TRUE(legal_transition(assigned, done));
  EXPECT_TRUE(legal_transition(assigned, failed));
  EXPECT_TRUE(legal_transition(assigned, pending));
  EXPECT_TRUE(legal_transition(failed, pending));
  EXPECT_FALSE(legal_transition(done, pending));
  EXPECT_FALSE(legal_transition(pending, done));
  EXPECT_FALSE(legal_transition(failed, assigned));
  for (auto s : all) EXPECT_EQ(parse_task_state(to_string(s)), s);
  EXPECT_FALSE(parse_task_state("running"));
}

TEST(StoreDefaultPath, UsesXdgDataHomeThenHome) {
  const char* old_xdg = std::getenv("XDG_DATA_HOME");
  std::string saved = old_xdg != nullptr ? old_xdg : "";
  ::setenv("XDG_DATA_HOME", "/data/x", 1);
  auto p = default_store_path();
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, std::filesystem::path{"/data/x/codehive/store"});
  ::unsetenv("XDG_DATA_HOME");
  auto q = default_store_path();
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    ASSERT_TRUE(q);
    EXPECT_EQ(*q, std::filesystem::path{home} / ".local/share/codehive/store");
  } else {
    EXPECT_EQ(q.err().code, errc::not_found);
  }
  if (old_xdg != nullptr) ::setenv("XDG_DATA_HOME", saved.c_str(), 1);
}

TEST_F(StoreTest, OpenCreatesMarkerAndPidFile) {
  auto p = dir.path() / "store";
  EXPECT_TRUE(std::filesystem::exists(p / "CODEHIVE_STORE"));
  EXPECT_TRUE(std::filesystem::exists(p / "CURRENT"));
  EXPECT_EQ(store->store_id().size(), 16u);
  std::ifstream pid(p / "codehive.pid");
  int n = 0;
  pid >> n;
  EXPECT_EQ(n, ::getpid());
}

TEST_F(StoreTest, RunRoundTripAndSortableIds) {
  EXPECT_TRUE(std::regex_match(run, std::regex{R"(\d{8}-\d{6}-[0-9a-f]{4})"})) << run;
  auto r = store->get_run(run);
  ASSERT_TRUE(r) << r.err().describe();
  EXPECT_EQ(r->id, run);
  EXPECT_EQ(r->request, "a kanban board");
  EXPECT_EQ(r->config_json, R"({"coders":4,"model":"m"})");
  EXPECT_EQ(r->state, run_state::running);
  EXPECT_GT(r->created_ms, 1600000000000);
  auto second = store->create_run("another", "");
  ASSERT_TRUE(second);
  EXPECT_NE(*second, run);
  auto all = store->list_runs();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_LT((*all)[0].id, (*all)[1].id);
  EXPECT_EQ(store->get_run(*second)->config_json, "{}");
  auto ev = store->read_events(run);
  ASSERT_TRUE(ev);
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].type, "run_created");
  EXPECT_EQ((*ev)[0].seq, 1u);
}

TEST_F(StoreTest, BadInputsAreRefusedAsValues) {
  EXPECT_EQ(store->create_run("x", "[1,2]").err().code, errc::invalid_argument);
  EXPECT_EQ(store->create_run("x", "{oops").err().code, errc::invalid_argument);
  EXPECT_EQ(store->get_run("20000101-000000-dead").err().code, errc::not_found);
  EXPECT_EQ(store->append_event(run, "x", "{bad").err().code, errc::invalid_argument);
  EXPECT_EQ(store->append_event(run, "", "{}").err().code, errc::invalid_argument);
  EXPECT_EQ(store->append_event("nope", "x", "{}").err().code, errc::not_found);
  ledger_entry e;
  e.outcome = "maybe";
  EXPECT_EQ(store->append_ledger(run, e).err().code, errc::invalid_argument);
  EXPECT_EQ(store->put_file_version(run, "", "x").err().code, errc::invalid_argument);
  EXPECT_EQ(store->put_file_version(run, std::string{"a\0b", 3}, "x").err().code, errc::invalid_argument);
  review_round rr;
  rr.round = 0;
  EXPECT_EQ(store->put_review_round(run, rr).err().code, errc::invalid_argument);
}

TEST_F(StoreTest, RunStateMachine) {
  EXPECT_EQ(store->set_run_state(run, run_state::running).err().code, errc::illegal_transition);
  ASSERT_TRUE(store->set_run_state(run, run_state::budget_stopped, "budget 2 USD hit"));
  auto r = store->get_run(run);
  EXPECT_EQ(r->state, run_state::budget_stopped);
  EXPECT_EQ(r->state_reason, "budget 2 USD hit");
  EXPECT_EQ(store->set_run_state(run, run_state::done).err().code, errc::illegal_transition);
  ASSERT_TRUE(store->set_run_state(run, run_state::running, "resume"));
  ASSERT_TRUE(store->set_run_state(run, run_state::done));
  EXPECT_EQ(store->get_run(run)->state, run_state::done);
  auto ev = store->read_events(run);
  ASSERT_EQ(ev->size(), 4u);
  EXPECT_EQ((*ev)[3].type, "run_state");
  EXPECT_NE((*ev)[3].data_json.find(R"("to":"done")"), std::string::npos);
}

TEST_F(StoreTest, PlanRoundTripKeepsEveryFieldAndOrder) {
  std::vector<task_spec> plan(3);
  plan[0].id = "zeta";
  plan[0].path = "index.html";
  plan[0].description = "page";
  plan[0].instructions = "write \"the\" page\nwith unicode \xc3\xa9";
  plan[0].context_paths = {"style.css"};
  plan[0].edit = "html_section";
  plan[1].id = "alpha";
  plan[1].action = "update";
  plan[1].path = "style.css";
  plan[1].depends_on = {"zeta"};
  plan[2].id = "mid";
  plan[2].action = "delete";
  plan[2].type = "folder";
  plan[2].path = "old";
  plan[2].depends_on = {"zeta", "alpha"};
  ASSERT_TRUE(store->put_plan(run, plan));
  auto snap = store->load_run(run);
  ASSERT_TRUE(snap) << snap.err().describe();
  ASSERT_EQ(snap->tasks.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& got = snap->tasks[i];
    EXPECT_EQ(got.spec.id, plan[i].id);
    EXPECT_EQ(got.spec.action, plan[i].action);
    EXPECT_EQ(got.spec.type, plan[i].type);
    EXPECT_EQ(got.spec.path, plan[i].path);
    EXPECT_EQ(got.spec.description, plan[i].description);
    EXPECT_EQ(got.spec.instructions, plan[i].instructions);
    EXPECT_EQ(got.spec.depends_on, plan[i].depends_on);
    EXPECT_EQ(got.spec.context_paths, plan[i].context_paths);
    EXPECT_EQ(got.spec.edit, plan[i].edit);
    EXPECT_EQ(got.state, task_state::pending);
    EXPECT_EQ(got.attempts, 0);
    EXPECT_EQ(got.plan_index, i);
  }
  // A later plan adds tasks after the first ones.
  task_spec extra;
  extra.id = "extra";
  extra.path = "extra.js";
  extra.depends_on = {"alpha"};
  ASSERT_TRUE(store->put_plan(run, {extra}));
  EXPECT_EQ(store->get_task(run, "extra")->plan_index, 3u);
}

TEST_F(StoreTest, PlanRefusesBadTasksAndWritesNothing) {
  auto plan = test::make_plan(2);
  auto dup = plan;
  dup[1].id = "t0";
  EXPECT_EQ(store->put_plan(run, dup).err().code, errc::invalid_argument);
  auto bad_action = plan;
  bad_action[0].action = "rename";
  EXPECT_EQ(store->put_plan(run, bad_action).err().code, errc::invalid_argument);
  auto bad_edit = plan;
  bad_edit[0].edit = "patch";
  EXPECT_EQ(store->put_plan(run, bad_edit).err().code, errc::invalid_argument);
  auto bad_dep = plan;
  bad_dep[1].depends_on = {"ghost"};
  auto e = store->put_plan(run, bad_dep);
  EXPECT_EQ(e.err().code, errc::invalid_argument);
  EXPECT_NE(e.err().reason.find("ghost"), std::string::npos);
  EXPECT_EQ(store->put_plan(run, {}).err().code, errc::invalid_argument);
  EXPECT_EQ(store->put_plan("20000101-000000-dead", plan).err().code, errc::not_found);
  EXPECT_EQ(store->load_run(run)->tasks.size(), 0u);
  EXPECT_EQ(event_count(), 1u);
  ASSERT_TRUE(store->put_plan(run, plan));
  EXPECT_EQ(store->put_plan(run, {plan[0]}).err().code, errc::already_exists);
}

TEST_F(StoreTest, TaskLifecycleWithFailureRetryAndWorkerLoss) {
  ASSERT_TRUE(store->put_plan(run, test::make_plan(1)));
  auto t = store->transition(run, "t0", task_state::assigned, by_worker("node1/coder0"));
  ASSERT_TRUE(t) << t.err().describe();
  EXPECT_EQ(t->attempts, 1);
  EXPECT_EQ(t->worker, "node1/coder0");
  EXPECT_GT(t->assigned_ms, 0);
  t = store->transition(run, "t0", task_state::pending, because("worker lost"));
  ASSERT_TRUE(t);
  t = store->transition(run, "t0", task_state::assigned, by_worker("node2/coder1"));
  ASSERT_TRUE(t);
  t = store->transition(run, "t0", task_state::failed,
                        because("model answered garbage", "bad_json"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->last_error_code, "bad_json");
  EXPECT_GT(t->finished_ms, 0);
  ASSERT_TRUE(store->transition(run, "t0", task_state::pending, because("retry")));
  ASSERT_TRUE(store->transition(run, "t0", task_state::assigned, by_worker("node1/coder2")));
  auto hash = store->put_file_version(run, "src/file0.js", "console.log(1);\n", from_task("t0"));
  ASSERT_TRUE(hash);
  t = store->transition(run, "t0", task_state::done, producing(*hash));
  ASSERT_TRUE(t) << t.err().describe();

  auto got = store->get_task(run, "t0");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, task_state::done);
  EXPECT_EQ(got->attempts, 3);
  EXPECT_EQ(got->worker, "node1/coder2");
  EXPECT_EQ(got->file_hash, *hash);
  ASSERT_EQ(got->history.size(), 7u);
  EXPECT_EQ(got->history[1].reason, "worker lost");
  EXPECT_EQ(got->history[3].error_code, "bad_json");
  EXPECT_EQ(got->history[6].to, task_state::done);
  EXPECT_EQ(got->history[6].attempt, 3);
  // run_created + plan + 7 transitions + 1 file version
  auto ev = store->read_events(run);
  ASSERT_EQ(ev->size(), 10u);
  EXPECT_EQ((*ev)[2].type, "task");
  EXPECT_NE((*ev)[2].data_json.find(R"("to":"assigned")"), std::string::npos);
  auto problems = store->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0].kind << " " << (*problems)[0].detail;
}

TEST_F(StoreTest, IllegalTransitionsAreRefusedAndChangeNothing) {
  ASSERT_TRUE(store->put_plan(run, test::make_plan(2)));
  auto before = event_count();
  auto e = store->transition(run, "t0", task_state::done);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.err().code, errc::illegal_transition);
  EXPECT_NE(e.err().reason.find("pending -> done"), std::string::npos) << e.err().reason;
  EXPECT_EQ(store->transition(run, "t0", task_state::failed).err().code, errc::illegal_transition);
  EXPECT_EQ(store->transition(run, "t0", task_state::pending).err().code, errc::illegal_transition);
  ASSERT_TRUE(store->transition(run, "t0", task_state::assigned));
  EXPECT_EQ(store->transition(run, "t0", task_state::assigned).err().code, errc::illegal_transition);
  ASSERT_TRUE(store->transition(run, "t0", task_state::failed));
  EXPECT_EQ(store->transition(run, "t0", task_state::assigned).err().code, errc::illegal_transition);
  EXPECT_EQ(store->transition(run, "t0", task_state::done).err().code, errc::illegal_transition);
  ASSERT_TRUE(store->transition(run, "t1", task_state::assigned));
  ASSERT_TRUE(store->transition(run, "t1", task_state::done));
  for (auto to : {task_state::pending, task_state::assigned, task_state::failed, task_state::done})
    EXPECT_EQ(store->transition(run, "t1", to).err().code, errc::illegal_transition);
  EXPECT_EQ(event_count(), before + 4);
  EXPECT_EQ(store->get_task(run, "t0")->state, task_state::failed);
  EXPECT_EQ(store->get_task(run, "t1")->state, task_state::done);
  EXPECT_EQ(store->transition(run, "ghost", task_state::assigned).err().code, errc::not_found);
  EXPECT_EQ(store->transition("20000101-000000-dead", "t0", task_state::assigned).err().code,
            errc::not_found);
}

TEST_F(StoreTest, DoneWithAnUnknownFileHashIsRefused) {
  ASSERT_TRUE(store->put_plan(run, test::make_plan(1)));
  ASSERT_TRUE(store->transition(run, "t0", task_state::assigned));
  auto e = store->transition(run, "t0", task_state::done, producing(sha256_hex("never stored")));
  EXPECT_EQ(e.err().code, errc::invalid_argument);
  EXPECT_EQ(store->get_task(run, "t0")->state, task_state::assigned);
}

TEST_F(StoreTest, FileVersionsDedupHistoryAndDeleteMarker) {
  auto h1 = store->put_file_version(run, "a.js", "one", from_task("t0", "first"));
  ASSERT_TRUE(h1);
  EXPECT_EQ(*h1, sha256_hex("one"));
  auto again = store->put_file_version(run, "a.js", "one");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *h1);
  auto h2 = store->put_file_version(run, "a.js", "two", from_task("fix-1"));
  ASSERT_TRUE(h2);
  ASSERT_TRUE(store->put_file_version(run, "b.js", "one"));  // same blob, other path

  auto f = store->get_file(run, "a.js");
  ASSERT_TRUE(f) << f.err().describe();
  EXPECT_EQ(f->content, "two");
  EXPECT_EQ(f->meta.version, 2u);
  EXPECT_EQ(f->meta.hash, *h2);
  EXPECT_EQ(f->meta.task_id, "fix-1");
  EXPECT_EQ(f->meta.size, 3u);
  auto hist = store->file_history(run, "a.js");
  ASSERT_TRUE(hist);
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_EQ((*hist)[0].summary, "first");
  EXPECT_EQ((*hist)[0].hash, *h1);
  EXPECT_EQ(store->get_blob(*h1).value(), "one");

  auto del = store->delete_file(run, "a.js", from_task("t9"));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->version, 3u);
  EXPECT_TRUE(del->deleted);
  EXPECT_EQ(store->get_file(run, "a.js").err().code, errc::not_found);
  EXPECT_EQ(store->delete_file(run, "a.js").err().code, errc::not_found);
  auto listed = store->list_files(run);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].path, "b.js");
  auto with_deleted = store->list_files(run, true);
  ASSERT_EQ(with_deleted->size(), 2u);
  EXPECT_EQ((*with_deleted)[0].path, "a.js");
  EXPECT_TRUE((*with_deleted)[0].deleted);
  // Recreated after the delete: version 4, content back.
  ASSERT_TRUE(store->put_file_version(run, "a.js", "one"));
  EXPECT_EQ(store->get_file(run, "a.js")->meta.version, 4u);
  EXPECT_EQ(store->get_file(run, "a.js")->content, "one");
  EXPECT_EQ(store->get_file(run, "nope.js").err().code, errc::not_found);
  EXPECT_TRUE(store->fsck(run)->empty());
}

TEST_F(StoreTest, BinaryContentRoundTrips) {
  std::string bin;
  for (int i = 0; i < 1024; ++i) bin.push_back(static_cast<char>(i % 256));
  auto h = store->put_file_version(run, "img/x.png", bin);
  ASSERT_TRUE(h);
  EXPECT_EQ(store->get_file(run, "img/x.png")->content, bin);
}

TEST_F(StoreTest, ReviewRoundsRoundTrip) {
  review_round r1;
  r1.round = 1;
  r1.issues = {{"index.html", "button does nothing", "call addCard() from onclick"},
               {"app.js", "typo", "rename adCard"}};
  r1.findings_json = R"([{"check":"html_refs","ok":false,"detail":"app.js missing"}])";
  ASSERT_TRUE(store->put_review_round(run, r1));
  review_round r2;
  r2.round = 2;
  r2.findings_json = "";
  ASSERT_TRUE(store->put_review_round(run, r2));
  auto bad = r1;
  bad.findings_json = "[oops";
  EXPECT_EQ(store->put_review_round(run, bad).err().code, errc::invalid_argument);
  auto snap = store->load_run(run);
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->rounds.size(), 2u);
  const auto& g = snap->rounds[0];
  EXPECT_EQ(g.round, 1u);
  ASSERT_EQ(g.issues.size(), 2u);
  EXPECT_EQ(g.issues[0].file, "index.html");
  EXPECT_EQ(g.issues[0].problem, "button does nothing");
  EXPECT_EQ(g.issues[1].instructions, "rename adCard");
  EXPECT_EQ(g.findings_json, r1.findings_json);
  EXPECT_GT(g.at_ms, 0);
  EXPECT_EQ(snap->rounds[1].findings_json, "[]");
  EXPECT_TRUE(snap->rounds[1].issues.empty());
}

TEST_F(StoreTest, LedgerRoundTripAndTotalsPerRoleAndModel) {
  auto entry = [](std::string role, std::string model, int pt, int ct, int ms, double cost,
                  std::string outcome = "ok") {
    ledger_entry e;
    e.use.role = std::move(role);
    e.use.model = std::move(model);
    e.use.prompt_tokens = pt;
    e.use.completion_tokens = ct;
    e.use.latency = std::chrono::milliseconds{ms};
    e.use.cost_usd = cost;
    e.use.tokens_per_s = 42.5;
    e.use.attempts = 2;
    e.outcome = std::move(outcome);
    return e;
  };
  auto a = entry("planner", "big", 1000, 200, 3000, 0.25);
  auto b = entry("coder", "small", 500, 800, 1200, 0);
  b.task_id = "t0";
  b.attempt = 1;
  auto c = entry("coder", "small", 400, 0, 30000, 0, "error");
  c.error_code = "timeout";
  c.task_id = "t0";
  c.attempt = 2;
  auto d = entry("reviewer", "big", 3000, 100, 2000, 0.5);
  EXPECT_EQ(store->append_ledger(run, a).value(), 1u);
  EXPECT_EQ(store->append_ledger(run, b).value(), 2u);
  EXPECT_EQ(store->append_ledger(run, c).value(), 3u);
  EXPECT_EQ(store->append_ledger(run, d).value(), 4u);
  auto all = store->read_ledger(run);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 4u);
  const auto& g = (*all)[2];
  EXPECT_EQ(g.use.role, "coder");
  EXPECT_EQ(g.use.model, "small");
  EXPECT_EQ(g.use.prompt_tokens, 400);
  EXPECT_EQ(g.use.latency.count(), 30000);
  EXPECT_DOUBLE_EQ(g.use.tokens_per_s, 42.5);
  EXPECT_EQ(g.use.attempts, 2);
  EXPECT_EQ(g.outcome, "error");
  EXPECT_EQ(g.error_code, "timeout");
  EXPECT_EQ(g.task_id, "t0");
  EXPECT_EQ(g.attempt, 2);
  EXPECT_EQ(g.seq, 3u);

  auto snap = store->load_run(run);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->ledger_total.calls, 4u);
  EXPECT_EQ(snap->ledger_total.failed_calls, 1u);
  EXPECT_EQ(snap->ledger_total.prompt_tokens, 4900);
  EXPECT_EQ(snap->ledger_total.completion_tokens, 1100);
  EXPECT_DOUBLE_EQ(snap->ledger_total.cost_usd, 0.75);
  EXPECT_EQ(snap->ledger_by_role.size(), 3u);
  EXPECT_EQ(snap->ledger_by_role["coder"].calls, 2u);
  EXPECT_EQ(snap->ledger_by_role["coder"].latency_ms, 31200);
  EXPECT_EQ(snap->ledger_by_model["big"].prompt_tokens, 4000);
  EXPECT_DOUBLE_EQ(snap->ledger_by_model["big"].cost_usd, 0.75);
  EXPECT_EQ(snap->ledger_by_model["small"].failed_calls, 1u);

  // ledger_total (what budgets check) agrees, and stays right as calls come in.
  auto total = store->ledger_total(run);
  ASSERT_TRUE(total) << total.err().describe();
  EXPECT_EQ(total->calls, 4u);
  EXPECT_EQ(total->prompt_tokens + total->completion_tokens, 6000);
  ASSERT_TRUE(store->append_ledger(run, a));
  total = store->ledger_total(run);
  ASSERT_TRUE(total);
  EXPECT_EQ(total->calls, 5u);
  EXPECT_EQ(total->prompt_tokens, 5900);
  EXPECT_DOUBLE_EQ(total->cost_usd, 1.0);
  EXPECT_FALSE(store->ledger_total("no-such-run"));
}

TEST_F(StoreTest, EventsAppendInOrderWithoutGaps) {
  EXPECT_EQ(store->append_event(run, "validator", R"({"ok":true})").value(), 2u);
  EXPECT_EQ(store->append_event(run, "note", "").value(), 3u);
  EXPECT_EQ(store->append_event(run, "n", "[1,2,3]").value(), 4u);
  auto ev = store->read_events(run, 3);
  ASSERT_TRUE(ev);
  ASSERT_EQ(ev->size(), 2u);
  EXPECT_EQ((*ev)[0].seq, 3u);
  EXPECT_EQ((*ev)[0].data_json, "null");
  EXPECT_EQ((*ev)[1].data_json, "[1,2,3]");
  auto two = store->read_events(run, 1, 2);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].type, "validator");
  EXPECT_EQ((*two)[1].data_json, R"({"ok":true})");
  // Runs do not see each other's events.
  auto other = store->create_run("other", "{}");
  ASSERT_TRUE(other);
  EXPECT_EQ(store->read_events(*other)->size(), 1u);
  EXPECT_EQ(store->load_run(run)->last_event_seq, 4u);
}

TEST_F(StoreTest, LoadRunGivesTheWholeSnapshot) {
  ASSERT_TRUE(store->put_plan(run, test::make_plan(3, true)));
  ASSERT_TRUE(store->transition(run, "t0", task_state::assigned, by_worker("w")));
  auto h = store->put_file_version(run, "src/file0.js", "x");
  ASSERT_TRUE(store->transition(run, "t0", task_state::done, producing(*h)));
  ASSERT_TRUE(store->transition(run, "t1", task_state::assigned, by_worker("w")));
  ASSERT_TRUE(store->put_file_version(run, "README.md", "y"));
  ledger_entry e;
  e.use.role = "coder";
  e.use.model = "m";
  ASSERT_TRUE(store->append_ledger(run, e));
  auto snap = store->load_run(run);
  ASSERT_TRUE(snap) << snap.err().describe();
  EXPECT_EQ(snap->run.id, run);
  ASSERT_EQ(snap->tasks.size(), 3u);
  EXPECT_EQ(snap->tasks[0].state, task_state::done);
  EXPECT_EQ(snap->tasks[1].state, task_state::assigned);
  EXPECT_EQ(snap->tasks[2].state, task_state::pending);
  EXPECT_EQ(snap->tasks[2].spec.depends_on, std::vector<std::string>{"t1"});
  ASSERT_EQ(snap->files.size(), 2u);
  EXPECT_EQ(snap->files[0].path, "README.md");
  EXPECT_EQ(snap->files[1].path, "src/file0.js");
  EXPECT_EQ(snap->ledger_total.calls, 1u);
  EXPECT_EQ(snap->last_event_seq, 7u);
  EXPECT_EQ(store->load_run("20000101-000000-dead").err().code, errc::not_found);
}


TEST_F(StoreTest, ConcurrentWritersKeepSequencesAndRecordsConsistent) {
  constexpr int threads = 4;
  constexpr int per_thread = 40;
  ASSERT_TRUE(store->put_plan(run, test::make_plan(threads * per_thread)));
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w)
    pool.emplace_back([&, w] {
      for (int k = 0; k < per_thread; ++k) {
        int i = w * per_thread + k;
        std::string id = "t" + std::to_string(i);
        if (!store->transition(run, id, task_state::assigned, by_worker("w" + std::to_string(w))))
          ++failures;
        auto h = store->put_file_version(run, "src/file" + std::to_string(i) + ".js", "body " + id);
        ledger_entry e;
        e.use.role = "coder";
        e.use.prompt_tokens = 1;
        if (!h || !store->append_ledger(run, e)) ++failures;
        if (!h || !store->transition(run, id, task_state::done, producing(*h))) ++failures;
      }
    });
  for (auto& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto snap = store->load_run(run);
  ASSERT_TRUE(snap);
  constexpr int n = threads * per_thread;
  for (const auto& t : snap->tasks) EXPECT_EQ(t.state, task_state::done) << t.spec.id;
  EXPECT_EQ(snap->files.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(snap->ledger_total.calls, static_cast<std::uint64_t>(n));
  EXPECT_EQ(snap->ledger_total.prompt_tokens, n);
  EXPECT_EQ(snap->last_event_seq, static_cast<std::uint64_t>(2 + 3 * n));
  auto problems = store->fsck(run);
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0].kind << ": " << (*problems)[0].detail;
}

// Doubles are read exactly from their text, not with RapidJSON 1.1's
// full-precision parse, which takes a zero with an exponent ("0e99") and an
// integer past uint64 into undefined behaviour (found by fuzz_codec under
// UBSan) and misreads the latter.
TEST(StoreCodec, AZeroWithAnExponentReadsAsZero) {
  for (const char* zero : {"0e99", "-0.000E+300", "0.0e-23"}) {
    std::string json = std::string{R"({"v":1,"seq":1,"role":"r","cost_usd":)"} + zero +
                       R"(,"tokens_per_s":0.30000000000000004})";
    auto e = codec::decode_ledger(json, "ledger/1");
    ASSERT_TRUE(e) << zero << ": " << e.err().describe();
    EXPECT_EQ(e->use.cost_usd, 0.0) << zero;
    EXPECT_NEAR(e->use.tokens_per_s, 0.3, 1e-12) << zero;
  }
  // An integer past uint64 beside a fraction: RapidJSON 1.1's full-precision
  // parse read it as 1.7e-18 (and into undefined behaviour); it is about 1.8e20.
  auto big = codec::decode_ledger(
    R"({"v":1,"seq":1,"role":"r","cost_usd":184467440737095516155,"tokens_per_s":142.857})", "l");
  ASSERT_TRUE(big) << big.err().describe();
  EXPECT_EQ(big->use.cost_usd, 184467440737095516155.0);
  EXPECT_EQ(big->use.tokens_per_s, 142.857);
  auto exact = codec::decode_ledger(R"({"v":1,"seq":1,"role":"r","cost_usd":0.30000000000000004})", "l");
  ASSERT_TRUE(exact) << exact.err().describe();
  EXPECT_EQ(exact->use.cost_usd, 0.30000000000000004);
}

// Issue 16: an exit code past int's range was narrowed (4294967299 read back as 3,
// a model failure). It is now a mismatch that names the field; codes in range and
// records without one still read.
TEST(StoreCodec, AnExitCodePastIntsRangeIsRefusedNotNarrowed) {
  auto narrowed = codec::decode_run(R"({"v":1,"id":"r1","state":"done","exit_code":4294967299})", "runs/r1");
  ASSERT_FALSE(narrowed) << "read as exit code " << narrowed->exit_code;
  EXPECT_NE(narrowed.err().describe().find("exit_code"), std::string::npos) << narrowed.err().describe();
  auto fine = codec::decode_run(R"({"v":1,"id":"r1","state":"done","exit_code":7})", "runs/r1");
  ASSERT_TRUE(fine) << fine.err().describe();
  EXPECT_EQ(fine->exit_code, 7);
  auto old = codec::decode_run(R"({"v":1,"id":"r1","state":"done"})", "runs/r1");
  ASSERT_TRUE(old) << old.err().describe();
  EXPECT_EQ(old->exit_code, -1);
}

}  // namespace
}  // namespace codehive::store
