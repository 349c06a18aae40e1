#include "workspace/edits.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "workspace/html_scan.hpp"

namespace codehive::ws {

const char* to_string(edit_kind k) noexcept {
  switch (k) {
    case edit_kind::whole: return "whole";
    case edit_kind::html_section: return "html_section";
    case edit_kind::search_replace: return "search_replace";
  }
  return "unknown";
}

const char* to_string(section_name s) noexcept { return s == section_name::head ? "head" : "body"; }

// --- parsing ----------------------------------------------------------------

result<edit> parse_edit(const rapidjson::Value& v) {
  if (!v.IsObject()) return fail(errc::bad_edit, "edit is not a JSON object");
  auto str_member = [&](const char* name, std::string& out, bool required) -> status {
    auto it = v.FindMember(name);
    if (it == v.MemberEnd() || it->value.IsNull()) {
      if (required) return fail(errc::bad_edit, std::string("edit has no \"") + name + "\"");
      return ok();
    }
    if (!it->value.IsString()) return fail(errc::bad_edit, std::string("edit field \"") + name + "\" is not a string");
    out.assign(it->value.GetString(), it->value.GetStringLength());
    return ok();
  };
  edit e;
  std::string kind;
  if (auto s = str_member("kind", kind, true); !s) return std::move(s).err();
  if (kind == "whole") e.kind = edit_kind::whole;
  else if (kind == "html_section") e.kind = edit_kind::html_section;
  else if (kind == "search_replace") e.kind = edit_kind::search_replace;
  else return fail(errc::bad_edit, "unknown edit kind \"" + kind + "\" (whole, html_section, search_replace)");
  if (auto s = str_member("summary", e.summary, false); !s) return std::move(s).err();
  switch (e.kind) {
    case edit_kind::whole:
      if (auto s = str_member("content", e.content, true); !s) return std::move(s).err();
      break;
    case edit_kind::html_section: {
      std::string sec;
      if (auto s = str_member("section", sec, true); !s) return std::move(s).err();
      if (sec == "head") e.section = section_name::head;
      else if (sec == "body") e.section = section_name::body;
      else return fail(errc::bad_edit, "unknown html section \"" + sec + "\" (head or body)");
      if (auto s = str_member("content", e.content, true); !s) return std::move(s).err();
      break;
    }
    case edit_kind::search_replace: {
      auto it = v.FindMember("blocks");
      if (it == v.MemberEnd() || !it->value.IsArray())
        return fail(errc::bad_edit, "search_replace edit has no \"blocks\" array");
      if (it->value.Empty()) return fail(errc::bad_edit, "search_replace edit has no blocks");
      int n = 0;
      for (const auto& b : it->value.GetArray()) {
        ++n;
        std::string where = "block " + std::to_string(n) + ": ";
        if (!b.IsObject()) return fail(errc::bad_edit, where + "not an object");
        auto s = b.FindMember("search");
        auto r = b.FindMember("replace");
        if (s == b.MemberEnd() || !s->value.IsString()) return fail(errc::bad_edit, where + "\"search\" missing or not a string");
        if (r == b.MemberEnd() || !r->value.IsString()) return fail(errc::bad_edit, where + "\"replace\" missing or not a string");
        replace_block rb{std::string(s->value.GetString(), s->value.GetStringLength()),
                         std::string(r->value.GetString(), r->value.GetStringLength())};
        if (rb.search.empty()) return fail(errc::bad_edit, where + "empty SEARCH text");
        e.blocks.push_back(std::move(rb));
      }
      break;
    }
  }
  return e;
}

result<edit> parse_edit_json(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError())
    return fail(errc::bad_edit, std::string("edit is not valid JSON: ") + rapidjson::GetParseError_En(d.GetParseError()) +
                                    " at offset " + std::to_string(d.GetErrorOffset()));
  return parse_edit(d);
}

// --- html_section -------------------------------------------------------------

std::optional<section_span> find_html_section(std::string_view doc, section_name s) {
  const std::string name = to_string(s);
  auto tags = html::scan(doc);
  std::size_t open = tags.size();
  for (std::size_t i = 0; i < tags.size(); ++i)
    if (!tags[i].closing && tags[i].name == name) {
      open = i;
      break;
    }
  if (open == tags.size()) return std::nullopt;
  section_span span;
  span.inner_begin = tags[open].end;
  span.inner_end = doc.size();
  for (std::size_t i = open + 1; i < tags.size(); ++i) {
    const auto& t = tags[i];
    if (t.closing && (t.name == name || t.name == "html")) {
      span.inner_end = t.begin;
      return span;
    }
    // <head> without </head> ends where <body> begins.
    if (s == section_name::head && !t.closing && t.name == "body") {
      span.inner_end = t.begin;
      return span;
    }
  }
  return span;
}

namespace {

bool crlf_only(std::string_view doc) {
  bool any = false;
  for (std::size_t i = 0; i < doc.size(); ++i)
    if (doc[i] == '\n') {
      if (i == 0 || doc[i - 1] != '\r') return false;
      any = true;
    }
  return any;
}

std::string lf_to_crlf(std::string_view s) {
  std::string r;
  r.reserve(s.size() + s.size() / 16);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) r += '\r';
    r += s[i];
  }
  return r;
}

std::string crlf_to_lf(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    r += s[i];
  }
  return r;
}

}  // namespace

result<std::string> replace_html_section(std::string_view doc, section_name s, std::string_view inner) {
  auto span = find_html_section(doc, s);
  if (!span)
    return fail(errc::no_section, std::string("the file has no <") + to_string(s) + "> element; send the whole file instead");
  // Models often send the section with its own wrapper, or a whole document.
  std::string new_inner(inner);
  if (auto wrapped = find_html_section(inner, s))
    new_inner = std::string(inner.substr(wrapped->inner_begin, wrapped->inner_end - wrapped->inner_begin));
  if (crlf_only(doc)) new_inner = lf_to_crlf(new_inner);
  std::string out;
  out.reserve(doc.size() + new_inner.size());
  out.append(doc.substr(0, span->inner_begin));
  out.append(new_inner);
  out.append(doc.substr(span->inner_end));
  return out;
}

// --- search_replace -------------------------------------------------------------

namespace {

/// Occurrences of `needle` in `hay` (overlapping ones count), stops at 1000.
std::size_t count_matches(std::string_view hay, std::string_view needle, std::size_t& first) {
  std::size_t n = 0;
  first = std::string_view::npos;
  for (std::size_t p = hay.find(needle); p != std::string_view::npos && n < 1000; p = hay.find(needle, p + 1)) {
    if (n == 0) first = p;
    ++n;
  }
  return n;
}

}  // namespace

result<std::string> apply_search_replace(std::string_view doc, const std::vector<replace_block>& blocks) {
  if (blocks.empty()) return fail(errc::bad_edit, "search_replace edit has no blocks");
  std::string cur(doc);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    std::string where = "block " + std::to_string(i + 1) + ": ";
    std::string search = blocks[i].search;
    std::string replace = blocks[i].replace;
    if (search.empty()) return fail(errc::bad_edit, where + "empty SEARCH text");
    std::size_t first = 0;
    std::size_t n = count_matches(cur, search, first);
    if (n == 0) {
      // Line-ending tolerance: only when the exact text matched nothing.
      bool cur_crlf = cur.find("\r\n") != std::string::npos;
      std::string alt_s = cur_crlf ? lf_to_crlf(crlf_to_lf(search)) : crlf_to_lf(search);
      if (alt_s != search) {
        n = count_matches(cur, alt_s, first);
        if (n > 0) {
          search = alt_s;
          replace = cur_crlf ? lf_to_crlf(crlf_to_lf(replace)) : crlf_to_lf(replace);
        }
      }
    }
    if (n == 0) return fail(errc::search_not_found, where + "SEARCH text not found");
    if (n > 1)
      return fail(errc::search_ambiguous, where + "SEARCH text matches " + std::to_string(n) +
                                              " times; add surrounding lines to make it unique");
    cur.replace(first, search.size(), replace);
  }
  return cur;
}

// --- apply ------------------------------------------------------------------

result<std::string> apply_edit(const std::optional<std::string>& current, const edit& e, std::size_t max_bytes) {
  if (!current && e.kind != edit_kind::whole)
    return fail(errc::not_found, std::string("cannot apply a ") + to_string(e.kind) +
                                     " edit: the file does not exist yet; send kind \"whole\" with the full content");
  result<std::string> out = std::string();
  switch (e.kind) {
    case edit_kind::whole: out = e.content; break;
    case edit_kind::html_section: out = replace_html_section(*current, e.section, e.content); break;
    case edit_kind::search_replace: out = apply_search_replace(*current, e.blocks); break;
  }
  if (!out) return out;
  if (out->empty()) return fail(errc::empty_content, "the edit leaves the file empty");
  // Only whitespace is as empty as nothing: a model that answered "\n" has
  // not written the file.
  if (out->find_first_not_of(" \t\r\n\f\v") == std::string::npos)
    return fail(errc::empty_content, "the edit leaves the file empty (only whitespace)");
  if (out->size() > max_bytes)
    return fail(errc::too_large, "the edited file would be " + std::to_string(out->size()) + " bytes, over the limit of " +
                                     std::to_string(max_bytes));
  return out;
}

}  // namespace codehive::ws
