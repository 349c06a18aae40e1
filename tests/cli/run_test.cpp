// `codehive run` as a real process against llm-sim: a small project of four
// files with dependencies, a review that finds one issue and then is clean,
// a garbage answer that is asked again, and the exit codes for an
// unreachable server and an exhausted budget.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <rapidjson/document.h>

#include "tests/cli/process.hpp"
#include "tests/support/sim_process.hpp"

using codehive::test::run_codehive;
using codehive::test::sim_process;
using codehive::test::temp_dir;

namespace {

const std::string plan_rule = R"(
  {"name":"plan","match":{"role":"planner"},"response":{"json":{"tasks":[
    {"id":"style","action":"create","type":"file","path":"css/style.css","description":"styles",
     "instructions":"Style the button with class greet."},
    {"id":"util","action":"create","type":"file","path":"js/util.js","description":"helpers",
     "instructions":"Define function shout(text) returning text + '!'."},
    {"id":"app","action":"create","type":"file","path":"js/app.js","description":"the app",
     "instructions":"Define function greet() that alerts shout('Hello').","depends_on":["util"]},
    {"id":"page","action":"create","type":"file","path":"index.html","description":"the page",
     "instructions":"Link css/style.css, js/util.js, js/app.js; a button onclick greet().",
     "depends_on":["style","app"],"context_paths":["js/util.js"]}]}}})";

const std::string coder_rules = R"(
  {"name":"style","match":{"role":"coder","path":"css/style.css"},
   "response":{"json":{"kind":"whole","content":"/* Greeter styles */\n.greet { color: blue; }\n","summary":"styles of the greeter"}}},
  {"name":"app","match":{"role":"coder","path":"js/app.js"},
   "response":{"json":{"kind":"whole","content":"// Greeter app\nfunction greet() {\n  alert(shout('Helo'));\n}\n","summary":"greet() handler"}}},
  {"name":"page","match":{"role":"coder","path":"index.html"},
   "response":{"json":{"kind":"whole","content":"<!DOCTYPE html>\n<html><head><title>Greeter</title><link rel=\"stylesheet\" href=\"css/style.css\"></head>\n<body><button class=\"greet\" onclick=\"greet()\">Greet</button>\n<script src=\"js/util.js\"></script><script src=\"js/app.js\"></script></body></html>\n","summary":"the greeter page"}}},
  {"name":"summary","match":{"role":"summarizer","path":"js/util.js"},"response":{"json":{"summary":"text helpers (shout)"}}},
  {"name":"no summary","match":{"role":"summarizer"},"response":{"content":"I would rather not."}},
  {"name":"review","match":{"role":"reviewer"},"responses":[
    {"json":{"issues":[{"file":"js/app.js","problem":"the greeting says Helo","instructions":"1. In greet(), replace 'Helo' with 'Hello'."}]}},
    {"json":{"issues":[]}}]},
  {"name":"fix","match":{"role":"fixer","path":"js/app.js"},
   "response":{"json":{"kind":"search_replace","blocks":[{"search":"shout('Helo')","replace":"shout('Hello')"}]}}})";

const std::string util_good = R"(
  {"kind":"whole","content":"function shout(text) {\n  return text + '!';\n}\n"})";

std::string scenario(const std::string& util_responses) {
  return R"({"models":["small","big"],"latency":{"ttft_ms":5,"tokens_per_s":100000},"rules":[)"
         + plan_rule + "," + R"({"name":"util","match":{"role":"coder","path":"js/util.js"},"responses":[)"
         + util_responses + "]}," + coder_rules + "]}";
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p};
  return {std::istreambuf_iterator<char>{in}, {}};
}

rapidjson::Document json_file(const std::filesystem::path& p) {
  rapidjson::Document d;
  auto text = slurp(p);
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << p << ":\n" << text;
  return d;
}

/// A config like the default one, without the browser check (tests must not
/// depend on Chromium being installed).
std::string write_config(const temp_dir& dir) {
  std::string src = CODEHIVE_SOURCE_DIR;
  dir.write("codehive.json", R"({"validators":{"browser":false},
    "prompts_dir":")" + src + R"(/configs/prompts","schemas_dir":")" + src + R"(/configs/schemas"})");
  return (dir / "codehive.json").string();
}

struct run_fixture : ::testing::Test {
  temp_dir dir{"codehive-cli"};
  std::filesystem::path out = dir / "out";

  std::vector<std::string> args(const sim_process& sim, std::vector<std::string> extra = {}) {
    auto port = std::to_string(sim.port());
    std::vector<std::string> a{"run", "a greeter page", "--out", out.string(), "--config",
                               write_config(dir), "--planner",
                               "openai://127.0.0.1:" + port + "/v1/big", "--coder",
                               "ollama://127.0.0.1:" + port + "/small", "--coders", "2"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

}  // namespace

using Run = run_fixture;

TEST_F(Run, BuildsTheProjectReviewsFixesAndExports) {
  auto sim = sim_process::start(scenario("{\"json\":" + util_good + "}"));
  auto r = run_codehive(args(sim));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The project.
  EXPECT_NE(slurp(out / "index.html").find("onclick=\"greet()\""), std::string::npos);
  EXPECT_NE(slurp(out / "js/util.js").find("function shout"), std::string::npos);
  EXPECT_NE(slurp(out / "js/app.js").find("shout('Hello')"), std::string::npos) << "fix not applied";
  EXPECT_NE(slurp(out / "css/style.css").find(".greet"), std::string::npos);

  // Each file coded once, one plan, two reviews, one fix, one summary.
  for (const char* p : {"css/style.css", "js/util.js", "js/app.js", "index.html"})
    EXPECT_EQ(sim.count_role_path("coder", p), 1) << p;
  EXPECT_EQ(sim.count_role("planner"), 1);
  EXPECT_EQ(sim.count_role("reviewer"), 2);
  EXPECT_EQ(sim.count_role("fixer"), 1);
  EXPECT_EQ(sim.count_role_path("fixer", "js/app.js"), 1);
  // One summary per written file; the fix (a partial edit) keeps app.js's.
  for (const char* p : {"css/style.css", "js/util.js", "js/app.js", "index.html"})
    EXPECT_EQ(sim.count_role_path("summarizer", p), 1) << p;
  EXPECT_EQ(sim.unmatched(), 0);

  // The exports.
  auto gen = out / "generated_files";
  auto tasks = json_file(gen / "tasks.json");
  ASSERT_TRUE(tasks.IsArray());
  ASSERT_EQ(tasks.Size(), 4u);
  for (const auto& t : tasks.GetArray()) {
    for (const char* key : {"id", "action", "type", "path", "description", "instructions", "depends_on"})
      EXPECT_TRUE(t.HasMember(key)) << key;
    EXPECT_STREQ(t["state"].GetString(), "done");
  }
  auto review = json_file(gen / "code_review.json");
  ASSERT_TRUE(review.IsArray());
  ASSERT_EQ(review.Size(), 1u);
  EXPECT_STREQ(review[0]["file"].GetString(), "js/app.js");
  EXPECT_STREQ(review[0]["problem"].GetString(), "the greeting says Helo");
  EXPECT_TRUE(review[0].HasMember("instructions"));
  EXPECT_EQ(review[0]["round"].GetInt(), 1);
  auto tracker = json_file(gen / "file_tracker.json");
  ASSERT_TRUE(tracker.IsObject());
  for (const char* p : {"css/style.css", "js/util.js", "js/app.js", "index.html"}) {
    ASSERT_TRUE(tracker.HasMember(p)) << p;
    EXPECT_TRUE(tracker[p].HasMember("lastModified")) << p;
  }
  EXPECT_STREQ(tracker["js/util.js"]["summary"].GetString(), "text helpers (shout)");
  // The summarizer's unusable answer leaves the coder's own summary.
  EXPECT_STREQ(tracker["index.html"]["summary"].GetString(), "the greeter page");
  EXPECT_FALSE(tracker.HasMember("generated_files/status.json"));
  auto status = json_file(gen / "status.json");
  EXPECT_STREQ(status["state"].GetString(), "done");
  EXPECT_EQ(status["exit_code"].GetInt(), 0);
  EXPECT_EQ(status["rounds"].GetInt(), 2);
  EXPECT_TRUE(std::string{status["run_id"].GetString()}.rfind("run-", 0) == 0);
  for (const char* role : {"planner", "coder", "reviewer", "fixer", "summarizer"})
    EXPECT_TRUE(status["usage"].HasMember(role)) << role;
  EXPECT_GT(status["total_tokens"].GetInt64(), 0);
  ASSERT_EQ(status["tasks"].Size(), 4u);
  EXPECT_TRUE(status["tasks"][0].HasMember("duration_ms"));
  ASSERT_EQ(status["validation"].Size(), 2u);
  EXPECT_EQ(status["validation"][1]["issues"].GetInt(), 0);
}

TEST_F(Run, GarbageAnswerIsAskedAgainAndTheRunCompletes) {
  auto sim = sim_process::start(
    scenario(R"({"content":"Sure! Here is the file you asked for, hope it helps."},{"json":)" + util_good + "}"));
  auto r = run_codehive(args(sim, {"--coders", "4"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(sim.count_role_path("coder", "js/util.js"), 2);
  EXPECT_EQ(sim.count_role_path("coder", "js/app.js"), 1);
  EXPECT_NE(slurp(out / "js/util.js").find("function shout"), std::string::npos);
}

TEST_F(Run, AnUnusablePlanIsAskedAgainWithTheReason) {
  // First plan has a cycle; the second is fine.
  auto s = scenario("{\"json\":" + util_good + "}");
  auto cyclic = R"({"name":"cyclic","match":{"role":"planner","prompt_regex":"^((?!refused)[\\s\\S])*$"},
    "response":{"json":{"tasks":[
      {"id":"a","action":"create","type":"file","path":"a.js","description":"a","instructions":"a","depends_on":["b"]},
      {"id":"b","action":"create","type":"file","path":"b.js","description":"b","instructions":"b","depends_on":["a"]}]}}},)";
  s.insert(s.find("\"rules\":[") + 9, cyclic);
  auto sim = sim_process::start(s);
  auto r = run_codehive(args(sim));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(sim.count_rule("cyclic"), 1);
  EXPECT_EQ(sim.count_rule("plan"), 1);
  EXPECT_FALSE(std::filesystem::exists(out / "a.js"));
}

TEST_F(Run, UnreachableModelServerIsExit3) {
  auto r = run_codehive({"run", "x", "--out", out.string(), "--config", write_config(dir),
                         "--planner", "ollama://127.0.0.1:1/big", "--coder",
                         "ollama://127.0.0.1:1/small"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  // Even a failed run leaves its status behind.
  auto status = json_file(out / "generated_files/status.json");
  EXPECT_STREQ(status["state"].GetString(), "model_failure");
}

TEST_F(Run, TokenBudgetIsExit4) {
  auto sim = sim_process::start(scenario("{\"json\":" + util_good + "}"));
  auto r = run_codehive(args(sim, {"--max-tokens", "20"}));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_EQ(sim.count_role("reviewer"), 0);
  auto status = json_file(out / "generated_files/status.json");
  EXPECT_STREQ(status["state"].GetString(), "budget");
}

TEST_F(Run, TimeBudgetIsExit4) {
  auto s = scenario("{\"json\":" + util_good + "}");
  // The planner takes 20 s to answer; the run may take 1 s.
  s.insert(s.find("\"match\":{\"role\":\"planner\"}"), R"("latency":{"ttft_ms":20000,"tokens_per_s":1000},)");
  auto sim = sim_process::start(s);
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_codehive(args(sim, {"--max-time", "1"}));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
}
