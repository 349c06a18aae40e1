#include "workspace/edits.hpp"

#include <rapidjson/document.h>

#include <gtest/gtest.h>

namespace ws = codehive::ws;
using ws::errc;

namespace {

/// The page up to its body, which no body edit may touch.
const std::string page_before_body =
  "<!DOCTYPE html>\r\n"
  "<!-- generated: keep this comment <body class=\"fake\"> -->\r\n"
  "<HTML lang=\"en\" data-x='1'>\r\n"
  "<Head>\r\n"
  "  <title>Old &lt;body&gt; title</title>\r\n"
  "  <meta name=\"d\" content=\"<body>\">\r\n"
  "</HEAD>\r\n";

const std::string page =
    page_before_body +
    "<BODY class=\"dark  theme\" onload=\"init()\">\r\n"
    "  <p>old</p>\r\n"
    "  <script>const s = \"</body>\"; document.write('<body>');</script>\r\n"
    "</body>\r\n"
    "<!-- trailer -->\r\n"
    "</html>\r\n";

ws::edit section_edit(ws::section_name s, std::string content) {
  ws::edit e;
  e.kind = ws::edit_kind::html_section;
  e.section = s;
  e.content = std::move(content);
  return e;
}

ws::edit sr(std::vector<ws::replace_block> blocks) {
  ws::edit e;
  e.kind = ws::edit_kind::search_replace;
  e.blocks = std::move(blocks);
  return e;
}

}  // namespace

TEST(html_section, replaces_body_keeping_everything_else_byte_for_byte) {
  auto r = ws::apply_edit(page, section_edit(ws::section_name::body, "<main>new</main>"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  const std::string expected =
      page_before_body +
      "<BODY class=\"dark  theme\" onload=\"init()\"><main>new</main></body>\r\n"
      "<!-- trailer -->\r\n"
      "</html>\r\n";
  EXPECT_EQ(*r, expected);
}

TEST(html_section, replaces_head_only) {
  auto r = ws::replace_html_section(page, ws::section_name::head, "\n<title>T</title>\n");
  ASSERT_TRUE(r.ok()) << r.err().describe();
  // The document is CRLF throughout, so the new lines follow it.
  std::string expected = page;
  auto b = expected.find("<Head>") + 6;
  auto e = expected.find("</HEAD>");
  expected.replace(b, e - b, "\r\n<title>T</title>\r\n");
  EXPECT_EQ(*r, expected);
}

TEST(html_section, finds_the_real_body_not_the_one_in_comments_scripts_or_attributes) {
  auto span = ws::find_html_section(page, ws::section_name::body);
  ASSERT_TRUE(span.has_value());
  auto inner = std::string_view(page).substr(span->inner_begin, span->inner_end - span->inner_begin);
  EXPECT_EQ(inner, "\r\n  <p>old</p>\r\n  <script>const s = \"</body>\"; document.write('<body>');</script>\r\n");
}

TEST(html_section, strips_a_wrapper_the_model_added) {
  std::string doc = "<html><head></head><body id=\"b\">\n<p>a</p>\n</body></html>";
  auto r = ws::replace_html_section(doc, ws::section_name::body, "<body class=\"model\">\n<p>b</p>\n</body>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "<html><head></head><body id=\"b\">\n<p>b</p>\n</body></html>");
  auto full = ws::replace_html_section(doc, ws::section_name::body,
                                       "<!doctype html><html><head><title>x</title></head><body><p>c</p></body></html>");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(*full, "<html><head></head><body id=\"b\"><p>c</p></body></html>");
}

TEST(html_section, missing_section_is_an_error_with_a_reason) {
  auto r = ws::apply_edit(std::string("<p>just a fragment</p>"), section_edit(ws::section_name::body, "<p>x</p>"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::no_section);
  EXPECT_NE(r.err().reason.find("<body>"), std::string::npos);
  // a <body> that exists only inside a comment does not count
  auto c = ws::replace_html_section("<!-- <body></body> --><p>x</p>", ws::section_name::body, "y");
  EXPECT_EQ(c.err().code, errc::no_section);
}

TEST(html_section, head_without_closing_tag_ends_at_body) {
  std::string doc = "<html><head><title>a</title><body><p>x</p></body></html>";
  auto r = ws::replace_html_section(doc, ws::section_name::head, "<title>b</title>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "<html><head><title>b</title><body><p>x</p></body></html>");
}

TEST(search_replace, applies_blocks_in_order) {
  std::string doc = "a = 1;\nb = 2;\nc = 3;\n";
  auto r = ws::apply_edit(doc, sr({{"b = 2;", "b = 20;"}, {"c = 3;\n", ""}}));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(*r, "a = 1;\nb = 20;\n");
}

TEST(search_replace, later_blocks_see_earlier_replacements) {
  std::string doc = "x();\n";
  auto r = ws::apply_edit(doc, sr({{"x();", "y();"}, {"y();", "z();"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "z();\n");
  // The same blocks in the other order: the first SEARCH finds nothing.
  auto bad = ws::apply_edit(doc, sr({{"y();", "z();"}, {"x();", "y();"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.err().reason, "block 1: SEARCH text not found");
}

TEST(search_replace, not_found_and_ambiguous_refuse_the_whole_edit) {
  std::string doc = "item();\nitem();\nitem();\nend();\n";
  auto nf = ws::apply_search_replace(doc, {{"end();", "fin();"}, {"missing();", "x"}});
  ASSERT_FALSE(nf.ok());
  EXPECT_EQ(nf.err().code, errc::search_not_found);
  EXPECT_EQ(nf.err().reason, "block 2: SEARCH text not found");
  auto amb = ws::apply_search_replace(doc, {{"item();", "x();"}});
  ASSERT_FALSE(amb.ok());
  EXPECT_EQ(amb.err().code, errc::search_ambiguous);
  EXPECT_EQ(amb.err().reason, "block 1: SEARCH text matches 3 times; add surrounding lines to make it unique");
  EXPECT_EQ(ws::apply_search_replace(doc, {{"", "x"}}).err().code, errc::bad_edit);
}

TEST(search_replace, tolerates_line_ending_differences_only_as_a_fallback) {
  std::string crlf = "one\r\ntwo\r\nthree\r\n";
  auto r = ws::apply_search_replace(crlf, {{"one\ntwo\n", "1\n2\n"}});
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(*r, "1\r\n2\r\nthree\r\n");
  std::string lf = "one\ntwo\n";
  auto r2 = ws::apply_search_replace(lf, {{"one\r\ntwo", "ONE\r\nTWO"}});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, "ONE\nTWO\n");
}

TEST(apply_edit, whole_creates_and_replaces_but_other_kinds_need_a_file) {
  ws::edit w;
  w.content = "<p>x</p>";
  EXPECT_EQ(*ws::apply_edit(std::nullopt, w), "<p>x</p>");
  EXPECT_EQ(ws::apply_edit(std::nullopt, section_edit(ws::section_name::body, "x")).err().code, errc::not_found);
  EXPECT_EQ(ws::apply_edit(std::nullopt, sr({{"a", "b"}})).err().code, errc::not_found);
}

TEST(apply_edit, result_is_never_empty_nor_over_the_limit) {
  ws::edit w;
  w.content = "";
  EXPECT_EQ(ws::apply_edit(std::string("old"), w).err().code, errc::empty_content);
  EXPECT_EQ(ws::apply_edit(std::string("abc"), sr({{"abc", ""}})).err().code, errc::empty_content);
  w.content = std::string(100, 'x');
  EXPECT_EQ(ws::apply_edit(std::nullopt, w, 99).err().code, errc::too_large);
  EXPECT_TRUE(ws::apply_edit(std::nullopt, w, 100).ok());
}

// "never empty or invalid": a rewrite to whitespace alone is refused like an
// empty one, whatever kind of edit produced it.
TEST(apply_edit, a_whitespace_only_result_is_refused_like_an_empty_one) {
  ws::edit w;
  for (std::string blank : {" ", "\n", " \t\r\n \n", "\f\v"}) {
    w.content = blank;
    auto r = ws::apply_edit(std::string("old"), w);
    ASSERT_FALSE(r.ok()) << "accepted " << blank.size() << " blank bytes";
    EXPECT_EQ(r.err().code, errc::empty_content);
    EXPECT_NE(r.err().reason.find("whitespace"), std::string::npos) << r.err().reason;
    EXPECT_EQ(ws::apply_edit(std::nullopt, w).err().code, errc::empty_content);
  }
  EXPECT_EQ(ws::apply_edit(std::string("abc\n"), sr({{"abc", "  "}})).err().code, errc::empty_content);
  w.content = " x ";
  EXPECT_TRUE(ws::apply_edit(std::string("old"), w).ok());
}

TEST(parse_edit, reads_the_schema_shapes) {
  auto w = ws::parse_edit_json(R"({"kind":"whole","content":"hi","summary":"s"})");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->kind, ws::edit_kind::whole);
  EXPECT_EQ(w->content, "hi");
  EXPECT_EQ(w->summary, "s");
  auto h = ws::parse_edit_json(R"({"kind":"html_section","section":"head","content":"<title>t</title>"})");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->kind, ws::edit_kind::html_section);
  EXPECT_EQ(h->section, ws::section_name::head);
  auto s = ws::parse_edit_json(R"({"kind":"search_replace","blocks":[{"search":"a","replace":"b"},{"search":"c","replace":""}]})");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->blocks.size(), 2u);
  EXPECT_EQ(s->blocks[1].search, "c");
  rapidjson::Document d;
  d.Parse(R"({"kind":"whole","content":"x"})");
  EXPECT_TRUE(ws::parse_edit(d).ok());
}

TEST(parse_edit, refuses_wrong_shapes_with_reasons) {
  EXPECT_EQ(ws::parse_edit_json("not json").err().code, errc::bad_edit);
  EXPECT_EQ(ws::parse_edit_json("[]").err().code, errc::bad_edit);
  EXPECT_EQ(ws::parse_edit_json(R"({"kind":"rewrite","content":"x"})").err().reason,
            "unknown edit kind \"rewrite\" (whole, html_section, search_replace)");
  EXPECT_EQ(ws::parse_edit_json(R"({"kind":"whole"})").err().reason, "edit has no \"content\"");
  EXPECT_EQ(ws::parse_edit_json(R"({"kind":"html_section","section":"footer","content":"x"})").err().code, errc::bad_edit);
  EXPECT_EQ(ws::parse_edit_json(R"({"kind":"html_section","content":"x"})").err().code, errc::bad_edit);
  EXPECT_EQ(ws::parse_edit_json(R"({"kind":"search_replace","blocks":[]})").err().code, errc::bad_edit);
  EXPECT_EQ(ws::parse_edit_json(R"({"kind":"search_replace","blocks":[{"search":"","replace":"x"}]})").err().reason,
            "block 1: empty SEARCH text");
  EXPECT_EQ(ws::parse_edit_json(R"({"kind":"search_replace","blocks":[{"search":"a"}]})").err().code, errc::bad_edit);
  EXPECT_EQ(ws::parse_edit_json(R"({"kind":"whole","content":5})").err().code, errc::bad_edit);
}
