#include "workspace/js_scan.hpp"

#include <cctype>

namespace codehive::ws::js {

namespace {

enum class kind { ident, punct, str, num };

struct token {
  kind k;
  std::string_view text;
};

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool regex_allowed_after(const std::vector<token>& toks) {
  if (toks.empty()) return true;
  const auto& t = toks.back();
  if (t.k == kind::str || t.k == kind::num) return false;
  if (t.k == kind::punct) return !(t.text == ")" || t.text == "]" || t.text == "}");
  static const char* kw[] = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete",
                             "void", "throw", "instanceof", "yield", "await"};
  for (auto* k : kw)
    if (t.text == k) return true;
  return false;
}

std::vector<token> tokenize(std::string_view s) {
  std::vector<token> toks;
  std::size_t i = 0, n = s.size();
  while (i < n) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '/') {
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      auto e = s.find("*/", i + 2);
      i = e == std::string_view::npos ? n : e + 2;
      continue;
    }
    if (c == '<' && s.substr(i, 4) == "<!--") {  // HTML-like comment in scripts
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      std::size_t b = i++;
      while (i < n && s[i] != c && s[i] != '\n') i += (s[i] == '\\') ? 2 : 1;
      i = std::min(i + 1, n);
      toks.push_back({kind::str, s.substr(b + 1, std::max<std::size_t>(i - b, 2) - 2)});
      continue;
    }
    if (c == '`') {
      std::size_t b = i++;
      int depth = 0;
      while (i < n) {
        if (s[i] == '\\') {
          i += 2;
          continue;
        }
        if (depth == 0 && s[i] == '`') break;
        if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
          ++depth;
          i += 2;
          continue;
        }
        if (depth > 0 && s[i] == '{') ++depth;
        if (depth > 0 && s[i] == '}') --depth;
        ++i;
      }
      i = std::min(i + 1, n);
      toks.push_back({kind::str, s.substr(b, i - b)});
      continue;
    }
    if (c == '/' && regex_allowed_after(toks)) {
      std::size_t b = i++;
      bool in_class = false;
      while (i < n && s[i] != '\n') {
        if (s[i] == '\\') {
          i += 2;
          continue;
        }
        if (s[i] == '[') in_class = true;
        else if (s[i] == ']') in_class = false;
        else if (s[i] == '/' && !in_class) break;
        ++i;
      }
      ++i;
      while (i < n && ident_char(s[i])) ++i;
      i = std::min(i, n);
      toks.push_back({kind::str, s.substr(b, i - b)});
      continue;
    }
    if (ident_start(c)) {
      std::size_t b = i;
      while (i < n && ident_char(s[i])) ++i;
      toks.push_back({kind::ident, s.substr(b, i - b)});
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      std::size_t b = i;
      while (i < n && (ident_char(s[i]) || s[i] == '.')) ++i;
      toks.push_back({kind::num, s.substr(b, i - b)});
      continue;
    }
    // punctuation
    std::size_t len = 1;
    if (s.substr(i, 3) == "..." || s.substr(i, 3) == "===" || s.substr(i, 3) == "!==") len = 3;
    else if (i + 1 < n) {
      char d = s[i + 1];
      if ((c == '=' && (d == '=' || d == '>')) || (c == '?' && (d == '.' || d == '?')) ||
          (d == '=' && std::string_view("<>!+-*/%&|^").find(c) != std::string_view::npos) ||
          (c == '&' && d == '&') || (c == '|' && d == '|') || (c == '+' && d == '+') || (c == '-' && d == '-'))
        len = 2;
    }
    toks.push_back({kind::punct, s.substr(i, len)});
    i += len;
  }
  return toks;
}

bool is(const std::vector<token>& t, std::size_t i, std::string_view text) {
  return i < t.size() && t[i].text == text && t[i].k != kind::str;
}
bool is_ident(const std::vector<token>& t, std::size_t i) { return i < t.size() && t[i].k == kind::ident; }

bool is_keyword(std::string_view w) {
  static const char* kw[] = {"if", "for", "while", "switch", "catch", "function", "return", "typeof", "void",
                             "await", "yield", "with", "do", "else", "in", "of", "instanceof", "super", "this",
                             "import", "delete", "throw", "case", "var", "let", "const", "class", "async",
                             "true", "false", "null", "undefined", "new", "try", "finally", "break", "continue"};
  for (auto* k : kw)
    if (w == k) return true;
  return false;
}

bool is_global_object(std::string_view w) { return w == "window" || w == "globalThis" || w == "self"; }

}  // namespace

bool uses_module_syntax(std::string_view src) {
  auto t = tokenize(src);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].k != kind::ident) continue;
    bool stmt_start = i == 0 || is(t, i - 1, ";") || is(t, i - 1, "}") || is(t, i - 1, "{");
    if (!stmt_start) continue;
    if (t[i].text == "import" && i + 1 < t.size() &&
        (t[i + 1].k == kind::ident || t[i + 1].k == kind::str || is(t, i + 1, "{") || is(t, i + 1, "*")))
      return true;
    if (t[i].text == "export" && i + 1 < t.size() &&
        (t[i + 1].k == kind::ident || is(t, i + 1, "{") || is(t, i + 1, "*")))
      return true;
  }
  return false;
}

void collect_definitions(std::string_view src, bool module, std::set<std::string>& out) {
  auto t = tokenize(src);
  auto function_like_after = [&](std::size_t j) {  // t[j] starts the right-hand side
    if (is(t, j, "function") || is(t, j, "async")) return true;
    if (is_ident(t, j) && is(t, j + 1, "=>")) return true;
    if (is(t, j, "(")) {
      int depth = 0;
      for (std::size_t k = j; k < t.size(); ++k) {
        if (is(t, k, "(")) ++depth;
        else if (is(t, k, ")") && --depth == 0) return is(t, k + 1, "=>");
      }
    }
    return false;
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].k != kind::ident) continue;
    auto w = t[i].text;
    bool member = i > 0 && (is(t, i - 1, ".") || is(t, i - 1, "?."));
    // window.f = ..., globalThis.f = ..., self.f = ...
    if (member && i >= 2 && is_global_object(t[i - 2].text) && is(t, i + 1, "=")) {
      out.emplace(w);
      continue;
    }
    // window["f"] = ...
    if (is_global_object(w) && is(t, i + 1, "[") && i + 4 < t.size() && t[i + 2].k == kind::str &&
        is(t, i + 3, "]") && is(t, i + 4, "=")) {
      out.emplace(t[i + 2].text);
      continue;
    }
    // Object.assign(window, { f, g: h })
    if (w == "Object" && is(t, i + 1, ".") && is(t, i + 2, "assign") && is(t, i + 3, "(") && i + 4 < t.size() &&
        is_global_object(t[i + 4].text) && is(t, i + 5, ",") && is(t, i + 6, "{")) {
      int depth = 0;
      for (std::size_t k = i + 6; k < t.size(); ++k) {
        if (is(t, k, "{") || is(t, k, "(") || is(t, k, "[")) ++depth;
        else if (is(t, k, "}") || is(t, k, ")") || is(t, k, "]")) {
          if (--depth == 0) break;
        } else if (depth == 1 && is_ident(t, k) && (is(t, k - 1, "{") || is(t, k - 1, ",")) &&
                   (is(t, k + 1, ",") || is(t, k + 1, "}") || is(t, k + 1, ":") || is(t, k + 1, "(")))
          out.emplace(t[k].text);
      }
      continue;
    }
    if (module || member) continue;
    if (w == "function") {
      std::size_t j = i + 1;
      if (is(t, j, "*")) ++j;
      if (is_ident(t, j) && !is(t, j, "(")) out.emplace(t[j].text);
      continue;
    }
    if (w == "class" && is_ident(t, i + 1) && !is(t, i + 1, "extends")) {
      out.emplace(t[i + 1].text);
      continue;
    }
    if ((w == "var" || w == "let" || w == "const") && is_ident(t, i + 1) && is(t, i + 2, "=")) {
      out.emplace(t[i + 1].text);
      continue;
    }
    if (!is_keyword(w) && is(t, i + 1, "=") && function_like_after(i + 2)) out.emplace(w);
  }
}

std::vector<std::string> called_functions(std::string_view handler) {
  auto t = tokenize(handler);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].k != kind::ident || !is(t, i + 1, "(")) continue;
    if (i > 0 && (is(t, i - 1, ".") || is(t, i - 1, "?.") || is(t, i - 1, "function"))) continue;
    if (is_keyword(t[i].text)) continue;
    std::string n(t[i].text);
    bool dup = false;
    for (const auto& x : names) dup = dup || x == n;
    if (!dup) names.push_back(std::move(n));
  }
  return names;
}

bool is_known_global(std::string_view name) {
  static const char* globals[] = {
      "alert", "confirm", "prompt", "print", "open", "close", "focus", "blur", "stop", "scroll", "scrollTo",
      "scrollBy", "setTimeout", "setInterval", "clearTimeout", "clearInterval", "requestAnimationFrame",
      "cancelAnimationFrame", "queueMicrotask", "structuredClone", "fetch", "getComputedStyle", "matchMedia",
      "postMessage", "atob", "btoa", "parseInt", "parseFloat", "isNaN", "isFinite", "Number", "String",
      "Boolean", "Array", "Object", "Symbol", "BigInt", "Date", "RegExp", "Error", "TypeError", "Promise",
      "Map", "Set", "WeakMap", "WeakSet", "JSON", "Math", "Intl", "URL", "URLSearchParams", "Image", "Audio",
      "Option", "FormData", "Event", "CustomEvent", "Blob", "File", "FileReader", "encodeURIComponent",
      "decodeURIComponent", "encodeURI", "decodeURI", "escape", "unescape", "eval", "console", "document",
      "window", "event", "navigator", "location", "history", "localStorage", "sessionStorage", "Reflect",
      "Proxy", "AbortController", "XMLHttpRequest", "WebSocket", "Worker", "Notification", "performance",
      "crypto", "getSelection", "reportError", "createImageBitmap", "requestIdleCallback", "cancelIdleCallback"};
  for (auto* g : globals)
    if (name == g) return true;
  return false;
}

}  // namespace codehive::ws::js
