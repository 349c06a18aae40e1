// JSON texts parsed for a test's checks (RapidJSON documents).
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace codehive::test {

/// `text` parsed, as it is: HasParseError() says whether it was JSON.
inline rapidjson::Document parse_any(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return d;
}

/// `text` parsed; a text that is not JSON fails the test.
inline rapidjson::Document parse_json(const std::string& text) {
  auto d = parse_any(text);
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

}  // namespace codehive::test
