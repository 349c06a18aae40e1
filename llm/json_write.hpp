// Small helpers for writing request bodies with RapidJSON (internal to llm/).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "llm/error.hpp"
#include "llm/types.hpp"

namespace codehive::llm::detail {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline void write_messages(json_writer& w, const chat_request& req) {
  w.Key("messages");
  w.StartArray();
  for (const auto& m : req.messages) {
    w.StartObject();
    w.Key("role");
    write_string(w, m.role);
    w.Key("content");
    write_string(w, m.content);
    w.EndObject();
  }
  w.EndArray();
}

/// Parses the request's schema text; errc::bad_config when it is not a JSON object.
inline result<unit> parse_schema(const std::string& text, rapidjson::Document& out) {
  out.Parse(text.data(), text.size());
  if (out.HasParseError() || !out.IsObject()) {
    error e;
    e.code = errc::bad_config;
    e.message = "the requested JSON schema is not a JSON object";
    e.attempts = 0;
    return e;
  }
  return unit{};
}

/// Integer member as int64 when present and numeric.
inline std::optional<std::int64_t> get_int(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return std::nullopt;
  if (it->value.IsInt64()) return it->value.GetInt64();
  if (it->value.IsUint64()) return static_cast<std::int64_t>(it->value.GetUint64());
  if (it->value.IsDouble()) return static_cast<std::int64_t>(it->value.GetDouble());
  return std::nullopt;
}

inline std::string get_string(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return {};
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

/// Parses a whole reply body: bad_json (or truncated when the text ends mid-JSON).
inline result<unit> parse_body(std::string_view body, rapidjson::Document& d, const std::string& from) {
  d.Parse(body.data(), body.size());
  if (!d.HasParseError() && d.IsObject()) return unit{};
  error e;
  std::string head(body.substr(0, 120));
  for (auto& c : head)
    if (c == '\n' || c == '\r') c = ' ';
  if (d.HasParseError() && !body.empty() && body.front() == '{' && d.GetErrorOffset() >= body.size()) {
    e.code = errc::truncated;
    e.message = "reply from " + from + " ends in the middle of its JSON";
  } else {
    e.code = errc::bad_json;
    e.message = "reply from " + from + " is not a JSON object: " + head;
  }
  return e;
}

}  // namespace codehive::llm::detail
