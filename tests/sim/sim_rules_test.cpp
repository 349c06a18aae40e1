// Rule matching (role, path, prompt regex, api, model), response sequences,
// the default entry and file entries.
#include <gtest/gtest.h>

#include "tests/sim/sim_test_util.hpp"

using namespace sim_test;
using codehive::test::temp_dir;

namespace {

const char* const k_rules = R"({
  "rules": [
    {"name": "app-js-ollama", "match": {"role": "coder", "path": "js/app.js", "api": "ollama"},
     "response": {"content": "app.js via ollama"}},
    {"name": "app-js", "match": {"role": "coder", "path": "js/app.js"},
     "response": {"content": "app.js via any api"}},
    {"name": "todo", "match": {"prompt_regex": "to-?do\\s+list"},
     "response": {"content": "todo prompt"}},
    {"name": "big-model", "match": {"model": "big:70b"}, "response": {"content": "big"}},
    {"name": "coder", "match": {"role": "coder"}, "response": {"content": "any coder"}}
  ],
  "default": {"content": "default answer"}
})";

}  // namespace

TEST(SimRules, RoleAndPathAndApi) {
  auto sim = sim_process::start(k_rules);
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", false, role_headers("coder", "js/app.js")).body, false),
            "app.js via ollama");
  EXPECT_EQ(openai_content(openai_chat(sim, "x", false, role_headers("coder", "js/app.js")).body, false),
            "app.js via any api");
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", false, role_headers("coder", "index.html")).body, false),
            "any coder");
  // Path matches exactly, not as a prefix or suffix.
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", false, role_headers("coder", "js/app.jsx")).body, false),
            "any coder");
  EXPECT_EQ(sim.count_rule("app-js-ollama"), 1);
  EXPECT_EQ(sim.count_rule("app-js"), 1);
  EXPECT_EQ(sim.count_rule("coder"), 2);
}

TEST(SimRules, PromptRegexSearchesAllMessages) {
  auto sim = sim_process::start(k_rules);
  EXPECT_EQ(ollama_content(ollama_chat(sim, "Build a todo  list app", false, role_headers("planner")).body, false),
            "todo prompt");
  EXPECT_EQ(ollama_content(ollama_chat(sim, "Build a to-do list", false).body, false), "todo prompt");
  // First matching rule wins: a coder asking about a todo list hits "todo" first.
  EXPECT_EQ(ollama_content(ollama_chat(sim, "a todo list", false, role_headers("coder")).body, false),
            "todo prompt");
}

TEST(SimRules, ModelMatch) {
  auto sim = sim_process::start(k_rules);
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", false, role_headers("reviewer"), "big:70b").body, false), "big");
}

TEST(SimRules, DefaultWhenNothingMatchesAndCountsUnmatched) {
  auto sim = sim_process::start(k_rules);
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", false, role_headers("reviewer")).body, false),
            "default answer");
  EXPECT_EQ(sim.unmatched(), 1);
  EXPECT_EQ(sim.count_role("reviewer"), 1);
}

TEST(SimRules, NoDefaultIs404NoRuleMatched) {
  auto sim = sim_process::start(R"({"rules":[{"match":{"role":"planner"},"response":{"content":"p"}}]})");
  auto r = ollama_chat(sim, "x", false, role_headers("coder"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no rule matched"), std::string::npos) << r.body;
  EXPECT_EQ(sim.unmatched(), 1);
}

TEST(SimRules, SequenceAdvancesAndLastRepeats) {
  auto sim = sim_process::start(R"({"rules":[{"name":"seq","match":{"role":"coder"},"responses":[
      {"content":"first"},{"json":{"n":2}},{"content":"last"}]}]})");
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i)
    got.push_back(ollama_content(ollama_chat(sim, "x", false, role_headers("coder")).body, false));
  EXPECT_EQ(got, (std::vector<std::string>{"first", R"({"n":2})", "last", "last", "last"}));
  EXPECT_EQ(sim.count_rule("seq"), 5);
  // Reset rewinds the sequence.
  sim.reset();
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", false, role_headers("coder")).body, false), "first");
}

TEST(SimRules, SequenceIsSharedAcrossApis) {
  auto sim = sim_process::start(R"({"rules":[{"match":{"role":"coder"},"responses":[
      {"content":"one"},{"content":"two"}]}]})");
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", true, role_headers("coder")).body, true), "one");
  EXPECT_EQ(openai_content(openai_chat(sim, "x", true, role_headers("coder")).body, true), "two");
  EXPECT_EQ(sim.count_rule("rule-0"), 2);  // unnamed rules count as rule-N
}

TEST(SimRules, FileEntryRelativeToScenario) {
  temp_dir dir;
  dir.write("answers/app.js.json", R"({"path":"js/app.js","content":"console.log(1);"})");
  auto scenario = dir.write("scenario.json",
                            R"({"rules":[{"match":{"role":"coder"},"response":{"file":"answers/app.js.json"}}]})");
  auto sim = sim_process::start(scenario.string());
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", false, role_headers("coder")).body, false),
            R"({"path":"js/app.js","content":"console.log(1);"})");
}

TEST(SimRules, RuleWithoutMatchMatchesEverything) {
  auto sim = sim_process::start(R"({"rules":[{"name":"all","response":{"content":"yes"}}],
                                     "default":{"fault":"500"}})");
  EXPECT_EQ(ollama_content(ollama_chat(sim, "x", false).body, false), "yes");
  EXPECT_EQ(sim.unmatched(), 0);
}
