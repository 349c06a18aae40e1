// `codehive run` as a real process against llm-sim: a small project of four
// files with dependencies, a review that finds one issue and then is clean,
// a garbage answer that is asked again, and the exit codes for an
// unreachable server and an exhausted budget.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <rapidjson/document.h>

#include "tests/cli/process.hpp"
#include "tests/support/configs.hpp"
#include "tests/support/sim_process.hpp"

using namespace codehive::test;

namespace {

const std::string plan_rule = R"json(
  {"name":"plan","match":{"role":"planner"},"response":{"json":{"tasks":[
    {"id":"style","action":"create","type":"file","path":"css/style.css","description":"styles",
     "instructions":"Style the button with class greet."},
    {"id":"util","action":"create","type":"file","path":"js/util.js","description":"helpers",
     "instructions":"Define function shout(text) returning text + '!'."},
    {"id":"app","action":"create","type":"file","path":"js/app.js","description":"the app",
     "instructions":"Define function greet() that alerts shout('Hello').","depends_on":["util"]},
    {"id":"page","action":"create","type":"file","path":"index.html","description":"the page",
     "instructions":"Link css/style.css, js/util.js, js/app.js; a button onclick greet().",
     "depends_on":["style","app"],"context_paths":["js/util.js"]}]}}})json";

const std::string coder_rules = R"json(
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
   "response":{"json":{"kind":"search_replace","blocks":[{"search":"shout('Helo')","replace":"shout('Hello')"}]}}})json";

const std::string util_good = R"json(
  {"kind":"whole","content":"function shout(text) {\n  return text + '!';\n}\n"})json";

/// The scenario with `util_rules` (one or more rules) answering the coder of js/util.js.
std::string scenario_rules(const std::string& util_rules) {
  return R"json({"models":["small","big"],"latency":{"ttft_ms":5,"tokens_per_s":100000},"rules":[)json"
         + plan_rule + "," + util_rules + "," + coder_rules + "]}";
}

std::string scenario(const std::string& util_responses) {
  return scenario_rules(R"json({"name":"util","match":{"role":"coder","path":"js/util.js"},"responses":[)json"
                        + util_responses + "]}");
}

/// Replaces the reviewer's answers.
std::string with_reviews(std::string s, const std::string& responses) {
  auto at = s.find(R"json({"name":"review")json");
  auto end = s.find(R"json({"name":"fix")json");
  return s.replace(at, end - at,
                   R"json({"name":"review","match":{"role":"reviewer"},"responses":[)json" + responses
                     + "]},\n");
}

/// Adds a fixer for css/style.css whose whole answer colours .greet `color`.
std::string with_css_fixer(std::string s, const std::string& color) {
  return s.insert(s.find(R"json({"name":"fix")json"),
                  R"json({"name":"fix css","match":{"role":"fixer","path":"css/style.css"},
             "response":{"json":{"kind":"whole","content":".greet { color: )json"
                    + color + R"json(; }\n"}}},)json");
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

struct run_fixture : ::testing::Test {
  temp_dir dir{"codehive-cli"};
  std::filesystem::path out = dir / "out";

  std::vector<std::string> args(const sim_process& sim, std::vector<std::string> extra = {},
                                int coders = 2) {
    auto port = std::to_string(sim.port());
    std::vector<std::string> a{"run",       "a greeter page",
                               "--out",     out.string(),
                               "--config",  write_plain_config(dir.path()),
                               "--planner", "openai://127.0.0.1:" + port + "/v1/big",
                               "--coder",   "ollama://127.0.0.1:" + port + "/small",
                               "--coders",  std::to_string(coders)};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

}  // namespace

using RunCommand = run_fixture;

TEST_F(RunCommand, BuildsTheProjectReviewsFixesAndExports) {
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
  // Run ids are the store's: UTC creation time plus 4 hex digits.
  EXPECT_TRUE(std::regex_match(std::string{status["run_id"].GetString()},
                               std::regex{"[0-9]{8}-[0-9]{6}-[0-9a-f]{4}"}))
    << status["run_id"].GetString();
  for (const char* role : {"planner", "coder", "reviewer", "fixer", "summarizer"})
    EXPECT_TRUE(status["usage"].HasMember(role)) << role;
  EXPECT_GT(status["total_tokens"].GetInt64(), 0);
  ASSERT_EQ(status["tasks"].Size(), 4u);
  EXPECT_TRUE(status["tasks"][0].HasMember("duration_ms"));
  ASSERT_EQ(status["validation"].Size(), 2u);
  EXPECT_EQ(status["validation"][1]["issues"].GetInt(), 0);

  // The final summary: files written, tokens and cost per role, time per
  // phase (in the order the run entered them; the fix round makes six).
  EXPECT_TRUE(std::regex_search(r.output, std::regex{"\n  files: 4 written, 0 deleted\n"}))
    << r.output;
  for (const char* role : {"planner", "coder", "reviewer", "fixer", "summarizer", "total"})
    EXPECT_TRUE(std::regex_search(
      r.output, std::regex{std::string{"\\n  "} + role + " +[0-9 ]*(call\\(s\\))? +[0-9]+ tokens  \\$[0-9.]+\\n"}))
      << role << " in\n" << r.output;
  const std::string secs = " [0-9]+\\.[0-9] s";
  EXPECT_TRUE(std::regex_search(r.output, std::regex{"\\n  time: starting" + secs + ", planning" + secs
                                                     + ", coding" + secs + ", validating" + secs
                                                     + ", reviewing" + secs + ", fixing" + secs + "\\n"}))
    << r.output;
}

TEST_F(RunCommand, GarbageAnswerIsAskedAgainAndTheRunCompletes) {
  auto sim = sim_process::start(
    scenario(R"json({"content":"Sure! Here is the file you asked for, hope it helps."},{"json":)json" + util_good + "}"));
  auto r = run_codehive(args(sim, {}, 4));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(sim.count_role_path("coder", "js/util.js"), 2);
  EXPECT_EQ(sim.count_role_path("coder", "js/app.js"), 1);
  EXPECT_NE(slurp(out / "js/util.js").find("function shout"), std::string::npos);
}

TEST_F(RunCommand, AnUnusablePlanIsAskedAgainWithTheReason) {
  // First plan has a cycle; the second is fine.
  auto s = scenario("{\"json\":" + util_good + "}");
  auto cyclic = R"json({"name":"cyclic","match":{"role":"planner","prompt_regex":"^((?!refused)[\\s\\S])*$"},
    "response":{"json":{"tasks":[
      {"id":"a","action":"create","type":"file","path":"a.js","description":"a","instructions":"a","depends_on":["b"]},
      {"id":"b","action":"create","type":"file","path":"b.js","description":"b","instructions":"b","depends_on":["a"]}]}}},)json";
  s.insert(s.find("\"rules\":[") + 9, cyclic);
  auto sim = sim_process::start(s);
  auto r = run_codehive(args(sim));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(sim.count_rule("cyclic"), 1);
  EXPECT_EQ(sim.count_rule("plan"), 1);
  EXPECT_FALSE(std::filesystem::exists(out / "a.js"));
}

TEST_F(RunCommand, UnreachableModelServerIsExit3) {
  auto r = run_codehive({"run", "x", "--out", out.string(), "--config",
                         write_plain_config(dir.path()), "--planner", "ollama://127.0.0.1:1/big",
                         "--coder", "ollama://127.0.0.1:1/small"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  // Even a failed run leaves its status behind.
  auto status = json_file(out / "generated_files/status.json");
  EXPECT_STREQ(status["state"].GetString(), "model_failure");
}

TEST_F(RunCommand, TokenBudgetIsExit4) {
  auto sim = sim_process::start(scenario("{\"json\":" + util_good + "}"));
  auto r = run_codehive(args(sim, {"--max-tokens", "20"}));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_EQ(sim.count_role("reviewer"), 0);
  auto status = json_file(out / "generated_files/status.json");
  EXPECT_STREQ(status["state"].GetString(), "budget");
}

TEST_F(RunCommand, CostBudgetFromThePriceTableIsExit4) {
  auto sim = sim_process::start(scenario("{\"json\":" + util_good + "}"));
  // The config's price table prices the planner's model "big" (its endpoint
  // names no price): the plan alone costs more than the budget.
  dir.write("priced.json",
            plain_config_json(
              ",\"prices\":{\"big\":{\"prompt_per_mtok\":100000,\"completion_per_mtok\":100000}}"));
  auto a = args(sim, {"--max-cost", "0.01"});
  for (std::size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == "--config")
      a[i + 1] = (dir / "priced.json").string();
  auto r = run_codehive(a);
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("cost budget exceeded"), std::string::npos) << r.output;
  EXPECT_EQ(sim.count_role("coder"), 0);  // stopped after the plan
  auto status = json_file(out / "generated_files/status.json");
  EXPECT_STREQ(status["state"].GetString(), "budget");
  EXPECT_GT(status["total_cost_usd"].GetDouble(), 0.01);
}

TEST_F(RunCommand, TimeBudgetIsExit4) {
  auto s = scenario("{\"json\":" + util_good + "}");
  // The planner takes 20 s to answer; the run may take 1 s.
  s.insert(s.find("\"match\":{\"role\":\"planner\"}"), R"json("latency":{"ttft_ms":20000,"tokens_per_s":1000},)json");
  auto sim = sim_process::start(s);
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_codehive(args(sim, {"--max-time", "1"}));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
}

TEST_F(RunCommand, AFailingTaskIsRetriedThenEscalatedToTheLargeModel) {
  // The small model never answers usably for js/util.js; the large one does.
  auto sim = sim_process::start(scenario_rules(R"json(
    {"name":"util large","match":{"role":"coder","path":"js/util.js","api":"openai"},
     "response":{"json":)json" + util_good + R"json(}},
    {"name":"util small","match":{"role":"coder","path":"js/util.js","api":"ollama"},
     "response":{"content":"no idea"}})json"));
  auto r = run_codehive(args(sim));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // 2 attempts on small coders x 3 answers each (edit_attempts), then 1 large.
  EXPECT_EQ(sim.count_rule("util small"), 6);
  EXPECT_EQ(sim.count_rule("util large"), 1);
  EXPECT_EQ(sim.count_role_path("coder", "js/app.js"), 1);
  auto status = json_file(out / "generated_files/status.json");
  bool escalated = false;
  for (const auto& t : status["tasks"].GetArray())
    if (std::string{t["path"].GetString()} == "js/util.js") {
      escalated = t["escalated"].GetBool();
      EXPECT_EQ(t["attempts"].GetInt(), 3);
    }
  EXPECT_TRUE(escalated);
  EXPECT_TRUE(status["usage"].HasMember("coder_escalated"));
}

TEST_F(RunCommand, ATaskNoModelCanDoIsReportedAsUnresolved) {
  auto sim = sim_process::start(with_reviews(
    scenario_rules(R"json({"name":"util","match":{"role":"coder","path":"js/util.js"},
       "response":{"content":"no idea"}})json"),
    R"json({"json":{"issues":[]}})json"));
  auto r = run_codehive(args(sim));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // util failed; app (depends on util) and page (depends on app) were skipped.
  EXPECT_FALSE(std::filesystem::exists(out / "js/util.js"));
  EXPECT_FALSE(std::filesystem::exists(out / "js/app.js"));
  EXPECT_TRUE(std::filesystem::exists(out / "css/style.css"));
  EXPECT_EQ(sim.count_role_path("coder", "js/app.js"), 0);
  auto tasks = json_file(out / "generated_files/tasks.json");
  std::map<std::string, std::string> state;
  for (const auto& t : tasks.GetArray())
    state[t["path"].GetString()] = t["state"].GetString();
  EXPECT_EQ(state["js/util.js"], "failed");
  EXPECT_EQ(state["js/app.js"], "skipped");
  EXPECT_EQ(state["index.html"], "skipped");
  EXPECT_EQ(state["css/style.css"], "done");
}

TEST_F(RunCommand, TheSameIssueComingBackTwiceStopsTheLoop) {
  // The reviewer repeats one issue forever; the fixer's edit never helps.
  auto s = with_reviews(scenario("{\"json\":" + util_good + "}"),
                        R"json({"json":{"issues":[{"file":"css/style.css","problem":"too blue","instructions":"1. make it red"}]}})json");
  auto sim = sim_process::start(with_css_fixer(s, "blue"));
  auto r = run_codehive(args(sim, {"--max-rounds", "10"}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("came back unchanged"), std::string::npos) << r.output;
  // Reported three times (first, then back twice): two fixes, no third.
  EXPECT_EQ(sim.count_role("reviewer"), 3);
  EXPECT_EQ(sim.count_role_path("fixer", "css/style.css"), 2);
  auto review = json_file(out / "generated_files/code_review.json");
  EXPECT_EQ(review.Size(), 3u);
}

TEST_F(RunCommand, MaxRoundsBoundsTheFixRounds) {
  auto s = with_reviews(scenario("{\"json\":" + util_good + "}"),
                        R"json({"json":{"issues":[{"file":"css/style.css","problem":"too blue","instructions":"1. make it red"}]}},
                               {"json":{"issues":[{"file":"css/style.css","problem":"still too blue","instructions":"1. make it red"}]}})json");
  auto sim = sim_process::start(with_css_fixer(s, "red"));
  auto r = run_codehive(args(sim, {"--max-rounds", "1"}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(sim.count_role("reviewer"), 2);
  EXPECT_EQ(sim.count_role("fixer"), 1);
  EXPECT_NE(std::filesystem::exists(out / "css/style.css"), false);
  auto status = json_file(out / "generated_files/status.json");
  EXPECT_STREQ(status["state"].GetString(), "unresolved");
}

TEST_F(RunCommand, ABadConfigIsExit2) {
  dir.write("bad.json", R"json({"run":{"coders":"four"}})json");
  auto r = run_codehive({"run", "x", "--out", out.string(), "--config", (dir / "bad.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("coders"), std::string::npos) << r.output;
  dir.write("broken.json", "{ not json");
  r = run_codehive({"run", "x", "--out", out.string(), "--config", (dir / "broken.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  dir.write("spec.json", R"json({"coder_model":{"spec":"gopher://x"}})json");
  r = run_codehive({"run", "x", "--out", out.string(), "--config", (dir / "spec.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
}
