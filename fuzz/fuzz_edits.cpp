// libFuzzer target: the edit applier (workspace/edits.hpp). An edit of each
// kind, and the document it applies to, both come from the input bytes:
//
//   byte 0   control: bits 0-1 the mode (0 whole, 1 html_section,
//            2 search_replace, 3 an edit.json text parsed by parse_edit_json),
//            bit 2 the section (head/body), bit 3 "the file does not exist yet",
//            bits 4-5 the size limit (default, 64, 4096, 1 MiB)
//   rest     parts separated by NUL bytes: [current, content] for whole and
//            html_section; [current, search1, replace1, search2, ...] (at most
//            8 blocks) for search_replace; [current, edit.json] for mode 3.
//
// Invariants checked besides "no crash, no sanitizer report":
//  - success: never empty nor only whitespace, never over the limit;
//    whole gives exactly the content; html_section keeps every byte before
//    and after the section's inner range; a single search_replace block that
//    matches once exactly replaces exactly that occurrence;
//  - failure: an error code the function documents, with a reason;
//  - a non-whole edit of a file that does not exist is refused (not_found).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workspace/edits.hpp"

using namespace codehive::ws;

namespace {

[[noreturn]] void fail_inv(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant violated: %s: %.*s\n", what, static_cast<int>(std::min<std::size_t>(detail.size(), 300)),
               detail.data());
  std::abort();
}

std::vector<std::string> split_nul(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto p = s.find('\0', start);
    parts.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return parts;
    start = p + 1;
  }
}

bool allowed(errc c, edit_kind k) {
  switch (c) {
    case errc::empty_content:
    case errc::too_large:
    case errc::not_found:
      return true;
    case errc::no_section: return k == edit_kind::html_section;
    case errc::bad_edit:
    case errc::search_not_found:
    case errc::search_ambiguous:
      return k == edit_kind::search_replace;
    default: return false;
  }
}

void check(const std::optional<std::string>& current, const edit& e, std::size_t max_bytes) {
  auto out = apply_edit(current, e, max_bytes);
  if (!out) {
    const error& err = out.err();
    if (!allowed(err.code, e.kind)) fail_inv("unexpected error code", err.describe());
    if (err.reason.empty()) fail_inv("error without a reason", to_string(err.code));
    if (!current && e.kind != edit_kind::whole && err.code != errc::not_found)
      fail_inv("edit of a missing file not refused as not_found", err.describe());
    return;
  }
  const std::string& r = *out;
  if (!current && e.kind != edit_kind::whole) fail_inv("non-whole edit created a file", to_string(e.kind));
  if (r.empty() || r.find_first_not_of(" \t\r\n\f\v") == std::string::npos) fail_inv("empty result accepted", r);
  if (r.size() > max_bytes) fail_inv("result over the limit", std::to_string(r.size()));
  switch (e.kind) {
    case edit_kind::whole:
      if (r != e.content) fail_inv("whole edit changed the content", r);
      break;
    case edit_kind::html_section: {
      auto span = find_html_section(*current, e.section);
      if (!span) fail_inv("html_section applied to a document without the section", *current);
      if (span->inner_begin > span->inner_end || span->inner_end > current->size())
        fail_inv("section span out of range", *current);
      std::string_view before = std::string_view(*current).substr(0, span->inner_begin);
      std::string_view after = std::string_view(*current).substr(span->inner_end);
      if (r.size() < before.size() + after.size() || std::string_view(r).substr(0, before.size()) != before ||
          std::string_view(r).substr(r.size() - after.size()) != after)
        fail_inv("html_section changed bytes outside the section", r);
      break;
    }
    case edit_kind::search_replace: {
      if (e.blocks.size() == 1) {
        const auto& b = e.blocks.front();
        auto first = current->find(b.search);
        if (first != std::string::npos && current->find(b.search, first + 1) == std::string::npos) {
          std::string expected = *current;
          expected.replace(first, b.search.size(), b.replace);
          if (r != expected) fail_inv("search_replace did not replace the one match", r);
        }
      }
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  auto parts = split_nul(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  std::optional<std::string> current;
  if ((control & 0x8) == 0) current = parts[0];
  static constexpr std::size_t limits[] = {default_max_file_bytes, 64, 4096, 1 << 20};
  const std::size_t max_bytes = limits[(control >> 4) & 0x3];
  auto part = [&](std::size_t i) { return i < parts.size() ? parts[i] : std::string(); };

  edit e;
  switch (control & 0x3) {
    case 0:
      e.kind = edit_kind::whole;
      e.content = part(1);
      break;
    case 1:
      e.kind = edit_kind::html_section;
      e.section = (control & 0x4) ? section_name::head : section_name::body;
      e.content = part(1);
      break;
    case 2:
      e.kind = edit_kind::search_replace;
      for (std::size_t i = 1; i < parts.size() && e.blocks.size() < 8; i += 2) e.blocks.push_back({parts[i], part(i + 1)});
      if (e.blocks.empty()) e.blocks.push_back({part(1), {}});
      break;
    case 3: {
      auto parsed = parse_edit_json(part(1));
      if (!parsed) {
        if (parsed.err().code != errc::bad_edit) fail_inv("parse_edit_json: unexpected error code", parsed.err().describe());
        if (parsed.err().reason.empty()) fail_inv("parse_edit_json: error without a reason", part(1));
        return 0;
      }
      e = std::move(*parsed);
      if (e.kind == edit_kind::search_replace) {
        if (e.blocks.empty()) fail_inv("parse_edit_json accepted no blocks", part(1));
        for (const auto& b : e.blocks)
          if (b.search.empty()) fail_inv("parse_edit_json accepted an empty SEARCH", part(1));
      }
      break;
    }
  }
  check(current, e, max_bytes);
  // Every kind also on its own helpers, where they apply to any document.
  if (current) {
    if (e.kind == edit_kind::search_replace) {
      auto sr = apply_search_replace(*current, e.blocks);
      auto whole = apply_edit(current, e, static_cast<std::size_t>(-1));
      if (sr.ok() && whole.ok() && *sr != *whole) fail_inv("apply_edit and apply_search_replace disagree", *sr);
    }
    if (e.kind == edit_kind::html_section) {
      auto hs = replace_html_section(*current, e.section, e.content);
      if (!hs && hs.err().code != errc::no_section) fail_inv("replace_html_section: unexpected error", hs.err().describe());
    }
  }
  return 0;
}
