#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "workspace/html_scan.hpp"
#include "workspace/validators.hpp"

namespace codehive::ws {

void check_json(std::string_view file, std::string_view content, validation_report& out) {
  rapidjson::Document d;
  d.Parse(content.data(), content.size());
  if (!d.HasParseError()) return;
  auto off = d.GetErrorOffset();
  html::line_index lines(content);
  out.findings.push_back(finding{std::string(file), lines.line_of(off), "json",
                                 std::string("invalid JSON: ") + rapidjson::GetParseError_En(d.GetParseError()) +
                                     " (offset " + std::to_string(off) + ")"});
}

}  // namespace codehive::ws
