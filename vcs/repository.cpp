// Opening, creating and committing to the output folder's repository.
#include "vcs/repository.hpp"

#include <fstream>
#include <mutex>
#include <sstream>

#include <sys/stat.h>

#include "common/read_file.hpp"
#include "vcs/git_handles.hpp"

namespace codehive::vcs {

namespace fs = std::filesystem;

namespace {

constexpr const char* exports_pattern = "/generated_files/";

/// Writes `tree` as a commit on top of HEAD (no parent when HEAD is unborn)
/// and moves HEAD's branch to it.
result<std::string> commit_tree(git_repository* repo, const git_oid& tree_id, const git_commit* parent,
                                const std::string& message) {
  git_tree* raw = nullptr;
  if (git_tree_lookup(&raw, repo, &tree_id) != 0) return git_failure("tree lookup");
  tree_ptr tree{raw};
  auto sig = signature(repo);
  git_oid id;
  const git_commit* parents[] = {parent};
  if (git_commit_create(&id, repo, "HEAD", sig.get(), sig.get(), "UTF-8", message.c_str(), tree.get(), parent ? 1 : 0,
                        parents)
      != 0)
    return git_failure("commit");
  return hex(id);
}

}  // namespace

void ensure_libgit2() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

result<commit_ptr> head_commit(git_repository* repo) {
  git_oid id;
  int rc = git_reference_name_to_id(&id, repo, "HEAD");
  if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) return commit_ptr{};
  if (rc != 0) return git_failure("HEAD");
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, repo, &id) != 0) return git_failure("HEAD commit");
  return commit_ptr{c};
}

result<tree_ptr> empty_tree(git_repository* repo) {
  git_treebuilder* b = nullptr;
  git_oid id;
  if (git_treebuilder_new(&b, repo, nullptr) != 0) return git_failure("empty tree");
  int rc = git_treebuilder_write(&id, b);
  git_treebuilder_free(b);
  git_tree* t = nullptr;
  if (rc != 0 || git_tree_lookup(&t, repo, &id) != 0) return git_failure("empty tree");
  return tree_ptr{t};
}

sig_ptr signature(git_repository* repo) {
  git_signature* s = nullptr;
  if (git_signature_default(&s, repo) == 0) return sig_ptr{s};
  git_signature_now(&s, "codehive", "codehive@localhost");
  return sig_ptr{s};
}

std::string run_branch(const std::string& run_id) { return "codehive/" + run_id; }

bool is_repository(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / ".git", ec);
}

repository::repository(std::unique_ptr<impl> p) : p_(std::move(p)) {
  if (const char* w = git_repository_workdir(p_->repo.get())) workdir_ = fs::path{w}.lexically_normal();
}
repository::repository(repository&&) noexcept = default;
repository& repository::operator=(repository&&) noexcept = default;
repository::~repository() = default;

result<repository> repository::open(const fs::path& dir) {
  ensure_libgit2();
  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
    return git_failure("open " + dir.string());
  repo_ptr repo{raw};
  if (git_repository_is_bare(repo.get())) return error{dir.string() + " is a bare repository"};
  return repository{std::make_unique<impl>(impl{std::move(repo)})};
}

result<repository> repository::init(const fs::path& dir, const std::string& run_id) {
  ensure_libgit2();
  git_repository* raw = nullptr;
  if (git_repository_init(&raw, dir.c_str(), 0) != 0) return git_failure("init " + dir.string());
  repository r{std::make_unique<impl>(impl{repo_ptr{raw}})};
  if (auto ex = r.exclude_exports(); !ex) return ex.err();
  // What the folder held before codehive: one commit, so undo can return to it.
  git_index* idx = nullptr;
  if (git_repository_index(&idx, raw) != 0) return git_failure("index");
  index_ptr index{idx};
  if (git_index_add_all(index.get(), nullptr, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr) != 0)
    return git_failure("add the existing files");
  if (git_index_entrycount(index.get()) == 0) return r;
  git_oid tree;
  if (git_index_write_tree(&tree, index.get()) != 0 || git_index_write(index.get()) != 0)
    return git_failure("write the index");
  auto done = commit_tree(raw, tree, nullptr,
                          "codehive: the folder before run " + run_id + "\n\nCodehive-Init: " + run_id + "\n");
  if (!done) return done.err();
  return r;
}

result<std::vector<std::string>> repository::dirty_paths() const {
  git_status_options opts = GIT_STATUS_OPTIONS_INIT;
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  git_status_list* raw = nullptr;
  if (git_status_list_new(&raw, p_->repo.get(), &opts) != 0) return git_failure("status");
  status_ptr list{raw};
  std::vector<std::string> out;
  for (std::size_t i = 0, n = git_status_list_entrycount(list.get()); i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list.get(), i);
    if (e->status == GIT_STATUS_CURRENT || (e->status & GIT_STATUS_IGNORED)) continue;
    const git_diff_delta* d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
    if (!d) continue;
    out.emplace_back(d->new_file.path ? d->new_file.path : d->old_file.path);
  }
  return out;
}

result<unit> repository::exclude_exports() {
  auto file = fs::path{git_repository_path(p_->repo.get())} / "info" / "exclude";
  auto now = read_whole_file(file).value_or("");
  std::istringstream lines{now};
  for (std::string line; std::getline(lines, line);)
    if (line == exports_pattern) return unit{};
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  std::ofstream out{file, std::ios::app};
  if (!now.empty() && now.back() != '\n') out << '\n';
  out << "# codehive's exports (status.json, ...) are rewritten by every run\n" << exports_pattern << '\n';
  if (!out.flush()) return error{"cannot write " + file.string()};
  return unit{};
}

result<unit> repository::use_branch(const std::string& branch) {
  auto* repo = p_->repo.get();
  auto full = "refs/heads/" + branch;
  git_reference* raw = nullptr;
  if (git_repository_head(&raw, repo) == 0) {
    ref_ptr head{raw};
    if (full == git_reference_name(head.get())) return unit{};
  }
  git_object* target = nullptr;
  if (git_revparse_single(&target, repo, full.c_str()) == 0) {
    // The run's branch exists (a resume after the user switched away): check
    // it out without overwriting anything the user changed.
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_SAFE;
    int rc = git_checkout_tree(repo, target, &co);
    git_object_free(target);
    if (rc != 0) return git_failure("check out " + branch);
  } else {
    auto head = head_commit(repo);
    if (!head) return head.err();
    if (*head) {
      git_reference* made = nullptr;
      if (git_branch_create(&made, repo, branch.c_str(), head->get(), 0) != 0) return git_failure("branch " + branch);
      git_reference_free(made);
    }  // unborn: HEAD simply names the new branch, made by the first commit
  }
  if (git_repository_set_head(repo, full.c_str()) != 0) return git_failure("switch to " + branch);
  return unit{};
}

namespace {

/// What one commit does to one path: its new bytes and mode, or its removal.
struct path_change {
  std::optional<std::string> bytes;  ///< nullopt: the path is removed
  git_filemode_t mode = GIT_FILEMODE_BLOB;
};

/// Commits `change` of `path` on top of HEAD (nothing else of the tree); the
/// index follows for that path, from the disk or from the bytes committed.
result<std::optional<std::string>> commit_change(git_repository* repo, const std::string& path,
                                                 const path_change& change, bool index_from_disk,
                                                 const std::string& message) {
  auto parent = head_commit(repo);
  if (!parent) return parent.err();
  tree_ptr base;
  if (*parent) {
    git_tree* t = nullptr;
    if (git_commit_tree(&t, parent->get()) != 0) return git_failure("HEAD tree");
    base.reset(t);
  } else {
    auto empty = empty_tree(repo);
    if (!empty) return empty.err();
    base = std::move(*empty);
  }
  git_tree_update up{};
  up.path = path.c_str();
  if (change.bytes) {
    if (git_blob_create_from_buffer(&up.id, repo, change.bytes->data(), change.bytes->size()) != 0)
      return git_failure("blob of " + path);
    up.action = GIT_TREE_UPDATE_UPSERT;
    up.filemode = change.mode;
  } else {
    git_tree_entry* e = nullptr;
    if (git_tree_entry_bypath(&e, base.get(), path.c_str()) != 0) return std::optional<std::string>{};
    git_tree_entry_free(e);
    up.action = GIT_TREE_UPDATE_REMOVE;
  }
  git_oid tree;
  if (git_tree_create_updated(&tree, repo, base.get(), 1, &up) != 0) return git_failure("tree with " + path);
  if (*parent && git_oid_equal(&tree, git_tree_id(base.get()))) return std::optional<std::string>{};
  auto made = commit_tree(repo, tree, parent->get(), message);
  if (!made) return made.err();
  // The index follows for this one path, so `git status` shows it clean;
  // whatever else the user staged stays staged.
  git_index* idx = nullptr;
  if (git_repository_index(&idx, repo) != 0) return git_failure("index");
  index_ptr index{idx};
  git_index_read(index.get(), 0);
  int rc = 0;
  if (!change.bytes) {
    rc = git_index_remove_bypath(index.get(), path.c_str());
  } else if (index_from_disk) {
    rc = git_index_add_bypath(index.get(), path.c_str());
  } else {
    git_index_entry entry{};
    entry.path = path.c_str();
    entry.mode = change.mode;
    rc = git_index_add_from_buffer(index.get(), &entry, change.bytes->data(), change.bytes->size());
  }
  if (rc != 0 || git_index_write(index.get()) != 0) return git_failure("index entry of " + path);
  return std::optional<std::string>{*made};
}

}  // namespace

result<std::optional<std::string>> repository::commit_path(const std::string& path, const std::string& message) {
  auto file = workdir_ / path;
  struct stat st {};
  path_change change;
  if (::lstat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    // The bytes as written, no filters: undo must give them back byte for byte.
    change.bytes = read_whole_file(file);
    if (!change.bytes) return error{"cannot read " + file.string()};
    change.mode = (st.st_mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
  }
  return commit_change(p_->repo.get(), path, change, true, message);
}

result<std::optional<std::string>> repository::commit_content(const std::string& path, const std::string& bytes,
                                                              const std::string& message) {
  path_change change;
  change.bytes = bytes;
  // The mode the path has on disk now (the user's), else a plain file.
  struct stat st {};
  if (auto file = workdir_ / path; ::lstat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR))
    change.mode = GIT_FILEMODE_BLOB_EXECUTABLE;
  return commit_change(p_->repo.get(), path, change, false, message);
}

}  // namespace codehive::vcs
