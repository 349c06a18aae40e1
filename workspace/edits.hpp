// Edits of one file, as a model returns them (configs/schemas/edit.json), and
// applying them to the current content. Pure functions: string in, string or
// error out; no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/fwd.h>

#include "workspace/file_ops.hpp"  // default_max_file_bytes
#include "workspace/result.hpp"

namespace codehive::ws {

enum class edit_kind { whole, html_section, search_replace };
enum class section_name { head, body };

const char* to_string(edit_kind k) noexcept;     ///< "whole", "html_section", "search_replace"
const char* to_string(section_name s) noexcept;  ///< "head", "body"

struct replace_block {
  std::string search;   ///< must match exactly once; never empty
  std::string replace;  ///< may be empty (deletes the matched text)
};

struct edit {
  edit_kind kind = edit_kind::whole;
  section_name section = section_name::body;  ///< html_section only
  std::string content;                        ///< whole / html_section
  std::vector<replace_block> blocks;          ///< search_replace
  std::string summary;                        ///< optional one-line summary
};

/// From the edit.json shape. errc::bad_edit with a reason on a wrong shape
/// (unknown kind, missing content/section/blocks, empty search, wrong types).
result<edit> parse_edit(const rapidjson::Value& v);
result<edit> parse_edit_json(std::string_view json);

/// Applies `e` to `current` (nullopt: the file does not exist yet; only
/// `whole` can create a file). The result is checked: never empty nor only
/// whitespace (errc::empty_content), never over `max_bytes` (errc::too_large).
result<std::string> apply_edit(const std::optional<std::string>& current, const edit& e,
                               std::size_t max_bytes = default_max_file_bytes);

/// Byte range of the inner content of <head>/<body> in an HTML document:
/// [inner_begin, inner_end) lies between the end of the opening tag and the
/// start of the closing tag. Tags are case-insensitive and may carry
/// attributes; <head>/<body> inside comments, <script>/<style>/<textarea>/
/// <title> raw text or attribute values are ignored. A missing closing tag
/// means "up to </html> or the end of the document".
struct section_span {
  std::size_t inner_begin = 0;
  std::size_t inner_end = 0;
};
std::optional<section_span> find_html_section(std::string_view doc, section_name s);

/// Replaces only the inner content of <head>/<body>; every other byte is kept.
/// When the document uses CRLF line endings throughout, bare LFs in the new
/// content become CRLF so the file stays consistent. If `inner` itself is wrapped in <body ...>...</body> (or <head>), the
/// wrapper is stripped; a full document (<html>...) is reduced to the section.
/// errc::no_section when `doc` has no such element.
result<std::string> replace_html_section(std::string_view doc, section_name s, std::string_view inner);

/// Applies blocks in order, each to the progressively edited text. Each SEARCH
/// must match exactly once, else the whole edit is refused:
/// "block 2: SEARCH text not found" (errc::search_not_found),
/// "block 1: SEARCH text matches 3 times; add surrounding lines to make it unique"
/// (errc::search_ambiguous). Line endings: an exact match is tried first; only
/// when it finds nothing, SEARCH and REPLACE are converted to the document's
/// line ending (LF <-> CRLF) and tried again, so a model answering in LF can
/// edit a CRLF file and vice versa.
result<std::string> apply_search_replace(std::string_view doc, const std::vector<replace_block>& blocks);

}  // namespace codehive::ws
