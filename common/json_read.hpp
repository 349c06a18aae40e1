// Reading members of a parsed JSON object (RapidJSON) where a missing member
// and one of another type both mean "not given".
#pragma once

#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace codehive {

/// The string member `key` of `obj`, "" when absent or not a string.
inline std::string json_string(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject())
    return {};
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString())
    return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

/// The strings of the array member `key` of `obj` (its other elements passed
/// over), none when absent or not an array.
inline std::vector<std::string> json_strings(const rapidjson::Value& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.IsObject())
    return out;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsArray())
    return out;
  for (const auto& v : it->value.GetArray())
    if (v.IsString())
      out.emplace_back(v.GetString(), v.GetStringLength());
  return out;
}

}  // namespace codehive
