// A small, forgiving HTML tag scanner shared by edits (html_section) and the
// HTML validator. Not a full HTML5 parser: it finds tags with their byte
// ranges and attributes, skipping comments, doctype/processing instructions
// and raw text (<script>, <style>, <textarea>, <title>, <xmp>).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace codehive::ws::html {

struct attribute {
  std::string name;           ///< lower-case
  std::string value;          ///< raw (entities not decoded), quotes removed
  std::size_t name_pos = 0;   ///< byte offset of the name in the document
  std::size_t value_pos = 0;  ///< byte offset of the value (after the quote)
  bool has_value = false;
};

struct tag {
  std::string name;           ///< lower-case
  std::size_t begin = 0;      ///< offset of '<'
  std::size_t end = 0;        ///< offset after '>'
  bool closing = false;       ///< </name>
  bool self_closing = false;  ///< <name ... />
  std::vector<attribute> attrs;
  const attribute* find(std::string_view attr_name) const;
};

/// All tags in document order. For a raw-text element the opening tag is
/// followed directly by its closing tag (if present); the text between is
/// [open.end, close.begin).
std::vector<tag> scan(std::string_view doc);

/// Decodes %XX escapes in a URL path ("my%20page.html" -> "my page.html");
/// a malformed escape is kept as it is.
std::string percent_decode(std::string_view s);

/// 1-based line of a byte offset.
class line_index {
 public:
  explicit line_index(std::string_view text);
  int line_of(std::size_t offset) const;

 private:
  std::vector<std::size_t> starts_;
};

std::string lower(std::string_view s);

}  // namespace codehive::ws::html
