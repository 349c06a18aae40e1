// The actors on a real actor system, driven from GoogleTest through a
// scoped_actor (CAF's test DSL does not mix with GoogleTest): the file
// tracker, the validator, and the model workers against a real llm-sim.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/live_view.hpp"
#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "llm/client.hpp"
#include "llm/http_loop.hpp"
#include "llm/model_spec.hpp"
#include "messages/error.hpp"
#include "messages/setup.hpp"
#include "storage/run_store.hpp"
#include "tests/actors/actor_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/sim_process.hpp"
#include "workspace/subprocess.hpp"

using namespace codehive;
using codehive::test::sim_process;
using codehive::test::temp_dir;

namespace {

constexpr auto timeout = std::chrono::seconds(30);

/// Declared first (a base before the system's): the loop outlives the actors' clients.
struct loop_holder {
  llm::http_loop loop;
};

struct system_fixture : loop_holder, codehive::test::actor_fixture {
  system_fixture() {
    settings->schemas.edit = R"({"type":"object","required":["kind"]})";
    settings->schemas.review = R"({"type":"object","required":["issues"]})";
    settings->schemas.summary = R"({"type":"object","required":["summary"]})";
  }

  std::shared_ptr<llm::client> client_for(const sim_process& sim, const std::string& model) {
    llm::endpoint_config cfg;
    cfg.spec = *llm::parse_model_spec("ollama://127.0.0.1:" + std::to_string(sim.port()) + "/" + model);
    cfg.max_retries = 0;
    return llm::make_client(loop, cfg);
  }

  template <class Handle, class... Ts>
  auto ask(const Handle& h, Ts&&... xs) {
    return self->request(h, timeout, std::forward<Ts>(xs)...);
  }

  ~system_fixture() override { loop.shutdown(); }
};

std::string slurp(const std::filesystem::path& p) {
  return codehive::test::read_whole_file(p);
}

msg::file_edit whole(const std::string& path, const std::string& content,
                     const std::string& summary = "") {
  return codehive::test::whole_edit(path, content, summary);
}

}  // namespace

using FileTracker = system_fixture;

TEST_F(FileTracker, AppliesEditsAndAnswersQueries) {
  dir.write("old.txt", "# Notes\nkeep\n");
  auto tracker = spawn_file_tracker(sys, dir.path(), nullptr, settings, run_id, runs);

  ask(tracker, atom::list_v).receive(
    [](std::vector<msg::applied_file>& files) {
      ASSERT_EQ(files.size(), 1u);
      EXPECT_EQ(files[0].path, "old.txt");
      EXPECT_EQ(files[0].version, 0);
      EXPECT_EQ(files[0].summary, "Notes");
      EXPECT_FALSE(files[0].changed_in_run);
    },
    [](caf::error& e) { FAIL() << describe(e); });

  ask(tracker, whole("web/index.html", "<html><body><p>hi</p></body></html>\n", "the page"))
    .receive(
      [](msg::applied_file& f) {
        EXPECT_EQ(f.path, "web/index.html");
        EXPECT_EQ(f.version, 1);
        EXPECT_EQ(f.summary, "the page");
        EXPECT_TRUE(f.changed_in_run);
      },
      [](caf::error& e) { FAIL() << describe(e); });
  EXPECT_EQ(slurp(dir / "web/index.html"), "<html><body><p>hi</p></body></html>\n");

  auto sr = whole("web/index.html", "");
  sr.kind = msg::edit_kind::search_replace;
  sr.action = msg::task_action::update;
  sr.blocks = {{"<p>hi</p>", "<p>hello</p>"}};
  ask(tracker, sr).receive([](msg::applied_file& f) { EXPECT_EQ(f.version, 2); },
                           [](caf::error& e) { FAIL() << describe(e); });
  EXPECT_EQ(slurp(dir / "web/index.html"), "<html><body><p>hello</p></body></html>\n");
  // The store holds what the disk holds, with its task and version.
  auto stored = runs->get_file(run_id, "web/index.html");
  ASSERT_TRUE(stored) << stored.err().describe();
  EXPECT_EQ(stored->content, "<html><body><p>hello</p></body></html>\n");
  EXPECT_EQ(stored->meta.version, 2u);
  EXPECT_EQ(stored->meta.task_id, "t1");
  // The file found at start is in the store too, as found (no task).
  auto found = runs->get_file(run_id, "old.txt");
  ASSERT_TRUE(found) << found.err().describe();
  EXPECT_EQ(found->content, "# Notes\nkeep\n");
  EXPECT_EQ(found->meta.task_id, "");

  // A refused edit leaves the file as it was.
  sr.blocks = {{"<p>nope</p>", "x"}};
  ask(tracker, sr).receive([](msg::applied_file&) { FAIL() << "edit should be refused"; },
                           [](caf::error& e) { EXPECT_TRUE(is(e, ec::edit_refused)) << describe(e); });
  EXPECT_EQ(slurp(dir / "web/index.html"), "<html><body><p>hello</p></body></html>\n");

  // Nothing outside the folder, nothing in the exports folder.
  ask(tracker, whole("../escape.txt", "x"))
    .receive([](msg::applied_file&) { FAIL() << "escape should be refused"; },
             [](caf::error& e) { EXPECT_TRUE(is(e, ec::edit_refused)) << describe(e); });
  EXPECT_FALSE(std::filesystem::exists(dir.path().parent_path() / "escape.txt"));
  ask(tracker, whole("generated_files/status.json", "{}"))
    .receive([](msg::applied_file&) { FAIL() << "exports folder should be refused"; },
             [](caf::error& e) { EXPECT_TRUE(is(e, ec::edit_refused)) << describe(e); });

  // No summary in the edit and no summarizer: the deterministic fallback.
  ask(tracker, whole("js/a.js", "// Board model\nlet a;\n"))
    .receive([](msg::applied_file& f) { EXPECT_EQ(f.summary, "Board model"); },
             [](caf::error& e) { FAIL() << describe(e); });

  ask(tracker, atom::read_v, std::vector<std::string>{"web/index.html", "missing.js"})
    .receive(
      [](std::vector<msg::context_file>& files) {
        ASSERT_EQ(files.size(), 2u);
        EXPECT_TRUE(files[0].has_content);
        EXPECT_EQ(files[0].summary, "the page");
        EXPECT_NE(files[0].content.find("hello"), std::string::npos);
        EXPECT_FALSE(files[1].has_content);
      },
      [](caf::error& e) { FAIL() << describe(e); });

  ask(tracker, atom::exports_v, std::vector<msg::export_file>{{"status.json", "{\"a\":1}\n"}})
    .receive([](bool ok) { EXPECT_TRUE(ok); }, [](caf::error& e) { FAIL() << describe(e); });
  EXPECT_EQ(slurp(dir / "generated_files/status.json"), "{\"a\":1}\n");

  auto del = whole("old.txt", "");
  del.action = msg::task_action::remove;
  ask(tracker, del).receive([](msg::applied_file& f) { EXPECT_TRUE(f.deleted); },
                            [](caf::error& e) { FAIL() << describe(e); });
  EXPECT_FALSE(std::filesystem::exists(dir / "old.txt"));
  EXPECT_FALSE(runs->get_file(run_id, "old.txt"));  // a delete marker in the store
  caf::anon_send_exit(tracker, caf::exit_reason::user_shutdown);
}

TEST_F(FileTracker, MakesTheFolderMatchTheStoreAtStart) {
  // What a crash can leave: a file cut short, a file gone, a file the store
  // says was deleted, and a file nobody recorded yet.
  ASSERT_TRUE(runs->put_file_version(run_id, "js/app.js", "let app = 1;\n", store::from_task("t1")));
  ASSERT_TRUE(runs->put_file_version(run_id, "css/style.css", "body {}\n", store::from_task("t2")));
  ASSERT_TRUE(runs->put_file_version(run_id, "old.txt", "old\n", store::from_task("")));
  ASSERT_TRUE(runs->delete_file(run_id, "old.txt", store::from_task("t3")));
  dir.write("js/app.js", "let ap");
  dir.write("old.txt", "old\n");
  dir.write("notes.md", "# Mine\n");
  auto tracker = spawn_file_tracker(sys, dir.path(), nullptr, settings, run_id, runs);
  ask(tracker, atom::list_v).receive(
    [](std::vector<msg::applied_file>& files) {
      ASSERT_EQ(files.size(), 4u);  // app.js, style.css, notes.md, old.txt (deleted)
      for (const auto& f : files)
        EXPECT_EQ(f.deleted, f.path == "old.txt") << f.path;
    },
    [](caf::error& e) { FAIL() << describe(e); });
  EXPECT_EQ(slurp(dir / "js/app.js"), "let app = 1;\n");
  EXPECT_EQ(slurp(dir / "css/style.css"), "body {}\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "old.txt"));
  EXPECT_EQ(slurp(dir / "notes.md"), "# Mine\n");
  auto mine = runs->get_file(run_id, "notes.md");
  ASSERT_TRUE(mine) << mine.err().describe();
  EXPECT_EQ(mine->content, "# Mine\n");
  caf::anon_send_exit(tracker, caf::exit_reason::user_shutdown);
}

TEST_F(FileTracker, AsksTheSummarizerWhenTheEditHasNoSummary) {
  auto sim = sim_process::start(R"({"rules":[
    {"name":"sum","match":{"role":"summarizer","path":"js/app.js"},
     "response":{"json":{"summary":"starts the board app"}}}]})");
  auto tracker = spawn_file_tracker(sys, dir.path(), client_for(sim, "m"), settings, run_id, runs);
  ask(tracker, whole("js/app.js", "let x = 1;\n"))
    .receive([](msg::applied_file& f) { EXPECT_EQ(f.summary, "js file, 1 lines"); },
             [](caf::error& e) { FAIL() << describe(e); });
  ask(tracker, atom::flush_v)
    .receive(
      [](std::vector<msg::applied_file>& files) {
        ASSERT_EQ(files.size(), 1u);
        EXPECT_EQ(files[0].summary, "starts the board app");
      },
      [](caf::error& e) { FAIL() << describe(e); });
  ask(tracker, atom::usage_v).receive([](msg::usage& u) { EXPECT_EQ(u.calls, 1); },
                                      [](caf::error& e) { FAIL() << describe(e); });
  EXPECT_EQ(sim.count_role_path("summarizer", "js/app.js"), 1);
  auto stored = runs->get_file(run_id, "js/app.js");
  ASSERT_TRUE(stored) << stored.err().describe();
  EXPECT_EQ(stored->meta.summary, "starts the board app");
  caf::anon_send_exit(tracker, caf::exit_reason::user_shutdown);
}

using Validator = system_fixture;

TEST_F(Validator, ReportsFindingsAsRecords) {
  dir.write("data/bad.json", "{\"a\": ");
  dir.write("index.html", "<html><head><script src=\"js/missing.js\"></script></head><body></body></html>\n");
  auto validator = spawn_validator(sys, dir.path(), settings, "run-test");
  ask(validator, atom::validate_v, std::vector<std::string>{"data/bad.json", "index.html"})
    .receive(
      [](msg::validation_report& rep) {
        bool json = false;
        bool ref = false;
        for (const auto& f : rep.findings) {
          json = json || (f.check == "json" && f.file == "data/bad.json");
          ref = ref || (f.file == "index.html" && f.message.find("missing.js") != std::string::npos);
        }
        EXPECT_TRUE(json);
        EXPECT_TRUE(ref);
      },
      [](caf::error& e) { FAIL() << describe(e); });
  caf::anon_send_exit(validator, caf::exit_reason::user_shutdown);
}

TEST_F(Validator, APrecheckedVersionIsReportedAsTheFolderHasItAtTheRound) {
  if (!ws::find_on_path("node")) GTEST_SKIP() << "node is not installed";
  dir.write("js/app.js", "function f() {\n  return (;\n}\n");
  dir.write("js/ok.js", "let a = 1;\n");
  auto validator = spawn_validator(sys, dir.path(), settings, "run-test");
  caf::anon_send(validator, msg::precheck_file{"js/app.js", ""});
  caf::anon_send(validator, msg::precheck_file{"js/ok.js", ""});
  // A later version lands before the round: the round reports that one.
  dir.write("js/ok.js", "let a = ;\n");
  ask(validator, atom::validate_v, std::vector<std::string>{"js/app.js", "js/ok.js"})
    .receive(
      [](msg::validation_report& rep) {
        ASSERT_EQ(rep.findings.size(), 2u);
        EXPECT_EQ(rep.findings[0].file, "js/app.js");
        EXPECT_EQ(rep.findings[0].line, 2);
        EXPECT_EQ(rep.findings[1].file, "js/ok.js");
        EXPECT_EQ(rep.findings[1].line, 1);
      },
      [](caf::error& e) { FAIL() << describe(e); });
  caf::anon_send_exit(validator, caf::exit_reason::user_shutdown);
}

using Workers = system_fixture;

TEST_F(Workers, CoderAsksAgainAfterGarbageAndReturnsTheEdit) {
  auto sim = sim_process::start(R"({"rules":[
    {"name":"code","match":{"role":"coder","path":"js/a.js"},
     "responses":[{"content":"I think the file should be nice."},
                  {"json":{"kind":"whole","content":"let a = 1;\n","summary":"a"}}]}]})");
  auto coder = spawn_coder(sys, client_for(sim, "m"), settings, "coder-1");
  msg::code_request req;
  req.run_id = "run-test";
  req.task = {"t1", msg::task_action::create, "file", "js/a.js", "a", "let a be 1", {}, {}, msg::edit_kind::none};
  req.target = {"js/a.js", "", "", false};
  ask(coder, req).receive(
    [](msg::file_edit& e) {
      EXPECT_EQ(e.path, "js/a.js");
      EXPECT_EQ(e.kind, msg::edit_kind::whole);
      EXPECT_EQ(e.content, "let a = 1;\n");
      EXPECT_EQ(e.task_id, "t1");
      EXPECT_EQ(e.use.calls, 2);
    },
    [](caf::error& e) { FAIL() << describe(e); });
  EXPECT_EQ(sim.count_role_path("coder", "js/a.js"), 2);
  caf::anon_send_exit(coder, caf::exit_reason::user_shutdown);
}

TEST_F(Workers, CoderGivesUpWithBadAnswerAfterTheAttempts) {
  auto sim = sim_process::start(R"({"rules":[
    {"name":"code","match":{"role":"coder"},"response":{"content":"no json here"}}]})");
  settings->edit_attempts = 2;
  auto coder = spawn_coder(sys, client_for(sim, "m"), settings, "coder-1");
  msg::code_request req;
  req.task = {"t1", msg::task_action::create, "file", "a.js", "a", "x", {}, {}, msg::edit_kind::none};
  req.target = {"a.js", "", "", false};
  ask(coder, req).receive([](msg::file_edit&) { FAIL() << "expected an error"; },
                          [](caf::error& e) {
                            EXPECT_TRUE(is(e, ec::bad_answer)) << describe(e);
                            EXPECT_EQ(usage_of(e).calls, 2);
                          });
  EXPECT_EQ(sim.count_role("coder"), 2);
  caf::anon_send_exit(coder, caf::exit_reason::user_shutdown);
}

TEST_F(Workers, UnreachableServerIsAModelError) {
  llm::endpoint_config cfg;
  cfg.spec = *llm::parse_model_spec("ollama://127.0.0.1:1/m");
  cfg.max_retries = 0;
  auto coder = spawn_coder(sys, llm::make_client(loop, cfg), settings, "coder-1");
  msg::code_request req;
  req.task = {"t1", msg::task_action::create, "file", "a.js", "a", "x", {}, {}, msg::edit_kind::none};
  req.target = {"a.js", "", "", false};
  ask(coder, req).receive([](msg::file_edit&) { FAIL() << "expected an error"; },
                          [](caf::error& e) { EXPECT_TRUE(is(e, ec::model_unreachable)) << describe(e); });
  caf::anon_send_exit(coder, caf::exit_reason::user_shutdown);
}

TEST_F(Workers, FixerAndReviewer) {
  auto sim = sim_process::start(R"({"rules":[
    {"name":"review","match":{"role":"reviewer"},
     "response":{"json":{"issues":[{"file":"a.js","problem":"a is 1","instructions":"make it 2"}]}}},
    {"name":"fix","match":{"role":"fixer","path":"a.js"},
     "response":{"json":{"kind":"search_replace","blocks":[{"search":"a = 1","replace":"a = 2"}]}}}]})");
  auto client = client_for(sim, "m");
  auto reviewer = spawn_reviewer(sys, client, settings);
  msg::review_request rr;
  rr.round = 1;
  rr.files = {{"a.js", "a", "let a = 1;\n", true}};
  msg::review_issue issue;
  ask(reviewer, rr).receive(
    [&](msg::review_result& r) {
      ASSERT_EQ(r.issues.size(), 1u);
      EXPECT_EQ(r.issues[0].round, 1);
      issue = r.issues[0];
    },
    [](caf::error& e) { FAIL() << describe(e); });
  auto fixer = spawn_fixer(sys, client, settings, "fixer-1");
  msg::fix_request fr;
  fr.fix_id = "fix:1:1";
  fr.issue = issue;
  fr.target = {"a.js", "a", "let a = 1;\n", true};
  ask(fixer, fr).receive(
    [](msg::file_edit& e) {
      EXPECT_EQ(e.kind, msg::edit_kind::search_replace);
      EXPECT_EQ(e.task_id, "fix:1:1");
      EXPECT_EQ(e.action, msg::task_action::update);
    },
    [](caf::error& e) { FAIL() << describe(e); });
  EXPECT_EQ(sim.count_role("reviewer"), 1);
  EXPECT_EQ(sim.count_role_path("fixer", "a.js"), 1);
  caf::anon_send_exit(reviewer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(fixer, caf::exit_reason::user_shutdown);
}

// The planner publishes its live view at most every 100 ms within a phase; a
// picture held back that way follows on a timer, so the HTTP API never keeps
// an old one after the last event.
TEST_F(Workers, APlannersHeldBackLiveViewIsPublishedAfterTheLastEvent) {
  llm::endpoint_config cfg;
  cfg.spec = *llm::parse_model_spec("openai://127.0.0.1:1/v1/m");  // no run: never asked
  planner_team team;
  team.store = runs;
  team.board = std::make_shared<live_board>();
  auto planner = spawn_planner(sys, llm::make_client(loop, cfg), settings, team);
  // Two workers join back to back, no run: the same phase (idle), so the
  // second picture comes within 100 ms of the first and is held back.
  std::vector<coder_actor> coders;
  for (const char* node : {"gpu-1", "gpu-2"}) {
    msg::worker_offer offer;
    offer.node = node;
    offer.model = "m";
    offer.coders = {spawn_coder(sys, llm::make_client(loop, cfg), settings, "coder-1")};
    coders.push_back(offer.coders.front());
    caf::anon_send(planner, std::move(offer));
  }
  auto listed = [&] {
    auto v = team.board->latest();
    return v && v->nodes.size() == 2;
  };
  for (int i = 0; i < 600 && !listed(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto v = team.board->latest();
  ASSERT_TRUE(v);
  std::vector<std::string> names;
  for (const auto& n : v->nodes)
    names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"gpu-1", "gpu-2"}))
    << "awaited both workers in the published view within 60 s";
  caf::anon_send_exit(planner, caf::exit_reason::user_shutdown);
  for (auto& c : coders)
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}
