// libFuzzer target: extract_json / validate_json / extract_and_validate on
// arbitrary model replies, against the planner's schema (configs/schemas/plan.json).
// Invariants checked besides "no crash, no sanitizer report":
//  - whatever extract_json returns starts with '{' or '[' and parses as JSON
//    (validate_json never answers bad_json for it, except the depth limit);
//  - every failure is errc::bad_json / schema_mismatch with a message.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "llm/structured.hpp"

using namespace codehive::llm;

namespace {

std::string g_plan_schema;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::ifstream in(CODEHIVE_SOURCE_DIR "/configs/schemas/plan.json");
  std::stringstream ss;
  ss << in.rdbuf();
  g_plan_schema = ss.str();
  if (g_plan_schema.empty()) {
    std::fprintf(stderr, "cannot read %s/configs/schemas/plan.json\n", CODEHIVE_SOURCE_DIR);
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view reply(reinterpret_cast<const char*>(data), size);

  auto extracted = extract_json(reply);
  if (extracted) {
    const std::string& j = *extracted;
    if (j.empty() || (j.front() != '{' && j.front() != '[')) fail("extracted text is not an object or array", j);
    if (j.back() != (j.front() == '{' ? '}' : ']')) fail("extracted text is not closed", j);
    auto st = validate_json(j, g_plan_schema);
    if (!st) {
      const error& e = st.err();
      if (e.code == errc::bad_json && e.message.find("levels deep") == std::string::npos)
        fail("extracted text does not parse", e.describe());
      if (e.code != errc::bad_json && e.code != errc::schema_mismatch) fail("unexpected error code", e.describe());
      if (e.message.empty()) fail("empty error message", to_string(e.code));
    }
  } else {
    if (extracted.err().code != errc::bad_json) fail("unexpected error code", extracted.err().describe());
    if (extracted.err().message.empty()) fail("empty error message", "extract_json");
  }

  // The raw input as a document, too (exercises the validator on arbitrary JSON).
  auto direct = validate_json(reply, g_plan_schema);
  if (!direct && direct.err().code == errc::bad_config) fail("schema reported broken", direct.err().describe());

  auto both = extract_and_validate(reply, g_plan_schema);
  if (both.ok() != (extracted.ok() && validate_json(*extracted, g_plan_schema).ok()))
    fail("extract_and_validate disagrees with extract_json + validate_json", std::string(reply.substr(0, 200)));
  return 0;
}
