// Our caf::error category: codes, reasons, attached usage, conversion from
// the model layer's and the workspace's errors, and rendering by a system.
#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "llm/error.hpp"
#include "messages/error.hpp"
#include "messages/setup.hpp"
#include "workspace/result.hpp"

using namespace codehive;

TEST(ErrorCategory, CarriesCodeAndReason) {
  auto e = make_error(ec::bad_answer, "no JSON object in the answer");
  EXPECT_TRUE(e);
  EXPECT_EQ(e.category(), error_category);
  EXPECT_TRUE(is(e, ec::bad_answer));
  EXPECT_FALSE(is(e, ec::bad_plan));
  EXPECT_EQ(reason_of(e), "no JSON object in the answer");
  EXPECT_EQ(describe(e), "codehive: bad_answer (no JSON object in the answer)");
  EXPECT_FALSE(is(caf::error{}, ec::bad_answer));
}

TEST(ErrorCategory, CarriesUsageOfFailedWork) {
  msg::usage u{"coder", "m", 10, 20, 5, 0.5, 2};
  auto e = make_error(ec::bad_answer, "refused", u);
  EXPECT_EQ(reason_of(e), "refused");
  EXPECT_EQ(usage_of(e), u);
  EXPECT_EQ(usage_of(make_error(ec::bad_answer, "x")), msg::usage{});
}

TEST(ErrorCategory, ClassifiesModelErrors) {
  llm::error unreachable{llm::errc::unreachable, "connection refused"};
  auto e = from_llm(unreachable);
  EXPECT_TRUE(is(e, ec::model_unreachable));
  EXPECT_NE(reason_of(e).find("connection refused"), std::string::npos);
  EXPECT_TRUE(is(from_llm(llm::error{llm::errc::timeout, "t"}), ec::model_unreachable));
  EXPECT_TRUE(is(from_llm(llm::error{llm::errc::http_status, "500"}), ec::model_failed));
  EXPECT_TRUE(is(from_llm(llm::error{llm::errc::model_missing, "x"}), ec::model_failed));
  EXPECT_TRUE(is(from_llm(llm::error{llm::errc::bad_json, "x"}), ec::bad_answer));
  EXPECT_TRUE(is(from_llm(llm::error{llm::errc::schema_mismatch, "x"}), ec::bad_answer));
  EXPECT_TRUE(is(from_llm(llm::error{llm::errc::empty_answer, "x"}), ec::bad_answer));
  EXPECT_TRUE(is(from_llm(llm::error{llm::errc::budget_refused, "x"}), ec::budget_exceeded));
  EXPECT_EQ(classify(static_cast<int>(llm::errc::truncated)), ec::bad_answer);
  EXPECT_EQ(classify(static_cast<int>(llm::errc::context_overflow)), ec::bad_answer);
}

TEST(ErrorCategory, ClassifiesWorkspaceErrors) {
  auto refused = from_ws(ws::error{ws::errc::search_not_found, "block 1: SEARCH text not found"});
  EXPECT_TRUE(is(refused, ec::edit_refused));
  EXPECT_NE(reason_of(refused).find("SEARCH text not found"), std::string::npos);
  EXPECT_TRUE(is(from_ws(ws::error{ws::errc::outside_root, "../x"}), ec::edit_refused));
  EXPECT_TRUE(is(from_ws(ws::error{ws::errc::io_error, "disk full"}), ec::io_error));
}

TEST(ErrorCategory, RenderedByTheActorSystem) {
  caf::actor_system_config cfg;
  register_messages(cfg);
  caf::actor_system sys{cfg};
  auto text = sys.render(make_error(ec::budget_exceeded, "token budget"));
  EXPECT_NE(text.find("budget_exceeded"), std::string::npos) << text;
  EXPECT_NE(text.find("token budget"), std::string::npos) << text;
}
