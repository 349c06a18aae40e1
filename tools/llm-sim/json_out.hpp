// Small JSON writers (RapidJSON) for llm-sim's replies and stats.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace llm_sim {

/// Small writers the API renderers and the stats use.
namespace json_out {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void str(writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

inline void num(writer& w, const char* key, std::int64_t value) {
  w.Key(key);
  w.Int64(value);
}

/// `key`: {name: count, ...}.
inline void counts(writer& w, const char* key, const std::map<std::string, long>& m) {
  w.Key(key);
  w.StartObject();
  for (const auto& [k, v] : m) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    w.Int64(v);
  }
  w.EndObject();
}

inline std::string done(rapidjson::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

}  // namespace json_out

}  // namespace llm_sim
