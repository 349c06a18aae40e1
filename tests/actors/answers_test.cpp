// Model answers to messages (plan, edit with dry run, review, summary), the
// deterministic summary fallback, and prompt rendering.
#include <gtest/gtest.h>

#include "actors/answers.hpp"
#include "actors/prompts.hpp"
#include "actors/settings.hpp"

using namespace codehive;

TEST(Answers, ParsesAPlan) {
  auto p = parse_plan(R"({"tasks":[{"id":"t1","action":"create","type":"file","path":"a.js",
    "description":"d","instructions":"i","depends_on":["t0"],"context_paths":["b.js"],"edit":"whole"}]})");
  ASSERT_TRUE(p) << p.error;
  ASSERT_EQ(p.value->size(), 1u);
  const auto& t = p.value->front();
  EXPECT_EQ(t.id, "t1");
  EXPECT_EQ(t.depends_on, (std::vector<std::string>{"t0"}));
  EXPECT_EQ(t.context_paths, (std::vector<std::string>{"b.js"}));
  EXPECT_EQ(t.edit, msg::edit_kind::whole);
}

TEST(Answers, RefusesAnUnusablePlan) {
  EXPECT_FALSE(parse_plan("sorry, I cannot"));
  EXPECT_FALSE(parse_plan(R"({"tasks":[]})"));
  auto p = parse_plan(R"({"steps":[]})");
  EXPECT_FALSE(p);
  EXPECT_NE(p.error.find("tasks"), std::string::npos);
}

TEST(Answers, APlanTasksEditMustNameAnEditKindThatWritesContent) {
  auto plan_with = [](const std::string& edit) {
    return parse_plan(R"({"tasks":[{"id":"t1","action":"create","path":"a.js","edit":")" + edit
                      + R"("}]})");
  };
  for (auto [word, kind] : {std::pair{"", msg::edit_kind::none}, {"whole", msg::edit_kind::whole},
                            {"html_section", msg::edit_kind::html_section},
                            {"search_replace", msg::edit_kind::search_replace}}) {
    auto p = plan_with(word);
    ASSERT_TRUE(p) << word << ": " << p.error;
    EXPECT_EQ(p.value->front().edit, kind) << word;
  }
  for (const char* word : {"folder", "patch", "Whole"}) {
    auto p = plan_with(word);
    EXPECT_FALSE(p) << word;
    EXPECT_EQ(p.error, "task 't1': edit must be whole, html_section or search_replace") << word;
  }
}

TEST(Answers, AReviewIssuesEditIsAHintAndAnUnknownWordIsDropped) {
  auto r = parse_review(R"({"issues":[{"file":"a.js","problem":"p","edit":"html_section"},
    {"file":"b.js","problem":"q","edit":"rewrite"},{"file":"c.js","problem":"r"}]})");
  ASSERT_TRUE(r) << r.error;
  ASSERT_EQ(r.value->size(), 3u);
  EXPECT_EQ(r.value->at(0).edit, msg::edit_kind::html_section);
  EXPECT_EQ(r.value->at(1).edit, msg::edit_kind::none);
  EXPECT_EQ(r.value->at(2).edit, msg::edit_kind::none);
}

TEST(Answers, EditIsDryRunAgainstTheTarget) {
  msg::context_file target{"a.js", "", "let a = 1;\n", true};
  auto ok = parse_edit_answer(
    R"({"kind":"search_replace","blocks":[{"search":"a = 1","replace":"a = 2"}]})", target,
    msg::task_action::update);
  ASSERT_TRUE(ok) << ok.error;
  EXPECT_EQ(ok.value->kind, msg::edit_kind::search_replace);
  EXPECT_EQ(ok.value->blocks.at(0).replace, "a = 2");
  auto missing = parse_edit_answer(
    R"({"kind":"search_replace","blocks":[{"search":"b = 1","replace":"x"}]})", target, msg::task_action::update);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error.find("not found"), std::string::npos) << missing.error;
  msg::context_file fresh{"new.js", "", "", false};
  EXPECT_FALSE(parse_edit_answer(R"({"kind":"search_replace","blocks":[{"search":"a","replace":"b"}]})",
                                 fresh, msg::task_action::create));
  auto whole = parse_edit_answer("Here you go:\n```json\n{\"kind\":\"whole\",\"content\":\"x\",\"summary\":\"s\"}\n```",
                                 fresh, msg::task_action::create);
  ASSERT_TRUE(whole) << whole.error;
  EXPECT_EQ(whole.value->action, msg::task_action::create);
  EXPECT_EQ(whole.value->summary, "s");
  EXPECT_FALSE(parse_edit_answer("not json at all", fresh, msg::task_action::create));
  EXPECT_FALSE(parse_edit_answer(R"({"kind":"whole","content":""})", fresh, msg::task_action::create));
}

TEST(Answers, ParsesAReview) {
  auto r = parse_review(R"({"issues":[{"file":"a.js","problem":"p","instructions":"i"}]})");
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.value->at(0).file, "a.js");
  auto clean = parse_review(R"({"issues":[]})");
  ASSERT_TRUE(clean);
  EXPECT_TRUE(clean.value->empty());
  EXPECT_FALSE(parse_review(R"({"issues":[{"file":"","problem":"p"}]})"));
}

TEST(Answers, ParsesASummaryToOneLine) {
  auto s = parse_summary(R"({"summary":"  board\nrendering  "})");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s.value, "board rendering");
  EXPECT_FALSE(parse_summary(R"({"summary":""})"));
}

TEST(Answers, FallbackSummary) {
  EXPECT_EQ(fallback_summary("index.html", "<html><head><title>Kanban</title></head></html>"),
            "Kanban");
  EXPECT_EQ(fallback_summary("README.md", "# My app\ntext\n"), "My app");
  EXPECT_EQ(fallback_summary("a.js", "// Board model: cards and columns\nlet x;\n"),
            "Board model: cards and columns");
  EXPECT_EQ(fallback_summary("data/x.json", "{\n\"a\": 1\n}\n"), "json file, 3 lines");
}

TEST(Prompts, RenderReplacesKnownPlaceholdersOnly) {
  EXPECT_EQ(render("a {{x}} b {{y}} {{x}}", {{"x", "1"}}), "a 1 b {{y}} 1");
}

TEST(Prompts, CodePromptCarriesTaskContextAndRetryReason) {
  pipeline_settings s;
  s.prompts = builtin_prompts();
  s.schemas.edit = R"({"type":"object"})";
  msg::code_request r;
  r.request = "a kanban board";
  r.task = {"t1", msg::task_action::create, "file", "js/app.js", "app", "define startApp()", {}, {}, msg::edit_kind::none};
  r.target = {"js/app.js", "", "", false};
  r.context = {{"index.html", "page", "<button onclick=\"startApp()\">", true},
               {"css/style.css", "styles", "", false}};
  r.previous_error = "bad_json: no JSON object";
  auto req = code_prompt(s, r);
  EXPECT_EQ(req.role, "coder");
  EXPECT_EQ(req.path, "js/app.js");
  ASSERT_TRUE(req.json_schema);
  std::string all;
  for (const auto& m : req.messages)
    all += m.content + "\n";
  EXPECT_NE(all.find("define startApp()"), std::string::npos);
  EXPECT_NE(all.find("<button onclick=\"startApp()\">"), std::string::npos);
  EXPECT_NE(all.find("css/style.css --- (summary only) styles"), std::string::npos);
  EXPECT_EQ(req.messages.back().role, "user");
  EXPECT_NE(req.messages.back().content.find("bad_json: no JSON object"), std::string::npos);
}

TEST(Answers, AnHtmlSectionOtherThanHeadOrBodyIsRefusedNotTakenForTheBody) {
  msg::file_edit e;
  e.action = msg::task_action::update;
  e.kind = msg::edit_kind::html_section;
  e.content = "<title>x</title>";
  e.section = "head";
  auto head = workspace_edit_of(e);
  ASSERT_TRUE(head) << head.error;
  EXPECT_EQ(head.value->section, ws::section_name::head);
  e.section = "body";
  ASSERT_TRUE(workspace_edit_of(e));
  EXPECT_EQ(workspace_edit_of(e).value->section, ws::section_name::body);
  for (const char* other : {"", "Head", "footer"}) {
    e.section = other;
    auto refused = workspace_edit_of(e);
    ASSERT_FALSE(refused) << "section '" << other << "' must be refused";
    EXPECT_NE(refused.error.find("html section"), std::string::npos) << refused.error;
  }
}

TEST(Answers, AnEditWithoutContentIsNotAWorkspaceEdit) {
  msg::file_edit e;
  e.kind = msg::edit_kind::folder;
  EXPECT_FALSE(workspace_edit_of(e));
  e.kind = msg::edit_kind::none;
  EXPECT_FALSE(workspace_edit_of(e));
  e.kind = msg::edit_kind::search_replace;
  e.blocks = {{"a", "b"}};
  auto sr = workspace_edit_of(e);
  ASSERT_TRUE(sr) << sr.error;
  EXPECT_EQ(sr.value->kind, ws::edit_kind::search_replace);
  ASSERT_EQ(sr.value->blocks.size(), 1u);
  EXPECT_EQ(sr.value->blocks[0].replace, "b");
}
