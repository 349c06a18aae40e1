// .gitignore rules, for scanning a project codehive did not write: the files
// its owner keeps out of git (build output, logs, dependencies) are no part
// of what a model should read or change.
//
// The subset of gitignore(5) that real projects use: comments, blank lines,
// trailing spaces, `\` escapes, negation `!`, a trailing `/` (folders only),
// a `/` at the start or in the middle (anchored to the .gitignore's folder),
// `*`, `?`, `[...]` classes and `**` (`**/x`, `x/**`, `a/**/b`). Each
// .gitignore applies to its own folder and below; the last matching rule
// wins, deeper files after shallower ones. Not done: core.excludesFile and
// .git/info/exclude (a user's, not the project's), and case folding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace codehive::ws {

/// True when `text` matches the glob `pattern` (`*` and `?` never match `/`,
/// `**` between slashes matches any number of folders).
bool glob_match(std::string_view pattern, std::string_view text);

class ignore_rules {
 public:
  /// Adds the lines of a .gitignore found in folder `base` ("" for the root,
  /// else relative, '/'-separated). Call shallower folders first.
  void add(std::string_view base, std::string_view gitignore_text);

  /// True when the relative path `rel` ('/'-separated) is ignored by the
  /// rules. `is_folder`: rules ending in `/` apply only to folders. A caller
  /// walking a tree does not descend into an ignored folder (git cannot
  /// re-include a file whose folder is excluded either).
  bool ignored(std::string_view rel, bool is_folder) const;

  std::size_t size() const noexcept { return rules_.size(); }

 private:
  struct rule {
    std::string base;     ///< folder of its .gitignore, "" or "a/b"
    std::string pattern;  ///< without `!`, leading and trailing `/`
    bool negate = false;
    bool folder_only = false;
    bool anchored = false;  ///< matched against the whole path below `base`
  };
  std::vector<rule> rules_;
};

}  // namespace codehive::ws
