// The shared answer loop of the model workers (actors/model_job.hpp): which
// replies end a job, which are asked for again, and when the attempts run out.
#include <gtest/gtest.h>

#include "actors/model_job.hpp"
#include "llm/error.hpp"

namespace codehive {
namespace {

using verdict = model_verdict<int>;

// A parser of "N" answers: a number, or the reason it is not one.
parsed<int> parse_number(const std::string& answer) {
  parsed<int> p;
  if (!answer.empty() && answer.find_first_not_of("0123456789") == std::string::npos)
    p.value = std::stoi(answer);
  else
    p.error = "not a number: " + answer;
  return p;
}

msg::llm_reply answer(std::string content) {
  msg::llm_reply r;
  r.ok = true;
  r.content = std::move(content);
  return r;
}

msg::llm_reply failure(llm::errc code, std::string message) {
  msg::llm_reply r;
  r.ok = false;
  r.error_code = static_cast<std::int32_t>(code);
  r.error_message = std::move(message);
  return r;
}

TEST(ModelJob, AUsableAnswerIsDoneWithItsValue) {
  auto v = judge_reply<int>(answer("42"), 1, 3, parse_number);
  ASSERT_EQ(v.what, verdict::kind::done);
  ASSERT_TRUE(v.value);
  EXPECT_EQ(*v.value, 42);
}

TEST(ModelJob, AnUnusableAnswerIsAskedAgainWithTheParsersReason) {
  auto v = judge_reply<int>(answer("forty-two"), 1, 3, parse_number);
  EXPECT_EQ(v.what, verdict::kind::ask_again);
  EXPECT_EQ(v.reason, "not a number: forty-two");
  EXPECT_FALSE(v.value);
}

TEST(ModelJob, TheLastAttemptsUnusableAnswerFailsAsABadAnswer) {
  auto v = judge_reply<int>(answer("forty-two"), 3, 3, parse_number);
  EXPECT_EQ(v.what, verdict::kind::failed);
  EXPECT_EQ(v.code, ec::bad_answer);
  EXPECT_EQ(v.reason, "not a number: forty-two");
  // A usable answer on the last attempt is still taken.
  EXPECT_EQ(judge_reply<int>(answer("7"), 3, 3, parse_number).what, verdict::kind::done);
}

TEST(ModelJob, AnAnswerShapedCallFailureIsAskedAgainLikeAnUnusableAnswer) {
  // No JSON in the reply: the model can do better when told why.
  auto v = judge_reply<int>(failure(llm::errc::bad_json, "no JSON object"), 1, 3, parse_number);
  EXPECT_EQ(v.what, verdict::kind::ask_again);
  EXPECT_EQ(v.reason, "no JSON object");
}

TEST(ModelJob, AnUnreachableServerEndsTheJobAtOnceWhateverAttemptsAreLeft) {
  auto v = judge_reply<int>(failure(llm::errc::unreachable, "connection refused"), 1, 3,
                            parse_number);
  EXPECT_EQ(v.what, verdict::kind::failed);
  EXPECT_EQ(v.code, classify(static_cast<int>(llm::errc::unreachable)));
  EXPECT_NE(v.code, ec::bad_answer);
  EXPECT_EQ(v.reason, "connection refused");
}

TEST(ModelJob, TheParserIsNotAskedAboutAFailedCall) {
  int calls = 0;
  auto counting = [&](const std::string& a) {
    ++calls;
    return parse_number(a);
  };
  judge_reply<int>(failure(llm::errc::timeout, "timed out"), 1, 3, counting);
  EXPECT_EQ(calls, 0);
  judge_reply<int>(answer("1"), 1, 3, counting);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace codehive
