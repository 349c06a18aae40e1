#include "actors/plan_checks.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/path_names.hpp"

namespace codehive {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view stem_of(std::string_view name) {
  auto k = name.rfind('.');
  return k == std::string_view::npos || k == 0 ? name : name.substr(0, k);
}

bool source_extension(std::string_view ext) {
  static const std::set<std::string_view> known{
    "html", "htm", "css", "scss", "js",    "mjs",  "cjs", "ts",   "tsx",      "jsx", "json",
    "md",   "txt", "py",  "c",    "cc",    "cpp",  "h",   "hpp",  "go",       "rs",  "java",
    "rb",   "php", "sh",  "yml",  "yaml",  "toml", "xml", "svg",  "vue",      "ini", "cfg",
    "csv",  "sql", "lua", "kt",   "swift", "cs",   "env", "lock", "gitignore"};
  return known.count(ext) > 0;
}

}  // namespace

std::vector<std::string> files_named_in(const std::string& request) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    // Sentence punctuation around a word is not part of the name.
    auto b = word.find_first_not_of("\"'`(<[{");
    auto e = word.find_last_not_of("\"'`)>]}.,;:!?");
    std::string w = b == std::string::npos || e == std::string::npos || e < b
                      ? std::string{}
                      : word.substr(b, e - b + 1);
    word.clear();
    if (w.rfind("./", 0) == 0)
      w.erase(0, 2);
    if (w.empty() || w.find("://") != std::string::npos || w.find("..") != std::string::npos
        || w[0] == '/')
      return;
    auto name = name_of(w);
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot + 1 >= name.size())
      return;
    auto ext = lower(name.substr(dot + 1));
    bool has_folder = w.find('/') != std::string::npos;
    bool plain_ext = std::all_of(
      ext.begin(), ext.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
    if (!(source_extension(ext) || (has_folder && plain_ext && ext.size() <= 5)))
      return;
    if (dot == 0 && !source_extension(ext))
      return;
    auto l = lower(w);
    if (std::find(out.begin(), out.end(), l) == out.end())
      out.push_back(std::move(l));
  };
  for (char c : request) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == ',')
      flush();
    else
      word.push_back(c);
  }
  flush();
  return out;
}

namespace {
constexpr std::string_view binary_prefix = "binary file (";
}

std::string binary_summary(std::size_t bytes) {
  return std::string{binary_prefix} + std::to_string(bytes)
         + " bytes), kept as it is: it may be referenced or deleted, never updated";
}

bool is_binary_summary(const std::string& summary) {
  return summary.rfind(binary_prefix, 0) == 0;
}

std::string plan_event_json(const char* key, const std::string& text, int attempt) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  if (attempt > 0) {
    w.Key("attempt");
    w.Int(attempt);
  }
  w.Key(key);
  w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
  w.EndObject();
  return buf.GetString();
}

plan_verdict check_plan_against_project(const std::vector<msg::file_task>& tasks,
                                        const std::vector<msg::applied_file>& files,
                                        const std::string& request,
                                        std::size_t max_unrequested_deletes) {
  plan_verdict v;
  std::set<std::string> existing;
  std::set<std::string> existing_lower;
  std::set<std::string> binary;
  for (const auto& f : files)
    if (!f.deleted) {
      existing.insert(f.path);
      existing_lower.insert(lower(f.path));
      if (is_binary_summary(f.summary))
        binary.insert(f.path);
    }
  std::vector<std::string> missing;
  std::vector<std::string> binary_updates;
  for (const auto& t : tasks) {
    if (t.type == "folder" || t.action == msg::task_action::create)
      continue;
    if (existing.count(t.path) == 0)
      missing.push_back("task " + t.id + " " + (t.action == msg::task_action::update ? "updates " : "deletes ")
                        + t.path);
    else if (t.action == msg::task_action::update && binary.count(t.path) > 0)
      binary_updates.push_back("task " + t.id + " updates " + t.path);
  }
  if (missing.empty() && !binary_updates.empty()) {
    for (const auto& b : binary_updates)
      v.problem += (v.problem.empty() ? "" : "; ") + b;
    v.problem += ", a binary file no model can rewrite (leave it as it is, or delete it and "
                 "create a text file in its place)";
    return v;
  }
  auto named = files_named_in(request);
  auto is_present = [&](const std::string& n) {
    if (existing_lower.count(n) > 0)
      return true;
    // "app.js" in a request means js/app.js if that is the only match.
    if (n.find('/') == std::string::npos)
      for (const auto& p : existing_lower)
        if (name_of(p) == n)
          return true;
    return false;
  };
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing)
      list += (list.empty() ? "" : "; ") + m;
    v.problem = list + ", but the project has no such file (its files are listed above; use "
                       "\"create\" for a new file, or the path of the existing file meant)";
    for (const auto& n : named)
      if (!is_present(n))
        v.problem += "; note: the request names " + n + ", which the project lacks";
    return v;
  }
  // Deletes the request does not account for: by path, name or stem.
  auto req = lower(request);
  std::vector<std::string> unrequested;
  for (const auto& t : tasks) {
    if (t.action != msg::task_action::remove || t.type == "folder")
      continue;
    auto p = lower(t.path);
    auto name = std::string{name_of(p)};
    auto stem = std::string{stem_of(name)};
    bool mentioned = req.find(p) != std::string::npos || req.find(name) != std::string::npos
                     || (stem.size() >= 3 && req.find(stem) != std::string::npos);
    if (!mentioned)
      unrequested.push_back(t.path);
  }
  if (unrequested.size() > max_unrequested_deletes) {
    std::string list;
    for (const auto& u : unrequested)
      list += (list.empty() ? "" : ", ") + u;
    v.problem = "the plan deletes " + std::to_string(unrequested.size())
                + " files the request does not mention (" + list + "); at most "
                + std::to_string(max_unrequested_deletes)
                + " may go without the request asking: delete only what the request asks for and "
                  "keep the other files";
    return v;
  }
  for (const auto& n : named) {
    if (is_present(n))
      continue;
    bool created = std::any_of(tasks.begin(), tasks.end(), [&](const msg::file_task& t) {
      return t.action == msg::task_action::create
             && (lower(t.path) == n || lower(std::string{name_of(t.path)}) == n);
    });
    if (!existing.empty())
      v.notes.push_back("the request names " + n + ", which the project lacks"
                        + (created ? std::string{": the plan creates it"}
                                   : std::string{", and no task creates it"}));
  }
  return v;
}

}  // namespace codehive
