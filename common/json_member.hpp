// "key": value for a RapidJSON writer (Writer or PrettyWriter), the value's
// JSON type chosen by its C++ type, so a list of members is one line each.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include <rapidjson/rapidjson.h>

namespace codehive {

template <class W, class T>
void json_member(W& w, const char* key, const T& value) {
  w.Key(key);
  if constexpr (std::is_same_v<T, bool>) {
    w.Bool(value);
  } else if constexpr (std::is_floating_point_v<T>) {
    w.Double(value);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    if constexpr (sizeof(T) <= sizeof(int))
      w.Int(value);
    else
      w.Int64(value);
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) <= sizeof(unsigned))
      w.Uint(value);
    else
      w.Uint64(value);
  } else {
    std::string_view s{value};
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
}

}  // namespace codehive
