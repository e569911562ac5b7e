#include "gateway/ops/source/git.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gateway/ops/source/internal/checkout.h"
#include "gateway/ops/source/internal/git_cli.h"
#include "gateway/ops/source/internal/url_util.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops {
namespace {

namespace fs = std::filesystem;
using source_internal::GitCli;
using source_internal::RunGit;
using source_internal::RunGitRaw;
using source_internal::ScratchDir;

absl::Status ValidateArgs(const std::string& remote, const std::string& ref) {
  if (remote.empty()) return absl::InvalidArgumentError("git: empty remote");
  if (remote[0] == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("git: invalid remote \"", RedactRemote(remote), "\""));
  }
  if (!ref.empty() && ref[0] == '-') {
    return absl::InvalidArgumentError(absl::StrCat("git: invalid ref \"", ref, "\""));
  }
  return absl::OkStatus();
}

// The branch the remote's HEAD points at ("main"), as BuildKit reads it.
absl::StatusOr<std::string> DefaultBranch(const GitCli& cli, const std::string& remote) {
  KILN_ASSIGN_OR_RETURN(std::string out,
                        RunGit(cli, {"ls-remote", "--symref", "--", remote, "HEAD"},
                               absl::StrCat("git ls-remote ", RedactRemote(remote))));
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, "ref: refs/heads/")) continue;
    std::string branch(line.substr(0, line.find_first_of(" \t")));
    if (!branch.empty() && branch[0] != '-') return branch;
  }
  return absl::NotFoundError(
      absl::StrCat("git: cannot find the default branch of ", RedactRemote(remote)));
}

// Picks the ref `ref` names from ls-remote output: an exact full ref, else a
// branch, else a tag (peeling an annotated tag to its commit).
absl::StatusOr<GitRef> PickRef(const std::string& out, const std::string& ref,
                               const std::string& remote) {
  std::string bare(absl::StripPrefix(ref, "refs/"));
  const std::string partial = "refs/" + bare;
  const std::string head = "refs/heads/" + std::string(absl::StripPrefix(ref, "refs/heads/"));
  const std::string tag = "refs/tags/" + std::string(absl::StripPrefix(ref, "refs/tags/"));
  std::string exact_sha, head_sha, tag_sha, peeled_sha;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, '\t');
    if (kv.second == partial)
      exact_sha = kv.first;
    else if (kv.second == head)
      head_sha = kv.first;
    else if (kv.second == tag)
      tag_sha = kv.first;
    else if (kv.second == tag + "^{}")
      peeled_sha = kv.first;
  }
  GitRef r;
  if (!exact_sha.empty()) {
    r = {partial, exact_sha, exact_sha};
  } else if (!head_sha.empty()) {
    r = {head, head_sha, head_sha};
  } else if (!tag_sha.empty()) {
    r = {tag, tag_sha, peeled_sha.empty() ? tag_sha : peeled_sha};
  } else {
    return absl::NotFoundError(absl::StrCat("git: repository ", RedactRemote(remote),
                                            " does not contain ref \"", ref, "\""));
  }
  // An exact "refs/tags/x" also has a peeled line when annotated.
  if (r.ref == tag && !peeled_sha.empty()) r.commit = peeled_sha;
  if (!IsCommitSha(r.object) || !IsCommitSha(r.commit)) {
    return absl::UnavailableError(
        absl::StrCat("git: unexpected ls-remote output for \"", ref, "\": ", r.object));
  }
  return r;
}

absl::StatusOr<GitRef> Resolve(const GitCli& cli, const std::string& remote, std::string ref) {
  KILN_RETURN_IF_ERROR(ValidateArgs(remote, ref));
  if (IsCommitSha(ref)) return GitRef{ref, ref, ref};
  if (ref.empty()) {
    KILN_ASSIGN_OR_RETURN(ref, DefaultBranch(cli, remote));
  }
  KILN_ASSIGN_OR_RETURN(std::string out,
                        RunGit(cli, {"ls-remote", "--", remote, ref, ref + "^{}"},
                               absl::StrCat("git ls-remote ", RedactRemote(remote))));
  return PickRef(out, ref, remote);
}

// Gets `want.commit` into the repository: by its ref, shallow, when it has
// one; else by sha; and as a last resort by fetching all branches and tags
// (servers that refuse unadvertised objects).
absl::Status FetchCommit(const GitCli& cli, const std::string& remote, const GitRef& want) {
  const std::string what = absl::StrCat("git fetch ", RedactRemote(remote));
  auto has_commit = [&]() {
    absl::StatusOr<RunResult> r = RunGitRaw(cli, {"cat-file", "-e", want.commit + "^{commit}"});
    return r.ok() && r->exit_code == 0;
  };
  if (want.ref != want.commit) {
    KILN_RETURN_IF_ERROR(RunGit(cli,
                                {"fetch", "-q", "-u", "--depth=1", "--no-tags", "--force", "--",
                                 remote, "+" + want.ref + ":" + want.ref},
                                what)
                             .status());
    if (has_commit()) return absl::OkStatus();
  }
  absl::StatusOr<RunResult> direct =
      RunGitRaw(cli, {"fetch", "-q", "--depth=1", "--no-tags", "--", remote, want.commit});
  if (!direct.ok()) return direct.status();
  if (direct->exit_code == 0 && has_commit()) return absl::OkStatus();
  KILN_RETURN_IF_ERROR(RunGit(cli,
                              {"fetch", "-q", "--tags", "--force", "--", remote,
                               "+refs/heads/*:refs/kiln-remote/heads/*"},
                              what)
                           .status());
  if (has_commit()) return absl::OkStatus();
  if (want.ref != want.commit) {
    return absl::FailedPreconditionError(
        absl::StrCat("git: ", want.ref, " on ", RedactRemote(remote), " moved away from ",
                     want.commit, " while fetching, and that commit is no longer there"));
  }
  return absl::NotFoundError(absl::StrCat("git: repository ", RedactRemote(remote),
                                          " does not contain commit ", want.commit));
}

// Fills `work_tree` with the files of `commit` (the index lives in the
// repository). A commit with an empty tree leaves it empty.
absl::Status CheckoutTree(GitCli cli, const std::string& work_tree, const std::string& commit) {
  cli.work_tree = work_tree;
  KILN_ASSIGN_OR_RETURN(RunResult r,
                        RunGitRaw(cli, {"checkout", "-q", "--no-overlay", commit, "--", "."}));
  if (r.exit_code == 0 || absl::StrContains(r.stderr_data, "did not match any file")) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat("git checkout ", commit, " failed (git exit ",
                                             r.exit_code, "): ", TailLines(r.stderr_data)));
}

// Leaves the kept .git as BuildKit does: HEAD detached at the commit, origin
// pointing at the (redacted) remote, no reflog or FETCH_HEAD.
absl::Status FinishGitDir(const GitCli& cli, const std::string& remote, const std::string& commit) {
  KILN_RETURN_IF_ERROR(
      RunGit(cli, {"update-ref", "--no-deref", "HEAD", commit}, "git update-ref").status());
  KILN_RETURN_IF_ERROR(
      RunGit(cli, {"remote", "add", "origin", RedactRemote(remote)}, "git remote add").status());
  KILN_RETURN_IF_ERROR(
      RunGit(cli, {"reflog", "expire", "--all", "--expire=now"}, "git reflog expire").status());
  std::error_code ec;
  fs::remove(fs::path(cli.git_dir) / "FETCH_HEAD", ec);
  return absl::OkStatus();
}

absl::Status UpdateSubmodules(GitCli cli, const std::string& work_tree) {
  std::error_code ec;
  if (!fs::exists(fs::path(work_tree) / ".gitmodules", ec)) return absl::OkStatus();
  cli.work_tree = work_tree;
  return RunGit(cli, {"submodule", "update", "--init", "--recursive", "--depth=1"},
                "git submodule update")
      .status();
}

absl::StatusOr<int64_t> CommitTime(const GitCli& cli, const std::string& commit) {
  KILN_ASSIGN_OR_RETURN(std::string out,
                        RunGit(cli, {"log", "-1", "--format=%ct", commit}, "git log"));
  int64_t t = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(out), &t)) {
    return absl::UnavailableError(absl::StrCat("git log: bad commit time \"", out, "\""));
  }
  return t;
}

// Creates the repository the fetch goes into: dest/.git when it is kept,
// else a bare one in `scratch`.
absl::StatusOr<std::string> InitRepo(const GitCli& cli, const std::string& dest,
                                     const ScratchDir* scratch) {
  std::string git_dir = scratch == nullptr ? dest + "/.git" : scratch->path() + "/repo.git";
  std::vector<std::string> args = {"-c", "init.defaultBranch=master", "init", "-q"};
  if (scratch != nullptr) args.push_back("--bare");
  args.push_back(scratch == nullptr ? dest : git_dir);
  KILN_RETURN_IF_ERROR(RunGit(cli, args, "git init").status());
  return git_dir;
}

// Checks `commit` out into `dest`: the whole tree, or only `subdir`, which
// is checked out whole beside its final place and then hoisted.
absl::Status Materialize(const GitCli& cli, const GitRequest& req, const std::string& commit,
                         const std::string& subdir, const std::string& dest, bool keep) {
  std::optional<ScratchDir> tree_scratch;
  if (!subdir.empty()) {
    KILN_ASSIGN_OR_RETURN(ScratchDir s, ScratchDir::Create(dest, "kiln-checkout-"));
    tree_scratch.emplace(std::move(s));
  }
  const std::string tree = tree_scratch ? tree_scratch->path() : dest;
  KILN_RETURN_IF_ERROR(CheckoutTree(cli, tree, commit));
  if (keep) KILN_RETURN_IF_ERROR(FinishGitDir(cli, req.remote, commit));
  if (!req.skip_submodules) KILN_RETURN_IF_ERROR(UpdateSubmodules(cli, tree));
  if (subdir.empty()) return absl::OkStatus();
  return source_internal::HoistSubdir(tree, subdir, dest);
}

}  // namespace

bool IsCommitSha(const std::string& s) {
  if (s.size() != 40 && s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string RedactRemote(const std::string& remote) { return source_internal::RedactUrl(remote); }

absl::StatusOr<GitRef> ResolveGitRef(const std::string& remote, const std::string& ref,
                                     const CancelFn& cancelled) {
  GitCli cli;
  cli.deadline = absl::Now() + absl::Minutes(5);
  cli.cancelled = cancelled;
  return Resolve(cli, remote, ref);
}

absl::StatusOr<GitResult> FetchGit(const GitRequest& req, const std::string& dest_dir,
                                   const CancelFn& cancelled) {
  GitCli cli;
  cli.deadline = absl::Now() + req.timeout;
  cli.cancelled = cancelled;
  const std::string subdir = source_internal::CleanSubdir(req.subdir);
  KILN_ASSIGN_OR_RETURN(GitRef ref, Resolve(cli, req.remote, req.ref));
  std::error_code ec;
  const std::string dest = fs::absolute(dest_dir, ec).lexically_normal().string();
  KILN_RETURN_IF_ERROR(source_internal::MakeDirs(dest));

  const bool keep = req.keep_git_dir && subdir.empty();
  std::optional<ScratchDir> repo_scratch;
  if (!keep) {
    KILN_ASSIGN_OR_RETURN(ScratchDir s,
                          ScratchDir::Create(source_internal::ParentDir(dest), "kiln-git-"));
    repo_scratch.emplace(std::move(s));
  }
  KILN_ASSIGN_OR_RETURN(cli.git_dir, InitRepo(cli, dest, keep ? nullptr : &*repo_scratch));
  KILN_RETURN_IF_ERROR(FetchCommit(cli, req.remote, ref));

  KILN_RETURN_IF_ERROR(Materialize(cli, req, ref.commit, subdir, dest, keep));
  if (req.mtime == GitMTime::kCommit) {
    KILN_ASSIGN_OR_RETURN(int64_t t, CommitTime(cli, ref.commit));
    KILN_RETURN_IF_ERROR(source_internal::SetTreeTimes(dest, t));
  }
  return GitResult{ref};
}

}  // namespace kiln::ops
