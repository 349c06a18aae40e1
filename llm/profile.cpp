#include "llm/profile.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <set>

namespace codehive::llm {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `word` in `text` with no letter, digit or '_' on either side.
bool has_word(std::string_view text, std::string_view word) {
  for (auto pos = text.find(word); pos != std::string_view::npos; pos = text.find(word, pos + 1)) {
    bool left = pos == 0 || !word_char(text[pos - 1]);
    auto end = pos + word.size();
    bool right = end >= text.size() || !word_char(text[end]);
    if (left && right) return true;
  }
  return false;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// Words servers use when they refuse a parameter (OpenAI "Unsupported
// parameter"/"Unsupported value ... Only the default (1) value is supported",
// Ollama "does not support thinking", pydantic "Extra inputs are not
// permitted", others "unknown"/"unrecognized" field).
bool says_refused(std::string_view t) {
  for (auto w : {"unsupported", "not supported", "does not support", "unknown", "unrecognized", "not permitted",
                 "not allowed", "only the default", "extra inputs"})
    if (contains(t, w)) return true;
  return false;
}

std::string_view host_of(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) url.remove_prefix(scheme_end + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (!url.empty() && url.front() == '[') {
    auto close = url.find(']');
    return url.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  }
  return url.substr(0, url.find(':'));
}

// Seconds of an Ollama keep_alive ("30m", "1h30m", "300", "-1" = forever).
double keep_alive_seconds(const std::string& v) {
  if (v.empty()) return 0;
  char* end = nullptr;
  double n = std::strtod(v.c_str(), &end);
  if (n < 0) return 1e18;
  if (end != nullptr && *end == '\0') return n;
  double total = 0;
  const char* p = v.c_str();
  while (*p != '\0') {
    double x = std::strtod(p, &end);
    if (end == p) return total;
    p = end;
    double unit = 1;
    if (p[0] == 'm' && p[1] == 's') {
      unit = 0.001;
      p += 2;
    } else if (*p == 'h') {
      unit = 3600;
      ++p;
    } else if (*p == 'm') {
      unit = 60;
      ++p;
    } else if (*p == 's') {
      ++p;
    }
    total += x * unit;
  }
  return total;
}

std::mutex& secrets_mutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& secrets() {
  static std::set<std::string> s;
  return s;
}

}  // namespace

const char* to_string(structured_mode m) noexcept {
  switch (m) {
    case structured_mode::json_schema: return "json_schema";
    case structured_mode::json_object: return "json_object";
    case structured_mode::prompt_only: return "prompt_only";
  }
  return "json_schema";
}

const char* to_string(refused_field f) noexcept {
  switch (f) {
    case refused_field::none: return "none";
    case refused_field::think: return "think";
    case refused_field::temperature: return "temperature";
    case refused_field::max_tokens: return "max_tokens";
    case refused_field::max_completion_tokens: return "max_completion_tokens";
    case refused_field::response_format: return "response_format";
  }
  return "none";
}

refused_field refused_by(int http_status, std::string_view error_text, std::string_view param,
                         const sent_fields& sent) {
  // 400 and 422 are "bad request" (pydantic servers answer 422); llama.cpp
  // and some vLLM grammar back-ends refuse a schema with a 500.
  if (http_status != 400 && http_status != 422 && http_status != 500) return refused_field::none;
  auto t = lower(error_text);
  auto p = lower(param);
  bool refused = says_refused(t);
  if (sent.think && (p == "think" || (refused && contains(t, "think")))) return refused_field::think;
  if (sent.temperature && (p == "temperature" || (refused && has_word(t, "temperature"))))
    return refused_field::temperature;
  if (sent.max_tokens && (p == "max_tokens" || (refused && has_word(t, "max_tokens"))))
    return refused_field::max_tokens;
  if (sent.max_completion_tokens &&
      (p == "max_completion_tokens" || (refused && has_word(t, "max_completion_tokens") && !has_word(t, "max_tokens"))))
    return refused_field::max_completion_tokens;
  if (sent.response_format) {
    if (p == "response_format" || p == "format" || p.starts_with("response_format.")) return refused_field::response_format;
    for (auto w : {"response_format", "json_schema", "json_object", "grammar", "guided_json", "guided_decoding",
                   "structured output", "schema"})
      if (contains(t, w)) return refused_field::response_format;
    if (has_word(t, "format")) return refused_field::response_format;
  }
  return refused_field::none;
}

bool is_reasoning_model(std::string_view model) {
  auto m = lower(model);
  if (auto slash = m.rfind('/'); slash != std::string::npos) {
    if (m.substr(0, slash) != "openai") return false;  // another vendor's model
    m = m.substr(slash + 1);
  }
  for (std::string_view prefix : {"o1", "o3", "o4"})
    if (m.starts_with(prefix) && (m.size() == prefix.size() || m[prefix.size()] == '-')) return true;
  return m.starts_with("gpt-5");
}

profile_report initial_profile(const endpoint_config& cfg) {
  profile_report r;
  const auto& p = cfg.profile;
  bool reasoning = cfg.spec.kind == api::openai && is_reasoning_model(cfg.spec.model);
  r.structured = p.structured.value_or(structured_mode::json_schema);
  r.temperature = p.temperature.value_or(!reasoning);
  r.max_completion_tokens = cfg.spec.kind == api::openai && p.max_completion_tokens.value_or(reasoning);
  r.think = cfg.spec.kind == api::ollama && p.think.value_or(true);
  r.keep_alive = cfg.spec.kind == api::ollama ? p.keep_alive : std::string{};
  r.context_tokens = cfg.context_tokens;
  return r;
}

bool is_https_url(std::string_view url) { return lower(url.substr(0, 8)) == "https://"; }

bool is_loopback_url(std::string_view url) {
  auto h = lower(host_of(url));
  if (h == "localhost" || h == "::1" || h.ends_with(".localhost")) return true;
  if (!h.starts_with("127.")) return false;
  return std::all_of(h.begin(), h.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

bool key_may_travel(const endpoint_config& cfg) {
  return cfg.allow_insecure_key || is_https_url(cfg.spec.base_url) || is_loopback_url(cfg.spec.base_url);
}

std::string expand_env(std::string_view value, bool& names_variable) {
  names_variable = false;
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$' || i + 1 >= value.size()) {
      out.push_back(value[i]);
      continue;
    }
    std::size_t start = i + 1;
    std::size_t end = start;
    bool braced = value[start] == '{';
    if (braced) {
      end = value.find('}', start);
      if (end == std::string_view::npos) {
        out.push_back(value[i]);
        continue;
      }
      ++start;
    } else {
      while (end < value.size() && word_char(value[end])) ++end;
      if (end == start) {
        out.push_back(value[i]);
        continue;
      }
    }
    std::string name(value.substr(start, end - start));
    names_variable = true;
    // Read at use: a header's secret never sits in the config structs (nodes/ reads the rest).
    if (const char* v = std::getenv(name.c_str())) out += v;
    i = braced ? end : end - 1;
  }
  return out;
}

void register_secret(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard lk{secrets_mutex()};
  secrets().emplace(value);
}

std::string scrub_secrets(std::string text) {
  std::lock_guard lk{secrets_mutex()};
  // Longest first, so a secret that contains another is removed whole.
  std::vector<const std::string*> all;
  for (const auto& s : secrets()) all.push_back(&s);
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->size() > b->size(); });
  for (const auto* s : all) {
    for (auto pos = text.find(*s); pos != std::string::npos; pos = text.find(*s, pos))
      text.replace(pos, s->size(), "[redacted]");
  }
  return text;
}

void share_model_settings(const std::vector<endpoint_config*>& endpoints) {
  auto base_model = [](const std::string& m) {
    return m.find(':') == std::string::npos ? m + ":latest" : m;
  };
  auto same = [&](const endpoint_config& a, const endpoint_config& b) {
    auto strip = [](std::string u) {
      while (!u.empty() && u.back() == '/') u.pop_back();
      return lower(u);
    };
    return a.spec.kind == api::ollama && b.spec.kind == api::ollama && strip(a.spec.base_url) == strip(b.spec.base_url) &&
           base_model(a.spec.model) == base_model(b.spec.model);
  };
  for (auto* a : endpoints) {
    if (a == nullptr || a->spec.kind != api::ollama) continue;
    int ctx = a->context_tokens;
    std::string keep = a->profile.keep_alive;
    for (auto* b : endpoints) {
      if (b == nullptr || !same(*a, *b)) continue;
      ctx = std::max(ctx, b->context_tokens);
      if (keep_alive_seconds(b->profile.keep_alive) > keep_alive_seconds(keep)) keep = b->profile.keep_alive;
    }
    for (auto* b : endpoints) {
      if (b == nullptr || !same(*a, *b)) continue;
      b->context_tokens = ctx;
      b->profile.keep_alive = keep;
    }
  }
}

}  // namespace codehive::llm
