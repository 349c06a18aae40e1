#include "actors/answers.hpp"

#include <algorithm>
#include <regex>

#include <rapidjson/document.h>

#include "common/json_read.hpp"
#include "llm/structured.hpp"
#include "workspace/edits.hpp"

namespace codehive {

namespace {

/// Parses the JSON object out of an answer (the client already extracted and
/// validated it when a schema was sent; this tolerates a raw answer too).
bool load(const std::string& answer, rapidjson::Document& doc, std::string& error) {
  auto json = llm::extract_json(answer);
  if (!json) {
    error = json.err().message;
    return false;
  }
  doc.Parse(json->data(), json->size());
  if (doc.HasParseError() || !doc.IsObject()) {
    error = "the answer is not a JSON object";
    return false;
  }
  return true;
}

/// The array member `key` of the answer's object (in `doc`), or nullptr with
/// `error` saying why there is none.
const rapidjson::Value* load_array(const std::string& answer, rapidjson::Document& doc,
                                   const char* key, std::string& error) {
  if (!load(answer, doc, error))
    return nullptr;
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsArray()) {
    error = std::string{"the answer has no \""} + key + "\" array";
    return nullptr;
  }
  return &it->value;
}

msg::edit_kind msg_kind_of(ws::edit_kind k) {
  switch (k) {
    case ws::edit_kind::whole:
      return msg::edit_kind::whole;
    case ws::edit_kind::html_section:
      return msg::edit_kind::html_section;
    case ws::edit_kind::search_replace:
      break;
  }
  return msg::edit_kind::search_replace;
}

}  // namespace

parsed<std::vector<msg::file_task>> parse_plan(const std::string& answer) {
  parsed<std::vector<msg::file_task>> out;
  rapidjson::Document doc;
  const auto* array = load_array(answer, doc, "tasks", out.error);
  if (array == nullptr)
    return out;
  std::vector<msg::file_task> tasks;
  for (const auto& v : array->GetArray()) {
    if (!v.IsObject()) {
      out.error = "every element of \"tasks\" must be an object";
      return out;
    }
    msg::file_task t;
    t.id = json_string(v, "id");
    auto action = json_string(v, "action");
    t.type = json_string(v, "type");
    t.path = json_string(v, "path");
    t.description = json_string(v, "description");
    t.instructions = json_string(v, "instructions");
    t.depends_on = json_strings(v, "depends_on");
    t.context_paths = json_strings(v, "context_paths");
    auto edit = msg::parse_edit_hint(json_string(v, "edit"));
    if (t.type.empty())
      t.type = "file";
    auto known = action.empty() ? std::optional{msg::task_action::create} : msg::parse_task_action(action);
    if (!known) {
      out.error = "task '" + t.id + "': action must be create, update or delete";
      return out;
    }
    t.action = *known;
    if (!edit) {
      out.error = "task '" + t.id + "': edit must be whole, html_section or search_replace";
      return out;
    }
    t.edit = *edit;
    tasks.push_back(std::move(t));
  }
  if (tasks.empty()) {
    out.error = "the plan has no tasks";
    return out;
  }
  out.value = std::move(tasks);
  return out;
}

parsed<msg::file_edit> parse_edit_answer(const std::string& answer, const msg::context_file& target,
                                         msg::task_action action) {
  parsed<msg::file_edit> out;
  auto json = llm::extract_json(answer);
  if (!json) {
    out.error = json.err().message;
    return out;
  }
  auto e = ws::parse_edit_json(*json);
  if (!e) {
    out.error = e.err().reason;
    return out;
  }
  std::optional<std::string> current;
  if (target.has_content)
    current = target.content;
  auto applied = ws::apply_edit(current, *e);
  if (!applied) {
    out.error = "the edit cannot be applied to " + target.path + ": " + applied.err().reason;
    return out;
  }
  msg::file_edit fe;
  fe.path = target.path;
  // A worker's answer always writes the file: a deletion needs no model.
  fe.action = action == msg::task_action::remove ? msg::task_action::update : action;
  fe.kind = msg_kind_of(e->kind);
  if (e->kind == ws::edit_kind::html_section)
    fe.section = ws::to_string(e->section);
  fe.content = std::move(e->content);
  for (auto& b : e->blocks)
    fe.blocks.push_back({std::move(b.search), std::move(b.replace)});
  fe.summary = one_line(e->summary);
  out.value = std::move(fe);
  return out;
}

parsed<std::vector<msg::review_issue>> parse_review(const std::string& answer) {
  parsed<std::vector<msg::review_issue>> out;
  rapidjson::Document doc;
  const auto* array = load_array(answer, doc, "issues", out.error);
  if (array == nullptr)
    return out;
  std::vector<msg::review_issue> issues;
  for (const auto& v : array->GetArray()) {
    if (!v.IsObject())
      continue;
    msg::review_issue i;
    i.file = json_string(v, "file");
    i.problem = json_string(v, "problem");
    i.instructions = json_string(v, "instructions");
    // Only a hint for the fixer: a word that names no edit kind is dropped.
    i.edit = msg::parse_edit_hint(json_string(v, "edit")).value_or(msg::edit_kind::none);
    if (i.file.empty() || i.problem.empty()) {
      out.error = "every issue needs \"file\" and \"problem\"";
      return out;
    }
    issues.push_back(std::move(i));
  }
  out.value = std::move(issues);
  return out;
}

parsed<std::string> parse_summary(const std::string& answer) {
  parsed<std::string> out;
  rapidjson::Document doc;
  if (!load(answer, doc, out.error))
    return out;
  auto s = one_line(json_string(doc, "summary"));
  if (s.empty()) {
    out.error = "the answer has no \"summary\"";
    return out;
  }
  out.value = std::move(s);
  return out;
}

std::string one_line(std::string text, std::size_t max) {
  for (auto& c : text)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  auto b = text.find_first_not_of(' ');
  if (b == std::string::npos)
    return {};
  auto e = text.find_last_not_of(' ');
  text = text.substr(b, e - b + 1);
  if (text.size() > max)
    text = text.substr(0, max - 3) + "...";
  return text;
}

std::string fallback_summary(const std::string& path, const std::string& content) {
  static const std::regex patterns[] = {
    std::regex{R"(<title>\s*([^<]+?)\s*</title>)", std::regex::icase},
    std::regex{R"(<h1[^>]*>\s*([^<]+?)\s*</h1>)", std::regex::icase},
    std::regex{R"(^\s*#\s+(.+)$)", std::regex::multiline},
    std::regex{R"(^\s*/\*+\s*(.+?)\s*(\*/)?$)", std::regex::multiline},
    std::regex{R"(^\s*//\s*(.+)$)", std::regex::multiline},
  };
  auto head = content.substr(0, 4000);
  for (const auto& re : patterns) {
    std::smatch m;
    if (std::regex_search(head, m, re) && m[1].length() > 0)
      return one_line(m[1].str(), 120);
  }
  auto dot = path.rfind('.');
  auto slash = path.rfind('/');
  std::string ext = (dot == std::string::npos || (slash != std::string::npos && dot < slash))
                      ? "text"
                      : path.substr(dot + 1);
  auto lines = std::count(content.begin(), content.end(), '\n')
               + (content.empty() || content.back() == '\n' ? 0 : 1);
  return ext + " file, " + std::to_string(lines) + " lines";
}

msg::usage to_msg(const llm::usage& u) {
  msg::usage m;
  m.role = u.role;
  m.model = u.model;
  m.prompt_tokens = u.prompt_tokens;
  m.completion_tokens = u.completion_tokens;
  m.latency_ms = u.latency.count();
  m.cost_usd = u.cost_usd;
  m.calls = u.attempts > 0 ? u.attempts : 1;
  m.tokens_per_s = u.tokens_per_s;
  return m;
}

msg::llm_reply make_reply(std::uint64_t call_id, const std::string& role,
                          llm::result<llm::chat_response> r) {
  msg::llm_reply out;
  out.call_id = call_id;
  if (r) {
    out.ok = true;
    out.content = std::move(r->content);
    out.use = to_msg(r->use);
  } else {
    out.ok = false;
    out.error_code = static_cast<std::int32_t>(r.err().code);
    out.error_message = r.err().describe();
    out.use.calls = r.err().attempts;
  }
  if (out.use.role.empty())
    out.use.role = role;
  return out;
}

void add_usage(msg::usage& total, const msg::usage& u) {
  if (total.role.empty())
    total.role = u.role;
  if (total.model.empty())
    total.model = u.model;
  total.prompt_tokens += u.prompt_tokens;
  total.completion_tokens += u.completion_tokens;
  total.latency_ms += u.latency_ms;
  total.cost_usd += u.cost_usd;
  total.calls += u.calls;
  if (u.tokens_per_s > 0)
    total.tokens_per_s = u.tokens_per_s;
}

parsed<ws::edit> workspace_edit_of(const msg::file_edit& e) {
  parsed<ws::edit> out;
  ws::edit edit;
  switch (e.kind) {
    case msg::edit_kind::whole:
      edit.kind = ws::edit_kind::whole;
      break;
    case msg::edit_kind::html_section:
      edit.kind = ws::edit_kind::html_section;
      // Where the section name is read: anything but head or body is refused,
      // never taken for the body.
      if (e.section == ws::to_string(ws::section_name::head))
        edit.section = ws::section_name::head;
      else if (e.section == ws::to_string(ws::section_name::body))
        edit.section = ws::section_name::body;
      else {
        out.error = "unknown html section '" + e.section + "' (head or body)";
        return out;
      }
      break;
    case msg::edit_kind::search_replace:
      edit.kind = ws::edit_kind::search_replace;
      break;
    case msg::edit_kind::none:
    case msg::edit_kind::folder:
      out.error = "an edit of kind '" + std::string{to_string(e.kind)} + "' has no content to apply";
      return out;
  }
  edit.content = e.content;
  for (const auto& b : e.blocks)
    edit.blocks.push_back({b.search, b.replace});
  out.value = std::move(edit);
  return out;
}

}  // namespace codehive
