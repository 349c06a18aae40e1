#include "storage/codec_json.hpp"

#include <charconv>
#include <cmath>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "storage/run_store.hpp"

namespace codehive::store::codec {
namespace detail {

void write_str(writer_t& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

error bad(std::string_view where, std::string_view what) {
  return fail(errc::corrupt, "record " + std::string{where} + " is malformed: " + std::string{what});
}

namespace {

/// Walks a value: true if some number is not finite (past the double range).
bool has_non_finite(const rapidjson::Value& v, bool& has_fraction) {
  if (v.IsDouble()) {
    has_fraction = true;
    return !std::isfinite(v.GetDouble());
  }
  if (v.IsArray()) {
    for (const auto& x : v.GetArray())
      if (has_non_finite(x, has_fraction)) return true;
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject())
      if (has_non_finite(m.value, has_fraction)) return true;
  }
  return false;
}

/// Every number's text, in document order (RapidJSON's RawNumber callback,
/// with kParseNumbersAsStringsFlag).
struct number_texts : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, number_texts> {
  std::vector<std::string> texts;  ///< copies: the reader's buffer is reused
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    texts.emplace_back(s, n);
    return true;
  }
};

/// Sets every double of `v` (walked in document order, as the reader saw the
/// numbers) to the correctly rounded value of its text (std::from_chars).
bool set_exact(rapidjson::Value& v, const std::vector<std::string>& texts, std::size_t& i) {
  if (v.IsNumber()) {
    if (i >= texts.size())
      return false;
    const auto& t = texts[i++];
    if (v.IsDouble()) {
      double x = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
      if (ec != std::errc{} || end != t.data() + t.size())
        return false;
      v.SetDouble(x);
    }
    return true;
  }
  if (v.IsArray()) {
    for (auto& x : v.GetArray())
      if (!set_exact(x, texts, i))
        return false;
  } else if (v.IsObject()) {
    for (auto& m : v.GetObject())
      if (!set_exact(m.value, texts, i))
        return false;
  }
  return true;
}

/// Reads every double of `d` exactly as written, so a double reads back as
/// the one that was written. Not RapidJSON 1.1's kParseFullPrecisionFlag:
/// that parse misreads integers past uint64 (184467440737095516155 as
/// 1.7e-18) and, for those and for a zero with an exponent ("0e99"), runs
/// into undefined behaviour (__builtin_clzll(0), shifts past 63 bits; found
/// by fuzz_codec under UBSan).
bool read_doubles_exactly(rapidjson::Document& d, std::string_view json) {
  number_texts numbers;
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(json.data(), json.size());
  if (!reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(ms, numbers))
    return false;
  std::size_t i = 0;
  return set_exact(d, numbers.texts, i) && i == numbers.texts.size();
}

}  // namespace

/// Parses and checks the "v" header. A number past the double range is
/// refused (RapidJSON reads it as inf, which cannot be written back as JSON);
/// in a record holding fractions every double is read again from its text
/// (read_doubles_exactly), so it reads back as the one that was written.
result<rapidjson::Document> parse(std::string_view json, std::string_view where) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError())
    return bad(where, std::string{"JSON parse error at offset "} +
                          std::to_string(d.GetErrorOffset()) + ": " +
                          rapidjson::GetParseError_En(d.GetParseError()));
  bool has_fraction = false;
  if (has_non_finite(d, has_fraction)) return bad(where, "a number is out of range");
  if (has_fraction && !read_doubles_exactly(d, json))
    return bad(where, "a number cannot be read exactly");
  if (!d.IsObject()) return bad(where, "not a JSON object");
  auto v = d.FindMember("v");
  if (v == d.MemberEnd() || !v->value.IsInt()) return bad(where, "no integer \"v\" field");
  int ver = v->value.GetInt();
  if (ver > schema_version)
    return fail(errc::newer_schema, "record " + std::string{where} + " has version " +
                                        std::to_string(ver) +
                                        ", newer than this codehive understands (" +
                                        std::to_string(schema_version) +
                                        "); upgrade codehive to read this store");
  if (ver < 1) return bad(where, "version " + std::to_string(ver) + " is not valid");
  return d;
}

}  // namespace detail

using detail::has_non_finite;
using detail::write_str;
using detail::writer_t;

std::string quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  writer_t w(buf);
  write_str(w, s);
  return std::string{buf.GetString(), buf.GetSize()};
}

bool is_json(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  bool has_fraction = false;
  return !d.HasParseError() && !has_non_finite(d, has_fraction);
}

bool is_json_object(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  bool has_fraction = false;
  return !d.HasParseError() && d.IsObject() && !has_non_finite(d, has_fraction);
}

}  // namespace codehive::store::codec
