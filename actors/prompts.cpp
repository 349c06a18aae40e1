#include "actors/prompts.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "actors/plan_checks.hpp"
#include "actors/settings.hpp"

namespace codehive {

// Generated at build time from configs/prompts/*.md (see actors/CMakeLists.txt),
// so a binary without its config folder still has the same prompts.
extern const char* const builtin_prompt_planner;
extern const char* const builtin_prompt_coder;
extern const char* const builtin_prompt_fixer;
extern const char* const builtin_prompt_reviewer;
extern const char* const builtin_prompt_summarizer;

namespace {

constexpr const char* separator = "=== user ===";

prompt_template split(const std::string& text) {
  prompt_template t;
  auto pos = text.find(separator);
  if (pos == std::string::npos) {
    t.user = text;
    return t;
  }
  t.system = text.substr(0, pos);
  auto rest = pos + std::string_view{separator}.size();
  if (rest < text.size() && text[rest] == '\n')
    ++rest;
  t.user = text.substr(rest);
  while (!t.system.empty() && (t.system.back() == '\n' || t.system.back() == ' '))
    t.system.pop_back();
  return t;
}

std::string lang_of(const std::string& path) {
  auto dot = path.rfind('.');
  if (dot == std::string::npos)
    return "";
  auto ext = path.substr(dot + 1);
  if (ext == "js" || ext == "mjs")
    return "javascript";
  if (ext == "md")
    return "markdown";
  return ext;
}

std::string show_target(const msg::context_file& f) {
  if (!f.has_content)
    return "(the file does not exist yet; create it with kind \"whole\")\n";
  return "```" + lang_of(f.path) + "\n" + f.content + (f.content.ends_with('\n') ? "" : "\n")
         + "```\n";
}

std::string edit_hint(msg::edit_kind kind, msg::task_action action = msg::task_action::create) {
  if (kind != msg::edit_kind::none)
    return "Preferred edit kind: " + std::string{to_string(kind)} + "\n";
  // An existing file: the smallest edit that does the task, so the rest of
  // the file stays exactly as its owner wrote it.
  if (action == msg::task_action::update)
    return "This file exists: change only what the task needs. Prefer search_replace blocks (or "
           "html_section for a whole <head> or <body>); use whole only if most of the file "
           "changes.\n";
  return "";
}

llm::chat_request make(const std::string& role, const std::string& path, const prompt_template& t,
                       const std::vector<std::pair<std::string, std::string>>& values,
                       const std::string& schema, double temperature) {
  llm::chat_request req;
  req.role = role;
  req.path = path;
  if (!t.system.empty())
    req.messages.push_back({"system", render(t.system, values)});
  req.messages.push_back({"user", render(t.user, values)});
  req.json_schema = schema;
  req.schema_name = role == "planner" ? "plan" : role == "reviewer" ? "review"
                    : role == "summarizer" ? "summary" : "edit";
  req.temperature = temperature;
  return req;
}

}  // namespace

prompt_templates builtin_prompts() {
  prompt_templates p;
  p.planner = split(builtin_prompt_planner);
  p.coder = split(builtin_prompt_coder);
  p.fixer = split(builtin_prompt_fixer);
  p.reviewer = split(builtin_prompt_reviewer);
  p.summarizer = split(builtin_prompt_summarizer);
  return p;
}

prompt_templates load_prompts(const std::filesystem::path& dir, std::vector<std::string>& missing) {
  auto p = builtin_prompts();
  auto load = [&](const char* role, prompt_template& out) {
    auto file = dir / (std::string{role} + ".md");
    std::ifstream in{file};
    if (!in) {
      missing.push_back(file.string());
      return;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = split(ss.str());
  };
  load("planner", p.planner);
  load("coder", p.coder);
  load("fixer", p.fixer);
  load("reviewer", p.reviewer);
  load("summarizer", p.summarizer);
  return p;
}

std::string render(const std::string& tmpl,
                   const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  out.reserve(tmpl.size() * 2);
  std::size_t i = 0;
  while (i < tmpl.size()) {
    auto open = tmpl.find("{{", i);
    if (open == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    auto close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    out.append(tmpl, i, open - i);
    auto key = tmpl.substr(open + 2, close - open - 2);
    bool found = false;
    for (const auto& [k, v] : values) {
      if (k == key) {
        out += v;
        found = true;
        break;
      }
    }
    if (!found)
      out.append(tmpl, open, close + 2 - open);
    i = close + 2;
  }
  return out;
}

std::string render_files(const std::vector<msg::context_file>& files) {
  if (files.empty())
    return "(none)\n";
  std::string out;
  for (const auto& f : files) {
    if (f.has_content) {
      out += "--- " + f.path + " ---\n```" + lang_of(f.path) + "\n" + f.content;
      if (!f.content.ends_with('\n'))
        out += '\n';
      out += "```\n";
    } else {
      out += "--- " + f.path + " --- (summary only) " + (f.summary.empty() ? "(no summary)" : f.summary)
             + "\n";
    }
  }
  return out;
}

void add_retry_turn(llm::chat_request& req, const std::string& reason) {
  req.messages.push_back(
    {"user", "Your previous answer was rejected: " + reason
               + "\nAnswer again with one JSON object that matches the schema, nothing else."});
}

llm::chat_request plan_prompt(const pipeline_settings& s, const std::string& request,
                              const std::vector<msg::applied_file>& existing,
                              const std::string& previous_error) {
  // At most plan_map_entries files, those the request names first: a
  // project of 10,000 files must not make a prompt no model can take.
  std::string files;
  std::size_t listed = 0;
  std::size_t present = 0;
  auto named = files_named_in(request);
  auto is_named = [&](const std::string& path) {
    std::string l = path;
    for (auto& c : l)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto slash = l.rfind('/');
    auto name = slash == std::string::npos ? l : l.substr(slash + 1);
    return std::find(named.begin(), named.end(), l) != named.end()
           || std::find(named.begin(), named.end(), name) != named.end();
  };
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& f : existing) {
      if (f.deleted || is_named(f.path) != (pass == 0))
        continue;
      if (pass == 0)
        ++present;
      if (listed < s.plan_map_entries) {
        files += "- " + f.path + ": " + f.summary + "\n";
        ++listed;
      }
    }
  std::size_t total = 0;
  for (const auto& f : existing)
    total += f.deleted ? 0 : 1;
  if (listed < total)
    files += "(and " + std::to_string(total - listed)
             + " more files not listed here; name them in context_paths to see them)\n";
  if (files.empty())
    files = "(none: the folder is empty)\n";
  auto req = make("planner", "", s.prompts.planner,
                  {{"request", request}, {"existing_files", files}, {"schema", s.schemas.plan}},
                  s.schemas.plan, s.temperature);
  if (!previous_error.empty())
    add_retry_turn(req, previous_error);
  return req;
}

llm::chat_request code_prompt(const pipeline_settings& s, const msg::code_request& r) {
  const auto& t = r.task;
  auto req = make("coder", t.path, s.prompts.coder,
                  {{"request", r.request},
                   {"path", t.path},
                   {"task_id", t.id},
                   {"action", std::string{to_string(t.action)}},
                   {"description", t.description},
                   {"instructions", t.instructions},
                   {"edit_hint", edit_hint(t.edit, t.action)},
                   {"current_file", show_target(r.target)},
                   {"context_files", render_files(r.context)},
                   {"schema", s.schemas.edit}},
                  s.schemas.edit, s.temperature);
  if (!r.previous_error.empty())
    add_retry_turn(req, r.previous_error);
  return req;
}

llm::chat_request fix_prompt(const pipeline_settings& s, const msg::fix_request& r) {
  auto req = make("fixer", r.issue.file, s.prompts.fixer,
                  {{"request", r.request},
                   {"path", r.issue.file},
                   {"problem", r.issue.problem},
                   {"instructions", r.issue.instructions},
                   {"edit_hint", edit_hint(r.issue.edit)},
                   {"current_file", show_target(r.target)},
                   {"related_files", render_files(r.related)},
                   {"schema", s.schemas.edit}},
                  s.schemas.edit, s.temperature);
  if (!r.previous_error.empty())
    add_retry_turn(req, r.previous_error);
  return req;
}

llm::chat_request review_prompt(const pipeline_settings& s, const msg::review_request& r) {
  std::string findings;
  for (const auto& f : r.findings) {
    findings += "- [" + f.check + "] " + (f.file.empty() ? std::string{"(project)"} : f.file);
    if (f.line > 0)
      findings += ":" + std::to_string(f.line);
    findings += ": " + f.message + "\n";
  }
  if (findings.empty())
    findings = "(none: all checks passed)\n";
  return make("reviewer", "", s.prompts.reviewer,
              {{"request", r.request},
               {"round", std::to_string(r.round)},
               {"findings", findings},
               {"files", render_files(r.files)},
               {"schema", s.schemas.review}},
              s.schemas.review, s.temperature);
}

llm::chat_request summary_prompt(const pipeline_settings& s, const std::string& path,
                                 const std::string& content) {
  auto shown = content.size() > s.summary_input_chars
                 ? content.substr(0, s.summary_input_chars) + "\n[... truncated]"
                 : content;
  auto req = make("summarizer", path, s.prompts.summarizer,
                  {{"path", path}, {"content", shown}}, s.schemas.summary, 0.0);
  req.max_tokens = 200;
  return req;
}

}  // namespace codehive
