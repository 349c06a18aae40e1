// libgit2 plumbing shared by vcs/*.cpp (not part of the interface): owning
// handles, the error of the last call, the repository's private state.
#pragma once

#include <memory>
#include <string>

#include <git2.h>

#include "vcs/repository.hpp"

namespace codehive::vcs {

template <class T, void (*Free)(T*)>
struct git_deleter {
  void operator()(T* p) const { Free(p); }
};
template <class T, void (*Free)(T*)>
using handle = std::unique_ptr<T, git_deleter<T, Free>>;

using repo_ptr = handle<git_repository, git_repository_free>;
using tree_ptr = handle<git_tree, git_tree_free>;
using commit_ptr = handle<git_commit, git_commit_free>;
using index_ptr = handle<git_index, git_index_free>;
using ref_ptr = handle<git_reference, git_reference_free>;
using walk_ptr = handle<git_revwalk, git_revwalk_free>;
using diff_ptr = handle<git_diff, git_diff_free>;
using sig_ptr = handle<git_signature, git_signature_free>;
using status_ptr = handle<git_status_list, git_status_list_free>;

/// The failed call's description, with libgit2's own message.
inline error git_failure(const std::string& what) {
  const git_error* e = git_error_last();
  return {what + ": " + (e && e->message ? e->message : "unknown libgit2 error")};
}

/// libgit2 is initialised once per process and never shut down (the tracker
/// and the CLI may both hold repositories; shutdown at exit buys nothing).
void ensure_libgit2();

struct repository::impl {
  repo_ptr repo;
};

inline std::string hex(const git_oid& id) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &id);
  return buf;
}

/// The commit HEAD names (null when HEAD is unborn: a repository without commits).
result<commit_ptr> head_commit(git_repository* repo);

/// The tree of no files (a repository's first commit has it as its parent's).
result<tree_ptr> empty_tree(git_repository* repo);

/// The author and committer: the user's git identity, else "codehive".
sig_ptr signature(git_repository* repo);

}  // namespace codehive::vcs
