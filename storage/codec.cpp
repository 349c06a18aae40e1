#include "storage/codec.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "storage/run_store.hpp"

namespace codehive::store::codec {
namespace {

using writer_t = rapidjson::Writer<rapidjson::StringBuffer>;

// -- writing -----------------------------------------------------------------

class out {
 public:
  out() : w_(buf_) { w_.StartObject(); field("v", schema_version); }
  out& field(const char* k, std::string_view s) {
    key(k);
    w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return *this;
  }
  out& field(const char* k, const std::string& s) { return field(k, std::string_view{s}); }
  out& field(const char* k, const char* s) { return field(k, std::string_view{s}); }
  out& field(const char* k, int x) {
    key(k);
    w_.Int(x);
    return *this;
  }
  out& field(const char* k, std::int64_t x) {
    key(k);
    w_.Int64(x);
    return *this;
  }
  out& field(const char* k, std::uint64_t x) {
    key(k);
    w_.Uint64(x);
    return *this;
  }
  out& field(const char* k, std::uint32_t x) {
    key(k);
    w_.Uint(x);
    return *this;
  }
  out& field(const char* k, double x) {
    key(k);
    // JSON has no inf or nan (the writer would leave the text broken): store
    // the nearest finite value instead.
    if (std::isnan(x)) x = 0;
    if (std::isinf(x)) x = x > 0 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max();
    w_.Double(x);
    return *this;
  }
  out& field(const char* k, bool x) {
    key(k);
    w_.Bool(x);
    return *this;
  }
  out& field(const char* k, const std::vector<std::string>& xs) {
    key(k);
    w_.StartArray();
    for (const auto& x : xs) w_.String(x.data(), static_cast<rapidjson::SizeType>(x.size()));
    w_.EndArray();
    return *this;
  }
  /// Embeds already validated JSON text ("" -> `fallback`).
  out& raw(const char* k, std::string_view json, std::string_view fallback) {
    if (json.empty()) json = fallback;
    key(k);
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }
  writer_t& w() { return w_; }
  void key(const char* k) { w_.Key(k); }
  std::string done() {
    w_.EndObject();
    return std::string{buf_.GetString(), buf_.GetSize()};
  }

 private:
  rapidjson::StringBuffer buf_;
  writer_t w_;
};

void write_str(writer_t& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// -- reading -----------------------------------------------------------------

error bad(std::string_view where, std::string_view what) {
  return fail(errc::corrupt, "record " + std::string{where} + " is malformed: " + std::string{what});
}

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

/// Reads optional fields; the first type mismatch is remembered.
class in {
 public:
  in(const rapidjson::Value& obj, std::string_view where) : o_(obj), where_(where) {}

  void get(const char* k, std::string& x) {
    if (auto* v = find(k)) {
      if (v->IsString())
        x.assign(v->GetString(), v->GetStringLength());
      else
        mismatch(k, "a string");
    }
  }
  void get(const char* k, std::int64_t& x) {
    if (auto* v = find(k)) {
      if (v->IsInt64())
        x = v->GetInt64();
      else
        mismatch(k, "an integer");
    }
  }
  void get(const char* k, std::uint64_t& x) {
    if (auto* v = find(k)) {
      if (v->IsUint64())
        x = v->GetUint64();
      else
        mismatch(k, "an unsigned integer");
    }
  }
  void get(const char* k, std::uint32_t& x) {
    if (auto* v = find(k)) {
      if (v->IsUint())
        x = v->GetUint();
      else
        mismatch(k, "an unsigned integer");
    }
  }
  void get(const char* k, int& x) {
    if (auto* v = find(k)) {
      if (v->IsInt())
        x = v->GetInt();
      else
        mismatch(k, "an integer");
    }
  }
  void get(const char* k, double& x) {
    if (auto* v = find(k)) {
      if (v->IsNumber())
        x = v->GetDouble();
      else
        mismatch(k, "a number");
    }
  }
  void get(const char* k, bool& x) {
    if (auto* v = find(k)) {
      if (v->IsBool())
        x = v->GetBool();
      else
        mismatch(k, "a boolean");
    }
  }
  void get(const char* k, std::vector<std::string>& xs) {
    if (auto* v = find(k)) {
      if (!v->IsArray()) return mismatch(k, "an array of strings");
      xs.clear();
      for (const auto& e : v->GetArray()) {
        if (!e.IsString()) return mismatch(k, "an array of strings");
        xs.emplace_back(e.GetString(), e.GetStringLength());
      }
    }
  }
  /// Any JSON value, re-serialised.
  void raw(const char* k, std::string& x) {
    if (auto* v = find(k)) {
      rapidjson::StringBuffer buf;
      writer_t w(buf);
      v->Accept(w);
      x.assign(buf.GetString(), buf.GetSize());
    }
  }
  void require(const char* k) {
    if (find(k) == nullptr && problem_.empty()) problem_ = std::string{"missing \""} + k + "\"";
  }
  template <class E, class Parse>
  void get_enum(const char* k, E& x, Parse parse) {
    std::string s;
    get(k, s);
    if (find(k) == nullptr) return;
    if (auto e = parse(s))
      x = *e;
    else if (problem_.empty())
      problem_ = std::string{"unknown value \""} + s + "\" of \"" + k + "\"";
  }
  const rapidjson::Value* find(const char* k) const {
    auto it = o_.FindMember(k);
    return it == o_.MemberEnd() ? nullptr : &it->value;
  }
  /// ok() or the first problem as errc::corrupt.
  status finish() const {
    if (problem_.empty()) return ok();
    return bad(where_, problem_);
  }
  void mismatch(const char* k, const char* what) {
    if (problem_.empty()) problem_ = std::string{"\""} + k + "\" is not " + what;
  }

 private:
  const rapidjson::Value& o_;
  std::string_view where_;
  std::string problem_;
};

}  // namespace

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

// -- meta ----------------------------------------------------------------------

std::string encode(const meta_record& m) {
  out o;
  o.field("schema_version", m.schema_version)
      .field("store_id", m.store_id)
      .field("created_ms", m.created_ms)
      .field("created_by", m.created_by);
  return o.done();
}

result<meta_record> decode_meta(std::string_view json, std::string_view where) {
  // The meta record's own "v" is checked like any other; the schema version
  // inside is judged by the caller (with a message about the whole store).
  auto d = parse(json, where);
  if (!d) return std::move(d).err();
  meta_record m;
  in r{*d, where};
  r.require("schema_version");
  r.require("store_id");
  r.get("schema_version", m.schema_version);
  r.get("store_id", m.store_id);
  r.get("created_ms", m.created_ms);
  r.get("created_by", m.created_by);
  if (auto s = r.finish(); !s) return std::move(s).err();
  return m;
}

// -- runs ----------------------------------------------------------------------

std::string encode(const run_record& x) {
  out o;
  o.field("id", x.id).field("request", x.request);
  o.raw("config", x.config_json, "{}");
  o.field("state", to_string(x.state))
      .field("state_reason", x.state_reason)
      .field("exit_code", static_cast<std::int64_t>(x.exit_code))
      .field("created_ms", x.created_ms)
      .field("updated_ms", x.updated_ms);
  return o.done();
}

result<run_record> decode_run(std::string_view json, std::string_view where) {
  auto d = parse(json, where);
  if (!d) return std::move(d).err();
  run_record x;
  in r{*d, where};
  r.require("id");
  r.require("state");
  r.get("id", x.id);
  r.get("request", x.request);
  r.raw("config", x.config_json);
  r.get_enum("state", x.state, parse_run_state);
  r.get("state_reason", x.state_reason);
  // Absent in records written before it existed (then -1). Read as an int, so a
  // value past int's range is a mismatch, not a silently narrowed code.
  r.get("exit_code", x.exit_code);
  r.get("created_ms", x.created_ms);
  r.get("updated_ms", x.updated_ms);
  if (auto s = r.finish(); !s) return std::move(s).err();
  return x;
}

// -- tasks ---------------------------------------------------------------------

std::string encode(const task_record& t) {
  out o;
  const auto& s = t.spec;
  o.field("id", s.id)
      .field("action", s.action)
      .field("type", s.type)
      .field("path", s.path)
      .field("description", s.description)
      .field("instructions", s.instructions)
      .field("depends_on", s.depends_on)
      .field("context_paths", s.context_paths)
      .field("edit", s.edit)
      .field("plan_index", t.plan_index)
      .field("state", to_string(t.state))
      .field("attempts", t.attempts)
      .field("worker", t.worker)
      .field("last_error_code", t.last_error_code)
      .field("last_reason", t.last_reason)
      .field("file_hash", t.file_hash)
      .field("created_ms", t.created_ms)
      .field("updated_ms", t.updated_ms)
      .field("assigned_ms", t.assigned_ms)
      .field("finished_ms", t.finished_ms);
  o.key("history");
  auto& w = o.w();
  w.StartArray();
  for (const auto& h : t.history) {
    w.StartObject();
    w.Key("from");
    w.String(to_string(h.from));
    w.Key("to");
    w.String(to_string(h.to));
    w.Key("at_ms");
    w.Int64(h.at_ms);
    w.Key("attempt");
    w.Int(h.attempt);
    if (!h.worker.empty()) {
      w.Key("worker");
      write_str(w, h.worker);
    }
    if (!h.reason.empty()) {
      w.Key("reason");
      write_str(w, h.reason);
    }
    if (!h.error_code.empty()) {
      w.Key("error_code");
      write_str(w, h.error_code);
    }
    w.EndObject();
  }
  w.EndArray();
  return o.done();
}

result<task_record> decode_task(std::string_view json, std::string_view where) {
  auto d = parse(json, where);
  if (!d) return std::move(d).err();
  task_record t;
  auto& s = t.spec;
  in r{*d, where};
  r.require("id");
  r.require("state");
  r.get("id", s.id);
  r.get("action", s.action);
  r.get("type", s.type);
  r.get("path", s.path);
  r.get("description", s.description);
  r.get("instructions", s.instructions);
  r.get("depends_on", s.depends_on);
  r.get("context_paths", s.context_paths);
  r.get("edit", s.edit);
  r.get("plan_index", t.plan_index);
  r.get_enum("state", t.state, parse_task_state);
  r.get("attempts", t.attempts);
  r.get("worker", t.worker);
  r.get("last_error_code", t.last_error_code);
  r.get("last_reason", t.last_reason);
  r.get("file_hash", t.file_hash);
  r.get("created_ms", t.created_ms);
  r.get("updated_ms", t.updated_ms);
  r.get("assigned_ms", t.assigned_ms);
  r.get("finished_ms", t.finished_ms);
  if (auto st = r.finish(); !st) return std::move(st).err();
  if (const auto* hist = r.find("history")) {
    if (!hist->IsArray()) return bad(where, "\"history\" is not an array");
    for (const auto& e : hist->GetArray()) {
      if (!e.IsObject()) return bad(where, "\"history\" holds a non-object");
      task_transition h;
      in hr{e, where};
      hr.require("from");
      hr.require("to");
      hr.get_enum("from", h.from, parse_task_state);
      hr.get_enum("to", h.to, parse_task_state);
      hr.get("at_ms", h.at_ms);
      hr.get("attempt", h.attempt);
      hr.get("worker", h.worker);
      hr.get("reason", h.reason);
      hr.get("error_code", h.error_code);
      if (auto st = hr.finish(); !st) return std::move(st).err();
      t.history.push_back(std::move(h));
    }
  }
  return t;
}

// -- files ---------------------------------------------------------------------

std::string encode(const file_version& f) {
  out o;
  o.field("path", f.path)
      .field("version", f.version)
      .field("hash", f.hash)
      .field("size", f.size)
      .field("deleted", f.deleted)
      .field("task_id", f.task_id)
      .field("summary", f.summary)
      .field("at_ms", f.at_ms);
  return o.done();
}

result<file_version> decode_file_version(std::string_view json, std::string_view where) {
  auto d = parse(json, where);
  if (!d) return std::move(d).err();
  file_version f;
  in r{*d, where};
  r.require("path");
  r.require("version");
  r.require("hash");
  r.get("path", f.path);
  r.get("version", f.version);
  r.get("hash", f.hash);
  r.get("size", f.size);
  r.get("deleted", f.deleted);
  r.get("task_id", f.task_id);
  r.get("summary", f.summary);
  r.get("at_ms", f.at_ms);
  if (auto s = r.finish(); !s) return std::move(s).err();
  return f;
}

// -- reviews -------------------------------------------------------------------

std::string encode(const review_round& x) {
  out o;
  o.field("round", x.round).field("at_ms", x.at_ms);
  o.key("issues");
  auto& w = o.w();
  w.StartArray();
  for (const auto& i : x.issues) {
    w.StartObject();
    w.Key("file");
    write_str(w, i.file);
    w.Key("problem");
    write_str(w, i.problem);
    w.Key("instructions");
    write_str(w, i.instructions);
    w.EndObject();
  }
  w.EndArray();
  o.raw("findings", x.findings_json, "[]");
  return o.done();
}

result<review_round> decode_review(std::string_view json, std::string_view where) {
  auto d = parse(json, where);
  if (!d) return std::move(d).err();
  review_round x;
  in r{*d, where};
  r.require("round");
  r.get("round", x.round);
  r.get("at_ms", x.at_ms);
  r.raw("findings", x.findings_json);
  if (auto s = r.finish(); !s) return std::move(s).err();
  if (const auto* is = r.find("issues")) {
    if (!is->IsArray()) return bad(where, "\"issues\" is not an array");
    for (const auto& e : is->GetArray()) {
      if (!e.IsObject()) return bad(where, "\"issues\" holds a non-object");
      review_issue i;
      in ir{e, where};
      ir.get("file", i.file);
      ir.get("problem", i.problem);
      ir.get("instructions", i.instructions);
      if (auto s = ir.finish(); !s) return std::move(s).err();
      x.issues.push_back(std::move(i));
    }
  }
  return x;
}

// -- ledger --------------------------------------------------------------------

std::string encode(const ledger_entry& e) {
  out o;
  o.field("seq", e.seq)
      .field("at_ms", e.at_ms)
      .field("role", e.use.role)
      .field("model", e.use.model)
      .field("prompt_tokens", static_cast<std::int64_t>(e.use.prompt_tokens))
      .field("completion_tokens", static_cast<std::int64_t>(e.use.completion_tokens))
      .field("latency_ms", static_cast<std::int64_t>(e.use.latency.count()))
      .field("tokens_per_s", e.use.tokens_per_s)
      .field("cost_usd", e.use.cost_usd)
      .field("attempts", e.use.attempts)
      .field("outcome", e.outcome)
      .field("error_code", e.error_code)
      .field("task_id", e.task_id)
      .field("attempt", e.attempt);
  return o.done();
}

result<ledger_entry> decode_ledger(std::string_view json, std::string_view where) {
  auto d = parse(json, where);
  if (!d) return std::move(d).err();
  ledger_entry e;
  in r{*d, where};
  r.require("seq");
  std::int64_t pt = 0, ct = 0, lat = 0;
  r.get("seq", e.seq);
  r.get("at_ms", e.at_ms);
  r.get("role", e.use.role);
  r.get("model", e.use.model);
  r.get("prompt_tokens", pt);
  r.get("completion_tokens", ct);
  r.get("latency_ms", lat);
  r.get("tokens_per_s", e.use.tokens_per_s);
  r.get("cost_usd", e.use.cost_usd);
  r.get("attempts", e.use.attempts);
  r.get("outcome", e.outcome);
  r.get("error_code", e.error_code);
  r.get("task_id", e.task_id);
  r.get("attempt", e.attempt);
  if (auto s = r.finish(); !s) return std::move(s).err();
  e.use.prompt_tokens = pt;
  e.use.completion_tokens = ct;
  e.use.latency = std::chrono::milliseconds{lat};
  return e;
}

// -- events --------------------------------------------------------------------

std::string encode(const event& e) {
  out o;
  o.field("seq", e.seq).field("at_ms", e.at_ms).field("type", e.type);
  o.raw("data", e.data_json, "null");
  return o.done();
}

result<event> decode_event(std::string_view json, std::string_view where) {
  auto d = parse(json, where);
  if (!d) return std::move(d).err();
  event e;
  in r{*d, where};
  r.require("seq");
  r.require("type");
  r.get("seq", e.seq);
  r.get("at_ms", e.at_ms);
  r.get("type", e.type);
  r.raw("data", e.data_json);
  if (auto s = r.finish(); !s) return std::move(s).err();
  return e;
}

// -- summary cache -----------------------------------------------------------

std::string encode_summary(std::string_view summary, std::int64_t at_ms) {
  out o;
  o.field("summary", summary).field("at_ms", at_ms);
  return o.done();
}

result<std::string> decode_summary(std::string_view json, std::string_view where) {
  auto d = parse(json, where);
  if (!d) return std::move(d).err();
  std::string summary;
  in r{*d, where};
  r.require("summary");
  r.get("summary", summary);
  if (auto s = r.finish(); !s) return std::move(s).err();
  return summary;
}

}  // namespace codehive::store::codec
