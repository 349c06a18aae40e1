#include "actors/planner/context_map.hpp"

namespace codehive::planner {

namespace {

/// What ends a word that could be a path: space and the punctuation prose and
/// code put around a file name (quotes, brackets, commas, `=`, ...). '.', '-',
/// '_', '/' and the rest stay: names hold them.
bool ends_word(char c) {
  switch (c) {
    case ' ': case '\t': case '\n': case '\r': case '\f': case '\v':
    case '"': case '\'': case '`': case '(': case ')': case '[': case ']':
    case '{': case '}': case '<': case '>': case ',': case ';': case ':':
    case '=': case '|': case '*': case '!': case '?': case '#': case '&':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<std::string_view> names_in(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && ends_word(text[i]))
      ++i;
    auto start = i;
    while (i < text.size() && !ends_word(text[i]))
      ++i;
    auto word = text.substr(start, i - start);
    while (!word.empty() && word.back() == '.')
      word.remove_suffix(1);  // the end of a sentence, not of the name
    if (auto name = name_of(word); !name.empty())
      out.push_back(name);
  }
  return out;
}

void context_map::refresh(const planner_run& run) {
  if (layout_version_ != run.layout_version || files_seen_ > run.files.size()
      || tasks_seen_ > run.tasks.size()) {
    by_name_.clear();
    by_folder_.clear();
    files_seen_ = tasks_seen_ = 0;
    layout_version_ = run.layout_version;
  }
  for (; files_seen_ < run.files.size(); ++files_seen_)
    add(run.files[files_seen_].path, files_seen_, false);
  for (; tasks_seen_ < run.tasks.size(); ++tasks_seen_)
    add(run.tasks[tasks_seen_].path, tasks_seen_, true);
}

void context_map::add(std::string_view path, std::size_t at, bool task) {
  auto put = [&](places& p) { (task ? p.tasks : p.files).push_back(at); };
  if (auto name = name_of(path); !name.empty())
    put(by_name_[std::string{name}]);
  put(by_folder_[std::string{folder_of(path)}]);
}

const context_map::places* context_map::named(std::string_view name) const {
  auto it = by_name_.find(std::string{name});
  return it == by_name_.end() ? nullptr : &it->second;
}

const context_map::places* context_map::in_folder(std::string_view folder) const {
  auto it = by_folder_.find(std::string{folder});
  return it == by_folder_.end() ? nullptr : &it->second;
}

}  // namespace codehive::planner
