#include "actors/run_config.hpp"

#include <type_traits>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace codehive {

std::string to_json(const run_settings& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto str = [&w](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  str("out_dir", s.out_dir);
  str("planner", s.planner);
  str("coder", s.coder);
  w.Key("coders");
  w.Int(s.coders);
  w.Key("fixers");
  w.Int(s.fixers);
  w.Key("max_rounds");
  w.Int(s.max_rounds);
  w.Key("max_tokens");
  w.Int64(s.max_tokens);
  w.Key("max_cost_usd");
  w.Double(s.max_cost_usd);
  w.Key("max_time_s");
  w.Double(s.max_time_s);
  w.Key("demo");
  w.Bool(s.demo);
  w.Key("approve_plan");
  w.Bool(s.approve_plan);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

run_settings run_settings_from_json(const std::string& json) {
  run_settings s;
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError() || !d.IsObject())
    return s;
  auto str = [&d](const char* k, std::string& out) {
    if (auto it = d.FindMember(k); it != d.MemberEnd() && it->value.IsString())
      out = it->value.GetString();
  };
  auto num = [&d](const char* k, auto& out) {
    if (auto it = d.FindMember(k); it != d.MemberEnd() && it->value.IsNumber())
      out = static_cast<std::remove_reference_t<decltype(out)>>(it->value.GetDouble());
  };
  str("out_dir", s.out_dir);
  str("planner", s.planner);
  str("coder", s.coder);
  num("coders", s.coders);
  num("fixers", s.fixers);
  num("max_rounds", s.max_rounds);
  num("max_tokens", s.max_tokens);
  num("max_cost_usd", s.max_cost_usd);
  num("max_time_s", s.max_time_s);
  if (auto it = d.FindMember("demo"); it != d.MemberEnd() && it->value.IsBool())
    s.demo = it->value.GetBool();
  if (auto it = d.FindMember("approve_plan"); it != d.MemberEnd() && it->value.IsBool())
    s.approve_plan = it->value.GetBool();
  return s;
}

}  // namespace codehive
