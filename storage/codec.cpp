#include "storage/codec.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <type_traits>

#include "storage/codec_json.hpp"
#include "storage/run_store.hpp"

// Each record's fields are listed once, in fields(visitor, record): the writer
// visits them to encode, the reader to decode (as CAF's inspect does), so a
// field cannot be written under one name and read under another. The order
// of the list is the order of the fields in the JSON text.

namespace codehive::store::codec {
namespace {

using detail::bad;
using detail::write_str;
using detail::writer_t;

/// How a field is kept when absent. The writer writes every field except an
/// empty `omitted_when_empty` one; the reader refuses a record that lacks a
/// `required` one.
enum class presence { optional, required, omitted_when_empty };

template <class V>
void fields(V& v, task_transition& h);
template <class V>
void fields(V& v, review_issue& i);

// -- writing -----------------------------------------------------------------

class writer {
 public:
  explicit writer(writer_t& w) : w_(w) {}

  template <class T>
  void field(const char* k, const T& x, presence p = presence::optional) {
    if constexpr (std::is_same_v<T, std::string>)
      if (p == presence::omitted_when_empty && x.empty()) return;
    w_.Key(k);
    put(x);
  }
  template <class E, class Parse>
  void enumerated(const char* k, const E& x, Parse, presence = presence::optional) {
    w_.Key(k);
    w_.String(to_string(x));
  }
  /// Embeds already validated JSON text ("" -> `fallback`).
  void raw(const char* k, std::string_view json, std::string_view fallback) {
    if (json.empty()) json = fallback;
    w_.Key(k);
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
  /// An array of objects, each written by its own fields() (no "v" inside).
  template <class T>
  void list(const char* k, const std::vector<T>& xs) {
    w_.Key(k);
    w_.StartArray();
    for (const auto& x : xs) {
      w_.StartObject();
      writer inner{w_};
      fields(inner, const_cast<T&>(x));  // the writer only reads
      w_.EndObject();
    }
    w_.EndArray();
  }

 private:
  void put(const std::string& s) { write_str(w_, s); }
  void put(int x) { w_.Int(x); }
  void put(std::int64_t x) { w_.Int64(x); }
  void put(std::uint64_t x) { w_.Uint64(x); }
  void put(std::uint32_t x) { w_.Uint(x); }
  void put(bool x) { w_.Bool(x); }
  void put(std::chrono::milliseconds x) { w_.Int64(x.count()); }
  void put(double x) {
    // JSON has no inf or nan (the writer would leave the text broken): store
    // the nearest finite value instead.
    if (std::isnan(x)) x = 0;
    if (std::isinf(x)) x = x > 0 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max();
    w_.Double(x);
  }
  void put(const std::vector<std::string>& xs) {
    w_.StartArray();
    for (const auto& x : xs) write_str(w_, x);
    w_.EndArray();
  }

  writer_t& w_;
};

/// `x` as one JSON object: "v" first, then its fields.
template <class Record>
std::string write(const Record& x) {
  rapidjson::StringBuffer buf;
  writer_t w(buf);
  w.StartObject();
  writer out{w};
  out.field("v", schema_version);
  fields(out, const_cast<Record&>(x));  // the writer only reads
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

// -- reading -----------------------------------------------------------------

/// Reads the fields present; remembers the first missing required field and
/// the first field of the wrong type. A missing field is the record's problem
/// before any wrong one, whatever their order.
class reader {
 public:
  reader(const rapidjson::Value& obj, std::string_view where) : o_(obj), where_(where) {}

  template <class T>
  void field(const char* k, T& x, presence p = presence::optional) {
    if (p == presence::required) require(k);
    if (auto* v = find(k)) get(k, *v, x);
  }
  template <class E, class Parse>
  void enumerated(const char* k, E& x, Parse parse, presence p = presence::optional) {
    if (p == presence::required) require(k);
    auto* v = find(k);
    if (v == nullptr) return;
    std::string s;
    get(k, *v, s);
    if (auto e = parse(s))
      x = *e;
    else
      note(std::string{"unknown value \""} + s + "\" of \"" + k + "\"");
  }
  /// Any JSON value, re-serialised.
  void raw(const char* k, std::string& x, std::string_view) {
    if (auto* v = find(k)) {
      rapidjson::StringBuffer buf;
      writer_t w(buf);
      v->Accept(w);
      x.assign(buf.GetString(), buf.GetSize());
    }
  }
  /// Read only while the record is fine so far: its first problem is the one told.
  template <class T>
  void list(const char* k, std::vector<T>& xs) {
    auto* v = find(k);
    if (v == nullptr || !problem().empty()) return;
    if (!v->IsArray()) return note(std::string{"\""} + k + "\" is not an array");
    for (const auto& e : v->GetArray()) {
      if (!e.IsObject()) return note(std::string{"\""} + k + "\" holds a non-object");
      T x;
      reader inner{e, where_};
      fields(inner, x);
      if (!inner.problem().empty()) return note(inner.problem());
      xs.push_back(std::move(x));
    }
  }
  /// ok() or the first problem as errc::corrupt.
  status finish() const {
    if (problem().empty()) return ok();
    return bad(where_, problem());
  }

 private:
  const std::string& problem() const { return missing_.empty() ? wrong_ : missing_; }
  void note(std::string p) {
    if (wrong_.empty()) wrong_ = std::move(p);
  }
  void require(const char* k) {
    if (find(k) == nullptr && missing_.empty()) missing_ = std::string{"missing \""} + k + "\"";
  }
  void mismatch(const char* k, const char* what) { note(std::string{"\""} + k + "\" is not " + what); }
  const rapidjson::Value* find(const char* k) const {
    auto it = o_.FindMember(k);
    return it == o_.MemberEnd() ? nullptr : &it->value;
  }

  void get(const char* k, const rapidjson::Value& v, std::string& x) {
    if (v.IsString())
      x.assign(v.GetString(), v.GetStringLength());
    else
      mismatch(k, "a string");
  }
  /// An integer or a boolean, as RapidJSON types it: Is<int>() is false for a
  /// value past int's range, so such a value is a mismatch, not a narrowed one.
  template <class T, class = std::enable_if_t<std::is_integral_v<T>>>
  void get(const char* k, const rapidjson::Value& v, T& x) {
    if (v.Is<T>())
      x = v.Get<T>();
    else if constexpr (std::is_same_v<T, bool>)
      mismatch(k, "a boolean");
    else
      mismatch(k, std::is_signed_v<T> ? "an integer" : "an unsigned integer");
  }
  void get(const char* k, const rapidjson::Value& v, double& x) {
    if (v.IsNumber())
      x = v.GetDouble();
    else
      mismatch(k, "a number");
  }
  void get(const char* k, const rapidjson::Value& v, std::chrono::milliseconds& x) {
    std::int64_t ms = 0;
    get(k, v, ms);
    x = std::chrono::milliseconds{ms};
  }
  void get(const char* k, const rapidjson::Value& v, std::vector<std::string>& xs) {
    if (!v.IsArray()) return mismatch(k, "an array of strings");
    xs.clear();
    for (const auto& e : v.GetArray()) {
      if (!e.IsString()) return mismatch(k, "an array of strings");
      xs.emplace_back(e.GetString(), e.GetStringLength());
    }
  }

  const rapidjson::Value& o_;
  std::string_view where_;
  std::string missing_;  ///< the first required field absent
  std::string wrong_;    ///< the first other problem
};

/// `json` as a Record, through its fields().
template <class Record>
result<Record> read(std::string_view json, std::string_view where) {
  auto d = detail::parse(json, where);
  if (!d) return std::move(d).err();
  Record x;
  reader in{*d, where};
  fields(in, x);
  if (auto s = in.finish(); !s) return std::move(s).err();
  return x;
}

// -- the records' fields -----------------------------------------------------

constexpr auto required = presence::required;

template <class V>
void fields(V& v, meta_record& m) {
  // The meta record's own "v" is checked like any other; the schema version
  // inside is judged by the caller (with a message about the whole store).
  v.field("schema_version", m.schema_version, required);
  v.field("store_id", m.store_id, required);
  v.field("created_ms", m.created_ms);
  v.field("created_by", m.created_by);
}

template <class V>
void fields(V& v, run_record& x) {
  v.field("id", x.id, required);
  v.field("request", x.request);
  v.raw("config", x.config_json, "{}");
  v.enumerated("state", x.state, parse_run_state, required);
  v.field("state_reason", x.state_reason);
  // Absent in records written before it existed (then -1). Read as an int, so a
  // value past int's range is a mismatch, not a silently narrowed code.
  v.field("exit_code", x.exit_code);
  v.field("created_ms", x.created_ms);
  v.field("updated_ms", x.updated_ms);
}

template <class V>
void fields(V& v, task_transition& h) {
  v.enumerated("from", h.from, parse_task_state, required);
  v.enumerated("to", h.to, parse_task_state, required);
  v.field("at_ms", h.at_ms);
  v.field("attempt", h.attempt);
  v.field("worker", h.worker, presence::omitted_when_empty);
  v.field("reason", h.reason, presence::omitted_when_empty);
  v.field("error_code", h.error_code, presence::omitted_when_empty);
}

template <class V>
void fields(V& v, task_record& t) {
  auto& s = t.spec;
  v.field("id", s.id, required);
  v.field("action", s.action);
  v.field("type", s.type);
  v.field("path", s.path);
  v.field("description", s.description);
  v.field("instructions", s.instructions);
  v.field("depends_on", s.depends_on);
  v.field("context_paths", s.context_paths);
  v.field("edit", s.edit);
  v.field("plan_index", t.plan_index);
  v.enumerated("state", t.state, parse_task_state, required);
  v.field("attempts", t.attempts);
  v.field("worker", t.worker);
  v.field("last_error_code", t.last_error_code);
  v.field("last_reason", t.last_reason);
  v.field("file_hash", t.file_hash);
  v.field("created_ms", t.created_ms);
  v.field("updated_ms", t.updated_ms);
  v.field("assigned_ms", t.assigned_ms);
  v.field("finished_ms", t.finished_ms);
  v.list("history", t.history);
}

template <class V>
void fields(V& v, file_version& f) {
  v.field("path", f.path, required);
  v.field("version", f.version, required);
  v.field("hash", f.hash, required);
  v.field("size", f.size);
  v.field("deleted", f.deleted);
  v.field("task_id", f.task_id);
  v.field("summary", f.summary);
  v.field("at_ms", f.at_ms);
}

template <class V>
void fields(V& v, review_issue& i) {
  v.field("file", i.file);
  v.field("problem", i.problem);
  v.field("instructions", i.instructions);
}

template <class V>
void fields(V& v, review_round& x) {
  v.field("round", x.round, required);
  v.field("at_ms", x.at_ms);
  v.list("issues", x.issues);
  v.raw("findings", x.findings_json, "[]");
}

template <class V>
void fields(V& v, ledger_entry& e) {
  v.field("seq", e.seq, required);
  v.field("at_ms", e.at_ms);
  v.field("role", e.use.role);
  v.field("model", e.use.model);
  v.field("prompt_tokens", e.use.prompt_tokens);
  v.field("completion_tokens", e.use.completion_tokens);
  v.field("latency_ms", e.use.latency);
  v.field("tokens_per_s", e.use.tokens_per_s);
  v.field("cost_usd", e.use.cost_usd);
  v.field("attempts", e.use.attempts);
  v.field("outcome", e.outcome);
  v.field("error_code", e.error_code);
  v.field("task_id", e.task_id);
  v.field("attempt", e.attempt);
}

template <class V>
void fields(V& v, event& e) {
  v.field("seq", e.seq, required);
  v.field("at_ms", e.at_ms);
  v.field("type", e.type, required);
  v.raw("data", e.data_json, "null");
}

/// files/"s\0<hash>": a summary and when it was made; only the summary is read.
struct summary_record {
  std::string summary;
  std::int64_t at_ms = 0;
};

template <class V>
void fields(V& v, summary_record& s) {
  v.field("summary", s.summary, required);
  if constexpr (std::is_same_v<V, writer>) v.field("at_ms", s.at_ms);
}

}  // namespace

std::string encode(const meta_record& m) { return write(m); }
result<meta_record> decode_meta(std::string_view json, std::string_view where) { return read<meta_record>(json, where); }

std::string encode(const run_record& r) { return write(r); }
result<run_record> decode_run(std::string_view json, std::string_view where) { return read<run_record>(json, where); }

std::string encode(const task_record& t) { return write(t); }
result<task_record> decode_task(std::string_view json, std::string_view where) { return read<task_record>(json, where); }

std::string encode(const file_version& f) { return write(f); }
result<file_version> decode_file_version(std::string_view json, std::string_view where) {
  return read<file_version>(json, where);
}

std::string encode(const review_round& r) { return write(r); }
result<review_round> decode_review(std::string_view json, std::string_view where) {
  return read<review_round>(json, where);
}

std::string encode(const ledger_entry& e) { return write(e); }
result<ledger_entry> decode_ledger(std::string_view json, std::string_view where) {
  return read<ledger_entry>(json, where);
}

std::string encode(const event& e) { return write(e); }
result<event> decode_event(std::string_view json, std::string_view where) { return read<event>(json, where); }

std::string encode_summary(std::string_view summary, std::int64_t at_ms) {
  return write(summary_record{std::string{summary}, at_ms});
}
result<std::string> decode_summary(std::string_view json, std::string_view where) {
  auto s = read<summary_record>(json, where);
  if (!s) return std::move(s).err();
  return std::move(s->summary);
}

}  // namespace codehive::store::codec
