#include <sys/stat.h>

#include <cctype>
#include <set>

#include "workspace/file_ops.hpp"
#include "workspace/html_scan.hpp"
#include "workspace/js_scan.hpp"
#include "workspace/path_rules.hpp"
#include "workspace/validators.hpp"

namespace codehive::ws {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

/// Minimal entity decoding for attribute values (handlers, URLs).
std::string decode_entities(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      struct ent {
        const char* name;
        char ch;
      };
      static const ent ents[] = {{"&quot;", '"'}, {"&#34;", '"'}, {"&apos;", '\''}, {"&#39;", '\''},
                                 {"&amp;", '&'},  {"&lt;", '<'},  {"&gt;", '>'}};
      bool done = false;
      for (const auto& e : ents) {
        std::string_view n(e.name);
        if (s.substr(i, n.size()) == n) {
          r += e.ch;
          i += n.size() - 1;
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    r += s[i];
  }
  return r;
}

/// True for references that are not files of the output folder.
bool is_external(std::string_view v) {
  if (v.empty() || v[0] == '#' || v.rfind("//", 0) == 0) return true;
  if (v.find("{{") != std::string_view::npos || v.find("${") != std::string_view::npos) return true;
  // scheme: letters, digits, + . - before ':'
  std::size_t i = 0;
  if (!std::isalpha(static_cast<unsigned char>(v[0]))) return false;
  while (i < v.size() && (std::isalnum(static_cast<unsigned char>(v[i])) || v[i] == '+' || v[i] == '.' || v[i] == '-')) ++i;
  return i < v.size() && v[i] == ':';
}

/// Resolves a local reference against the page's directory; "" when it leaves the root.
/// `leaves` is set in that case.
std::string resolve_ref(std::string_view page, std::string_view ref, bool& leaves) {
  leaves = false;
  std::vector<std::string> parts;
  if (ref.empty() || ref[0] != '/') {
    std::string_view dir = page;
    auto slash = dir.rfind('/');
    dir = slash == std::string_view::npos ? std::string_view{} : dir.substr(0, slash);
    std::size_t i = 0;
    while (!dir.empty() && i <= dir.size()) {
      auto j = dir.find('/', i);
      if (j == std::string_view::npos) j = dir.size();
      if (j > i) parts.emplace_back(dir.substr(i, j - i));
      i = j + 1;
    }
  }
  std::size_t i = 0;
  while (i <= ref.size()) {
    auto j = ref.find('/', i);
    if (j == std::string_view::npos) j = ref.size();
    auto c = ref.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (parts.empty()) {
        leaves = true;
        return {};
      }
      parts.pop_back();
      continue;
    }
    parts.emplace_back(c);
  }
  std::string r;
  for (const auto& p : parts) r += (r.empty() ? "" : "/") + p;
  return r;
}

bool ref_attr(const html::tag& t, const html::attribute& a) {
  if (a.name == "src") return true;
  if (a.name == "href") return t.name == "link" || t.name == "a" || t.name == "area";
  return false;
}

bool is_js_type(const html::tag& t, bool& module) {
  module = false;
  auto* type = t.find("type");
  if (!type) return true;
  auto v = html::lower(trim(type->value));
  if (v == "module") {
    module = true;
    return true;
  }
  return v.empty() || v == "text/javascript" || v == "application/javascript" || v == "text/ecmascript" ||
         v == "application/ecmascript";
}

}  // namespace

void check_html(const std::filesystem::path& root, std::string_view file, std::string_view content,
                validation_report& out, std::vector<std::string>* looked_at) {
  auto tags = html::scan(content);
  html::line_index lines(content);
  std::set<std::string> globals, module_locals;
  const std::string page(file);

  // 1. references, and the scripts this page runs
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto& t = tags[i];
    if (t.closing) continue;
    for (const auto& a : t.attrs) {
      if (!ref_attr(t, a) || !a.has_value) continue;
      std::string v = trim(decode_entities(a.value));
      if (is_external(v)) continue;
      auto cut = v.find_first_of("?#");
      if (cut != std::string::npos) v.resize(cut);
      if (v.empty()) continue;
      std::string shown = v;
      v = html::percent_decode(v);
      bool leaves = false;
      auto target = resolve_ref(page, v, leaves);
      int line = lines.line_of(a.value_pos);
      std::string what = "<" + t.name + " " + a.name + "=\"" + shown + "\">";
      if (leaves) {
        out.findings.push_back({page, line, "html_ref", what + " points outside the output folder"});
        continue;
      }
      if (target.empty()) continue;  // "/" or "./": the folder itself
      if (looked_at) looked_at->push_back(target);
      auto res = resolve_in_root(root, target);
      struct stat st{};
      if (!res || ::stat(res->absolute.c_str(), &st) != 0) {
        out.findings.push_back(
            {page, line, "html_ref", what + ": " + target + " does not exist in the output folder"});
        continue;
      }
    }
    if (t.name == "script") {
      bool module = false;
      if (!is_js_type(t, module)) continue;
      auto* src = t.find("src");
      if (src && src->has_value) {
        std::string v = trim(decode_entities(src->value));
        if (is_external(v)) continue;
        auto cut = v.find_first_of("?#");
        if (cut != std::string::npos) v.resize(cut);
        bool leaves = false;
        auto target = resolve_ref(page, html::percent_decode(v), leaves);
        if (leaves || target.empty()) continue;
        if (looked_at) looked_at->push_back(target);
        auto js = read_file(root, target);
        if (!js) continue;  // reported above as a missing reference
        module = module || js::uses_module_syntax(*js);
        js::collect_definitions(*js, module, globals);
        if (module) js::collect_definitions(*js, false, module_locals);
      } else if (i + 1 < tags.size() && tags[i + 1].closing && tags[i + 1].name == "script") {
        auto code = content.substr(t.end, tags[i + 1].begin - t.end);
        js::collect_definitions(code, module, globals);
        if (module) js::collect_definitions(code, false, module_locals);
      }
    }
  }

  // 2. inline handlers
  for (const auto& t : tags) {
    if (t.closing) continue;
    for (const auto& a : t.attrs) {
      if (a.name.size() <= 2 || a.name.compare(0, 2, "on") != 0 || !a.has_value) continue;
      auto code = decode_entities(a.value);
      for (const auto& fn : js::called_functions(code)) {
        if (globals.count(fn) || js::is_known_global(fn)) continue;
        std::string msg = a.name + "=\"" + trim(code).substr(0, 80) + "\" calls " + fn + "(), ";
        if (module_locals.count(fn))
          msg += "which is defined only inside an ES module script; module scope is not global, so the handler "
                 "cannot see it (assign window." + fn + " = " + fn + " or attach the listener with addEventListener)";
        else
          msg += "which no script of this page defines (inline <script> or a local <script src>)";
        out.findings.push_back({page, lines.line_of(a.name_pos), "html_handler", std::move(msg)});
      }
    }
  }
}

}  // namespace codehive::ws
