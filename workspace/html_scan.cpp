#include "workspace/html_scan.hpp"

#include <algorithm>
#include <cctype>

namespace codehive::ws::html {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == ':' || c == '_' || c == '.';
}

bool iequal_at(std::string_view doc, std::size_t pos, std::string_view what) {
  if (pos + what.size() > doc.size()) return false;
  for (std::size_t i = 0; i < what.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(doc[pos + i])) != what[i]) return false;
  return true;
}

bool is_raw_text(std::string_view name) {
  return name == "script" || name == "style" || name == "textarea" || name == "title" || name == "xmp";
}

/// Parses a tag starting at doc[i] == '<' (followed by a letter or '/'+letter).
/// Returns the offset after '>' (or doc.size()).
std::size_t parse_tag(std::string_view doc, std::size_t i, tag& t) {
  t.begin = i;
  std::size_t p = i + 1;
  if (doc[p] == '/') {
    t.closing = true;
    ++p;
  }
  std::size_t ns = p;
  while (p < doc.size() && is_name_char(doc[p])) ++p;
  t.name = lower(doc.substr(ns, p - ns));
  while (p < doc.size()) {
    char c = doc[p];
    if (c == '>') {
      t.end = p + 1;
      return t.end;
    }
    if (c == '/' ) {
      if (p + 1 < doc.size() && doc[p + 1] == '>') {
        t.self_closing = true;
        t.end = p + 2;
        return t.end;
      }
      ++p;
      continue;
    }
    if (is_space(c)) {
      ++p;
      continue;
    }
    // attribute name
    attribute a;
    a.name_pos = p;
    std::size_t as = p;
    while (p < doc.size() && !is_space(doc[p]) && doc[p] != '=' && doc[p] != '>' &&
           !(doc[p] == '/' && p + 1 < doc.size() && doc[p + 1] == '>'))
      ++p;
    if (p == as) {  // stray character such as a lone quote
      ++p;
      continue;
    }
    a.name = lower(doc.substr(as, p - as));
    std::size_t q = p;
    while (q < doc.size() && is_space(doc[q])) ++q;
    if (q < doc.size() && doc[q] == '=') {
      ++q;
      while (q < doc.size() && is_space(doc[q])) ++q;
      a.has_value = true;
      if (q < doc.size() && (doc[q] == '"' || doc[q] == '\'')) {
        char quote = doc[q];
        std::size_t vs = q + 1;
        std::size_t ve = doc.find(quote, vs);
        if (ve == std::string_view::npos) ve = doc.size();
        a.value_pos = vs;
        a.value = std::string(doc.substr(vs, ve - vs));
        p = std::min(ve + 1, doc.size());
      } else {
        std::size_t vs = q;
        while (q < doc.size() && !is_space(doc[q]) && doc[q] != '>') ++q;
        a.value_pos = vs;
        a.value = std::string(doc.substr(vs, q - vs));
        p = q;
      }
    }
    t.attrs.push_back(std::move(a));
  }
  t.end = doc.size();
  return t.end;
}

}  // namespace

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

const attribute* tag::find(std::string_view attr_name) const {
  for (const auto& a : attrs)
    if (a.name == attr_name) return &a;
  return nullptr;
}

std::vector<tag> scan(std::string_view doc) {
  std::vector<tag> tags;
  std::size_t i = 0;
  while (i < doc.size()) {
    std::size_t lt = doc.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= doc.size()) break;
    char n = doc[lt + 1];
    if (doc.compare(lt, 4, "<!--") == 0) {
      std::size_t e = doc.find("-->", lt + 4);
      i = e == std::string_view::npos ? doc.size() : e + 3;
      continue;
    }
    if (n == '!' || n == '?') {
      std::size_t e = doc.find('>', lt + 2);
      i = e == std::string_view::npos ? doc.size() : e + 1;
      continue;
    }
    bool closing = n == '/';
    if (!(is_alpha(n) || (closing && lt + 2 < doc.size() && is_alpha(doc[lt + 2])))) {
      i = lt + 1;
      continue;
    }
    tag t;
    i = parse_tag(doc, lt, t);
    bool raw = !t.closing && !t.self_closing && is_raw_text(t.name);
    std::string name = t.name;
    tags.push_back(std::move(t));
    if (raw) {
      // Raw text runs to the first </name followed by space, '/' or '>'.
      const std::string close = "</" + name;
      std::size_t c = i;
      bool found = false;
      while ((c = doc.find('<', c)) != std::string_view::npos) {
        if (iequal_at(doc, c, close)) {
          std::size_t after = c + close.size();
          if (after >= doc.size() || is_space(doc[after]) || doc[after] == '>' || doc[after] == '/') {
            found = true;
            break;
          }
        }
        ++c;
      }
      if (!found) break;  // unterminated: the rest is raw text
      tag ct;
      i = parse_tag(doc, c, ct);
      tags.push_back(std::move(ct));
    }
  }
  return tags;
}

line_index::line_index(std::string_view text) {
  starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts_.push_back(i + 1);
}

int line_index::line_of(std::size_t offset) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<int>(it - starts_.begin());
}

std::string percent_decode(std::string_view s) {
  std::string r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      r += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      r += s[i];
    }
  }
  return r;
}

}  // namespace codehive::ws::html
