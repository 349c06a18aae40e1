#include <gtest/gtest.h>

#include <set>
#include <string>

#include "llm/error.hpp"

using namespace codehive::llm;

TEST(LlmError, EveryCodeHasAStableDistinctName) {
  const std::pair<errc, const char*> expected[] = {
      {errc::unreachable, "unreachable"},       {errc::timeout, "timeout"},
      {errc::http_status, "http_status"},       {errc::budget_refused, "budget_refused"},
      {errc::bad_json, "bad_json"},             {errc::schema_mismatch, "schema_mismatch"},
      {errc::context_overflow, "context_overflow"}, {errc::empty_answer, "empty_answer"},
      {errc::truncated, "truncated"},           {errc::model_missing, "model_missing"},
      {errc::bad_config, "bad_config"},         {errc::cancelled, "cancelled"},
  };
  std::set<std::string> seen;
  for (auto [code, name] : expected) {
    EXPECT_STREQ(to_string(code), name);
    seen.insert(to_string(code));
  }
  EXPECT_EQ(seen.size(), std::size(expected));
  EXPECT_STREQ(to_string(static_cast<errc>(999)), "unknown");
}

TEST(LlmError, RetryableOnlyForTransportFailures429And5xx) {
  auto make = [](errc c, int status = 0) {
    error e;
    e.code = c;
    e.http_status = status;
    return e;
  };
  EXPECT_TRUE(make(errc::unreachable).retryable());
  EXPECT_TRUE(make(errc::timeout).retryable());
  EXPECT_TRUE(make(errc::http_status, 429).retryable());
  EXPECT_TRUE(make(errc::http_status, 500).retryable());
  EXPECT_TRUE(make(errc::http_status, 503).retryable());
  EXPECT_FALSE(make(errc::http_status, 400).retryable());
  EXPECT_FALSE(make(errc::http_status, 401).retryable());
  EXPECT_FALSE(make(errc::http_status, 404).retryable());
  EXPECT_FALSE(make(errc::http_status, 499).retryable());
  for (errc c : {errc::budget_refused, errc::bad_json, errc::schema_mismatch, errc::context_overflow,
                 errc::empty_answer, errc::truncated, errc::model_missing, errc::bad_config, errc::cancelled})
    EXPECT_FALSE(make(c, 503).retryable()) << to_string(c);
}

TEST(LlmError, DescribeShowsCodeMessageAndStatus) {
  error e;
  e.code = errc::http_status;
  e.message = "server said no";
  e.http_status = 503;
  EXPECT_EQ(e.describe(), "http_status: server said no (HTTP 503)");
  error t;
  t.code = errc::timeout;
  t.message = "call took longer than 120000 ms";
  EXPECT_EQ(t.describe(), "timeout: call took longer than 120000 ms");
}

TEST(LlmError, ResultHoldsValueOrError) {
  result<int> ok = 5;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  error e;
  e.code = errc::cancelled;
  result<int> bad = e;
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.err().code, errc::cancelled);
}
