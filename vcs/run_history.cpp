// A run's commits: their messages and trailers, finding them again (resume,
// undo, diff), and taking them back out.
#include <algorithm>
#include <cstring>

#include "vcs/git_handles.hpp"
#include "vcs/repository.hpp"

namespace codehive::vcs {

namespace {

constexpr const char* t_run = "Codehive-Run";
constexpr const char* t_task = "Codehive-Task";
constexpr const char* t_path = "Codehive-Path";
constexpr const char* t_version = "Codehive-Version";
constexpr const char* t_model = "Codehive-Model";
constexpr const char* t_undo = "Codehive-Undo";

/// One line, so a model's summary cannot end the subject or forge a trailer.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

std::string trailer_value(const std::string& message, const char* key) {
  git_message_trailer_array arr{};
  if (git_message_trailers(&arr, message.c_str()) != 0) return {};
  std::string out;
  for (std::size_t i = 0; i < arr.count; ++i)
    if (std::strcmp(arr.trailers[i].key, key) == 0) out = arr.trailers[i].value;
  git_message_trailer_array_free(&arr);
  return out;
}

result<tree_ptr> tree_of(const git_commit* c) {
  git_tree* t = nullptr;
  if (git_commit_tree(&t, c) != 0) return git_failure("commit tree");
  return tree_ptr{t};
}

/// The parent's tree, or the empty tree of a repository's first commit (null).
result<tree_ptr> parent_tree(const git_commit* c) {
  if (git_commit_parentcount(c) == 0) return tree_ptr{};
  git_commit* p = nullptr;
  if (git_commit_parent(&p, c, 0) != 0) return git_failure("parent commit");
  commit_ptr parent{p};
  return tree_of(parent.get());
}

struct walked {
  std::vector<commit_info> commits;  ///< newest first
  bool undone = false;               ///< an undo of the run is newer than its newest commit
};

/// First-parent history of `ref`, keeping the run's commits.
result<walked> walk(git_repository* repo, const std::string& ref, const std::string& run_id) {
  walked out;
  git_revwalk* raw = nullptr;
  if (git_revwalk_new(&raw, repo) != 0) return git_failure("history");
  walk_ptr w{raw};
  git_revwalk_sorting(w.get(), GIT_SORT_TOPOLOGICAL);
  git_revwalk_simplify_first_parent(w.get());
  // A repository without commits (`--git` on an empty folder): libgit2 1.5
  // reports its unborn HEAD as a plain error, not GIT_EUNBORNBRANCH.
  if (ref == "HEAD" && git_repository_head_unborn(repo) == 1) return out;
  int rc = git_revwalk_push_ref(w.get(), ref.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) return out;  // no commits yet
  if (rc != 0) return git_failure("history of " + ref);
  git_oid id;
  while (git_revwalk_next(&id, w.get()) == 0) {
    git_commit* c = nullptr;
    if (git_commit_lookup(&c, repo, &id) != 0) return git_failure("commit");
    commit_ptr commit{c};
    std::string message = git_commit_message(commit.get());
    if (out.commits.empty() && trailer_value(message, t_undo) == run_id) out.undone = true;
    auto tag = parse_tag(message);
    if (tag.run != run_id) continue;
    const char* summary = git_commit_summary(commit.get());
    out.commits.push_back({hex(id), summary ? summary : "", std::move(tag)});
  }
  return out;
}

/// Where the run's commits are: its own branch when it has one, else HEAD.
std::string run_ref(git_repository* repo, const std::string& run_id) {
  auto full = "refs/heads/" + run_branch(run_id);
  git_reference* r = nullptr;
  if (git_reference_lookup(&r, repo, full.c_str()) == 0) {
    git_reference_free(r);
    return full;
  }
  return "HEAD";
}

bool is_checked_out(git_repository* repo, const std::string& ref) {
  if (ref == "HEAD") return true;
  git_reference* head = nullptr;
  if (git_repository_head(&head, repo) != 0) return false;
  bool same = ref == git_reference_name(head);
  git_reference_free(head);
  return same;
}

result<commit_ptr> lookup(git_repository* repo, const std::string& id) {
  git_oid oid;
  git_commit* c = nullptr;
  if (git_oid_fromstr(&oid, id.c_str()) != 0 || git_commit_lookup(&c, repo, &oid) != 0)
    return git_failure("commit " + id);
  return commit_ptr{c};
}

int print_line(const git_diff_delta*, const git_diff_hunk*, const git_diff_line* line, void* payload) {
  auto& out = *static_cast<std::string*>(payload);
  if (line->origin == GIT_DIFF_LINE_CONTEXT || line->origin == GIT_DIFF_LINE_ADDITION
      || line->origin == GIT_DIFF_LINE_DELETION)
    out += line->origin;
  out.append(line->content, line->content_len);
  return 0;
}

}  // namespace

std::string commit_message(const std::string& subject, const std::string& body, const commit_tag& tag) {
  std::string m = one_line(subject) + "\n\n";
  if (!body.empty()) m += body + "\n\n";
  m += std::string{t_run} + ": " + one_line(tag.run) + "\n";
  m += std::string{t_task} + ": " + one_line(tag.task) + "\n";
  m += std::string{t_path} + ": " + one_line(tag.path) + "\n";
  m += std::string{t_version} + ": " + std::to_string(tag.version) + "\n";
  if (!tag.model.empty()) m += std::string{t_model} + ": " + one_line(tag.model) + "\n";
  return m;
}

commit_tag parse_tag(const std::string& message) {
  ensure_libgit2();  // may be the process's first libgit2 call
  commit_tag tag;
  git_message_trailer_array arr{};
  if (git_message_trailers(&arr, message.c_str()) != 0) return tag;
  for (std::size_t i = 0; i < arr.count; ++i) {
    std::string key = arr.trailers[i].key, value = arr.trailers[i].value;
    if (key == t_run)
      tag.run = value;
    else if (key == t_task)
      tag.task = value;
    else if (key == t_path)
      tag.path = value;
    else if (key == t_model)
      tag.model = value;
    else if (key == t_version)
      tag.version = std::strtoll(value.c_str(), nullptr, 10);
  }
  git_message_trailer_array_free(&arr);
  return tag;
}

std::string commit_key(const std::string& task, std::int64_t version) { return task + "@" + std::to_string(version); }

result<std::set<std::string>> repository::committed_keys(const std::string& run_id) const {
  auto w = walk(p_->repo.get(), "HEAD", run_id);
  if (!w) return w.err();
  std::set<std::string> keys;
  for (const auto& c : w->commits) keys.insert(commit_key(c.tag.task, c.tag.version));
  return keys;
}

result<std::vector<commit_info>> repository::run_commits(const std::string& run_id, std::string* ref) const {
  auto where = run_ref(p_->repo.get(), run_id);
  if (ref) *ref = where;
  auto w = walk(p_->repo.get(), where, run_id);
  if (!w) return w.err();
  std::reverse(w->commits.begin(), w->commits.end());
  return std::move(w->commits);
}

result<std::string> repository::undo_run(const std::string& run_id) {
  auto* repo = p_->repo.get();
  auto where = run_ref(repo, run_id);
  auto w = walk(repo, where, run_id);
  if (!w) return w.err();
  if (w->commits.empty()) return error{"run " + run_id + " has no commits on " + where};
  if (w->undone) return error{"run " + run_id + " is already undone on " + where};
  git_object* obj = nullptr;
  if (git_revparse_single(&obj, repo, where.c_str()) != 0) return git_failure(where);
  commit_ptr top{reinterpret_cast<git_commit*>(obj)};
  auto current = tree_of(top.get());
  if (!current) return current.err();
  tree_ptr tree = std::move(*current);
  // The run's commits form the top of the branch, one after the other (no
  // commit on top, none in between): the tree before the run is the answer.
  auto oldest = lookup(repo, w->commits.back().id);
  if (!oldest) return oldest.err();
  bool on_top = hex(*git_commit_id(top.get())) == w->commits.front().id;
  for (std::size_t i = 0; on_top && i + 1 < w->commits.size(); ++i) {
    auto c = lookup(repo, w->commits[i].id);
    if (!c) return c.err();
    on_top = git_commit_parentcount(c->get()) > 0 && hex(*git_commit_parent_id(c->get(), 0)) == w->commits[i + 1].id;
  }
  // Else each of the run's commits, newest first, is taken back out of the
  // tree as it is now: a 3-way merge of (commit -> now) with (commit -> its
  // parent), which is the same tree when nothing came on top.
  if (on_top) {
    auto before = parent_tree(oldest->get());
    if (!before) return before.err();
    if (!*before) before = empty_tree(repo);  // the run made the repository's first commit
    if (!before) return before.err();
    tree = std::move(*before);
  }
  for (const auto& info : w->commits) {
    if (on_top) break;
    auto c = lookup(repo, info.id);
    if (!c) return c.err();
    auto mine = tree_of(c->get());
    auto before = parent_tree(c->get());
    if (!mine || !before) return mine ? before.err() : mine.err();
    git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
    git_index* idx = nullptr;
    if (git_merge_trees(&idx, repo, mine->get(), tree.get(), before->get(), &mo) != 0)
      return git_failure("revert " + info.id);
    index_ptr merged{idx};
    if (git_index_has_conflicts(merged.get()))
      return error{"cannot undo run " + run_id + ": commits made after it change the same lines of " + info.tag.path
                   + " (" + info.id.substr(0, 12) + ")"};
    git_oid next;
    if (git_index_write_tree_to(&next, merged.get(), repo) != 0) return git_failure("revert tree");
    git_tree* t = nullptr;
    if (git_tree_lookup(&t, repo, &next) != 0) return git_failure("revert tree");
    tree.reset(t);
  }
  auto sig = signature(repo);
  auto message = "codehive: undo run " + run_id + "\n\nTakes back the " + std::to_string(w->commits.size())
                 + " commit(s) of run " + run_id + ".\n\n" + t_undo + ": " + run_id + "\n";
  git_oid made;
  const git_commit* parents[] = {top.get()};
  if (git_commit_create(&made, repo, nullptr, sig.get(), sig.get(), "UTF-8", message.c_str(), tree.get(), 1, parents)
      != 0)
    return git_failure("undo commit");
  if (is_checked_out(repo, where)) {
    // SAFE: a file the user changed since is never overwritten (the undo is refused).
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_SAFE;
    if (git_checkout_tree(repo, reinterpret_cast<const git_object*>(tree.get()), &co) != 0)
      return git_failure("cannot undo run " + run_id + " in the work tree (uncommitted changes in its files?)");
  }
  git_reference* ref = nullptr;
  int rc = where == "HEAD" ? git_repository_head(&ref, repo) : git_reference_lookup(&ref, repo, where.c_str());
  if (rc != 0) return git_failure(where);
  ref_ptr r{ref};
  if (where == "HEAD" && git_repository_head_detached(repo)) {
    if (git_repository_set_head_detached(repo, &made) != 0) return git_failure("move HEAD");
  } else {
    git_reference* moved = nullptr;
    if (git_reference_set_target(&moved, r.get(), &made, "codehive undo") != 0) return git_failure("move " + where);
    git_reference_free(moved);
  }
  return hex(made);
}

result<std::string> repository::diff_run(const std::string& run_id) const {
  auto* repo = p_->repo.get();
  auto commits = run_commits(run_id);
  if (!commits) return commits.err();
  std::string out;
  for (const auto& info : *commits) {
    auto c = lookup(repo, info.id);
    if (!c) return c.err();
    auto mine = tree_of(c->get());
    auto before = parent_tree(c->get());
    if (!mine || !before) return mine ? before.err() : mine.err();
    out += "commit " + info.id + "\n";
    std::string message = git_commit_message(c->get());
    for (std::size_t start = 0; start < message.size();) {
      auto end = message.find('\n', start);
      if (end == std::string::npos) end = message.size();
      out += "    " + message.substr(start, end - start) + "\n";
      start = end + 1;
    }
    out += "\n";
    git_diff* raw = nullptr;
    if (git_diff_tree_to_tree(&raw, repo, before->get(), mine->get(), nullptr) != 0) return git_failure("diff");
    diff_ptr d{raw};
    if (git_diff_print(d.get(), GIT_DIFF_FORMAT_PATCH, print_line, &out) != 0) return git_failure("diff");
  }
  return out;
}

}  // namespace codehive::vcs
