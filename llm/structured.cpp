#include "llm/structured.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/pointer.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace codehive::llm {

namespace {

// Iterative parsing: no recursion, so deeply nested input cannot overflow the
// stack. Encoding is validated: what we hand on must be valid UTF-8.
constexpr std::size_t kMaxValidateDepth = 512;
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

error make_error(errc code, std::string message) {
  error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// A short, single-line excerpt of `text` around `pos` for error messages.
std::string excerpt(std::string_view text, std::size_t pos, std::size_t before = 20, std::size_t after = 20) {
  pos = std::min(pos, text.size());
  std::size_t b = pos > before ? pos - before : 0;
  std::size_t e = std::min(text.size(), pos + after);
  std::string out;
  if (b > 0) out += "...";
  for (std::size_t i = b; i < e; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += '?';
    else out += static_cast<char>(c);
  }
  if (e < text.size()) out += "...";
  return out;
}

// ---------------------------------------------------------------------------
// Preparing the reply: strip a UTF-8 BOM and <think>...</think> blocks, and
// remember how offsets in the cleaned text map back to the reply.

struct prepared {
  std::string text;
  struct segment {
    std::size_t text_off;
    std::size_t orig_off;
  };
  std::vector<segment> segments;
  bool had_think = false;
  bool unclosed_think = false;

  void append(std::string_view reply, std::size_t begin, std::size_t end) {
    if (end <= begin) return;
    segments.push_back({text.size(), begin});
    text.append(reply.substr(begin, end - begin));
  }

  std::size_t original_offset(std::size_t off) const {
    if (segments.empty()) return off;
    auto it = std::upper_bound(segments.begin(), segments.end(), off,
                               [](std::size_t v, const segment& s) { return v < s.text_off; });
    if (it == segments.begin()) return off;
    --it;
    return it->orig_off + (off - it->text_off);
  }
};

prepared prepare(std::string_view reply) {
  static constexpr std::string_view open_tag = "<think>";
  static constexpr std::string_view close_tag = "</think>";
  prepared p;
  std::size_t pos = 0;
  if (reply.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  // Some chat templates put the opening tag into the prompt, so the reply
  // starts with the reasoning and only carries the closing tag.
  auto first_close = reply.find(close_tag, pos);
  auto first_open = reply.find(open_tag, pos);
  if (first_close != std::string_view::npos && (first_open == std::string_view::npos || first_close < first_open)) {
    p.had_think = true;
    pos = first_close + close_tag.size();
  }
  while (pos <= reply.size()) {
    auto open = reply.find(open_tag, pos);
    if (open == std::string_view::npos) {
      p.append(reply, pos, reply.size());
      break;
    }
    p.append(reply, pos, open);
    p.had_think = true;
    auto close = reply.find(close_tag, open + open_tag.size());
    if (close == std::string_view::npos) {
      p.unclosed_think = true;
      break;
    }
    pos = close + close_tag.size();
  }
  return p;
}

// ---------------------------------------------------------------------------
// Markdown fences: regions whose JSON candidates are preferred.

struct fence {
  std::size_t begin;  // first byte of the content
  std::size_t end;    // start of the closing fence, or text size if none
};

bool json_like_info(std::string_view info) {
  std::string lower;
  for (char c : info) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower.empty() || lower == "json" || lower == "jsonc" || lower == "json5" || lower == "jsonl";
}

/// Fences tagged json (or untagged), in order. An opening fence is ``` plus an
/// optional one-word info string and a line end; that excludes ``` inside JSON
/// strings, where a line end would be escaped. A closing fence starts a line.
std::vector<fence> find_fences(std::string_view t) {
  std::vector<fence> out;
  std::size_t pos = 0;
  while (pos < t.size()) {
    auto tick = t.find("```", pos);
    if (tick == std::string_view::npos) break;
    std::size_t i = tick + 3;
    while (i < t.size() && t[i] == '`') ++i;
    std::size_t info_begin = i;
    while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '_' || t[i] == '+' ||
                            t[i] == '-' || t[i] == '.'))
      ++i;
    std::string_view info = t.substr(info_begin, i - info_begin);
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r')) ++i;
    if (i < t.size() && t[i] != '\n') {  // not an opening fence
      pos = tick + 3;
      continue;
    }
    std::size_t content = std::min(i + 1, t.size());
    // closing fence: ``` at the start of a line (after optional indentation)
    std::size_t close = t.size();
    std::size_t search = content;
    while (search < t.size()) {
      auto c = t.find("```", search);
      if (c == std::string_view::npos) break;
      std::size_t k = c;
      while (k > content && (t[k - 1] == ' ' || t[k - 1] == '\t')) --k;
      if (k == content || t[k - 1] == '\n') {
        close = c;
        break;
      }
      search = c + 3;
    }
    if (json_like_info(info)) out.push_back({content, close});
    if (close == t.size()) break;
    pos = close + 3;
    while (pos < t.size() && t[pos] == '`') ++pos;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Candidate scanning: one linear pass. Outside any candidate, quotes are prose;
// inside one, strings (with escapes) are tracked so braces in strings do not
// count. A candidate starts only at a '{' or '[' that can begin JSON (so a
// stray "{name}" or "[link]" in prose does not swallow what follows).

struct candidate {
  std::size_t begin;
  std::size_t end;  // one past the closing bracket
  char kind;        // '{' or '['
};

struct scan_result {
  std::vector<candidate> closed;
  std::optional<candidate> unclosed;  // end = text size
};

bool plausible_start(std::string_view t, std::size_t pos) {
  std::size_t i = pos + 1;
  while (i < t.size() && is_ws(t[i])) ++i;
  if (i == t.size()) return true;  // cut off right after the bracket
  char c = t[i];
  if (t[pos] == '{') return c == '"' || c == '}' || c == '\'';
  return c == '"' || c == '{' || c == '[' || c == ']' || c == '-' || c == '\'' || (c >= '0' && c <= '9') ||
         c == 't' || c == 'f' || c == 'n';
}

scan_result scan(std::string_view t) {
  scan_result r;
  std::vector<std::pair<std::size_t, char>> stack;
  std::size_t n_brace = 0;
  std::size_t n_bracket = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (stack.empty()) {
      if ((c == '{' || c == '[') && plausible_start(t, i)) {
        stack.emplace_back(i, c);
        (c == '{' ? n_brace : n_bracket) = 1;
      }
      continue;
    }
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        stack.emplace_back(i, c);
        ++(c == '{' ? n_brace : n_bracket);
        break;
      case '}':
      case ']': {
        char open = c == '}' ? '{' : '[';
        if ((open == '{' ? n_brace : n_bracket) == 0) break;  // unmatched closer: ignore
        // Pop up to the matching opener (mismatched inner openers are dropped).
        while (true) {
          auto [pos, kind] = stack.back();
          stack.pop_back();
          --(kind == '{' ? n_brace : n_bracket);
          if (kind == open) {
            if (stack.empty()) r.closed.push_back({pos, i + 1, kind});
            break;
          }
        }
        if (stack.empty()) in_string = false;
        break;
      }
      default:
        break;
    }
  }
  if (!stack.empty()) r.unclosed = candidate{stack.front().first, t.size(), stack.front().second};
  return r;
}

// ---------------------------------------------------------------------------
// Parse errors with hints a model can act on.

std::string parse_hint(std::string_view text, rapidjson::ParseErrorCode code, std::size_t off) {
  char at = off < text.size() ? text[off] : '\0';
  std::size_t p = off;
  while (p > 0 && is_ws(text[p - 1])) --p;
  char before = p > 0 ? text[p - 1] : '\0';
  if ((at == '}' || at == ']') && before == ',')
    return std::string("a trailing comma before '") + at + "' is not allowed in JSON";
  if (at != '\0' && static_cast<unsigned char>(at) < 0x20)
    return "raw line breaks and control characters must be escaped inside strings (write \\n, \\t)";
  if (at == '\'') return "JSON strings and member names need double quotes, not single quotes";
  if (at == '/') return "comments are not allowed in JSON";
  if (code == rapidjson::kParseErrorObjectMissName && at != '\0' && at != '"')
    return "member names must be double-quoted strings";
  if (code == rapidjson::kParseErrorStringEscapeInvalid)
    return "invalid escape in a string: only \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX are allowed (write a "
           "backslash as \\\\)";
  if (code == rapidjson::kParseErrorDocumentRootNotSingular) return "only one JSON value is allowed";
  return {};
}

struct parse_outcome {
  bool ok = false;
  std::size_t error_offset = 0;  // relative to the candidate
  std::string message;           // rapidjson message + hint
};

parse_outcome try_parse(rapidjson::Reader& reader, std::string_view text) {
  // SAX parse with a no-op handler: checks syntax without building a DOM.
  rapidjson::BaseReaderHandler<> handler;
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  rapidjson::ParseResult pr = reader.Parse<kParseFlags>(is, handler);
  parse_outcome out;
  if (pr) {
    out.ok = true;
    return out;
  }
  out.error_offset = pr.Offset();
  out.message = rapidjson::GetParseError_En(pr.Code());
  auto hint = parse_hint(text, pr.Code(), out.error_offset);
  if (!hint.empty()) out.message += " (" + hint + ")";
  return out;
}

std::string no_json_message(const prepared& p, std::string_view reply) {
  std::string msg = "the reply contained no JSON object";
  bool blank = std::all_of(p.text.begin(), p.text.end(), [](char c) { return is_ws(c); });
  if (p.unclosed_think && blank) {
    msg += " (it ended inside an unclosed <think> block; give the answer after </think>)";
  } else if (p.had_think && blank) {
    msg += " (only a <think> block, no answer after it)";
  } else if (blank) {
    msg += reply.empty() ? " (the reply was empty)" : " (the reply was blank)";
  } else {
    std::size_t first = 0;
    while (first < p.text.size() && is_ws(p.text[first])) ++first;
    msg += " (it began: '" + excerpt(p.text, first, 0, 60) + "')";
  }
  msg += "; answer with a single JSON object";
  return msg;
}

}  // namespace

result<std::string> extract_json(std::string_view reply) {
  prepared p = prepare(reply);
  std::string_view t = p.text;
  scan_result sr = scan(t);

  bool have_object = sr.unclosed && sr.unclosed->kind == '{';
  for (const auto& c : sr.closed) have_object = have_object || c.kind == '{';
  const char kind = have_object ? '{' : '[';
  const char* noun = have_object ? "object" : "array";

  std::vector<const candidate*> cands;
  for (const auto& c : sr.closed)
    if (c.kind == kind) cands.push_back(&c);

  if (cands.empty() && !(sr.unclosed && sr.unclosed->kind == kind))
    return make_error(errc::bad_json, no_json_message(p, reply));

  // Each candidate is parsed at most once; candidates do not overlap, so the
  // total work stays linear in the reply's size.
  std::vector<std::optional<parse_outcome>> outcomes(cands.size());
  rapidjson::Reader reader;
  auto outcome = [&](std::size_t i) -> const parse_outcome& {
    if (!outcomes[i]) outcomes[i] = try_parse(reader, t.substr(cands[i]->begin, cands[i]->end - cands[i]->begin));
    return *outcomes[i];
  };

  // 1. candidates inside ```json / ``` fences, 2. any candidate, in order.
  std::vector<fence> fences = find_fences(t);
  if (!fences.empty()) {
    std::size_t f = 0;
    for (std::size_t i = 0; i < cands.size(); ++i) {
      while (f < fences.size() && fences[f].end <= cands[i]->begin) ++f;
      if (f == fences.size()) break;
      if (cands[i]->begin >= fences[f].begin && outcome(i).ok)
        return std::string(t.substr(cands[i]->begin, cands[i]->end - cands[i]->begin));
    }
  }
  for (std::size_t i = 0; i < cands.size(); ++i)
    if (outcome(i).ok) return std::string(t.substr(cands[i]->begin, cands[i]->end - cands[i]->begin));

  // Nothing parsed: explain the most likely intended answer (the largest one).
  std::size_t total = cands.size() + (sr.unclosed && sr.unclosed->kind == kind ? 1 : 0);
  std::string msg;
  std::size_t best = cands.size();
  for (std::size_t i = 0; i < cands.size(); ++i)
    if (best == cands.size() || cands[i]->end - cands[i]->begin > cands[best]->end - cands[best]->begin) best = i;
  bool report_unclosed = sr.unclosed && sr.unclosed->kind == kind &&
                         (best == cands.size() ||
                          sr.unclosed->end - sr.unclosed->begin > cands[best]->end - cands[best]->begin);
  if (report_unclosed) {
    msg = std::string("the JSON ") + noun + " starting at offset " +
          std::to_string(p.original_offset(sr.unclosed->begin)) + " is not closed (" +
          std::string(kind == '{' ? "missing '}'" : "missing ']'") +
          "): the reply was cut off or its brackets are unbalanced";
  } else {
    const parse_outcome& o = outcome(best);
    std::size_t abs = cands[best]->begin + o.error_offset;
    msg = "JSON parse error at offset " + std::to_string(p.original_offset(abs)) + ": " + o.message + "; near '" +
          excerpt(t, abs) + "'";
  }
  if (total > 1)
    msg += " (the reply contained " + std::to_string(total) + " JSON-like " + noun + "s; none of them parsed)";
  return make_error(errc::bad_json, std::move(msg));
}

// ---------------------------------------------------------------------------
// Schema validation.

namespace {

struct compiled_schema {
  rapidjson::Document doc;  // kept alive: the schema document refers into it
  std::unique_ptr<rapidjson::SchemaDocument> schema;
};

class schema_cache {
 public:
  result<std::shared_ptr<const compiled_schema>> get(std::string_view text) {
    std::string key(text);
    {
      std::lock_guard<std::mutex> guard(mtx_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    auto cs = std::make_shared<compiled_schema>();
    cs->doc.Parse<kParseFlags>(key.data(), key.size());
    if (cs->doc.HasParseError())
      return make_error(errc::bad_config, "the JSON schema does not parse: offset " +
                                              std::to_string(cs->doc.GetErrorOffset()) + ": " +
                                              rapidjson::GetParseError_En(cs->doc.GetParseError()));
    if (!cs->doc.IsObject()) return make_error(errc::bad_config, "the JSON schema is not a JSON object");
    cs->schema = std::make_unique<rapidjson::SchemaDocument>(cs->doc);
    std::shared_ptr<const compiled_schema> shared = std::move(cs);
    std::lock_guard<std::mutex> guard(mtx_);
    if (map_.size() >= kMaxEntries) map_.clear();  // schemas in use stay alive via shared_ptr
    auto [it, inserted] = map_.emplace(std::move(key), shared);
    return it->second;
  }

 private:
  static constexpr std::size_t kMaxEntries = 64;
  std::mutex mtx_;
  std::unordered_map<std::string, std::shared_ptr<const compiled_schema>> map_;
};

schema_cache& cache() {
  static schema_cache instance;
  return instance;
}

std::string to_json(const rapidjson::Value& v, std::size_t limit = 80) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);  // only used on schema values and scalars: shallow
  std::string s(sb.GetString(), sb.GetSize());
  if (s.size() > limit) s = s.substr(0, limit) + "...";
  return s;
}

const char* type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    case rapidjson::kNumberType: return v.IsInt64() || v.IsUint64() ? "integer" : "number";
  }
  return "value";
}

std::string join_strings(const rapidjson::Value& arr) {
  std::string out;
  if (!arr.IsArray()) return out;
  for (const auto& v : arr.GetArray()) {
    if (!out.empty()) out += ", ";
    out += to_json(v, 60);
  }
  return out;
}

std::string describe_violation(const std::string& keyword, const rapidjson::Value* schema,
                               const rapidjson::Value* value, const rapidjson::Pointer& doc_ptr) {
  auto member = [&](const char* name) -> const rapidjson::Value* {
    if (!schema || !schema->IsObject()) return nullptr;
    auto it = schema->FindMember(name);
    return it == schema->MemberEnd() ? nullptr : &it->value;
  };
  std::string msg;
  if (keyword == "required") {
    msg = "missing required property";
    const auto* req = member("required");
    if (req && req->IsArray() && value && value->IsObject()) {
      std::string missing;
      for (const auto& r : req->GetArray())
        if (r.IsString() && !value->HasMember(r)) missing += (missing.empty() ? "" : ", ") + to_json(r);
      if (!missing.empty()) msg += " " + missing;
    }
  } else if (keyword == "additionalProperties") {
    msg = "property not allowed";
    const auto* props = member("properties");
    if (value && value->IsObject()) {
      std::string extra;
      for (const auto& m : value->GetObject())
        if (!props || !props->IsObject() || !props->HasMember(m.name)) extra += (extra.empty() ? "" : ", ") + to_json(m.name);
      if (!extra.empty()) msg += " " + extra;
    } else if (doc_ptr.GetTokenCount() > 0) {
      // RapidJSON points at the offending member itself.
      const auto& tok = doc_ptr.GetTokens()[doc_ptr.GetTokenCount() - 1];
      rapidjson::Value name(rapidjson::StringRef(tok.name, tok.length));
      msg += " " + to_json(name);
    }
    if (props && props->IsObject()) {
      std::string allowed;
      for (const auto& m : props->GetObject()) allowed += (allowed.empty() ? "" : ", ") + std::string(m.name.GetString());
      msg += " (allowed: " + allowed + ")";
    }
  } else if (keyword == "enum") {
    msg = "value not in enum";
    if (value && !value->IsObject() && !value->IsArray()) msg += ": " + to_json(*value);
    if (const auto* e = member("enum")) msg += " (allowed: " + join_strings(*e) + ")";
  } else if (keyword == "type") {
    msg = "wrong type";
    if (const auto* ty = member("type")) msg += ": expected " + (ty->IsString() ? std::string(ty->GetString()) : to_json(*ty));
    if (value) msg += std::string(", got ") + type_name(*value);
  } else if (keyword == "minLength" || keyword == "maxLength" || keyword == "minItems" || keyword == "maxItems" ||
             keyword == "minProperties" || keyword == "maxProperties" || keyword == "minimum" ||
             keyword == "maximum" || keyword == "multipleOf" || keyword == "pattern") {
    msg = "violates " + keyword;
    if (const auto* lim = member(keyword.c_str())) msg += " " + to_json(*lim);
    if (value && value->IsString()) msg += " (string of " + std::to_string(value->GetStringLength()) + " bytes)";
    else if (value && value->IsArray()) msg += " (array of " + std::to_string(value->Size()) + " items)";
    else if (value && value->IsNumber()) msg += " (value " + to_json(*value) + ")";
  } else {
    msg = "violates '" + keyword + "'";
  }
  return msg;
}

/// Deepest bracket nesting of (already parsed, hence well-formed) JSON text.
std::size_t nesting_depth(std::string_view json) {
  std::size_t depth = 0;
  std::size_t max_depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

status validate_json(std::string_view json, std::string_view schema) {
  auto compiled = cache().get(schema);
  if (!compiled) return std::move(compiled).err();
  const compiled_schema& cs = **compiled;

  rapidjson::Document doc;
  doc.Parse<kParseFlags>(json.data(), json.size());
  if (doc.HasParseError()) {
    std::size_t off = doc.GetErrorOffset();
    std::string msg = "JSON parse error at offset " + std::to_string(off) + ": " +
                      rapidjson::GetParseError_En(doc.GetParseError());
    auto hint = parse_hint(json, doc.GetParseError(), off);
    if (!hint.empty()) msg += " (" + hint + ")";
    msg += "; near '" + excerpt(json, off) + "'";
    return make_error(errc::bad_json, std::move(msg));
  }

  // RapidJSON's validator does O(depth) work per value, so absurd nesting
  // would take quadratic time; no answer we ask for nests anywhere near this.
  if (std::size_t depth = nesting_depth(json); depth > kMaxValidateDepth)
    return make_error(errc::bad_json, "JSON nested " + std::to_string(depth) + " levels deep (the limit is " +
                                          std::to_string(kMaxValidateDepth) +
                                          "); answer with the requested structure only");

  // Validate by SAX over the text (iterative: no recursion on deep input).
  rapidjson::SchemaValidator validator(*cs.schema);
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(json.data(), json.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  reader.Parse<kParseFlags>(is, validator);
  if (validator.IsValid()) return unit{};

  std::string keyword = validator.GetInvalidSchemaKeyword() ? validator.GetInvalidSchemaKeyword() : "?";
  rapidjson::StringBuffer doc_ptr;
  validator.GetInvalidDocumentPointer().Stringify(doc_ptr);
  rapidjson::StringBuffer schema_ptr;
  validator.GetInvalidSchemaPointer().StringifyUriFragment(schema_ptr);
  const rapidjson::Value* schema_node = validator.GetInvalidSchemaPointer().Get(cs.doc);
  const rapidjson::Value* doc_node = validator.GetInvalidDocumentPointer().Get(doc);

  std::string where = doc_ptr.GetSize() == 0 ? std::string("/") : std::string(doc_ptr.GetString(), doc_ptr.GetSize());
  std::string msg = "at " + where + ": " + describe_violation(keyword, schema_node, doc_node, validator.GetInvalidDocumentPointer()) + " [keyword '" +
                    keyword + "', schema " + std::string(schema_ptr.GetString(), schema_ptr.GetSize()) + "]";
  return make_error(errc::schema_mismatch, std::move(msg));
}

result<std::string> extract_and_validate(std::string_view reply, std::string_view schema) {
  auto extracted = extract_json(reply);
  if (!extracted) return extracted;
  auto st = validate_json(*extracted, schema);
  if (!st) return std::move(st).err();
  return extracted;
}

}  // namespace codehive::llm
