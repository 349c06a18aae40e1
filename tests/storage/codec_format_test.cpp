// The store's record format, pinned: each literal below is what the codec
// wrote before its fields were listed once (storage/codec_fields.hpp). A store
// written by an earlier codehive must read the same, and this one must write
// the same bytes, field for field and in the same order.
#include <gtest/gtest.h>

#include <string>

#include "storage/codec.hpp"

namespace codehive::store {
namespace {

// Every field set, none to its default, so a field written under the wrong
// name, read into the wrong member or left out shows.
run_record sample_run() {
  return {.id = "20261121-155900-ab12", .request = "a kanban board \"with\" quotes\n",
          .config_json = R"({"coders":4,"model":"m"})", .state = run_state::budget_stopped,
          .state_reason = "token budget", .exit_code = 4, .created_ms = 1763740740000, .updated_ms = 1763740799999};
}

task_record sample_task() {
  task_record t{.spec = {.id = "t2", .action = "update", .type = "file", .path = "src/app.js",
                         .description = "the board's logic", .instructions = "drag and drop",
                         .depends_on = {"t1", "t0"}, .context_paths = {"index.html"}, .edit = "search_replace"},
                .plan_index = 7, .state = task_state::done, .attempts = 2, .worker = "node-2/coder-3",
                .last_error_code = "timeout", .last_reason = "retry 2", .file_hash = "ab12", .created_ms = 10,
                .updated_ms = 20, .assigned_ms = 15, .finished_ms = 19,
                .history = {{task_state::pending, task_state::assigned, 11, 1, "node-1/coder-1", "", ""},
                            {task_state::assigned, task_state::failed, 12, 1, "", "worker lost", "timeout"},
                            {task_state::failed, task_state::done, 19, 2, "", "", ""}}};
  return t;
}

file_version sample_file() {
  return {.path = "index.html", .version = 3, .hash = "cafe", .size = 18446744073709551615ull, .deleted = true,
          .task_id = "fix:1:2", .summary = "the page", .at_ms = -5};
}

review_round sample_review() {
  return {.round = 2,
          .issues = {{"index.html", "no title", "add one"}, {"app.js", "typo", "fix it"}},
          .findings_json = R"([{"file":"index.html","line":16}])",
          .at_ms = 99};
}

ledger_entry sample_ledger() {
  return {.use = {.role = "coder", .model = "qwen", .prompt_tokens = 1200, .completion_tokens = 340,
                  .latency = std::chrono::milliseconds{2500}, .tokens_per_s = 142.857, .cost_usd = 1.5e-7,
                  .attempts = 3},
          .outcome = "error", .error_code = "bad_json", .task_id = "t2", .attempt = 1, .seq = 42, .at_ms = 77};
}

event sample_event() { return {.seq = 17, .type = "task", .data_json = R"({"id":"t2","to":"done"})", .at_ms = 123}; }

codec::meta_record sample_meta() {
  return {.schema_version = 1, .store_id = "s-1", .created_ms = 5, .created_by = "codehive 0.1.0"};
}

const char* const run_json =
  R"({"v":1,"id":"20261121-155900-ab12","request":"a kanban board \"with\" quotes\n","config":{"coders":4,"model":"m"},)"
  R"("state":"budget_stopped","state_reason":"token budget","exit_code":4,"created_ms":1763740740000,)"
  R"("updated_ms":1763740799999})";
const char* const task_json =
  R"({"v":1,"id":"t2","action":"update","type":"file","path":"src/app.js","description":"the board's logic",)"
  R"("instructions":"drag and drop","depends_on":["t1","t0"],"context_paths":["index.html"],"edit":"search_replace",)"
  R"("plan_index":7,"state":"done","attempts":2,"worker":"node-2/coder-3","last_error_code":"timeout",)"
  R"("last_reason":"retry 2","file_hash":"ab12","created_ms":10,"updated_ms":20,"assigned_ms":15,"finished_ms":19,)"
  R"("history":[{"from":"pending","to":"assigned","at_ms":11,"attempt":1,"worker":"node-1/coder-1"},)"
  R"({"from":"assigned","to":"failed","at_ms":12,"attempt":1,"reason":"worker lost","error_code":"timeout"},)"
  R"({"from":"failed","to":"done","at_ms":19,"attempt":2}]})";
const char* const file_json =
  R"({"v":1,"path":"index.html","version":3,"hash":"cafe","size":18446744073709551615,"deleted":true,)"
  R"("task_id":"fix:1:2","summary":"the page","at_ms":-5})";
const char* const review_json =
  R"({"v":1,"round":2,"at_ms":99,"issues":[{"file":"index.html","problem":"no title","instructions":"add one"},)"
  R"({"file":"app.js","problem":"typo","instructions":"fix it"}],"findings":[{"file":"index.html","line":16}]})";
const char* const ledger_json =
  R"({"v":1,"seq":42,"at_ms":77,"role":"coder","model":"qwen","prompt_tokens":1200,"completion_tokens":340,)"
  R"("latency_ms":2500,"tokens_per_s":142.857,"cost_usd":1.5e-7,"attempts":3,"outcome":"error",)"
  R"("error_code":"bad_json","task_id":"t2","attempt":1})";
const char* const event_json = R"({"v":1,"seq":17,"at_ms":123,"type":"task","data":{"id":"t2","to":"done"}})";
const char* const meta_json = R"({"v":1,"schema_version":1,"store_id":"s-1","created_ms":5,"created_by":"codehive 0.1.0"})";
const char* const summary_json = R"({"v":1,"summary":"the page","at_ms":8})";

TEST(StoreCodecFormat, EveryRecordIsWrittenAsBefore) {
  EXPECT_EQ(codec::encode(sample_run()), run_json);
  EXPECT_EQ(codec::encode(sample_task()), task_json);
  EXPECT_EQ(codec::encode(sample_file()), file_json);
  EXPECT_EQ(codec::encode(sample_review()), review_json);
  EXPECT_EQ(codec::encode(sample_ledger()), ledger_json);
  EXPECT_EQ(codec::encode(sample_event()), event_json);
  EXPECT_EQ(codec::encode(sample_meta()), meta_json);
  EXPECT_EQ(codec::encode_summary("the page", 8), summary_json);
}

// Decoding an old record and writing it again gives the same bytes: every
// field was read back (the encoder writes every field).
TEST(StoreCodecFormat, EveryRecordWrittenBeforeReadsBackWhole) {
  auto run = codec::decode_run(run_json, "runs/r");
  ASSERT_TRUE(run) << run.err().describe();
  EXPECT_EQ(run->state, run_state::budget_stopped);
  EXPECT_EQ(run->exit_code, 4);
  EXPECT_EQ(codec::encode(*run), run_json);

  auto task = codec::decode_task(task_json, "tasks/t2");
  ASSERT_TRUE(task) << task.err().describe();
  ASSERT_EQ(task->history.size(), 3u);
  EXPECT_EQ(task->history[1].to, task_state::failed);
  EXPECT_EQ(task->history[1].reason, "worker lost");
  EXPECT_EQ(task->spec.depends_on, (std::vector<std::string>{"t1", "t0"}));
  EXPECT_EQ(codec::encode(*task), task_json);

  auto file = codec::decode_file_version(file_json, "files/index.html#3");
  ASSERT_TRUE(file) << file.err().describe();
  EXPECT_EQ(file->size, 18446744073709551615ull);
  EXPECT_EQ(codec::encode(*file), file_json);

  auto review = codec::decode_review(review_json, "reviews/2");
  ASSERT_TRUE(review) << review.err().describe();
  ASSERT_EQ(review->issues.size(), 2u);
  EXPECT_EQ(review->issues[1].instructions, "fix it");
  EXPECT_EQ(codec::encode(*review), review_json);

  auto ledger = codec::decode_ledger(ledger_json, "ledger/42");
  ASSERT_TRUE(ledger) << ledger.err().describe();
  EXPECT_EQ(ledger->use.latency, std::chrono::milliseconds{2500});
  EXPECT_EQ(ledger->use.tokens_per_s, 142.857);
  EXPECT_EQ(codec::encode(*ledger), ledger_json);

  auto ev = codec::decode_event(event_json, "events/17");
  ASSERT_TRUE(ev) << ev.err().describe();
  EXPECT_EQ(codec::encode(*ev), event_json);

  auto meta = codec::decode_meta(meta_json, "meta/schema");
  ASSERT_TRUE(meta) << meta.err().describe();
  EXPECT_EQ(codec::encode(*meta), meta_json);

  auto summary = codec::decode_summary(summary_json, "files/s");
  ASSERT_TRUE(summary) << summary.err().describe();
  EXPECT_EQ(*summary, "the page");
}

// Which problem a malformed record is refused for: a missing required field
// before any field of the wrong type, then the first wrong field in the
// record's order, then a nested list's first problem.
TEST(StoreCodecFormat, AMalformedRecordNamesTheSameProblemAsBefore) {
  auto missing = codec::decode_run(R"({"v":1,"id":"r","request":5})", "runs/r");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().describe(), R"(corrupt: record runs/r is malformed: missing "state")");

  auto wrong = codec::decode_task(R"({"v":1,"id":"t","state":"done","path":1,"attempts":"x"})", "tasks/t");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.err().describe(), R"(corrupt: record tasks/t is malformed: "path" is not a string)");

  auto unknown = codec::decode_task(R"({"v":1,"id":"t","state":"later"})", "tasks/t");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.err().describe(), R"(corrupt: record tasks/t is malformed: unknown value "later" of "state")");

  auto top_first = codec::decode_task(R"({"v":1,"id":"t","state":"done","history":{},"finished_ms":"x"})", "tasks/t");
  ASSERT_FALSE(top_first);
  EXPECT_EQ(top_first.err().describe(), R"(corrupt: record tasks/t is malformed: "finished_ms" is not an integer)");

  auto not_list = codec::decode_task(R"({"v":1,"id":"t","state":"done","history":{}})", "tasks/t");
  ASSERT_FALSE(not_list);
  EXPECT_EQ(not_list.err().describe(), R"(corrupt: record tasks/t is malformed: "history" is not an array)");

  auto entry = codec::decode_task(
    R"({"v":1,"id":"t","state":"done","history":[{"from":"pending","to":"done","attempt":"x"},{"to":"done"}]})",
    "tasks/t");
  ASSERT_FALSE(entry);
  EXPECT_EQ(entry.err().describe(), R"(corrupt: record tasks/t is malformed: "attempt" is not an integer)");

  auto entry_missing = codec::decode_task(
    R"({"v":1,"id":"t","state":"done","history":[{"to":"done","attempt":"x"}]})", "tasks/t");
  ASSERT_FALSE(entry_missing);
  EXPECT_EQ(entry_missing.err().describe(), R"(corrupt: record tasks/t is malformed: missing "from")");

  auto issue = codec::decode_review(R"({"v":1,"round":1,"issues":[5]})", "reviews/1");
  ASSERT_FALSE(issue);
  EXPECT_EQ(issue.err().describe(), R"(corrupt: record reviews/1 is malformed: "issues" holds a non-object)");

  auto latency = codec::decode_ledger(R"({"v":1,"seq":1,"latency_ms":1.5})", "ledger/1");
  ASSERT_FALSE(latency);
  EXPECT_EQ(latency.err().describe(), R"(corrupt: record ledger/1 is malformed: "latency_ms" is not an integer)");
}

}  // namespace
}  // namespace codehive::store
