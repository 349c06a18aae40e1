// The file tracker's refusals and exports on a real actor system: content the
// tracker refuses never becomes a stored version, and exports of any size are
// written (they are not project files and have no size cap).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <rapidjson/document.h>

#include "actors/exports.hpp"
#include "actors/plan_checks.hpp"
#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "messages/error.hpp"
#include "messages/setup.hpp"
#include "storage/run_store.hpp"
#include "tests/actors/actor_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/sim_process.hpp"
#include "workspace/file_ops.hpp"

using namespace codehive;
using codehive::test::temp_dir;

namespace {

constexpr auto timeout = std::chrono::seconds(60);

struct tracker_fixture : codehive::test::actor_fixture {
  file_tracker_actor tracker = spawn_file_tracker(sys, dir.path(), nullptr, settings, run_id, runs);

  ~tracker_fixture() override { self->send_exit(tracker, caf::exit_reason::user_shutdown); }

  /// The tracker's answer to an edit: the applied record, or the refusal.
  caf::expected<msg::applied_file> edit(const msg::file_edit& e) {
    caf::expected<msg::applied_file> out{caf::error{}};
    self->request(tracker, timeout, e)
      .receive([&](msg::applied_file& f) { out = std::move(f); }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }
};

std::string slurp(const std::filesystem::path& p) {
  return codehive::test::read_whole_file(p);
}

msg::file_edit whole(const std::string& path, const std::string& content) {
  return codehive::test::whole_edit(path, content, "a file");
}

}  // namespace

using FileTrackerRefusals = tracker_fixture;
using FileTrackerExports = tracker_fixture;

// A NUL byte in a text file is refused by the disk write; the store used to
// record the version first, so `codehive export` of the run failed on it.
TEST_F(FileTrackerRefusals, a_refused_edit_never_becomes_a_stored_version) {
  auto r = edit(whole("app.js", std::string("let a = 1;\0\n", 12)));
  ASSERT_FALSE(r);
  EXPECT_NE(describe(r.error()).find("NUL"), std::string::npos) << describe(r.error());
  EXPECT_FALSE(std::filesystem::exists(dir / "app.js"));
  auto stored = runs->get_file(run_id, "app.js");
  EXPECT_FALSE(stored) << "refused content was stored as version " << stored->meta.version;
  auto history = runs->file_history(run_id, "app.js");
  EXPECT_TRUE(!history || history->empty());
  // Nor does the refusal leave a record behind in the tracker's listing.
  self->request(tracker, timeout, atom::list_v)
    .receive([](std::vector<msg::applied_file>& files) { EXPECT_TRUE(files.empty()); },
             [](caf::error& e) { FAIL() << describe(e); });
  // The same file with valid content is version 1.
  auto ok = edit(whole("app.js", "let a = 1;\n"));
  ASSERT_TRUE(ok) << describe(ok.error());
  EXPECT_EQ(ok->version, 1);
}

// A whitespace-only rewrite is refused like an empty one; the file keeps its
// content on disk and in the store.
TEST_F(FileTrackerRefusals, a_whitespace_only_rewrite_is_refused_and_the_file_kept) {
  auto first = edit(whole("index.html", "<p>hi</p>\n"));
  ASSERT_TRUE(first) << describe(first.error());
  auto blank = edit(whole("index.html", " \n\t\n  "));
  ASSERT_FALSE(blank);
  EXPECT_NE(describe(blank.error()).find("whitespace"), std::string::npos) << describe(blank.error());
  EXPECT_EQ(slurp(dir / "index.html"), "<p>hi</p>\n");
  auto stored = runs->get_file(run_id, "index.html");
  ASSERT_TRUE(stored) << stored.err().describe();
  EXPECT_EQ(stored->content, "<p>hi</p>\n");
  EXPECT_EQ(stored->meta.version, 1u);
}

// Files found in the folder at start are recorded, so that a resume or an
// export can rewrite every one. A found file with a NUL byte is a binary file
// (issue 14): kept byte for byte with a summary that says what it is, never
// given to a model. (Before binary files were kept, it was left unrecorded.)
TEST(FileTrackerStart, a_found_file_with_a_nul_byte_is_recorded_as_binary_byte_for_byte) {
  caf::actor_system sys{tracker_fixture::config()};
  temp_dir dir{"codehive-tracker"};
  temp_dir store_dir{"codehive-tracker-store"};
  auto opened = store::run_store::open(store_dir.path() / "store");
  ASSERT_TRUE(opened) << opened.err().describe();
  store_ptr runs{std::move(*opened)};
  auto run_id = *runs->create_run("test request", "{}");
  const std::string bytes("a\0b", 3);
  dir.write("notes.txt", bytes);
  dir.write("ok.txt", "fine\n");
  auto settings = std::make_shared<pipeline_settings>();
  auto tracker = spawn_file_tracker(sys, dir.path(), nullptr, settings, run_id, runs);
  caf::scoped_actor self{sys};
  self->request(tracker, timeout, atom::list_v)
    .receive(
      [](std::vector<msg::applied_file>& files) {
        ASSERT_EQ(files.size(), 2u);
        std::map<std::string, std::string> summaries;
        for (const auto& f : files)
          summaries[f.path] = f.summary;
        ASSERT_EQ(summaries.count("notes.txt"), 1u);
        EXPECT_TRUE(is_binary_summary(summaries["notes.txt"])) << summaries["notes.txt"];
        ASSERT_EQ(summaries.count("ok.txt"), 1u);
        EXPECT_FALSE(is_binary_summary(summaries["ok.txt"])) << summaries["ok.txt"];
      },
      [](caf::error& e) { FAIL() << describe(e); });
  auto notes = runs->get_file(run_id, "notes.txt");
  ASSERT_TRUE(notes) << notes.err().describe();
  EXPECT_EQ(notes->content, bytes);
  EXPECT_TRUE(runs->get_file(run_id, "ok.txt"));
  self->send_exit(tracker, caf::exit_reason::user_shutdown);
}

// Deleting a file that is not there is refused before the store records it.
TEST_F(FileTrackerRefusals, deleting_a_missing_file_is_refused_before_the_store) {
  auto del = whole("gone.txt", "");
  del.action = msg::task_action::remove;
  ASSERT_FALSE(edit(del));
  auto versions = runs->list_files(run_id, true);
  ASSERT_TRUE(versions) << versions.err().describe();
  EXPECT_TRUE(versions->empty());
}

// The tracker canonicalises its folder once, at start: a symlink planted in
// the folder later (out of it, or to a file outside) is still refused at each
// edit, before the store records anything, and nothing is written outside.
TEST_F(FileTrackerRefusals, a_symlink_planted_after_start_is_refused_before_the_store) {
  auto first = edit(whole("index.html", "<p>hi</p>\n"));  // the tracker is up and pinned
  ASSERT_TRUE(first) << describe(first.error());
  temp_dir outside{"codehive-tracker-outside"};
  std::filesystem::create_directory_symlink(outside.path(), dir.path() / "js");
  { std::ofstream{outside.path() / "secret.txt"} << "secret\n"; }
  std::filesystem::create_symlink(outside.path() / "secret.txt", dir.path() / "notes.txt");
  ASSERT_FALSE(edit(whole("js/app.js", "let a = 1;\n")));
  ASSERT_FALSE(edit(whole("notes.txt", "overwritten\n")));
  auto del = whole("notes.txt", "");
  del.action = msg::task_action::remove;
  ASSERT_FALSE(edit(del));
  EXPECT_FALSE(std::filesystem::exists(outside.path() / "app.js"));
  EXPECT_EQ(slurp(outside.path() / "secret.txt"), "secret\n");
  EXPECT_FALSE(runs->get_file(run_id, "js/app.js"));
  auto notes = runs->file_history(run_id, "notes.txt");
  EXPECT_TRUE(!notes || notes->empty());
}

// status.json passes the project files' 1 MiB cap near 2,800 tasks; it used
// to stop updating silently there (a 5,000-task run ended saying "running").
TEST_F(FileTrackerExports, status_of_5000_tasks_is_written_and_says_the_final_state) {
  constexpr int n = 5000;
  planner_run run;
  run.run_id = run_id;
  run.request = "a big project";
  run.state = "running";
  std::vector<graph_task_spec> specs;
  for (int k = 0; k < n; ++k) {
    msg::file_task t;
    t.id = "task-" + std::to_string(k);
    t.action = msg::task_action::create;
    t.type = "file";
    t.path = "src/module_" + std::to_string(k) + "/index.js";
    t.description = "module number " + std::to_string(k) + " of the generated project";
    t.instructions = "write module " + std::to_string(k);
    run.tasks.push_back(t);
    specs.push_back({t.id, t.path, {}});
  }
  std::string err;
  run.graph = task_graph::build(specs, err);
  ASSERT_TRUE(run.graph) << err;
  run.task_records.resize(n);
  auto write_exports = [&] {
    bool written = false;
    self->request(tracker, timeout, atom::exports_v, render_exports(run, 1700000000000))
      .receive([&](bool ok) { written = ok; }, [](caf::error& e) { FAIL() << describe(e); });
    return written;
  };
  EXPECT_TRUE(write_exports());  // the run's start: every task pending
  for (int k = 0; k < n; ++k)
    run.graph->mark_done(static_cast<std::size_t>(k));
  run.state = "done";
  run.phase = msg::run_phase::finished;
  run.exit_code = 0;
  EXPECT_TRUE(write_exports());  // the end

  auto text = slurp(dir / "generated_files/status.json");
  ASSERT_GT(text.size(), ws::default_max_file_bytes) << "the test must pass the project files' cap";
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["state"].GetString(), "done");
  ASSERT_TRUE(d["tasks"].IsArray());
  ASSERT_EQ(d["tasks"].Size(), static_cast<rapidjson::SizeType>(n));
  int done = 0;
  for (const auto& t : d["tasks"].GetArray())
    done += std::string{t["state"].GetString()} == "done";
  EXPECT_EQ(done, n);
  auto tasks = slurp(dir / "generated_files/tasks.json");
  rapidjson::Document td;
  td.Parse(tasks.c_str(), tasks.size());
  ASSERT_FALSE(td.HasParseError());
  EXPECT_EQ(td.Size(), static_cast<rapidjson::SizeType>(n));
}

struct FileTrackerFolders : tracker_fixture {
  msg::file_edit folder(const std::string& path, msg::task_action action) {
    msg::file_edit e;
    e.run_id = "run-test";
    e.task_id = "f1";
    e.path = path;
    e.action = action;
    e.kind = msg::edit_kind::folder;
    return e;
  }
};

TEST_F(FileTrackerFolders, a_planned_folder_is_made_and_an_empty_one_deleted_for_real) {
  ASSERT_TRUE(edit(folder("assets/img", msg::task_action::create)));
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "assets/img"));
  EXPECT_TRUE(edit(folder("assets/img", msg::task_action::create))) << "making it again is fine";
  // A folder is no file: no version is stored for it.
  auto files = runs->list_files(run_id, true);
  ASSERT_TRUE(files);
  EXPECT_TRUE(files->empty());
  ASSERT_TRUE(edit(folder("assets/img", msg::task_action::remove)));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "assets/img"));
}

TEST_F(FileTrackerFolders, a_folder_with_files_is_not_deleted_and_one_outside_is_not_made) {
  ASSERT_TRUE(edit(whole("lib/a.js", "let a = 1;\n")));
  auto refused = edit(folder("lib", msg::task_action::remove));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), ec::edit_refused)) << describe(refused.error());
  EXPECT_EQ(slurp(dir.path() / "lib/a.js"), "let a = 1;\n");
  auto outside = edit(folder("../escape", msg::task_action::create));
  ASSERT_FALSE(outside);
  EXPECT_FALSE(std::filesystem::exists(dir.path().parent_path() / "escape"));
}
