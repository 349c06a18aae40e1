// `codehive runs | status | fsck | export` as real processes against stores
// built here with the storage library: the tables and JSON carry the stored
// content, export reproduces the files byte for byte, fsck finds planted
// damage, and every store that cannot be read (missing, foreign, damaged,
// newer, held by a writer) gives exit 2 with a clear line and is left as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rocksdb/db.h>

#include "storage/run_store.hpp"
#include "tests/cli/process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/json.hpp"
#include "tests/support/sim_process.hpp"

namespace fs = std::filesystem;
namespace store = codehive::store;
using codehive::test::process_result;
using codehive::test::run_codehive;
using codehive::test::temp_dir;

namespace {

// -- fixture -------------------------------------------------------------------

const std::string index_html = "<!DOCTYPE html>\n<html><body><h1>Kanban</h1></body></html>\n";
const std::string app_js_v1 = "function board() { return 'Helo'; }\n";
const std::string app_js_v2 = "function board() { return 'Hello'; }\n";

struct fixture {
  std::string done_run;     ///< planned, coded, reviewed, fixed, stopped with exit 1
  std::string running_run;  ///< created only
  std::string out_dir;      ///< the done run's config out_dir
};

std::unique_ptr<store::run_store> open_writable(const fs::path& dir) {
  auto st = store::run_store::open(dir);
  if (!st) ADD_FAILURE() << "open " << dir << ": " << st.err().describe();
  return st ? std::move(*st) : nullptr;
}

store::task_spec file_task(std::string id, std::string action, std::string path,
                           std::vector<std::string> deps = {}) {
  store::task_spec t;
  t.id = std::move(id);
  t.action = std::move(action);
  t.path = std::move(path);
  t.description = "the " + t.path;
  t.instructions = "write " + t.path;
  t.depends_on = std::move(deps);
  return t;
}

void call(store::run_store& s, const std::string& run, const char* role, const char* model,
          std::int64_t prompt, std::int64_t completion, double cost, bool failed = false) {
  store::ledger_entry e;
  e.use.role = role;
  e.use.model = model;
  e.use.prompt_tokens = prompt;
  e.use.completion_tokens = completion;
  e.use.latency = std::chrono::milliseconds(100);
  e.use.cost_usd = cost;
  if (failed) {
    e.outcome = "error";
    e.error_code = "bad_json";
  }
  ASSERT_TRUE(s.append_ledger(run, e));
}

/// Assigns, stores `content` and finishes task `id` (one attempt).
void complete(store::run_store& s, const std::string& run, const std::string& id,
              const std::string& path, const std::string& content, const std::string& worker) {
  using store::task_state;
  ASSERT_TRUE(s.transition(run, id, task_state::assigned, store::by_worker(worker)));
  auto hash = s.put_file_version(run, path, content, store::from_task(id, "summary of " + path));
  ASSERT_TRUE(hash) << hash.err().describe();
  ASSERT_TRUE(s.transition(run, id, task_state::done, store::producing(*hash)));
}

/// Two runs: one that went through everything (a retried task, a failed task,
/// a deleted file, a review round with a fix, ledger entries), one just created.
fixture make_fixture(const fs::path& dir) {
  using store::task_state;
  fixture f;
  f.out_dir = (dir.parent_path() / "kanban-out").string();
  auto s = open_writable(dir);
  if (!s) return f;
  auto run = s->create_run("build a kanban board\nwith three columns, drag and drop and local storage",
                           R"({"out_dir":")" + f.out_dir + R"(","coders":2})");
  EXPECT_TRUE(run);
  f.done_run = *run;
  EXPECT_TRUE(s->put_plan(f.done_run, {file_task("page", "create", "index.html"),
                                       file_task("app", "create", "js/app.js", {"page"}),
                                       file_task("style", "create", "css/style.css")}));
  complete(*s, f.done_run, "page", "index.html", index_html, "coder-1");
  // app: fails once (bad JSON), is retried and succeeds.
  EXPECT_TRUE(s->transition(f.done_run, "app", task_state::assigned, store::by_worker("coder-2")));
  EXPECT_TRUE(s->transition(f.done_run, "app", task_state::failed,
                            store::because("answer was not JSON", "bad_json")));
  EXPECT_TRUE(s->transition(f.done_run, "app", task_state::pending, store::because("retry 2")));
  complete(*s, f.done_run, "app", "js/app.js", app_js_v1, "coder-1");
  // style: times out and stays failed.
  EXPECT_TRUE(s->transition(f.done_run, "style", task_state::assigned, store::by_worker("coder-2")));
  EXPECT_TRUE(s->transition(f.done_run, "style", task_state::failed,
                            store::because("no answer in 120 s", "timeout")));
  // A file written and deleted again: not a current file.
  EXPECT_TRUE(s->put_file_version(f.done_run, "notes.txt", "scratch\n"));
  EXPECT_TRUE(s->delete_file(f.done_run, "notes.txt"));
  // Review round 1: one issue, two findings, fixed by fix:1:1.
  store::review_round r;
  r.round = 1;
  r.issues.push_back({"js/app.js", "the greeting says Helo", "replace Helo with Hello"});
  r.findings_json = R"([{"file":"js/app.js","msg":"a"},{"file":"index.html","msg":"b"}])";
  EXPECT_TRUE(s->put_review_round(f.done_run, r));
  EXPECT_TRUE(s->put_plan(f.done_run, {file_task("fix:1:1", "update", "js/app.js")}));
  complete(*s, f.done_run, "fix:1:1", "js/app.js", app_js_v2, "fixer-1");
  // Ledger: planner 1000+200, coder 3 calls (one failed) 1500+600, reviewer 800+100, fixer 300+50.
  call(*s, f.done_run, "planner", "big", 1000, 200, 0.0100);
  call(*s, f.done_run, "coder", "small", 500, 200, 0.0010);
  call(*s, f.done_run, "coder", "small", 500, 200, 0.0010, /*failed=*/true);
  call(*s, f.done_run, "coder", "small", 500, 200, 0.0010);
  call(*s, f.done_run, "reviewer", "big", 800, 100, 0.0050);
  call(*s, f.done_run, "fixer", "small", 300, 50, 0.0003);
  EXPECT_TRUE(s->set_run_state(f.done_run, store::run_state::done, "unresolved findings", 1));

  auto second = s->create_run("a second request", "{}");
  EXPECT_TRUE(second);
  f.running_run = *second;
  return f;  // the store closes here
}

// Totals the fixture's ledger adds up to.
constexpr long long total_tokens = 1200 + 2100 + 900 + 350;  // 4550
const std::string total_cost = "$0.0183";

// -- helpers -------------------------------------------------------------------

process_result codehive(std::vector<std::string> args) { return run_codehive(args, 60000); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Every regular file under `dir` with its content (RocksDB's info logs left
/// out: opening a database may rotate them), to show a folder was not touched.
std::map<std::string, std::string> folder_contents(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    auto rel = fs::relative(e.path(), dir).string();
    if (!e.is_regular_file() || rel.starts_with("LOG")) continue;
    out[rel] = read_file(e.path());
  }
  return out;
}

/// The line of `text` that contains `needle` ("" when none).
std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return {};
}

rapidjson::Document parse(const std::string& text) {
  return codehive::test::parse_json(text);
}

/// The store's database opened with RocksDB directly, every column family by
/// name, to plant damage the library would never write.
void with_raw_db(const fs::path& dir,
                 const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle&)>& edit,
                 const std::string& cf_name) {
  rocksdb::Options o;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(o, dir.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions{});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir.string(), cfs, &handles, &db).ok());
  bool found = false;
  for (auto* h : handles)
    if (h->GetName() == cf_name) {
      edit(*db, *h);
      found = true;
    }
  EXPECT_TRUE(found) << "no column family " << cf_name;
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  delete db;
}

void raw_delete(const fs::path& dir, const std::string& cf_name, const std::string& key) {
  with_raw_db(dir, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle& cf) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    EXPECT_TRUE(db.Delete(wo, &cf, key).ok());
  }, cf_name);
}

/// Replaces `from` by `to` in the value of one key.
void raw_replace(const fs::path& dir, const std::string& cf_name, const std::string& key,
                 const std::string& from, const std::string& to) {
  with_raw_db(dir, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle& cf) {
    std::string value;
    ASSERT_TRUE(db.Get(rocksdb::ReadOptions{}, &cf, key, &value).ok()) << key;
    auto at = value.find(from);
    ASSERT_NE(at, std::string::npos) << value;
    value.replace(at, from.size(), to);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    EXPECT_TRUE(db.Put(wo, &cf, key, value).ok());
  }, cf_name);
}

class InspectFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    f_ = make_fixture(store_dir());
    ASSERT_FALSE(f_.done_run.empty());
  }
  fs::path store_dir() const { return tmp_ / "store"; }
  std::vector<std::string> with_store(std::vector<std::string> args) const {
    args.push_back("--store");
    args.push_back(store_dir().string());
    return args;
  }

  temp_dir tmp_{"codehive-inspect"};
  fixture f_;
};

// -- runs ------------------------------------------------------------------------

TEST(InspectRuns, EmptyStoreSaysSo) {
  temp_dir tmp{"codehive-inspect"};
  ASSERT_TRUE(open_writable(tmp / "store"));
  auto r = codehive({"runs", "--store", (tmp / "store").string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no runs in " + (tmp / "store").string()), std::string::npos) << r.output;
}

using InspectRunsTable = InspectFixture;

TEST_F(InspectRunsTable, OneRowPerRunOldestFirst) {
  auto r = codehive(with_store({"runs"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto header = line_with(r.output, "REQUEST");
  for (const char* col : {"ID", "STATE", "FILES", "TOKENS", "COST", "AGE"})
    EXPECT_NE(header.find(col), std::string::npos) << header;
  auto done = line_with(r.output, f_.done_run);
  EXPECT_NE(done.find("build a kanban board with three"), std::string::npos) << done;
  EXPECT_NE(done.find("..."), std::string::npos) << "long request truncated: " << done;
  EXPECT_NE(done.find("done (exit 1)"), std::string::npos) << done;
  EXPECT_NE(done.find(" 2 "), std::string::npos) << "2 current files: " << done;
  EXPECT_NE(done.find(std::to_string(total_tokens)), std::string::npos) << done;
  EXPECT_NE(done.find(total_cost), std::string::npos) << done;
  EXPECT_EQ(done.back(), 's') << "age in seconds: " << done;
  auto running = line_with(r.output, f_.running_run);
  EXPECT_NE(running.find("running"), std::string::npos) << running;
  EXPECT_NE(running.find("$0.0000"), std::string::npos) << running;
  EXPECT_LT(r.output.find(f_.done_run), r.output.find(f_.running_run)) << "oldest first";
  // Aligned: the STATE column starts at the same offset in every row.
  EXPECT_EQ(header.find("STATE"), done.find("done"));
  EXPECT_EQ(header.find("STATE"), running.find("running"));
}

TEST_F(InspectRunsTable, JsonIsAnArrayOfRuns) {
  auto r = codehive(with_store({"runs", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto d = parse(r.output);
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 2u);
  const auto& a = d[0];
  EXPECT_EQ(std::string{a["id"].GetString()}, f_.done_run);
  EXPECT_EQ(std::string{a["state"].GetString()}, "done");
  ASSERT_TRUE(a["exit_code"].IsInt());
  EXPECT_EQ(a["exit_code"].GetInt(), 1);
  EXPECT_EQ(a["files"].GetUint64(), 2u);
  EXPECT_EQ(a["tokens"].GetInt64(), total_tokens);
  EXPECT_NEAR(a["cost_usd"].GetDouble(), 0.0183, 1e-9);
  EXPECT_NE(std::string{a["request"].GetString()}.find("local storage"), std::string::npos);
  const auto& b = d[1];
  EXPECT_EQ(std::string{b["id"].GetString()}, f_.running_run);
  EXPECT_EQ(std::string{b["state"].GetString()}, "running");
  EXPECT_TRUE(b["exit_code"].IsNull());
  EXPECT_EQ(b["files"].GetUint64(), 0u);
}

TEST_F(InspectRunsTable, WorksBesideAWriterHoldingTheStore) {
  auto writer = open_writable(store_dir());
  ASSERT_TRUE(writer);
  auto r = codehive(with_store({"runs"}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(f_.done_run), std::string::npos) << r.output;
}

// -- status ----------------------------------------------------------------------

using InspectStatus = InspectFixture;

TEST_F(InspectStatus, ShowsTasksFixesRoundsAndUsage) {
  auto r = codehive(with_store({"status", f_.done_run}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& out = r.output;
  EXPECT_NE(line_with(out, "state").find("done (exit 1): unresolved findings"), std::string::npos)
      << out;
  EXPECT_NE(line_with(out, "out ").find(f_.out_dir), std::string::npos) << out;
  auto page = line_with(out, "index.html");
  EXPECT_NE(page.find("done"), std::string::npos) << page;
  EXPECT_NE(page.find("coder-1"), std::string::npos) << page;
  auto app = line_with(out, "  app ");
  EXPECT_NE(app.find("done"), std::string::npos) << app;
  EXPECT_NE(app.find(" 2 "), std::string::npos) << "two attempts: " << app;
  EXPECT_NE(app.find("bad_json"), std::string::npos) << "last error kept: " << app;
  auto style = line_with(out, "css/style.css");
  EXPECT_NE(style.find("failed"), std::string::npos) << style;
  EXPECT_NE(style.find("timeout: no answer in 120 s"), std::string::npos) << style;
  // The fix task is in its own table, after the plan's.
  auto fixes_at = out.find("fixes (1)");
  ASSERT_NE(fixes_at, std::string::npos) << out;
  EXPECT_GT(out.find("fix:1:1"), fixes_at);
  EXPECT_NE(line_with(out, "fix:1:1").find("fixer-1"), std::string::npos);
  // Review round 1: 1 issue, 2 findings, the issue itself.
  EXPECT_NE(out.find("review rounds (1)"), std::string::npos) << out;
  EXPECT_NE(out.find("js/app.js: the greeting says Helo"), std::string::npos) << out;
  // Usage per role: calls, failed, prompt, completion, cost.
  auto coder = line_with(out, "  coder ");
  for (const char* cell : {" 3 ", " 1 ", "1500", "600", "$0.0030"})
    EXPECT_NE(coder.find(cell), std::string::npos) << cell << " in: " << coder;
  EXPECT_NE(line_with(out, "  planner ").find("1000"), std::string::npos) << out;
  // Per model: big = planner + reviewer.
  auto big = line_with(out, "  big ");
  EXPECT_NE(big.find("1800"), std::string::npos) << big;
  EXPECT_NE(big.find("$0.0150"), std::string::npos) << big;
  EXPECT_NE(line_with(out, "  total ").find(total_cost), std::string::npos) << out;
}

TEST_F(InspectStatus, JsonHasTheSameContent) {
  auto r = codehive(with_store({"status", f_.done_run, "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto d = parse(r.output);
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(std::string{d["id"].GetString()}, f_.done_run);
  EXPECT_EQ(std::string{d["state"].GetString()}, "done");
  ASSERT_TRUE(d["exit_code"].IsInt());
  EXPECT_EQ(d["exit_code"].GetInt(), 1);
  EXPECT_EQ(std::string{d["out_dir"].GetString()}, f_.out_dir);
  ASSERT_EQ(d["tasks"].Size(), 3u);
  EXPECT_EQ(std::string{d["tasks"][1]["id"].GetString()}, "app");
  EXPECT_EQ(d["tasks"][1]["attempts"].GetInt(), 2);
  EXPECT_EQ(std::string{d["tasks"][2]["state"].GetString()}, "failed");
  EXPECT_EQ(std::string{d["tasks"][2]["last_error_code"].GetString()}, "timeout");
  ASSERT_EQ(d["fixes"].Size(), 1u);
  EXPECT_EQ(std::string{d["fixes"][0]["id"].GetString()}, "fix:1:1");
  ASSERT_EQ(d["rounds"].Size(), 1u);
  EXPECT_EQ(d["rounds"][0]["findings"].GetUint64(), 2u);
  EXPECT_EQ(std::string{d["rounds"][0]["issues"][0]["file"].GetString()}, "js/app.js");
  EXPECT_EQ(d["files"].GetUint64(), 2u);
  const auto& coder = d["usage_by_role"]["coder"];
  EXPECT_EQ(coder["calls"].GetUint64(), 3u);
  EXPECT_EQ(coder["failed_calls"].GetUint64(), 1u);
  EXPECT_EQ(coder["prompt_tokens"].GetInt64(), 1500);
  EXPECT_EQ(coder["completion_tokens"].GetInt64(), 600);
  EXPECT_EQ(d["usage_by_model"]["big"]["prompt_tokens"].GetInt64(), 1800);
  EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt64() + d["usage"]["completion_tokens"].GetInt64(),
            total_tokens);
}

TEST_F(InspectStatus, UnknownRunExits2) {
  auto r = codehive(with_store({"status", "20990101-000000-beef"}));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no run 20990101-000000-beef in " + store_dir().string()),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("codehive runs"), std::string::npos) << r.output;
}

// -- fsck ------------------------------------------------------------------------

using InspectFsck = InspectFixture;

TEST_F(InspectFsck, CleanStoreExits0) {
  auto r = codehive(with_store({"fsck"}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(f_.done_run + ": clean"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(f_.running_run + ": clean"), std::string::npos) << r.output;
  auto one = codehive(with_store({"fsck", f_.done_run}));
  EXPECT_EQ(one.exit_code, 0) << one.output;
  EXPECT_EQ(one.output.find(f_.running_run), std::string::npos) << "only the run asked for";
}

TEST_F(InspectFsck, MissingBlobOfADoneTaskExits1) {
  // The blob index.html's version (and the done task "page") point at.
  raw_delete(store_dir(), "files", std::string{"b"} + '\0' + store::sha256_hex(index_html));
  auto r = codehive(with_store({"fsck"}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("dangling_blob"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(f_.done_run + ": "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("problem(s)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(f_.running_run + ": clean"), std::string::npos) << r.output;
}

TEST_F(InspectFsck, UnknownRunExits2) {
  auto r = codehive(with_store({"fsck", "20990101-000000-beef"}));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no run 20990101-000000-beef"), std::string::npos) << r.output;
}

// -- export ----------------------------------------------------------------------

using InspectExport = InspectFixture;

TEST_F(InspectExport, WritesTheFilesAndTheFourExports) {
  auto out = tmp_ / "export";
  auto r = codehive(with_store({"export", f_.done_run, "--out", out.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("exported 2 files to " + out.string()), std::string::npos) << r.output;
  EXPECT_EQ(read_file(out / "index.html"), index_html);
  EXPECT_EQ(read_file(out / "js/app.js"), app_js_v2) << "the current version";
  EXPECT_FALSE(fs::exists(out / "notes.txt")) << "deleted files are not exported";
  EXPECT_FALSE(fs::exists(out / "css/style.css")) << "a failed task has no file";
  for (const char* name : {"tasks.json", "code_review.json", "file_tracker.json", "status.json"}) {
    auto text = read_file(out / "generated_files" / name);
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    EXPECT_FALSE(d.HasParseError()) << name << ": " << text;
  }
}

TEST_F(InspectExport, RefusesANonEmptyFolder) {
  auto out = tmp_ / "busy";
  fs::create_directories(out);
  std::ofstream(out / "mine.txt") << "keep me\n";
  auto r = codehive(with_store({"export", f_.done_run, "--out", out.string()}));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("not empty"), std::string::npos) << r.output;
  auto left = folder_contents(out);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left["mine.txt"], "keep me\n");
}

TEST_F(InspectExport, UnknownRunWritesNothing) {
  auto out = tmp_ / "export";
  auto r = codehive(with_store({"export", "20990101-000000-beef", "--out", out.string()}));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no run 20990101-000000-beef"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
}

// -- stores that cannot be read ------------------------------------------------

/// Runs every inspection command on `dir`; each must exit 2 with `message` and
/// leave the folder as it was.
void expect_refused(const fs::path& dir, const std::string& message, const std::string& run = "x") {
  auto before = folder_contents(dir);
  std::vector<std::vector<std::string>> commands{
      {"runs"}, {"runs", "--json"}, {"status", run}, {"fsck"}, {"fsck", run}};
  for (auto args : commands) {
    args.push_back("--store");
    args.push_back(dir.string());
    auto r = codehive(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << args[0] << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
  EXPECT_EQ(folder_contents(dir), before) << "the folder was modified";
}

TEST(InspectStore, MissingFolder) {
  temp_dir tmp{"codehive-inspect"};
  auto dir = tmp / "nowhere";
  expect_refused(dir, "no store at " + dir.string());
  EXPECT_FALSE(fs::exists(dir)) << "inspection never creates a store";
}

TEST(InspectStore, EmptyFolder) {
  temp_dir tmp{"codehive-inspect"};
  fs::create_directories(tmp / "empty");
  expect_refused(tmp / "empty", "no codehive store at");
  EXPECT_TRUE(fs::is_empty(tmp / "empty"));
}

TEST(InspectStore, ForeignFolder) {
  temp_dir tmp{"codehive-inspect"};
  tmp.write("photos/holiday.txt", "not a store\n");
  expect_refused(tmp / "photos", "not a codehive store");
}

TEST(InspectStore, CurrentMissing) {
  temp_dir tmp{"codehive-inspect"};
  auto f = make_fixture(tmp / "store");
  fs::remove(tmp / "store" / "CURRENT");
  expect_refused(tmp / "store", "CURRENT is missing", f.done_run);
}

TEST(InspectStore, ManifestTruncated) {
  temp_dir tmp{"codehive-inspect"};
  auto f = make_fixture(tmp / "store");
  bool truncated = false;
  for (const auto& e : fs::directory_iterator(tmp / "store"))
    if (e.path().filename().string().starts_with("MANIFEST-")) {
      fs::resize_file(e.path(), fs::file_size(e.path()) / 2);
      truncated = true;
    }
  ASSERT_TRUE(truncated);
  expect_refused(tmp / "store", "corrupt", f.done_run);
}

TEST(InspectStore, SstTruncated) {
  temp_dir tmp{"codehive-inspect"};
  auto f = make_fixture(tmp / "store");
  {
    auto s = open_writable(tmp / "store");
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->flush());
  }
  int truncated = 0;
  for (const auto& e : fs::directory_iterator(tmp / "store"))
    if (e.path().extension() == ".sst") {
      fs::resize_file(e.path(), fs::file_size(e.path()) / 2);
      ++truncated;
    }
  ASSERT_GT(truncated, 0);
  expect_refused(tmp / "store", "corrupt", f.done_run);
}

TEST(InspectStore, NewerSchema) {
  temp_dir tmp{"codehive-inspect"};
  auto f = make_fixture(tmp / "store");
  raw_replace(tmp / "store", "meta", "schema", R"("schema_version":1)", R"("schema_version":7)");
  expect_refused(tmp / "store", "newer than this codehive understands", f.done_run);
}

TEST(InspectStore, NewerRunRecord) {
  temp_dir tmp{"codehive-inspect"};
  auto f = make_fixture(tmp / "store");
  raw_replace(tmp / "store", "runs", f.done_run, R"({"v":1,)", R"({"v":2,)");
  expect_refused(tmp / "store", "upgrade codehive", f.done_run);
}

std::string slurp_file(const fs::path& p) {
  return codehive::test::read_whole_file(p);
}

/// `codehive run` with `tmp`/store as its store and `tmp`/out as its output (models no one
/// serves: a store it refuses stops it first).
process_result run_into(const temp_dir& tmp) {
  return run_codehive(
    {"run", "a todo list", "--out", (tmp / "out").string(), "--store", (tmp / "store").string(),
     "--planner", "openai://127.0.0.1:9/v1/m", "--coder", "openai://127.0.0.1:9/v1/m"},
    60000);
}

// Issue 16: a marker written by a newer codehive refuses the store for every
// command, `run` included, before anything is written.
TEST(InspectStore, NewerSchemaInTheMarker) {
  temp_dir tmp{"codehive-inspect"};
  auto f = make_fixture(tmp / "store");
  auto marker = slurp_file(tmp / "store" / "CODEHIVE_STORE");
  auto at = marker.find(R"("schema_version":1)");
  ASSERT_NE(at, std::string::npos) << marker;
  marker.replace(at, 18, R"("schema_version":99)");
  {
    std::ofstream out(tmp / "store" / "CODEHIVE_STORE", std::ios::binary | std::ios::trunc);
    out << marker;
  }
  expect_refused(tmp / "store", "schema version 99", f.done_run);
  auto before = folder_contents(tmp / "store");
  auto r = run_into(tmp);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("schema version 99"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("upgrade codehive"), std::string::npos) << r.output;
  EXPECT_EQ(folder_contents(tmp / "store"), before) << "run changed a store it refused";
}

// Issue 16: a write-ahead log cut short after its writes were acknowledged is
// reported (exit 2 naming the loss), not recovered to an earlier point.
TEST(InspectStore, TruncatedWalLostAcknowledgedWrites) {
  temp_dir tmp{"codehive-inspect"};
  auto f = make_fixture(tmp / "store");
  {
    auto s = open_writable(tmp / "store");  // reopening flushed the fixture into an SST
    ASSERT_TRUE(s);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(s->create_run("run " + std::to_string(i), "{}"));
  }
  fs::path wal;
  for (const auto& e : fs::directory_iterator(tmp / "store"))
    if (e.path().extension() == ".log" && (wal.empty() || e.file_size() > fs::file_size(wal)))
      wal = e.path();
  ASSERT_FALSE(wal.empty());
  ASSERT_GT(fs::file_size(wal), 1000u);
  fs::resize_file(wal, fs::file_size(wal) / 2);
  expect_refused(tmp / "store", "acknowledged writes are missing", f.done_run);
}

// Issue 16: fsck reads RocksDB's OPTIONS files too (a garbage one was "clean").
TEST_F(InspectFsck, GarbageOptionsFileExits1) {
  int planted = 0;
  for (const auto& e : fs::directory_iterator(store_dir()))
    if (e.path().filename().string().rfind("OPTIONS-", 0) == 0 && e.path().extension() != ".dbtmp") {
      std::ofstream out(e.path(), std::ios::binary | std::ios::trunc);
      out << "garbage [[[ not options\n";
      ++planted;
    }
  ASSERT_GT(planted, 0);
  auto r = codehive(with_store({"fsck", f_.done_run}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("options"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("OPTIONS-"), std::string::npos) << "the file is named: " << r.output;
}

TEST(InspectStore, SecondWriterIsRefused) {
  temp_dir tmp{"codehive-inspect"};
  auto holder = open_writable(tmp / "store");
  ASSERT_TRUE(holder);
  auto r = run_into(tmp);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("in use"), std::string::npos) << r.output;
}

}  // namespace
