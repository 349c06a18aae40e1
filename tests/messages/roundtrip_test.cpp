// Every message type survives binary serialization with every field intact
// (what crossing to another node does to it), and is listed in the type-ID
// block (an unlisted type is silently dropped on the wire).
#include <gtest/gtest.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "messages/type_ids.hpp"

using namespace codehive;

namespace {

template <class T>
T roundtrip(const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = x;
  auto err = sink(copy);
  EXPECT_FALSE(err) << "serialize failed";
  EXPECT_FALSE(buf.empty());
  T y;
  caf::binary_deserializer source{nullptr, buf};
  err = source(y);
  EXPECT_FALSE(err) << "deserialize failed";
  return y;
}

msg::usage sample_usage() {
  return {"coder", "qwen2.5-coder:7b", 123, 456, 789, 0.0125, 3, 41.5};
}

msg::file_task sample_task() {
  return {"t2", msg::task_action::update, "file", "js/app.js", "the app", "1. do this\n2. do that",
          {"t1", "t0"}, {"index.html"}, msg::edit_kind::search_replace};
}

msg::context_file sample_context() {
  return {"css/style.css", "styles", "body { margin: 0; }\n", true};
}

msg::review_issue sample_issue() {
  return {"js/app.js", "clearDone is not defined", "1. add function clearDone()",
          msg::edit_kind::search_replace, 2};
}

msg::finding sample_finding() {
  return {"html_handler", "index.html", 42, "onclick calls clearDone, which no script defines"};
}

/// The bytes of `xs`, serialized one after the other (as inspect() writes fields).
template <class... Ts>
std::vector<char> wire_of(Ts... xs) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  EXPECT_FALSE(sink(xs...)) << "serialize failed";
  return buf;
}

template <class T>
caf::error load(const std::vector<char>& buf, T& x) {
  caf::binary_deserializer source{nullptr, buf};
  return source(x);
}

/// A file_edit as a node wrote it when action and kind were strings.
std::vector<char> file_edit_with_strings(const std::string& action, const std::string& kind) {
  return wire_of(std::string{"r"}, std::string{"t1"}, std::string{"a.js"}, action, kind,
                 std::string{}, std::string{}, std::vector<msg::replace_block>{}, std::string{},
                 msg::usage{});
}

}  // namespace

TEST(MessageRoundtrip, Usage) {
  auto x = sample_usage();
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.role, "coder");
  EXPECT_EQ(y.completion_tokens, 456);
  EXPECT_DOUBLE_EQ(y.cost_usd, 0.0125);
  EXPECT_EQ(y.calls, 3);
}

TEST(MessageRoundtrip, Budget) {
  msg::budget x{1000, 2.5, 60000};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.max_time_ms, 60000);
}

TEST(MessageRoundtrip, RunRequest) {
  msg::run_request x{"run-1", "a kanban board", "/tmp/out", 5, {10, 1.0, 2000}};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.request, "a kanban board");
  EXPECT_EQ(y.limits.max_tokens, 10);
}

TEST(MessageRoundtrip, RunRequestAskingForPlanApproval) {
  msg::run_request x{"run-1", "a kanban board", "/tmp/out", 5, {}, true};
  EXPECT_TRUE(roundtrip(x).approve_plan);
}

TEST(MessageRoundtrip, PlanDecisionAndVerdict) {
  msg::plan_decision d{"run-1", msg::plan_action::approve, true, "[{\"id\":\"t1\"}]"};
  EXPECT_EQ(roundtrip(d), d);
  msg::plan_verdict v{true, false, "task 't9' depends on unknown task", 3};
  EXPECT_EQ(roundtrip(v), v);
}

TEST(MessageRoundtrip, FileTask) {
  auto x = sample_task();
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.depends_on, (std::vector<std::string>{"t1", "t0"}));
  EXPECT_EQ(y.edit, msg::edit_kind::search_replace);
}

TEST(MessageRoundtrip, Plan) {
  msg::plan x{{sample_task(), sample_task()}, sample_usage()};
  x.tasks[1].id = "t3";
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  ASSERT_EQ(y.tasks.size(), 2u);
  EXPECT_EQ(y.tasks[1].id, "t3");
}

TEST(MessageRoundtrip, ContextFile) {
  auto x = sample_context();
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_TRUE(y.has_content);
}

TEST(MessageRoundtrip, CodeRequest) {
  msg::code_request x{"run-1", "a board", sample_task(), sample_context(),
                      {sample_context(), {"b.js", "b", "", false}}, 2, "bad json"};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  ASSERT_EQ(y.context.size(), 2u);
  EXPECT_FALSE(y.context[1].has_content);
  EXPECT_EQ(y.previous_error, "bad json");
}

TEST(MessageRoundtrip, ReplaceBlock) {
  msg::replace_block x{"old", "new"};
  EXPECT_EQ(roundtrip(x), x);
}

TEST(MessageRoundtrip, FileEdit) {
  msg::file_edit x{"run-1", "t1", "index.html", msg::task_action::update, msg::edit_kind::html_section, "body", "<p>x</p>",
                   {{"a", "b"}, {"c", ""}}, "the page", sample_usage()};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  ASSERT_EQ(y.blocks.size(), 2u);
  EXPECT_EQ(y.blocks[1].search, "c");
  EXPECT_EQ(y.use.model, "qwen2.5-coder:7b");
}

TEST(MessageRoundtrip, AppliedFile) {
  msg::applied_file x{"js/app.js", 3, "app start-up", "0123456789abcdef", 2048, 1700000000000,
                      true, true};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.modified_ms, 1700000000000);
}

TEST(MessageRoundtrip, Finding) {
  auto x = sample_finding();
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.line, 42);
}

TEST(MessageRoundtrip, ValidationReport) {
  msg::validation_report x{{sample_finding()}, {"browser: not installed"}, {"a", "b"}, 77};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.elapsed_ms, 77);
}

TEST(MessageRoundtrip, ReviewIssue) {
  auto x = sample_issue();
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.round, 2);
}

TEST(MessageRoundtrip, ReviewRequest) {
  msg::review_request x{"run-1", "a board", 2, {sample_context()}, {sample_finding()}};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.findings.at(0).check, "html_handler");
}

TEST(MessageRoundtrip, ReviewResult) {
  msg::review_result x{{sample_issue()}, sample_usage()};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
}

TEST(MessageRoundtrip, FixRequest) {
  msg::fix_request x{"run-1", "fix:1:1", "a board", sample_issue(), sample_context(),
                     {sample_context()}, 3, "SEARCH not found"};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.fix_id, "fix:1:1");
  EXPECT_EQ(y.attempt, 3);
}

TEST(MessageRoundtrip, ProgressEvent) {
  msg::progress_event x{"run-1", msg::progress_kind::task_done, "t1", "a.js", "done", 3, 8, 2, 1, 5000, 0.5, 1234, 38.5};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.tasks_total, 8);
}

TEST(MessageRoundtrip, LlmReply) {
  msg::llm_reply x{99, false, "{}", 5, "bad_json: no object", sample_usage()};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.call_id, 99u);
  EXPECT_EQ(y.error_code, 5);
}

TEST(MessageRoundtrip, ExportFile) {
  msg::export_file x{"status.json", "{\"state\":\"done\"}"};
  EXPECT_EQ(roundtrip(x), x);
}

TEST(MessageRoundtrip, RunResult) {
  msg::run_result x{"run-1", msg::run_outcome::unresolved, 1, "2 issues left", 3, 2,
                    {{"planning", 1200}, {"coding", 34000}, {"validating", 0}}};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.exit_code, 1);
  ASSERT_EQ(y.phases.size(), 3u);
  EXPECT_EQ(y.phases[1].phase, "coding");
  EXPECT_EQ(y.phases[1].ms, 34000);
}

TEST(MessageRoundtrip, TopLevelVectors) {
  std::vector<std::string> a{"x", "y"};
  EXPECT_EQ(roundtrip(a), a);
  std::vector<msg::applied_file> b{{"a", 1, "s", "h", 1, 2, false, true}};
  EXPECT_EQ(roundtrip(b), b);
  std::vector<msg::context_file> c{sample_context()};
  EXPECT_EQ(roundtrip(c), c);
  std::vector<msg::export_file> d{{"tasks.json", "[]"}};
  EXPECT_EQ(roundtrip(d), d);
}

// worker_offer, join_request and submit_run carry actor handles, which only
// serialize with a middleman: tests/nodes round-trips them between two nodes.
TEST(MessageRoundtrip, JoinReply) {
  msg::join_reply x{false, "wrong token", "coordinator-1"};
  EXPECT_EQ(roundtrip(x), x);
}

TEST(MessageRoundtrip, WorkerLost) {
  msg::worker_lost x{"gpu-box-1/gpu0", "its connection was lost (remote_link_unreachable)"};
  EXPECT_EQ(roundtrip(x), x);
  EXPECT_STREQ(caf::type_name<msg::worker_lost>::value, "codehive::msg::worker_lost");
}

TEST(MessageRoundtrip, PrecheckFile) {
  msg::precheck_file x{"js/app.js", std::string(64, 'a')};
  EXPECT_EQ(roundtrip(x), x);
  EXPECT_STREQ(caf::type_name<msg::precheck_file>::value, "codehive::msg::precheck_file");
}

// The results of a coordinator run on the client: a pushed version, the
// fetch request and its answer (a deletion and a listing entry included).
TEST(MessageRoundtrip, FileCopy) {
  msg::file_copy x{"run-1", "js/app.js", 3, std::string(64, 'b'), false, true,
                   "console.log(1);\n", "t2", "qwen2.5-coder:7b", "the app's logic"};
  auto y = roundtrip(x);
  EXPECT_EQ(y, x);
  EXPECT_EQ(y.version, 3);
  EXPECT_TRUE(y.has_content);
  msg::file_copy gone{"run-1", "old.js", 4, "", true, false, "", "t5", "", ""};
  EXPECT_EQ(roundtrip(gone), gone);
  EXPECT_STREQ(caf::type_name<msg::file_copy>::value, "codehive::msg::file_copy");
}

TEST(MessageRoundtrip, FetchFilesAndAnswer) {
  msg::fetch_files req{"secret", "run-1", true, {"index.html", "js/app.js"}};
  EXPECT_EQ(roundtrip(req), req);
  msg::fetched_files ans{true, "", "done",
                         {{"run-1", "index.html", 1, std::string(64, 'c'), false, false, "", "t1",
                           "", "the page"}},
                         {{"status.json", "{}"}}};
  auto y = roundtrip(ans);
  EXPECT_EQ(y, ans);
  EXPECT_EQ(y.files.size(), 1u);
  EXPECT_EQ(y.exports.front().name, "status.json");
}

TEST(TypeIdBlock, ListsEveryMessageTypeOnce) {
  using caf::type_id;
  std::vector<caf::type_id_t> ids{
    type_id<msg::usage>::value,          type_id<msg::budget>::value,
    type_id<msg::run_request>::value,    type_id<msg::file_task>::value,
    type_id<msg::plan>::value,           type_id<msg::context_file>::value,
    type_id<msg::code_request>::value,   type_id<msg::replace_block>::value,
    type_id<msg::file_edit>::value,      type_id<msg::applied_file>::value,
    type_id<msg::finding>::value,        type_id<msg::validation_report>::value,
    type_id<msg::review_issue>::value,   type_id<msg::review_request>::value,
    type_id<msg::review_result>::value,  type_id<msg::fix_request>::value,
    type_id<msg::progress_event>::value, type_id<msg::llm_reply>::value,
    type_id<msg::export_file>::value,    type_id<msg::run_result>::value,
    type_id<std::vector<std::string>>::value,
    type_id<std::vector<msg::applied_file>>::value,
    type_id<std::vector<msg::context_file>>::value,
    type_id<std::vector<msg::export_file>>::value,
    type_id<msg::worker_offer>::value,   type_id<msg::join_request>::value,
    type_id<msg::join_reply>::value,     type_id<msg::submit_run>::value,
    type_id<msg::precheck_file>::value,
    type_id<msg::plan_decision>::value,  type_id<msg::plan_verdict>::value,
    type_id<msg::file_copy>::value,      type_id<msg::fetch_files>::value,
    type_id<msg::fetched_files>::value,
    type_id<progress_actor>::value,      type_id<coder_actor>::value,
    type_id<fixer_actor>::value,         type_id<msg::worker_lost>::value,
  };
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "duplicate type id";
  EXPECT_EQ(ids.front(), caf::first_custom_type_id);
  EXPECT_EQ(caf::id_block::codehive::end - caf::id_block::codehive::begin,
            static_cast<int>(ids.size()));
  EXPECT_STREQ(caf::type_name<msg::file_edit>::value, "codehive::msg::file_edit");
  EXPECT_STREQ(caf::type_name<coder_actor>::value, "codehive::coder_actor");
}

// -- enums travel by name ---------------------------------------------------------

TEST(EnumRoundtrip, EveryTaskActionInAFileTaskAndAFileEdit) {
  for (auto a : {msg::task_action::create, msg::task_action::update, msg::task_action::remove}) {
    auto t = sample_task();
    t.action = a;
    EXPECT_EQ(roundtrip(t).action, a) << to_string(a);
    msg::file_edit e;
    e.action = a;
    EXPECT_EQ(roundtrip(e).action, a) << to_string(a);
  }
}

TEST(EnumRoundtrip, EveryEditKindInAFileEdit) {
  for (auto k : {msg::edit_kind::none, msg::edit_kind::whole, msg::edit_kind::html_section,
                 msg::edit_kind::search_replace, msg::edit_kind::folder}) {
    msg::file_edit e;
    e.kind = k;
    EXPECT_EQ(roundtrip(e).kind, k) << to_string(k);
  }
}

TEST(EnumRoundtrip, EveryRunOutcomeInARunResult) {
  for (const auto& row : msg::outcome_table) {
    msg::run_result r;
    r.state = row.what;
    r.exit_code = row.exit_code;
    auto y = roundtrip(r);
    EXPECT_EQ(y.state, row.what) << row.name;
    EXPECT_EQ(y, r);
  }
}

TEST(EnumRoundtrip, EveryRunPhase) {
  for (int i = 0; i <= static_cast<int>(msg::run_phase::idle); ++i) {
    auto p = static_cast<msg::run_phase>(i);
    auto buf = wire_of(msg::by_name(p));
    auto back = msg::run_phase::starting == p ? msg::run_phase::idle : msg::run_phase::starting;
    auto w = msg::by_name(back);
    ASSERT_FALSE(load(buf, w)) << to_string(p);
    EXPECT_EQ(back, p) << to_string(p);
  }
}

TEST(EnumRoundtrip, EveryProgressKindInAProgressEvent) {
  for (int i = 0; i <= static_cast<int>(msg::progress_kind::accepted); ++i) {
    msg::progress_event ev;
    ev.kind = static_cast<msg::progress_kind>(i);
    EXPECT_EQ(roundtrip(ev).kind, ev.kind) << to_string(ev.kind);
  }
  // The names are the strings the field carried before it was an enum.
  EXPECT_EQ(to_string(msg::progress_kind::task_done), "task_done");
  EXPECT_EQ(to_string(msg::progress_kind::awaiting_approval), "awaiting_approval");
  EXPECT_EQ(msg::parse_progress_kind("worker_lost"), msg::progress_kind::worker_lost);
  EXPECT_FALSE(msg::parse_progress_kind("done"));
}

TEST(EnumRoundtrip, EveryEditHintInAFileTaskAndAReviewIssue) {
  for (auto k : {msg::edit_kind::none, msg::edit_kind::whole, msg::edit_kind::html_section,
                 msg::edit_kind::search_replace}) {
    auto t = sample_task();
    t.edit = k;
    EXPECT_EQ(roundtrip(t).edit, k) << to_string(k);
    auto i = sample_issue();
    i.edit = k;
    EXPECT_EQ(roundtrip(i).edit, k) << to_string(k);
  }
  // A review issue written when the hint was a string loads as the enum.
  msg::review_issue i;
  ASSERT_FALSE(load(wire_of(std::string{"a.js"}, std::string{"p"}, std::string{"i"},
                            std::string{"html_section"}, std::int32_t{3}),
                    i));
  EXPECT_EQ(i.edit, msg::edit_kind::html_section);
  EXPECT_EQ(i.round, 3);
}

TEST(EnumRoundtrip, EveryPlanActionInAPlanDecision) {
  for (auto a : {msg::plan_action::query, msg::plan_action::approve, msg::plan_action::reject}) {
    msg::plan_decision d{"run-1", a, false, ""};
    EXPECT_EQ(roundtrip(d).action, a) << to_string(a);
  }
  // Bytes of the time the action was a string load as the enum; another word fails.
  msg::plan_decision d;
  ASSERT_FALSE(load(wire_of(std::string{"run-1"}, std::string{"reject"}, false,
                            std::string{"too big"}),
                    d));
  EXPECT_EQ(d.action, msg::plan_action::reject);
  EXPECT_EQ(d.plan, "too big");
  EXPECT_TRUE(load(wire_of(std::string{"run-1"}, std::string{"maybe"}, false, std::string{}), d));
}

TEST(EnumRoundtrip, AValueTravelsAsTheStringItWasBefore) {
  // The wire is unchanged from when these fields were std::string: the name.
  auto a = msg::task_action::remove;
  auto k = msg::edit_kind::none;
  auto o = msg::run_outcome::model_failure;
  std::string action, kind, outcome;
  auto buf = wire_of(msg::by_name(a), msg::by_name(k), msg::by_name(o));
  caf::binary_deserializer source{nullptr, buf};
  ASSERT_FALSE(source(action, kind, outcome));
  EXPECT_EQ(action, "delete");
  EXPECT_EQ(kind, "");
  EXPECT_EQ(outcome, "model_failure");
  // And a message written with the old strings loads as the enums.
  msg::file_edit e;
  ASSERT_FALSE(load(file_edit_with_strings("update", "search_replace"), e));
  EXPECT_EQ(e.action, msg::task_action::update);
  EXPECT_EQ(e.kind, msg::edit_kind::search_replace);
}

TEST(EnumRoundtrip, AnUnknownNameFailsToLoad) {
  auto action = msg::task_action::update;
  auto w = msg::by_name(action);
  auto err = load(wire_of(std::string{"erase"}), w);
  ASSERT_TRUE(err) << "an unknown action must not load";
  EXPECT_EQ(action, msg::task_action::update) << "and must leave the value alone";
  // Inside a message: a file_edit whose kind no version of codehive names.
  msg::file_edit e;
  EXPECT_TRUE(load(file_edit_with_strings("update", "rewrite"), e));
  msg::run_result r;
  EXPECT_TRUE(load(wire_of(std::string{"run-1"}, std::string{"exploded"}, std::int32_t{5},
                           std::string{}, std::int32_t{0}, std::int32_t{0}),
                   r));
}

TEST(EnumNames, ParseIsTheInverseOfToStringAndRefusesOtherWords) {
  for (const auto& row : msg::outcome_table)
    EXPECT_EQ(msg::parse_run_outcome(row.name), row.what) << row.name;
  EXPECT_EQ(msg::parse_task_action("delete"), msg::task_action::remove);
  EXPECT_EQ(msg::parse_edit_kind("html_section"), msg::edit_kind::html_section);
  EXPECT_EQ(msg::parse_run_phase("awaiting_approval"), msg::run_phase::awaiting_approval);
  EXPECT_EQ(msg::parse_plan_action("approve"), msg::plan_action::approve);
  EXPECT_FALSE(msg::parse_plan_action("yes"));
  EXPECT_EQ(msg::parse_edit_hint(""), msg::edit_kind::none);
  EXPECT_EQ(msg::parse_edit_hint("whole"), msg::edit_kind::whole);
  EXPECT_FALSE(msg::parse_edit_hint("folder")) << "a folder is not a hint for a file's edit";
  EXPECT_FALSE(msg::parse_task_action("remove"));
  EXPECT_FALSE(msg::parse_edit_kind("Whole"));
  EXPECT_FALSE(msg::parse_run_phase(""));
  EXPECT_FALSE(msg::parse_run_outcome("running"));
  // Deadline and budget end the same way for the user, not on the wire.
  EXPECT_EQ(msg::row_of(msg::run_outcome::deadline).shown, "budget");
  EXPECT_EQ(msg::row_of(msg::run_outcome::deadline).exit_code, 4);
}
