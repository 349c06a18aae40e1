#include "actors/run_config.hpp"

#include <type_traits>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json_member.hpp"

namespace codehive {

namespace {

/// Each setting once, with its JSON name, in the order to_json writes them:
/// `visit(name, member)`, for writing and reading alike.
template <class Settings, class Visit>
void each_setting(Settings& s, Visit visit) {
  visit("out_dir", s.out_dir);
  visit("planner", s.planner);
  visit("coder", s.coder);
  visit("coders", s.coders);
  visit("fixers", s.fixers);
  visit("max_rounds", s.max_rounds);
  visit("max_tokens", s.max_tokens);
  visit("max_cost_usd", s.max_cost_usd);
  visit("max_time_s", s.max_time_s);
  visit("demo", s.demo);
  visit("approve_plan", s.approve_plan);
}

}  // namespace

std::string to_json(const run_settings& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  each_setting(s, [&w](const char* k, const auto& v) { json_member(w, k, v); });
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

run_settings run_settings_from_json(const std::string& json) {
  run_settings s;
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError() || !d.IsObject())
    return s;
  // A member of another JSON type than the setting's is passed over.
  each_setting(s, [&d](const char* k, auto& out) {
    auto it = d.FindMember(k);
    if (it == d.MemberEnd())
      return;
    const auto& v = it->value;
    using T = std::remove_reference_t<decltype(out)>;
    if constexpr (std::is_same_v<T, std::string>) {
      if (v.IsString())
        out = v.GetString();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (v.IsBool())
        out = v.GetBool();
    } else if (v.IsNumber()) {
      out = static_cast<T>(v.GetDouble());
    }
  });
  return s;
}

}  // namespace codehive
