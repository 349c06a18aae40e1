#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "llm/structured.hpp"

using namespace codehive::llm;

namespace {

std::string schema_file(const std::string& name) {
  std::ifstream in(std::string(CODEHIVE_SOURCE_DIR) + "/configs/schemas/" + name);
  EXPECT_TRUE(in) << "cannot read configs/schemas/" << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_valid(const std::string& schema, std::string_view json) {
  auto st = validate_json(json, schema);
  EXPECT_TRUE(st) << json << "\n" << (st ? "" : st.err().describe());
}

/// Expects a schema mismatch whose message contains every part.
void expect_mismatch(const std::string& schema, std::string_view json, std::initializer_list<std::string_view> parts) {
  auto st = validate_json(json, schema);
  ASSERT_FALSE(st) << "accepted: " << json;
  EXPECT_EQ(st.err().code, errc::schema_mismatch) << st.err().describe();
  for (auto p : parts) EXPECT_NE(st.err().message.find(p), std::string::npos) << "missing '" << p << "' in: " << st.err().message;
}

const char* kTask =
    R"({"id":"t1","action":"create","type":"file","path":"index.html","description":"page","instructions":"write it"})";

}  // namespace

TEST(ValidatePlan, Good) {
  auto plan = schema_file("plan.json");
  expect_valid(plan, std::string(R"({"tasks":[)") + kTask + "]}");
  expect_valid(plan, R"({"tasks":[{"id":"t2","action":"update","type":"file","path":"a.js","description":"","instructions":"",
      "depends_on":["t1"],"context_paths":["index.html"],"edit":"search_replace"}]})");
}

TEST(ValidatePlan, Bad) {
  auto plan = schema_file("plan.json");
  expect_mismatch(plan, R"({"tasks":[{"id":"t1","action":"remove","type":"file","path":"a","description":"","instructions":""}]})",
                  {"at /tasks/0/action: value not in enum", "\"remove\"", "\"create\"", "#/properties/tasks/items/properties/action"});
  expect_mismatch(plan, R"({"tasks":[{"id":"t1","type":"file","path":"a","description":"","instructions":""}]})",
                  {"at /tasks/0:", "missing required property \"action\"", "keyword 'required'"});
  expect_mismatch(plan, R"({"tasks":[]})", {"at /tasks:", "minItems"});
  expect_mismatch(plan, R"({"tasks":[{"id":"t1","action":"create","type":"file","path":"a","description":"","instructions":"","owner":"me"}]})",
                  {"not allowed \"owner\"", "additionalProperties"});
  expect_mismatch(plan, R"({})", {"at /:", "missing required property \"tasks\""});
  expect_mismatch(plan, std::string(R"({"tasks":[)") + kTask + R"(],"plan":[]})", {"not allowed \"plan\"", "(allowed: tasks)"});
  expect_mismatch(plan, R"([])", {"at /:", "expected object, got array"});
  expect_mismatch(plan, R"({"tasks":[{"id":"","action":"create","type":"file","path":"a","description":"","instructions":""}]})",
                  {"at /tasks/0/id:", "minLength"});
  expect_mismatch(plan, R"({"tasks":[{"id":"t","action":"create","type":"file","path":"a","description":"","instructions":"","depends_on":[1]}]})",
                  {"at /tasks/0/depends_on/0:", "expected string"});
}

TEST(ValidateEdit, GoodAndBad) {
  auto edit = schema_file("edit.json");
  expect_valid(edit, R"({"kind":"whole","content":"<html></html>","summary":"page"})");
  expect_valid(edit, R"({"kind":"html_section","section":"body","content":"<p>x</p>"})");
  expect_valid(edit, R"({"kind":"search_replace","blocks":[{"search":"a","replace":"b"}]})");
  expect_mismatch(edit, R"({"kind":"patch"})", {"at /kind:", "value not in enum"});
  expect_mismatch(edit, R"({"content":"x"})", {"missing required property \"kind\""});
  expect_mismatch(edit, R"({"kind":"html_section","section":"footer","content":""})", {"at /section:"});
  expect_mismatch(edit, R"({"kind":"search_replace","blocks":[{"search":"","replace":"b"}]})",
                  {"at /blocks/0/search:", "minLength"});
  expect_mismatch(edit, R"({"kind":"search_replace","blocks":[{"search":"a"}]})",
                  {"at /blocks/0:", "missing required property \"replace\""});
}

TEST(ValidateReview, GoodAndBad) {
  auto review = schema_file("review.json");
  expect_valid(review, R"({"issues":[]})");
  expect_valid(review, R"({"issues":[{"file":"app.js","problem":"undefined f","instructions":"define f","edit":"whole"}]})");
  expect_mismatch(review, R"({"issues":[{"file":"app.js","problem":"p"}]})", {"missing required property \"instructions\""});
  expect_mismatch(review, R"({"issues":[{"file":"","problem":"p","instructions":"i"}]})", {"at /issues/0/file:"});
  expect_mismatch(review, R"({"issues":{}})", {"at /issues:", "expected array, got object"});
  expect_mismatch(review, R"({"issues":[],"verdict":"ok"})", {"not allowed \"verdict\""});
}

TEST(ValidateSummary, GoodAndBad) {
  auto summary = schema_file("summary.json");
  expect_valid(summary, R"({"summary":"The page's layout."})");
  expect_mismatch(summary, R"({"summary":""})", {"at /summary:", "minLength"});
  expect_mismatch(summary, "{\"summary\":\"" + std::string(301, 'x') + "\"}", {"maxLength 300"});
  expect_mismatch(summary, R"({"summary":42})", {"expected string, got integer"});
}

TEST(ValidateJson, UnparsableJsonIsBadJson) {
  auto st = validate_json(R"({"summary": "x",})", schema_file("summary.json"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, errc::bad_json);
  EXPECT_NE(st.err().message.find("JSON parse error at offset 16"), std::string::npos) << st.err().message;
}

TEST(ValidateJson, BrokenSchemaIsBadConfig) {
  auto st = validate_json("{}", R"({"type": )");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, errc::bad_config);
  auto not_object = validate_json("{}", "[]");
  ASSERT_FALSE(not_object);
  EXPECT_EQ(not_object.err().code, errc::bad_config);
}

TEST(ValidateJson, DeeplyNestedDocumentIsRefusedNotCrashed) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto st = validate_json(deep, R"({"type":"array"})");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, errc::bad_json);
  EXPECT_NE(st.err().message.find("nested 100000 levels deep"), std::string::npos) << st.err().message;
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(10000, '}');
  EXPECT_FALSE(validate_json(objects, schema_file("plan.json")));
  std::string nested_ok = std::string(300, '[') + "\"[{\"" + std::string(300, ']');
  EXPECT_TRUE(validate_json(nested_ok, R"({"type":"array"})"));
}

TEST(ValidateJson, ConcurrentCallsShareTheCachedSchema) {
  const std::string plan = schema_file("plan.json");
  const std::string good = std::string(R"({"tasks":[)") + kTask + "]}";
  const std::string bad = R"({"tasks":[]})";
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      // a fresh schema text per thread too, so compiling races with lookups
      std::string own = plan + std::string(static_cast<std::size_t>(t), ' ');
      for (int i = 0; i < 200; ++i) {
        if (!validate_json(good, i % 2 ? plan : own)) ++wrong;
        if (validate_json(bad, i % 2 ? own : plan)) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}
