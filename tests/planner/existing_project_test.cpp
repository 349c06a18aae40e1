// Plans for a project that already exists (actors/plan_checks.hpp): an update
// of a file the project lacks and deletes the request does not ask for are
// asked for again with the reason, the reason is kept in the store and, when
// no usable plan comes, reported; a request naming a missing file that the
// plan creates is noted; the planning prompt lists the project's files,
// bounded, those the request names first.
#include <algorithm>

#include <gtest/gtest.h>

#include "actors/plan_checks.hpp"
#include "tests/planner/harness.hpp"

using namespace codehive;
using codehive::test::harness;
using codehive::test::plan_reply;

namespace {

struct task {
  std::string id, action, path;
};

std::string plan_of(const std::vector<task>& tasks) {
  std::string out = R"({"tasks":[)";
  for (std::size_t i = 0; i < tasks.size(); ++i)
    out += std::string{i ? "," : ""} + R"({"id":")" + tasks[i].id + R"(","action":")"
           + tasks[i].action + R"(","type":"file","path":")" + tasks[i].path
           + R"(","description":"d","instructions":"i"})";
  return out + "]}";
}

std::vector<msg::applied_file> project(const std::vector<std::string>& paths) {
  std::vector<msg::applied_file> out;
  for (const auto& p : paths) {
    msg::applied_file f;
    f.path = p;
    f.summary = "what " + p + " is for";
    out.push_back(f);
  }
  return out;
}

/// Starts the run for `request` and answers the tracker's listing with `files`.
void start_on(harness& h, const std::string& request, std::vector<msg::applied_file> files) {
  h.ctl->add_local_slots(2, 1);
  msg::run_request req;
  req.run_id = h.run_id;
  req.request = request;
  req.out_dir = "/tmp/out";
  req.max_rounds = 1;
  ASSERT_TRUE(h.ctl->start(req, true));
  h.collect();
  ASSERT_TRUE(h.take<planner::list_files>());
  h.ctl->on_files_listed(std::move(files));
  h.collect();
}

std::vector<std::string> events_of(const harness& h, const std::string& type) {
  std::vector<std::string> out;
  auto events = h.store->read_events(h.run_id);
  EXPECT_TRUE(events);
  if (events)
    for (const auto& e : *events)
      if (e.type == type)
        out.push_back(e.data_json);
  return out;
}

}  // namespace

TEST(PlanChecks, FilesARequestNames) {
  EXPECT_EQ(files_named_in("Change the title in index.html, and fix `js/App.js`."),
            (std::vector<std::string>{"index.html", "js/app.js"}));
  EXPECT_EQ(files_named_in("see https://example.com/a.html e.g. this, or ../x.js or /etc/passwd"),
            std::vector<std::string>{});
  EXPECT_EQ(files_named_in("data/report.xyz (\"./notes.md\")"),
            (std::vector<std::string>{"data/report.xyz", "notes.md"}));
}

TEST(PlanChecks, UpdatesAndDeletesMustNameExistingFilesAndDeletesNeedTheRequest) {
  auto files = project({"index.html", "js/app.js", "about.html", "blog.html", "contact.html"});
  auto fine =
    check_plan_against_project({{"t1", msg::task_action::update, "file", "index.html", "", "", {}, {}},
                                {"t2", msg::task_action::create, "file", "faq.html", "", "", {}, {}}},
                               files, "add a faq page", 1);
  EXPECT_EQ(fine.problem, "");
  auto missing = check_plan_against_project(
    {{"t1", msg::task_action::update, "file", "js/main.js", "", "", {}, {}}}, files, "fix js/main.js", 1);
  EXPECT_NE(missing.problem.find("task t1 updates js/main.js, but the project has no such file"),
            std::string::npos)
    << missing.problem;
  EXPECT_NE(missing.problem.find("the request names js/main.js, which the project lacks"),
            std::string::npos);
  // The about page by stem, one more file on top is tolerated, two are not.
  auto one = check_plan_against_project({{"t1", msg::task_action::remove, "file", "about.html", "", "", {}, {}},
                                         {"t2", msg::task_action::remove, "file", "blog.html", "", "", {}, {}}},
                                        files, "remove the About page", 1);
  EXPECT_EQ(one.problem, "");
  auto three =
    check_plan_against_project({{"t1", msg::task_action::remove, "file", "about.html", "", "", {}, {}},
                                {"t2", msg::task_action::remove, "file", "blog.html", "", "", {}, {}},
                                {"t3", msg::task_action::remove, "file", "contact.html", "", "", {}, {}}},
                               files, "remove the About page", 1);
  EXPECT_NE(
    three.problem.find("deletes 2 files the request does not mention (blog.html, contact.html)"),
    std::string::npos)
    << three.problem;
  auto noted =
    check_plan_against_project({{"t1", msg::task_action::create, "file", "faq.html", "", "", {}, {}}}, files,
                               "put the questions in faq.html", 1);
  EXPECT_EQ(noted.problem, "");
  EXPECT_EQ(noted.notes,
            std::vector<std::string>{
              "the request names faq.html, which the project lacks: the plan creates it"});
}

TEST(PlanChecks, ABinaryFileMayBeDeletedButNotUpdated) {
  auto files = project({"index.html", "logo.png"});
  files[1].summary = binary_summary(2048);
  auto update = check_plan_against_project(
    {{"t1", msg::task_action::update, "file", "logo.png", "", "", {}, {}}}, files, "make logo.png blue", 1);
  EXPECT_NE(update.problem.find("task t1 updates logo.png, a binary file no model can rewrite"),
            std::string::npos)
    << update.problem;
  auto remove = check_plan_against_project(
    {{"t1", msg::task_action::remove, "file", "logo.png", "", "", {}, {}}}, files, "remove logo.png", 1);
  EXPECT_EQ(remove.problem, "");
  EXPECT_FALSE(is_binary_summary("what index.html is for"));
}

TEST(ExistingProject, AnUpdateOfAFileTheProjectLacksIsAskedAgainWithTheReason) {
  harness h;
  std::string second_prompt;
  h.on_plan = [&](const planner::ask_plan& c) {
    if (h.plans_asked == 1)
      return plan_reply(c, plan_of({{"t1", "update", "about.html"}}));
    second_prompt = c.request.messages.back().content;
    return plan_reply(c, plan_of({{"t1", "update", "index.html"}}));
  };
  start_on(h, "change the title in about.html to Welcome",
           project({"index.html", "css/style.css"}));
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.plans_asked, 2);
  EXPECT_EQ(h.result->exit_code, 0);
  EXPECT_NE(second_prompt.find("task t1 updates about.html, but the project has no such file"),
            std::string::npos)
    << second_prompt;
  EXPECT_NE(second_prompt.find("the request names about.html, which the project lacks"),
            std::string::npos);
  auto refused = events_of(h, "plan_refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].find("about.html"), std::string::npos) << refused[0];
  EXPECT_EQ(h.coded["index.html"], 1);
  EXPECT_EQ(h.coded.count("about.html"), 0u);
}

TEST(ExistingProject, APlanThatKeepsDeletingWhatTheRequestDoesNotMentionEndsTheRunWithTheReason) {
  harness h;
  h.always_plan(plan_of({{"t1", "update", "index.html"},
                         {"t2", "delete", "blog.html"},
                         {"t3", "delete", "contact.html"},
                         {"t4", "delete", "js/app.js"}}));
  start_on(h, "make the heading of index.html bigger",
           project({"index.html", "blog.html", "contact.html", "js/app.js"}));
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.plans_asked, h.settings->plan_attempts);
  EXPECT_EQ(h.result->state, msg::run_outcome::model_failure);
  EXPECT_NE(h.result->message.find("deletes 3 files the request does not mention (blog.html, "
                                   "contact.html, js/app.js)"),
            std::string::npos)
    << h.result->message;
  EXPECT_EQ(events_of(h, "plan_refused").size(),
            static_cast<std::size_t>(h.settings->plan_attempts));
  EXPECT_TRUE(h.coded.empty()) << "nothing is changed on a refused plan";
}

TEST(ExistingProject, ARequestNamingAMissingFileThatThePlanCreatesIsNoted) {
  harness h;
  h.always_plan(plan_of({{"t1", "create", "faq.html"}, {"t2", "update", "index.html"}}));
  start_on(h, "put the questions in faq.html and link it from index.html", project({"index.html"}));
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.plans_asked, 1);
  EXPECT_EQ(h.result->exit_code, 0);
  auto notes = events_of(h, "plan_note");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(
    notes[0].find("the request names faq.html, which the project lacks: the plan creates it"),
    std::string::npos);
}

TEST(ExistingProject, ThePlanningPromptListsTheProjectBoundedWithNamedFilesFirst) {
  harness h;
  std::string prompt;
  h.on_plan = [&](const planner::ask_plan& c) {
    prompt = c.request.messages.back().content;
    return plan_reply(c, plan_of({{"t1", "update", "src/f999.js"}}));
  };
  std::vector<std::string> paths;
  for (int i = 1; i <= 1000; ++i)
    paths.push_back("src/f" + std::to_string(i) + ".js");
  start_on(h, "rename helper() in src/f999.js", project(paths));
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0);
  auto entries = static_cast<std::size_t>(std::count(prompt.begin(), prompt.end(), '\n'));
  std::size_t listed = 0;
  for (std::size_t at = prompt.find("\n- src/"); at != std::string::npos;
       at = prompt.find("\n- src/", at + 1))
    ++listed;
  EXPECT_EQ(listed, h.settings->plan_map_entries);
  EXPECT_GT(entries, listed);
  EXPECT_NE(prompt.find("- src/f999.js: what src/f999.js is for\n- src/f1.js"), std::string::npos)
    << "the named file comes first";
  EXPECT_NE(prompt.find("(and 600 more files not listed here"), std::string::npos);
}
