#include "scenario.hpp"

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace llm_sim {

namespace {

using json = rapidjson::Value;

const char* const k_faults[] = {"429", "500", "503", "404", "400",
                                "hang", "malformed", "truncated", "empty"};

/// Throws with the location inside the file.
[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw scenario_error(where.empty() ? what : where + ": " + what);
}

std::string type_name(const json& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  return "an object";
}

bool is_comment_key(const std::string& k) {
  return k == "description" || k == "comment" || (!k.empty() && k[0] == '_');
}

/// Rejects keys outside `allowed` (typos must not be silently ignored).
void check_keys(const json& obj, const std::string& where,
                std::initializer_list<const char*> allowed) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string key = it->name.GetString();
    if (is_comment_key(key)) continue;
    bool ok = false;
    std::string list;
    for (const char* a : allowed) {
      if (key == a) ok = true;
      if (!list.empty()) list += ", ";
      list += a;
    }
    if (!ok) fail(where, "unknown key \"" + key + "\" (expected one of: " + list + ")");
  }
}

void expect_object(const json& v, const std::string& where) {
  if (!v.IsObject()) fail(where, "expected an object, got " + type_name(v));
}

std::string get_string(const json& v, const std::string& where) {
  if (!v.IsString()) fail(where, "expected a string, got " + type_name(v));
  return v.GetString();
}

int get_nonneg_int(const json& v, const std::string& where) {
  if (!v.IsInt() || v.GetInt() < 0)
    fail(where, "expected a non-negative integer, got " + (v.IsNumber() ? std::string("a number out of range") : type_name(v)));
  return v.GetInt();
}

double get_nonneg_number(const json& v, const std::string& where) {
  if (!v.IsNumber() || v.GetDouble() < 0) fail(where, "expected a non-negative number");
  return v.GetDouble();
}

/// `v`'s member `key`, when given, read by `get` into `out` (errors name where.key).
template <class Get, class T>
void read_if_given(const json& v, const char* key, const std::string& where, Get get, T& out) {
  if (auto it = v.FindMember(key); it != v.MemberEnd()) out = get(it->value, where + "." + key);
}

/// Fault kinds may be written "429" or 429.
std::string get_fault_kind(const json& v, const std::string& where) {
  std::string kind;
  if (v.IsInt()) kind = std::to_string(v.GetInt());
  else if (v.IsString()) kind = v.GetString();
  else fail(where, "expected a fault kind, got " + type_name(v));
  if (!is_known_fault(kind)) {
    std::string list;
    for (const char* k : k_faults) list += (list.empty() ? "" : ", ") + std::string(k);
    fail(where, "unknown fault kind \"" + kind + "\" (expected one of: " + list + ")");
  }
  return kind;
}

std::string read_file(const std::filesystem::path& p, const std::string& where) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(where, "cannot read file \"" + p.string() + "\"");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string compact(const json& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

struct loader {
  std::filesystem::path base_dir;

  response_entry entry(const json& v, const std::string& where) const {
    expect_object(v, where);
    check_keys(v, where, {"content", "json", "file", "fault", "refusal", "retry_after_s",
                          "hang_ms", "prompt_tokens", "completion_tokens"});
    response_entry e;
    int kinds = 0;
    if (auto it = v.FindMember("content"); it != v.MemberEnd()) {
      e.text = get_string(it->value, where + ".content");
      ++kinds;
    }
    if (auto it = v.FindMember("json"); it != v.MemberEnd()) {
      e.text = compact(it->value);
      ++kinds;
    }
    if (auto it = v.FindMember("file"); it != v.MemberEnd()) {
      std::filesystem::path p = get_string(it->value, where + ".file");
      if (p.is_relative()) p = base_dir / p;
      e.text = read_file(p, where + ".file");
      ++kinds;
    }
    if (auto it = v.FindMember("refusal"); it != v.MemberEnd()) {
      e.text = get_string(it->value, where + ".refusal");
      e.is_refusal = true;
      ++kinds;
    }
    if (auto it = v.FindMember("fault"); it != v.MemberEnd()) {
      e.is_fault = true;
      e.fault = get_fault_kind(it->value, where + ".fault");
      ++kinds;
    }
    if (kinds != 1)
      fail(where, kinds == 0 ? "an entry needs one of content, json, file, refusal or fault"
                             : "an entry takes only one of content, json, file, refusal or fault");
    if (auto it = v.FindMember("retry_after_s"); it != v.MemberEnd()) {
      if (e.fault != "429") fail(where + ".retry_after_s", "only allowed with \"fault\": \"429\"");
      e.retry_after_s = get_nonneg_int(it->value, where + ".retry_after_s");
    }
    if (auto it = v.FindMember("hang_ms"); it != v.MemberEnd()) {
      if (e.fault != "hang") fail(where + ".hang_ms", "only allowed with \"fault\": \"hang\"");
      e.hang_ms = get_nonneg_int(it->value, where + ".hang_ms");
    }
    read_if_given(v, "prompt_tokens", where, get_nonneg_int, e.prompt_tokens);
    read_if_given(v, "completion_tokens", where, get_nonneg_int, e.completion_tokens);
    return e;
  }

  latency_override latency(const json& v, const std::string& where) const {
    expect_object(v, where);
    check_keys(v, where, {"ttft_ms", "tokens_per_s"});
    latency_override l;
    read_if_given(v, "ttft_ms", where, get_nonneg_int, l.ttft_ms);
    read_if_given(v, "tokens_per_s", where, get_nonneg_number, l.tokens_per_s);
    return l;
  }

  match_spec match(const json& v, const std::string& where) const {
    expect_object(v, where);
    check_keys(v, where, {"role", "path", "prompt_regex", "api", "model"});
    match_spec m;
    read_if_given(v, "role", where, get_string, m.role);
    read_if_given(v, "path", where, get_string, m.path);
    read_if_given(v, "model", where, get_string, m.model);
    if (auto it = v.FindMember("api"); it != v.MemberEnd()) {
      m.api = get_string(it->value, where + ".api");
      if (*m.api != "ollama" && *m.api != "openai")
        fail(where + ".api", "expected \"ollama\" or \"openai\", got \"" + *m.api + "\"");
    }
    if (auto it = v.FindMember("prompt_regex"); it != v.MemberEnd()) {
      m.prompt_regex_source = get_string(it->value, where + ".prompt_regex");
      try {
        m.prompt_regex.emplace(m.prompt_regex_source, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        fail(where + ".prompt_regex",
             "invalid regular expression \"" + m.prompt_regex_source + "\": " + e.what());
      }
    }
    return m;
  }

  rule make_rule(const json& v, const std::string& where, size_t index) const {
    expect_object(v, where);
    check_keys(v, where, {"name", "match", "latency", "responses", "response"});
    rule r;
    r.name = "rule-" + std::to_string(index);
    if (auto it = v.FindMember("name"); it != v.MemberEnd()) {
      r.name = get_string(it->value, where + ".name");
      if (r.name.empty()) fail(where + ".name", "must not be empty");
    }
    if (auto it = v.FindMember("match"); it != v.MemberEnd())
      r.match = match(it->value, where + ".match");
    if (auto it = v.FindMember("latency"); it != v.MemberEnd())
      r.latency = latency(it->value, where + ".latency");
    auto rs = v.FindMember("responses");
    auto one = v.FindMember("response");
    if ((rs == v.MemberEnd()) == (one == v.MemberEnd()))
      fail(where, "a rule needs exactly one of \"responses\" (a list) or \"response\" (one entry)");
    if (one != v.MemberEnd()) {
      r.responses.push_back(entry(one->value, where + ".response"));
    } else {
      if (!rs->value.IsArray() || rs->value.Empty())
        fail(where + ".responses", "expected a non-empty array of entries");
      for (rapidjson::SizeType i = 0; i < rs->value.Size(); ++i)
        r.responses.push_back(
            entry(rs->value[i], where + ".responses[" + std::to_string(i) + "]"));
    }
    return r;
  }

  scenario top(const json& doc) const {
    if (!doc.IsObject()) fail("", "the scenario must be a JSON object, got " + type_name(doc));
    check_keys(doc, "", {"models", "latency", "random_faults", "openai_json_schema", "hang_ms",
                         "rules", "default", "personality"});
    scenario s;
    if (auto it = doc.FindMember("models"); it != doc.MemberEnd()) {
      if (!it->value.IsArray()) fail("models", "expected an array of model names");
      for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i)
        s.models.push_back(get_string(it->value[i], "models[" + std::to_string(i) + "]"));
    }
    if (auto it = doc.FindMember("latency"); it != doc.MemberEnd())
      s.latency = latency(it->value, "latency").apply(s.latency);
    if (auto it = doc.FindMember("random_faults"); it != doc.MemberEnd()) {
      const json& rf = it->value;
      expect_object(rf, "random_faults");
      check_keys(rf, "random_faults", {"rate", "kinds"});
      if (auto r = rf.FindMember("rate"); r != rf.MemberEnd()) {
        if (!r->value.IsNumber() || r->value.GetDouble() < 0 || r->value.GetDouble() > 1)
          fail("random_faults.rate", "expected a number from 0 to 1");
        s.random_fault_rate = r->value.GetDouble();
      }
      if (auto k = rf.FindMember("kinds"); k != rf.MemberEnd()) {
        if (!k->value.IsArray()) fail("random_faults.kinds", "expected an array of fault kinds");
        for (rapidjson::SizeType i = 0; i < k->value.Size(); ++i)
          s.random_fault_kinds.push_back(
              get_fault_kind(k->value[i], "random_faults.kinds[" + std::to_string(i) + "]"));
      }
      if (s.random_fault_rate > 0 && s.random_fault_kinds.empty())
        fail("random_faults.kinds", "a non-zero rate needs at least one fault kind");
    }
    if (auto it = doc.FindMember("openai_json_schema"); it != doc.MemberEnd()) {
      if (!it->value.IsBool()) fail("openai_json_schema", "expected true or false");
      s.openai_json_schema = it->value.GetBool();
    }
    if (auto it = doc.FindMember("hang_ms"); it != doc.MemberEnd())
      s.hang_ms = get_nonneg_int(it->value, "hang_ms");
    if (auto it = doc.FindMember("rules"); it != doc.MemberEnd()) {
      if (!it->value.IsArray()) fail("rules", "expected an array of rules");
      for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i)
        s.rules.push_back(make_rule(it->value[i], "rules[" + std::to_string(i) + "]", i));
    }
    if (auto it = doc.FindMember("default"); it != doc.MemberEnd())
      s.default_entry = entry(it->value, "default");
    if (auto it = doc.FindMember("personality"); it != doc.MemberEnd()) {
      if (it->value.IsString()) {
        s.personality = it->value.GetString();
      } else if (it->value.IsObject()) {
        for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m) {
          const std::string key = m->name.GetString();
          const std::string where = "personality." + key;
          if (is_comment_key(key)) continue;
          if (key == "name") s.personality = get_string(m->value, where);
          else if (m->value.IsString()) s.personality_options[key] = m->value.GetString();
          else if (m->value.IsBool()) s.personality_options[key] = m->value.GetBool() ? "true" : "false";
          else if (m->value.IsInt64()) s.personality_options[key] = std::to_string(m->value.GetInt64());
          else fail(where, "expected a string, a boolean or an integer, got " + type_name(m->value));
        }
        if (s.personality.empty()) fail("personality", "an object needs a \"name\"");
      } else {
        fail("personality", "expected a name or an object, got " + type_name(it->value));
      }
    }
    return s;
  }
};

/// "line L, column C" for a byte offset.
std::string position(const std::string& text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace

bool is_known_fault(const std::string& kind) {
  for (const char* k : k_faults)
    if (kind == k) return true;
  return false;
}

int fault_status(const std::string& kind) {
  if (kind == "429" || kind == "500" || kind == "503" || kind == "404" || kind == "400")
    return std::stoi(kind);
  return 0;
}

scenario parse_scenario(const std::string& text, const std::string& base_dir,
                        const std::string& name) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError())
    throw scenario_error(name + ": invalid JSON at " + position(text, doc.GetErrorOffset()) +
                         ": " + rapidjson::GetParseError_En(doc.GetParseError()));
  try {
    scenario s = loader{base_dir}.top(doc);
    s.path = name;
    return s;
  } catch (const scenario_error& e) {
    throw scenario_error(name + ": " + e.what());
  }
}

scenario load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw scenario_error(path + ": cannot open the scenario file");
  std::ostringstream ss;
  ss << in.rdbuf();
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  return parse_scenario(ss.str(), dir.string(), path);
}

}  // namespace llm_sim
