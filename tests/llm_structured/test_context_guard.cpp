#include <gtest/gtest.h>

#include <string>

#include "llm/context_guard.hpp"

using namespace codehive::llm;

TEST(ContextGuard, EstimateIsCharsOverThreeRoundedUp) {
  EXPECT_EQ(estimate_tokens(""), 0);
  EXPECT_EQ(estimate_tokens("a"), 1);
  EXPECT_EQ(estimate_tokens("abc"), 1);
  EXPECT_EQ(estimate_tokens("abcd"), 2);
  EXPECT_EQ(estimate_tokens(std::string(3000, 'x')), 1000);
  EXPECT_EQ(estimate_tokens(std::string(3001, 'x')), 1001);
}

TEST(ContextGuard, NonAsciiCostsMore) {
  std::string cjk;
  for (int i = 0; i < 100; ++i) cjk += "\xE4\xB8\xAD";  // 100 x U+4E2D, 300 bytes
  std::string ascii(300, 'x');
  EXPECT_GT(estimate_tokens(cjk), estimate_tokens(ascii));
  EXPECT_GE(estimate_tokens(cjk), 100);  // at least one token per character
}

TEST(ContextGuard, PromptCountsMessagesOverheadAndSchema) {
  chat_request req;
  req.messages = {{"system", std::string(300, 's')}, {"user", std::string(600, 'u')}};
  std::int64_t base = estimate_prompt_tokens(req);
  EXPECT_GE(base, 100 + 200 + 2 * 4);
  req.messages.push_back({"user", ""});
  EXPECT_GE(estimate_prompt_tokens(req), base + 4);  // per-message overhead
  std::int64_t three = estimate_prompt_tokens(req);
  req.json_schema = std::string(3000, 'j');
  EXPECT_GE(estimate_prompt_tokens(req), three + 1000);
}

TEST(ContextGuard, BoundaryReservesMaxTokens) {
  chat_request req;
  req.messages = {{"user", std::string(3000, 'x')}};
  req.max_tokens = 500;
  std::int64_t prompt = estimate_prompt_tokens(req);
  int exact = static_cast<int>(prompt + 500);
  EXPECT_TRUE(check_context(req, exact));
  auto over = check_context(req, exact - 1);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.err().code, errc::context_overflow);
  EXPECT_FALSE(over.err().retryable());
}

TEST(ContextGuard, DefaultReserveIs1024) {
  chat_request req;
  req.messages = {{"user", "hi"}};
  std::int64_t prompt = estimate_prompt_tokens(req);
  EXPECT_TRUE(check_context(req, static_cast<int>(prompt + 1024)));
  EXPECT_FALSE(check_context(req, static_cast<int>(prompt + 1023)));
}

TEST(ContextGuard, MessageSaysEstimateWindowAndWhatToDo) {
  chat_request req;
  req.role = "coder";
  req.path = "src/app.js";
  req.messages = {{"user", std::string(30000, 'x')}};
  auto st = check_context(req, 8192);
  ASSERT_FALSE(st);
  const std::string& m = st.err().message;
  EXPECT_NE(m.find(std::to_string(estimate_prompt_tokens(req))), std::string::npos) << m;
  EXPECT_NE(m.find("8192"), std::string::npos) << m;
  EXPECT_NE(m.find("raise context_tokens for this model or send fewer context files"), std::string::npos) << m;
  EXPECT_NE(m.find("src/app.js"), std::string::npos) << m;
}
