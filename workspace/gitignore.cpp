#include "workspace/gitignore.hpp"

namespace codehive::ws {

namespace {

/// `[...]` at p[0]: sets `len` to the class's length and returns whether `c`
/// is in it; a `[` without its `]` is no class (len 0).
bool class_match(std::string_view p, char c, std::size_t& len) {
  std::size_t i = 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool found = false;
  bool first = true;
  for (; i < p.size(); ++i) {
    if (p[i] == ']' && !first) {
      len = i + 1;
      return found != negate;
    }
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) found = true;
  }
  len = 0;
  return false;
}

}  // namespace

bool glob_match(std::string_view p, std::string_view t) {
  std::size_t pi = 0;
  std::size_t ti = 0;
  while (pi < p.size()) {
    char c = p[pi];
    if (c == '*') {
      bool segment_start = pi == 0 || p[pi - 1] == '/';
      if (pi + 1 < p.size() && p[pi + 1] == '*' && segment_start) {
        std::size_t after = pi + 2;
        if (after == p.size()) return true;  // "x/**": everything below
        if (p[after] == '/') {
          // "**/": zero or more whole folders.
          auto rest = p.substr(after + 1);
          if (glob_match(rest, t.substr(ti))) return true;
          for (std::size_t k = ti; k < t.size(); ++k)
            if (t[k] == '/' && glob_match(rest, t.substr(k + 1))) return true;
          return false;
        }
      }
      while (pi < p.size() && p[pi] == '*') ++pi;
      auto rest = p.substr(pi);
      for (std::size_t k = ti;; ++k) {
        if (glob_match(rest, t.substr(k))) return true;
        if (k >= t.size() || t[k] == '/') return false;
      }
    }
    if (ti >= t.size()) return false;
    if (c == '?') {
      if (t[ti] == '/') return false;
      ++pi;
      ++ti;
      continue;
    }
    if (c == '[') {
      std::size_t len = 0;
      bool in = class_match(p.substr(pi), t[ti], len);
      if (len > 0) {
        if (!in || t[ti] == '/') return false;
        pi += len;
        ++ti;
        continue;
      }
    }
    if (c == '\\' && pi + 1 < p.size()) c = p[++pi];
    if (t[ti] != c) return false;
    ++pi;
    ++ti;
  }
  return ti == t.size();
}

void ignore_rules::add(std::string_view base, std::string_view text) {
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line{text.substr(start, end - start)};
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Trailing spaces go unless escaped with a backslash.
    while (!line.empty() && line.back() == ' ' && !(line.size() >= 2 && line[line.size() - 2] == '\\')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    rule r;
    r.base = std::string{base};
    if (line[0] == '!') {
      r.negate = true;
      line.erase(0, 1);
    } else if (line[0] == '\\' && line.size() > 1 && (line[1] == '!' || line[1] == '#')) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.folder_only = true;
      line.pop_back();
    }
    // A slash at the start or in the middle ties the pattern to this folder.
    if (line.find('/') != std::string::npos) {
      r.anchored = true;
      if (line[0] == '/') line.erase(0, 1);
    }
    if (line.empty()) continue;
    r.pattern = std::move(line);
    rules_.push_back(std::move(r));
  }
}

bool ignore_rules::ignored(std::string_view rel, bool is_folder) const {
  bool out = false;
  for (const auto& r : rules_) {
    if (r.folder_only && !is_folder) continue;
    std::string_view sub = rel;
    if (!r.base.empty()) {
      if (rel.size() <= r.base.size() || rel.compare(0, r.base.size(), r.base) != 0 || rel[r.base.size()] != '/')
        continue;
      sub = rel.substr(r.base.size() + 1);
    }
    bool hit;
    if (r.anchored) {
      hit = glob_match(r.pattern, sub);
    } else {
      auto slash = sub.rfind('/');
      hit = glob_match(r.pattern, slash == std::string_view::npos ? sub : sub.substr(slash + 1));
    }
    if (hit) out = !r.negate;
  }
  return out;
}

}  // namespace codehive::ws
