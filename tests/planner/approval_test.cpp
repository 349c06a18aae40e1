// Plan approval (run --approve-plan) driven through the controller: nothing
// is coded before the user approves; an edited plan is checked as a model's
// plan is (refused with the reason, the plan still waiting); an edited valid
// plan is what gets coded; a restart while waiting waits again; a rejected
// plan ends the run, and resuming it asks for a new plan.
#include <algorithm>

#include <gtest/gtest.h>

#include "tests/planner/harness.hpp"

using namespace codehive;
using codehive::test::harness;
using codehive::test::plan_json;

namespace {

bool said(const harness& h, const std::string& kind) {
  return std::find(h.progress_kinds.begin(), h.progress_kinds.end(), kind)
         != h.progress_kinds.end();
}

/// Starts a run that asks for approval and answers everything it asks until
/// only the user's word is missing.
void run_until_waiting(harness& h) {
  h.approve_plan = true;
  h.start();
  h.run_until_delivered();
}

/// Answers everything up to the run's end, which must be exit 0. Call through
/// ASSERT_NO_FATAL_FAILURE.
void expect_clean_end(harness& h) {
  h.collect();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0) << h.result->message;
}

}  // namespace

TEST(PlanApproval, NothingIsCodedUntilThePlanIsApproved) {
  harness h;
  run_until_waiting(h);
  ASSERT_FALSE(h.result) << h.result->message;
  EXPECT_TRUE(h.ctl->awaiting_approval());
  EXPECT_TRUE(h.pending.empty()) << "nothing in flight while the plan waits";
  EXPECT_TRUE(h.coded.empty());
  EXPECT_TRUE(said(h, "awaiting_approval"));
  EXPECT_EQ(h.ctl->run().phase, msg::run_phase::awaiting_approval);
  EXPECT_NE(h.tasks_json.find("\"index.html\""), std::string::npos)
    << "the proposal is exported for the user to read and edit: " << h.tasks_json;
  EXPECT_FALSE(h.store->get_task(h.run_id, "t1")) << "the task table holds approved plans only";
  // A worker joining does not start the work either.
  h.ctl->on_worker_offer("gpu-1", 2, 1, "qwen");
  h.collect();
  h.run_until_delivered();
  EXPECT_TRUE(h.coded.empty());

  auto v = h.ctl->on_plan_approved(std::nullopt);
  EXPECT_TRUE(v.accepted) << v.message;
  EXPECT_EQ(v.tasks, 2);
  EXPECT_FALSE(h.ctl->awaiting_approval());
  ASSERT_NO_FATAL_FAILURE(expect_clean_end(h));
  EXPECT_EQ(h.coded["index.html"], 1);
  EXPECT_EQ(h.coded["app.js"], 1);
  EXPECT_EQ(h.plans_asked, 1);
}

TEST(PlanApproval, AnEditedPlanThatFailsValidationIsRefusedWithTheReasonAndKeepsWaiting) {
  harness h;
  run_until_waiting(h);
  ASSERT_TRUE(h.ctl->awaiting_approval());
  struct bad_edit {
    std::string text;
    std::string reason;  ///< a part of the refusal's reason
  };
  std::vector<bad_edit> edits{
    {R"([{"id":"t1","path":"a.html","depends_on":["t9"]}])", "t9"},
    {R"([{"id":"t1","path":"a.html","depends_on":["t2"]},)"
     R"({"id":"t2","path":"b.html","depends_on":["t1"]}])",
     "cycle"},
    {R"([{"id":"fix:1:1","path":"a.html"}])", "reserved"},
    {R"([{"id":"t1","type":"symlink","path":"a.html"}])", "type"},
    {R"([{"id":"t1","path":"a.html","edit":"rewrite"}])", "edit"},
    {R"([{"id":"t1","path":"../escape.html"}])", "not inside"},
    {R"([{"id":"t1","path":"generated_files/x.json"}])", "generated_files"},
    {R"([])", "no tasks"},
    {R"([{"id":"t1","path":"a.html"})", ""},  // cut short
  };
  for (const auto& e : edits) {
    SCOPED_TRACE(e.text);
    auto v = h.ctl->on_plan_approved(e.text);
    EXPECT_FALSE(v.accepted);
    EXPECT_TRUE(v.waiting);
    EXPECT_NE(v.message.find("refused"), std::string::npos) << v.message;
    EXPECT_NE(v.message.find(e.reason), std::string::npos) << v.message;
    EXPECT_TRUE(h.ctl->awaiting_approval());
  }
  h.collect();
  h.run_until_delivered();
  EXPECT_FALSE(h.result);
  EXPECT_TRUE(h.coded.empty());
  EXPECT_TRUE(said(h, "approval_refused"));
  EXPECT_FALSE(h.store->get_task(h.run_id, "t1"));

  // The exported file unchanged is the plan as proposed.
  auto v = h.ctl->on_plan_approved(h.tasks_json);
  EXPECT_TRUE(v.accepted) << v.message;
  EXPECT_EQ(v.message.find("edited"), std::string::npos) << v.message;
  ASSERT_NO_FATAL_FAILURE(expect_clean_end(h));
}

TEST(PlanApproval, AnEditedValidPlanIsWhatGetsCoded) {
  harness h;
  std::vector<std::string> coded;
  h.on_code = [&](const msg::code_request& req, int) {
    coded.push_back(req.task.id + ":" + req.task.path + ":" + req.task.instructions);
    return std::optional<planner::failure>{};
  };
  run_until_waiting(h);
  ASSERT_TRUE(h.ctl->awaiting_approval());
  // The user drops app.js, adds about.html after index.html and rewords t1.
  std::string edited = R"([
    {"id":"t1","action":"create","type":"file","path":"index.html","description":"home",
     "instructions":"a home page in French","depends_on":[],"state":"pending"},
    {"id":"t3","path":"./about.html","description":"about","instructions":"an about page",
     "depends_on":["t1"]}
  ])";
  auto v = h.ctl->on_plan_approved(edited);
  ASSERT_TRUE(v.accepted) << v.message;
  EXPECT_NE(v.message.find("edited"), std::string::npos) << v.message;
  EXPECT_EQ(v.tasks, 2);
  ASSERT_NO_FATAL_FAILURE(expect_clean_end(h));
  EXPECT_EQ(coded, (std::vector<std::string>{"t1:index.html:a home page in French",
                                             "t3:about.html:an about page"}));
  EXPECT_EQ(h.coded.count("app.js"), 0u);
  EXPECT_FALSE(h.store->get_task(h.run_id, "t2"));
  ASSERT_TRUE(h.store->get_task(h.run_id, "t3"));
  EXPECT_EQ(h.store->get_task(h.run_id, "t3")->spec.path, "about.html");
}

TEST(PlanApproval, ARestartWhileWaitingWaitsAgainWithoutAskingForANewPlan) {
  harness h;
  run_until_waiting(h);
  ASSERT_TRUE(h.ctl->awaiting_approval());
  ASSERT_EQ(h.plans_asked, 1);

  // A new process continues the stored run, this time without asking for
  // approval itself (a plain resume, or a coordinator picking it up).
  h.restart();
  h.approve_plan = false;
  h.progress_kinds.clear();
  h.tasks_json.clear();
  h.start();
  h.run_until_delivered();
  EXPECT_FALSE(h.result);
  EXPECT_TRUE(h.ctl->awaiting_approval()) << "the stored proposal waits again";
  EXPECT_TRUE(h.coded.empty());
  EXPECT_EQ(h.plans_asked, 1);
  EXPECT_TRUE(said(h, "awaiting_approval"));
  EXPECT_NE(h.tasks_json.find("app.js"), std::string::npos) << "exported again";

  // Approved, then stopped before anything was coded: the approved plan is
  // coded without a new question.
  auto v = h.ctl->on_plan_approved(std::nullopt);
  ASSERT_TRUE(v.accepted) << v.message;
  h.restart();
  h.start();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->exit_code, 0) << h.result->message;
  EXPECT_EQ(h.plans_asked, 1);
  EXPECT_EQ(h.coded["app.js"], 1);
}

TEST(PlanApproval, ARejectedPlanEndsTheRunCleanlyAndResumingAsksForANewPlan) {
  harness h;
  run_until_waiting(h);
  ASSERT_TRUE(h.ctl->awaiting_approval());
  auto v = h.ctl->on_plan_rejected("wrong framework");
  EXPECT_TRUE(v.accepted);
  h.collect();
  h.run_until_delivered();
  ASSERT_TRUE(h.result);
  EXPECT_EQ(h.result->state, msg::run_outcome::plan_rejected);
  EXPECT_EQ(h.result->exit_code, 7);
  EXPECT_NE(h.result->message.find("wrong framework"), std::string::npos) << h.result->message;
  EXPECT_TRUE(h.coded.empty());
  EXPECT_EQ(h.store->get_run(h.run_id)->state, store::run_state::cancelled);
  // Nothing waits any more: a late approval is answered, not acted on.
  EXPECT_FALSE(h.ctl->on_plan_approved(std::nullopt).accepted);

  ASSERT_TRUE(h.store->set_run_state(h.run_id, store::run_state::running));  // as resume does
  h.restart();
  h.start();
  h.run_until_delivered();
  EXPECT_EQ(h.plans_asked, 2) << "a rejected plan is not offered again";
  EXPECT_TRUE(h.ctl->awaiting_approval());
  EXPECT_TRUE(h.coded.empty());
}

TEST(PlanApproval, AnEditedPlanMustFitTheProjectAsAModelsPlanMust) {
  harness h;
  for (const auto* p : {"index.html", "about.html", "blog.html", "contact.html"}) {
    msg::applied_file f;
    f.path = p;
    f.summary = std::string{"what "} + p + " is for";
    h.project_files.push_back(f);
  }
  h.request = "make the heading of index.html bigger and link it to news.html";
  h.always_plan(R"({"tasks":[{"id":"t1","action":"update","type":"file","path":"index.html",)"
                R"("description":"bigger heading","instructions":"h1 at 3em"}]})");
  run_until_waiting(h);
  ASSERT_TRUE(h.ctl->awaiting_approval()) << (h.result ? h.result->message : "");
  auto task = [](const std::string& id, const std::string& action, const std::string& path) {
    return R"({"id":")" + id + R"(","action":")" + action + R"(","type":"file","path":")" + path
           + R"(","description":"d","instructions":"i"})";
  };
  // An update of a file the project lacks, then deletes the request never asked for.
  auto missing = h.ctl->on_plan_approved("[" + task("t1", "update", "faq.html") + "]");
  EXPECT_FALSE(missing.accepted);
  EXPECT_TRUE(missing.waiting);
  EXPECT_NE(missing.message.find("the edited plan was refused: task t1 updates faq.html, but the "
                                 "project has no such file"),
            std::string::npos)
    << missing.message;
  auto deletes = h.ctl->on_plan_approved("[" + task("t1", "update", "index.html") + ","
                                         + task("t2", "delete", "blog.html") + ","
                                         + task("t3", "delete", "contact.html") + "]");
  EXPECT_FALSE(deletes.accepted);
  EXPECT_NE(deletes.message.find(
              "deletes 2 files the request does not mention (blog.html, contact.html)"),
            std::string::npos)
    << deletes.message;
  EXPECT_TRUE(h.ctl->awaiting_approval());
  h.collect();
  h.run_until_delivered();
  EXPECT_TRUE(h.coded.empty()) << "nothing is coded while the edits are refused";
  EXPECT_FALSE(h.store->get_task(h.run_id, "t2"));

  // An edit that fits: its note (the request's news.html, created) is shown and kept.
  auto notes_before = 0;
  if (auto events = h.store->read_events(h.run_id))
    notes_before = static_cast<int>(std::count_if(
      events->begin(), events->end(), [](const auto& e) { return e.type == "plan_note"; }));
  auto fine = h.ctl->on_plan_approved("[" + task("t1", "update", "index.html") + ","
                                      + task("t2", "create", "news.html") + "]");
  ASSERT_TRUE(fine.accepted) << fine.message;
  EXPECT_NE(fine.message.find("the request names news.html, which the project lacks: the plan "
                              "creates it"),
            std::string::npos)
    << fine.message;
  auto events = h.store->read_events(h.run_id);
  ASSERT_TRUE(events);
  EXPECT_EQ(std::count_if(events->begin(), events->end(),
                          [](const auto& e) { return e.type == "plan_note"; }),
            notes_before + 1);
  ASSERT_NO_FATAL_FAILURE(expect_clean_end(h));
  EXPECT_EQ(h.coded["index.html"], 1);
  EXPECT_EQ(h.coded["news.html"], 1);
  EXPECT_EQ(h.coded.count("faq.html"), 0u);
}
