#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "llm/structured.hpp"

using namespace codehive::llm;

namespace {

std::string ok(std::string_view reply) {
  auto r = extract_json(reply);
  EXPECT_TRUE(r) << "reply: " << reply.substr(0, 200) << "\nerror: " << (r ? "" : r.err().describe());
  return r ? *r : std::string("<error>");
}

std::string fails(std::string_view reply) {
  auto r = extract_json(reply);
  EXPECT_FALSE(r) << "reply: " << reply.substr(0, 200) << "\nextracted: " << (r ? r->substr(0, 200) : "");
  if (r) return {};
  EXPECT_EQ(r.err().code, errc::bad_json);
  return r.err().message;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

/// `reply` is refused with a message that says each of `parts`.
void expect_refused_saying(std::string_view reply, std::initializer_list<std::string_view> parts) {
  const auto m = fails(reply);
  for (auto part : parts)
    EXPECT_TRUE(contains(m, part)) << m;
}

}  // namespace

TEST(ExtractJson, BareObject) { EXPECT_EQ(ok(R"({"a":1})"), R"({"a":1})"); }

TEST(ExtractJson, ObjectWithLeadingAndTrailingProse) {
  EXPECT_EQ(ok("Sure! Here is the plan:\n{\"tasks\": []}\nLet me know if you need more."), R"({"tasks": []})");
}

TEST(ExtractJson, JsonFence) { EXPECT_EQ(ok("Plan:\n```json\n{\"a\": [1, 2]}\n```\nDone."), R"({"a": [1, 2]})"); }

TEST(ExtractJson, PlainFence) { EXPECT_EQ(ok("```\n{\"a\": true}\n```"), R"({"a": true})"); }

TEST(ExtractJson, FenceTagIsCaseInsensitive) { EXPECT_EQ(ok("```JSON\n{\"a\": 3}\n```"), R"({"a": 3})"); }

TEST(ExtractJson, PrefersFencedBlockThatParses) {
  EXPECT_EQ(ok("I considered {\"draft\": 1} first.\n```json\n{\"final\": 2}\n```"), R"({"final": 2})");
}

TEST(ExtractJson, FencedBlockThatDoesNotParseFallsBackToOneThatDoes) {
  EXPECT_EQ(ok("```json\n{\"broken\": }\n```\nCorrected: {\"fixed\": 1}"), R"({"fixed": 1})");
}

TEST(ExtractJson, FenceWithoutClosing) { EXPECT_EQ(ok("```json\n{\"a\": 1}\n"), R"({"a": 1})"); }

TEST(ExtractJson, JsonInsideProseInsideFence) {
  EXPECT_EQ(ok("```\nThe answer is {\"a\": \"b\"} as requested.\n```"), R"({"a": "b"})");
}

TEST(ExtractJson, BackticksInsideStringsOfAFencedObject) {
  std::string reply = "```json\n{\"kind\":\"whole\",\"content\":\"# Readme\\n```bash\\nnpm i\\n```\\n\"}\n```";
  EXPECT_EQ(ok(reply), "{\"kind\":\"whole\",\"content\":\"# Readme\\n```bash\\nnpm i\\n```\\n\"}");
}

TEST(ExtractJson, SeveralObjectsFirstThatParses) {
  EXPECT_EQ(ok("{\"a\": 1,} then {'b': 2} then {\"c\": 3} and {\"d\": 4}"), R"({"c": 3})");
}

TEST(ExtractJson, SeveralObjectsNoneParsesIsMentioned) {
  expect_refused_saying("{\"a\": 1,} and {'b': 2} and {\"c\": }",
                        {"3 JSON-like objects", "none of them parsed"});
}

TEST(ExtractJson, BracesAndEscapedQuotesInsideStrings) {
  std::string json = R"({"code": "function f() { return \"}\"; }", "x": "{{{"})";
  EXPECT_EQ(ok("Here: " + json + " end }"), json);
}

TEST(ExtractJson, NestedObjects) {
  std::string json = R"({"a": {"b": {"c": [1, {"d": null}]}}})";
  EXPECT_EQ(ok("prose " + json + " prose"), json);
}

TEST(ExtractJson, ArrayWhenNoObject) {
  EXPECT_EQ(ok("The files are [\"a.js\", \"b.css\"]."), R"(["a.js", "b.css"])");
  EXPECT_EQ(ok(R"([{"a":1},{"b":2}])"), R"([{"a":1},{"b":2}])");
}

TEST(ExtractJson, ObjectPreferredOverArray) {
  EXPECT_EQ(ok("See [1] and [2]: {\"a\": 1}"), R"({"a": 1})");
}

TEST(ExtractJson, ProseBracketsAndBracesAreNotCandidates) {
  EXPECT_EQ(ok("Use a {placeholder} and a [link](x) here: {\"a\": 1}"), R"({"a": 1})");
  EXPECT_EQ(ok("Careful: { is a brace. {\"a\": 1}"), R"({"a": 1})");
}

TEST(ExtractJson, Bom) { EXPECT_EQ(ok("\xEF\xBB\xBF{\"a\":1}"), R"({"a":1})"); }

TEST(ExtractJson, ThinkBlockIsSkipped) {
  EXPECT_EQ(ok("<think>Maybe {\"tasks\": \"draft\"}? No.</think>\n{\"tasks\": []}"), R"({"tasks": []})");
  // chat templates that put <think> into the prompt: only the closing tag arrives
  EXPECT_EQ(ok("reasoning with {\"x\": 0}\n</think>\n\n{\"y\": 1}"), R"({"y": 1})");
}

TEST(ExtractJson, OnlyThinkBlockIsAnError) {
  auto m = fails("<think>I will answer {\"a\": 1}</think>");
  EXPECT_TRUE(contains(m, "no JSON object")) << m;
  EXPECT_TRUE(contains(m, "<think>")) << m;
  auto u = fails("<think>still thinking {\"a\": 1}");
  EXPECT_TRUE(contains(u, "unclosed <think>")) << u;
}

TEST(ExtractJson, TrailingCommaIsNotRepaired) {
  expect_refused_saying(R"({"tasks": [{"id": "a"},]})",
                        {"JSON parse error at offset 23", "trailing comma"});
}

TEST(ExtractJson, SingleQuotesAreNotRepaired) {
  expect_refused_saying("{'a': 'b'}", {"JSON parse error at offset 1", "double quotes"});
}

TEST(ExtractJson, RawNewlineInStringIsExplained) {
  expect_refused_saying("{\"content\": \"line1\nline2\"}", {"escaped"});
}

TEST(ExtractJson, ParseErrorOffsetIsInTheReply) {
  expect_refused_saying("Here you go: {\"a\": tru}",
                        {"JSON parse error at offset 22:", "Invalid value"});
}

TEST(ExtractJson, UnterminatedString) {
  expect_refused_saying(R"({"a": "never closed})", {"not closed"});
}

TEST(ExtractJson, TruncatedObjectIsNotReplacedByAnInnerOne) {
  expect_refused_saying(R"({"tasks": [{"id": "a", "path": "x"}, {"id": "b", "pa)",
                        {"starting at offset 0 is not closed"});
}

TEST(ExtractJson, EmptyAndWhitespace) {
  EXPECT_TRUE(contains(fails(""), "no JSON object"));
  EXPECT_TRUE(contains(fails(" \n\t \r\n"), "no JSON object"));
  EXPECT_TRUE(contains(fails("I cannot help with that."), "no JSON object"));
}

TEST(ExtractJson, DeepNestingDoesNotCrash) {
  const int depth = 10000;
  std::string arrays = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_EQ(ok(arrays).size(), arrays.size());
  std::string objects;
  for (int i = 0; i < depth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(depth, '}');
  EXPECT_EQ(ok(objects), objects);
}

TEST(ExtractJson, MegabyteOfOpenBracesIsAQuickError) {
  std::string braces(1 << 20, '{');
  EXPECT_FALSE(extract_json(braces));
  std::string brackets(1 << 20, '[');
  auto m = fails(brackets);
  EXPECT_TRUE(contains(m, "not closed")) << m;
  std::string members;
  while (members.size() < (1u << 20)) members += "{\"a\":";
  EXPECT_TRUE(contains(fails(members), "not closed"));
}

TEST(ExtractJson, ManyFailingCandidatesStayLinear) {
  std::string reply;
  while (reply.size() < (1u << 20)) reply += "{\"a\": 1,} ";
  auto m = fails(reply);
  EXPECT_TRUE(contains(m, "trailing comma")) << m;
  reply += "{\"ok\": true}";
  EXPECT_EQ(ok(reply), R"({"ok": true})");
}

TEST(ExtractJson, NulBytesAreHandled) {
  std::string reply("{\"a\": \"x\0y\"}", 12);
  EXPECT_FALSE(extract_json(reply));
  std::string after("junk\0{\"a\": 1}", 14);
  EXPECT_EQ(ok(after), R"({"a": 1})");
}

TEST(ExtractJson, InvalidUtf8IsRejected) {
  expect_refused_saying("{\"a\": \"\xC3\x28\"}", {"encoding"});
}

TEST(ExtractAndValidate, ReturnsExtractedTextOrTheFirstFailure) {
  const char* schema = R"({"type":"object","required":["summary"],"properties":{"summary":{"type":"string"}}})";
  auto good = extract_and_validate("```json\n{\"summary\": \"x\"}\n```", schema);
  ASSERT_TRUE(good) << good.err().describe();
  EXPECT_EQ(*good, R"({"summary": "x"})");
  auto bad = extract_and_validate("{\"summary\": 3}", schema);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.err().code, errc::schema_mismatch);
  auto none = extract_and_validate("no json", schema);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.err().code, errc::bad_json);
}

TEST(ExtractJson, OffsetsCountFromTheReplyAsReceived) {
  // 16 bytes of <think> block and a 3-byte BOM precede the object
  expect_refused_saying("\xEF\xBB\xBF<think>x</think>{'a':1}", {"JSON parse error at offset 20:"});
}
