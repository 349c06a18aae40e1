// libFuzzer target: the run store's record codec (storage/codec.hpp). The
// input bytes are decoded as every record type; what decodes is encoded,
// decoded again and compared field by field with the first decode, then
// encoded and decoded once more and compared again (decode(encode(r)) == r).
//
// Known bugs (reported, issue 16 item 8; reproducers in fuzz/crashes/codec/),
// both from codec.cpp parsing records with RapidJSON 1.1's default flags:
//  1. no rapidjson::kParseFullPrecisionFlag, so a double (ledger cost_usd,
//     tokens_per_s, a number inside run config, review findings or event
//     data) comes back a few ULPs off what was written, and drifts again on
//     every decode/encode;
//  2. a number past the double range (11e308) parses as inf, and encode then
//     writes invalid JSON ("cost_usd":, or a truncated config/data), a record
//     the store can no longer read.
// Until they are fixed, the target looks past them so fuzzing can find
// anything else: doubles are compared within kDoubleTolerance (relative), and
// inputs holding a number near or past the double range are skipped.
// CODEHIVE_FUZZ_STRICT=1 in the environment checks exactly, with no skipping
// (FuzzCrashReplay.DISABLED_codec_strict runs so, and is disabled until the fix).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "storage/codec.hpp"

using namespace codehive::store;

namespace {

constexpr std::string_view where = "fuzz/input";

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant violated: %s: %.*s\n", what, static_cast<int>(std::min<std::size_t>(detail.size(), 300)),
               detail.data());
  std::abort();
}

constexpr double kDoubleTolerance = 1e-14;  // about 45 ULPs; RapidJSON's fast path errs by a few

bool strict() {
  static const bool on = [] {
    const char* e = std::getenv("CODEHIVE_FUZZ_STRICT");
    return e != nullptr && std::string_view(e) == "1";
  }();
  return on;
}

/// Known bug 2: a number that RapidJSON's default parse (codec.cpp's) reads
/// as inf, or close enough to the edge that a re-parse may.
bool near_double_range(const rapidjson::Value& v) {
  if (v.IsDouble()) return !std::isfinite(v.GetDouble()) || std::fabs(v.GetDouble()) > 1e307;
  if (v.IsArray())
    for (const auto& e : v.GetArray())
      if (near_double_range(e)) return true;
  if (v.IsObject())
    for (const auto& m : v.GetObject())
      if (near_double_range(m.value)) return true;
  return false;
}

bool same_double(double a, double b) {
  if (a == b || strict()) return a == b;
  return std::fabs(a - b) <= kDoubleTolerance * std::max(std::fabs(a), std::fabs(b));
}

bool same_json(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.IsNumber() && b.IsNumber()) {
    if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
    if (a.IsUint64() && b.IsUint64()) return a.GetUint64() == b.GetUint64();
    return same_double(a.GetDouble(), b.GetDouble());
  }
  if (a.GetType() != b.GetType()) return false;
  if (a.IsString())
    return std::string_view(a.GetString(), a.GetStringLength()) == std::string_view(b.GetString(), b.GetStringLength());
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
      if (!same_json(a[i], b[i])) return false;
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (auto x = a.MemberBegin(), y = b.MemberBegin(); x != a.MemberEnd(); ++x, ++y)
      if (!same_json(x->name, y->name) || !same_json(x->value, y->value)) return false;
    return true;
  }
  return true;  // null, true, false: the types are equal
}

/// Two JSON texts hold the same value (numbers compared as same_double).
bool same_json_text(const std::string& a, const std::string& b) {
  if (a == b) return true;
  rapidjson::Document x, y;
  x.Parse<rapidjson::kParseFullPrecisionFlag>(a.data(), a.size());
  y.Parse<rapidjson::kParseFullPrecisionFlag>(b.data(), b.size());
  return !x.HasParseError() && !y.HasParseError() && same_json(x, y);
}

/// A raw JSON field (run config, review findings, event data) absent from a
/// record decodes as "" but encodes as its default ("{}", "[]", "null"), so
/// the first round trip may turn "" into that default: the same value.
bool same_raw(const std::string& a, const std::string& b, std::string_view absent) {
  return same_json_text(a, b) || (a.empty() && b == absent) || (b.empty() && a == absent);
}

bool same(const codec::meta_record& a, const codec::meta_record& b) {
  return a.schema_version == b.schema_version && a.store_id == b.store_id && a.created_ms == b.created_ms &&
         a.created_by == b.created_by;
}
bool same(const run_record& a, const run_record& b) {
  return a.id == b.id && a.request == b.request && same_raw(a.config_json, b.config_json, "{}") && a.state == b.state &&
         a.state_reason == b.state_reason && a.exit_code == b.exit_code && a.created_ms == b.created_ms &&
         a.updated_ms == b.updated_ms;
}
bool same(const task_spec& a, const task_spec& b) {
  return a.id == b.id && a.action == b.action && a.type == b.type && a.path == b.path && a.description == b.description &&
         a.instructions == b.instructions && a.depends_on == b.depends_on && a.context_paths == b.context_paths &&
         a.edit == b.edit;
}
bool same(const task_transition& a, const task_transition& b) {
  return a.from == b.from && a.to == b.to && a.at_ms == b.at_ms && a.attempt == b.attempt && a.worker == b.worker &&
         a.reason == b.reason && a.error_code == b.error_code;
}
bool same(const task_record& a, const task_record& b) {
  if (a.history.size() != b.history.size()) return false;
  for (std::size_t i = 0; i < a.history.size(); ++i)
    if (!same(a.history[i], b.history[i])) return false;
  return same(a.spec, b.spec) && a.plan_index == b.plan_index && a.state == b.state && a.attempts == b.attempts &&
         a.worker == b.worker && a.last_error_code == b.last_error_code && a.last_reason == b.last_reason &&
         a.file_hash == b.file_hash && a.created_ms == b.created_ms && a.updated_ms == b.updated_ms &&
         a.assigned_ms == b.assigned_ms && a.finished_ms == b.finished_ms;
}
bool same(const file_version& a, const file_version& b) {
  return a.path == b.path && a.version == b.version && a.hash == b.hash && a.size == b.size && a.deleted == b.deleted &&
         a.task_id == b.task_id && a.summary == b.summary && a.at_ms == b.at_ms;
}
bool same(const review_round& a, const review_round& b) {
  if (a.issues.size() != b.issues.size()) return false;
  for (std::size_t i = 0; i < a.issues.size(); ++i)
    if (a.issues[i].file != b.issues[i].file || a.issues[i].problem != b.issues[i].problem ||
        a.issues[i].instructions != b.issues[i].instructions)
      return false;
  return a.round == b.round && same_raw(a.findings_json, b.findings_json, "[]") && a.at_ms == b.at_ms;
}
bool same(const ledger_entry& a, const ledger_entry& b) {
  const auto& x = a.use;
  const auto& y = b.use;
  return x.role == y.role && x.model == y.model && x.prompt_tokens == y.prompt_tokens &&
         x.completion_tokens == y.completion_tokens && x.latency == y.latency && same_double(x.tokens_per_s, y.tokens_per_s) &&
         same_double(x.cost_usd, y.cost_usd) && x.attempts == y.attempts && a.outcome == b.outcome && a.error_code == b.error_code &&
         a.task_id == b.task_id && a.attempt == b.attempt && a.seq == b.seq && a.at_ms == b.at_ms;
}
bool same(const event& a, const event& b) {
  return a.seq == b.seq && a.type == b.type && same_raw(a.data_json, b.data_json, "null") && a.at_ms == b.at_ms;
}

template <class Decode>
void round_trip(const char* type, std::string_view input, Decode decode) {
  auto first = decode(input, where);
  if (!first) {
    const error& e = first.err();
    if (e.code != errc::corrupt && e.code != errc::newer_schema) fail("unexpected error code", e.describe());
    if (e.reason.find(where) == std::string::npos) fail("error does not say where", e.describe());
    return;
  }
  std::string encoded = codec::encode(*first);
  if (!codec::is_json_object(encoded)) fail("encoding is not a JSON object", encoded);
  auto second = decode(encoded, where);
  if (!second) fail(type, "its own encoding does not decode: " + second.err().describe() + " in " + encoded);
  if (!same(*first, *second)) fail(type, "round trip changed the record: " + encoded);
  std::string again = codec::encode(*second);
  auto third = decode(again, where);
  if (!third) fail(type, "its second encoding does not decode: " + third.err().describe() + " in " + again);
  if (!same(*second, *third)) fail(type, "second round trip changed the record: " + encoded + " vs " + again);
  if (strict() && again != encoded) fail(type, "encoding differs after a round trip: " + encoded + " vs " + again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!strict()) {
    rapidjson::Document d;
    d.Parse(input.data(), input.size());
    if (!d.HasParseError() && near_double_range(d)) return 0;
  }
  round_trip("meta", input, codec::decode_meta);
  round_trip("run", input, codec::decode_run);
  round_trip("task", input, codec::decode_task);
  round_trip("file_version", input, codec::decode_file_version);
  round_trip("review", input, codec::decode_review);
  round_trip("ledger", input, codec::decode_ledger);
  round_trip("event", input, codec::decode_event);
  return 0;
}
