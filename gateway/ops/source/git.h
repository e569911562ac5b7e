// Git sources: resolve a ref to a commit, and check a commit out into a
// directory, the way BuildKit's git source does.
//
// Everything runs the `git` binary (found on $PATH) as a subprocess, never
// through a shell, with an environment that ignores the host's git config
// (GIT_CONFIG_NOSYSTEM=1, HOME and GIT_CONFIG_GLOBAL set to /dev/null, as
// BuildKit does), never prompts (GIT_TERMINAL_PROMPT=0), passes proxy
// variables through, runs with umask 022, and allows the file protocol only
// for top-level operations (`protocol.file.allow=user`), so a repository
// cannot pull host paths in as submodules.
//
// The functions hold no state and are thread-safe; two fetches into the same
// dest_dir at once are not.
#ifndef KILN_GATEWAY_OPS_SOURCE_GIT_H_
#define KILN_GATEWAY_OPS_SOURCE_GIT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/ops/source/cancel.h"

namespace kiln::ops {

// What a ref names on the remote.
struct GitRef {
  // The full ref that matched ("refs/heads/main", "refs/tags/v1"), or the
  // commit itself when the request named a commit.
  std::string ref;
  // The object the ref points at: for an annotated tag this is the tag
  // object, as BuildKit's cache key uses when the .git dir is kept.
  std::string object;
  // The commit to check out (annotated tags peeled).
  std::string commit;
};

// How file modification times in the checkout are set. BuildKit's default
// leaves them at the time of checkout ("checkout"); its `mtime=commit`
// attribute sets every path to the commit's committer time instead, which
// makes the tree reproducible.
enum class GitMTime { kCheckout, kCommit };

struct GitRequest {
  // Anything `git fetch` accepts: a local path, file://, https://, ssh://.
  std::string remote;
  // A branch, tag or full ref name, or a full commit sha (40 or 64 hex).
  // Empty means the remote's default branch (its HEAD symref).
  std::string ref;
  // Keep a .git directory with the fetched ref and origin set to `remote`
  // (HEAD detached at the commit). Ignored when `subdir` is set, as BuildKit
  // does.
  bool keep_git_dir = false;
  // Only this directory of the repository becomes the tree; it must exist
  // and be reached through directories only (no symlinks). It is taken
  // relative to the repository root and cannot leave it ("../x" is "x").
  std::string subdir;
  // BuildKit updates submodules unless told not to; they are fetched with
  // the same restrictions (so never from host paths).
  bool skip_submodules = false;
  GitMTime mtime = GitMTime::kCheckout;
  // Bound on the whole fetch; git is killed when it passes.
  absl::Duration timeout = absl::Minutes(30);
};

struct GitResult {
  GitRef resolved;
};

// Resolves `ref` on `remote` with `git ls-remote`, preferring an exact full
// ref, then a branch, then a tag (as `git checkout` does). A full commit sha
// is returned as is without contacting the remote (it may not exist there;
// FetchGit finds out). Gives up after five minutes. Errors: InvalidArgument for
// an empty remote or a remote/ref starting with '-'; NotFound when the remote
// has no such ref or no default branch; Unavailable (with git's last stderr
// lines) when the remote cannot be read; DeadlineExceeded/Cancelled.
absl::StatusOr<GitRef> ResolveGitRef(const std::string& remote, const std::string& ref,
                                     const CancelFn& cancelled = nullptr);

// Fetches the commit `req.ref` names (depth 1 where the remote allows it)
// and checks its tree out into `dest_dir`, which is created when missing and
// should be empty. Without keep_git_dir no .git is left behind; the scratch
// repository lives in a temporary directory beside dest_dir and is removed
// on return. Files get git's modes under umask 022 and the owner of this
// process. Errors: as ResolveGitRef; NotFound also for a commit the remote
// does not have and for a missing subdir; InvalidArgument for a subdir that
// is a file or crosses a symlink; Unavailable when a git step fails.
// On error the contents of dest_dir are unspecified: callers discard it.
absl::StatusOr<GitResult> FetchGit(const GitRequest& req, const std::string& dest_dir,
                                   const CancelFn& cancelled = nullptr);

// True for a full 40- or 64-digit lowercase hex object name.
bool IsCommitSha(const std::string& s);

// `remote` with any password in its URL replaced by "xxxxx", for messages and
// the origin URL kept in .git (BuildKit redacts the same way).
std::string RedactRemote(const std::string& remote);

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_SOURCE_GIT_H_
