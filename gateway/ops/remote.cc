// Sources fetched over the network or from another repository: http(s)
// and git. Their cache keys come from what the remote names (a pinned
// checksum, a resolved commit) or, lacking that, from the fetched bytes.
#include <cstdlib>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/ops/internal.h"
#include "gateway/ops/source/git.h"
#include "gateway/ops/source/http.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops_internal {
namespace {

absl::StatusOr<int64_t> IntAttr(const pb::SourceOp& src, const std::string& key, int64_t dflt) {
  std::string v = Attr(src, key);
  if (v.empty()) return dflt;
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 0);  // "0644" is octal, as BuildKit writes perms
  if (end == v.c_str() || *end != '\0' || n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("source ", src.identifier(), " attr ", key, ": \"", v, "\" is not a number"));
  }
  return n;
}

class HttpRunner : public solver::OpRunner {
 public:
  HttpRunner(const solver::Vertex& v, ops::HttpRequest req) : v_(v), req_(std::move(req)) {}

  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext& ctx) override {
    Sha256 h;
    h.UpdateField("http");
    h.UpdateField(req_.url);
    h.UpdateField(req_.filename);
    h.UpdateInt(static_cast<uint64_t>(req_.perm));
    h.UpdateInt(static_cast<uint64_t>(req_.uid));
    h.UpdateInt(static_cast<uint64_t>(req_.gid));
    if (!req_.expected_checksum.empty()) {
      h.UpdateField(req_.expected_checksum);
      return solver::CacheMap{h.Digest(), {}, true};
    }
    // Nothing pins the content: fetch now and key by what arrived.
    KILN_ASSIGN_OR_RETURN(fetched_, Fetch(ctx));
    h.UpdateField(content_digest_);
    return solver::CacheMap{h.Digest(), {}, true};
  }

  absl::StatusOr<std::vector<cache::Committed>> Run(solver::OpContext& ctx,
                                                    const std::vector<cache::Chain>&) override {
    if (fetched_ == nullptr) {
      KILN_ASSIGN_OR_RETURN(fetched_, Fetch(ctx));
    }
    KILN_ASSIGN_OR_RETURN(cache::Committed c, fetched_->Commit());
    fetched_.reset();
    return std::vector<cache::Committed>{std::move(c)};
  }

 private:
  absl::StatusOr<std::unique_ptr<cache::Active>> Fetch(solver::OpContext& ctx) {
    KILN_ASSIGN_OR_RETURN(auto active, ctx.snapshotter()->Prepare({}));
    ctx.Log(2, absl::StrCat("fetching ", req_.url, "\n"));
    KILN_ASSIGN_OR_RETURN(ops::HttpResult r,
                          ops::FetchHttp(req_, active->path(), [&] { return ctx.cancelled(); }));
    content_digest_ = r.digest;
    return active;
  }

  const solver::Vertex& v_;
  ops::HttpRequest req_;
  std::unique_ptr<cache::Active> fetched_;
  std::string content_digest_;
};

class GitRunner : public solver::OpRunner {
 public:
  GitRunner(ops::GitRequest req, std::string checksum)
      : req_(std::move(req)), checksum_(std::move(checksum)) {}

  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext& ctx) override {
    KILN_ASSIGN_OR_RETURN(ops::GitRef ref, ops::ResolveGitRef(req_.remote, req_.ref,
                                                              [&] { return ctx.cancelled(); }));
    // git.checksum (ADD --checksum on a git source) pins the commit: the ref
    // must resolve to it (or to a commit it is a prefix of).
    if (!checksum_.empty() && !absl::StartsWith(ref.commit, checksum_)) {
      return absl::FailedPreconditionError(
          absl::StrCat("git checksum mismatch: expected commit ", checksum_, ", ",
                       ops::RedactRemote(req_.remote), req_.ref.empty() ? "" : "#" + req_.ref,
                       " is at ", ref.commit));
    }
    commit_ = ref.commit;
    Sha256 h;
    h.UpdateField("git");
    h.UpdateField(req_.remote);
    h.UpdateField(commit_);
    h.UpdateField(req_.subdir);
    h.UpdateInt(req_.keep_git_dir ? 1 : 0);
    return solver::CacheMap{h.Digest(), {}, true};
  }

  absl::StatusOr<std::vector<cache::Committed>> Run(solver::OpContext& ctx,
                                                    const std::vector<cache::Chain>&) override {
    KILN_ASSIGN_OR_RETURN(auto active, ctx.snapshotter()->Prepare({}));
    ops::GitRequest pinned = req_;
    pinned.ref = commit_;  // the commit the key was computed for
    ctx.Log(2, absl::StrCat("fetching ", req_.remote, " at ", commit_, "\n"));
    KILN_RETURN_IF_ERROR(
        ops::FetchGit(pinned, active->path(), [&] { return ctx.cancelled(); }).status());
    KILN_ASSIGN_OR_RETURN(cache::Committed c, active->Commit());
    return std::vector<cache::Committed>{std::move(c)};
  }

 private:
  ops::GitRequest req_;
  std::string checksum_;
  std::string commit_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewHttpRunner(const solver::Vertex& v) {
  const pb::SourceOp& src = v.op.source();
  ops::HttpRequest req;
  req.url = src.identifier();
  req.expected_checksum = Attr(src, "http.checksum");
  if (!req.expected_checksum.empty()) KILN_RETURN_IF_ERROR(ValidateDigest(req.expected_checksum));
  req.filename = Attr(src, "http.filename");
  KILN_ASSIGN_OR_RETURN(int64_t perm, IntAttr(src, "http.perm", 0600));
  KILN_ASSIGN_OR_RETURN(int64_t uid, IntAttr(src, "http.uid", 0));
  KILN_ASSIGN_OR_RETURN(int64_t gid, IntAttr(src, "http.gid", 0));
  req.perm = static_cast<uint32_t>(perm);
  req.uid = static_cast<uint32_t>(uid);
  req.gid = static_cast<uint32_t>(gid);
  return std::make_unique<HttpRunner>(v, std::move(req));
}

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewGitRunner(const solver::Vertex& v) {
  const pb::SourceOp& src = v.op.source();
  // git://REMOTE#REF[:SUBDIR]; git.fullurl has the remote with its scheme.
  std::string rest = src.identifier().substr(std::string("git://").size());
  std::vector<std::string> parts = absl::StrSplit(rest, absl::MaxSplits('#', 1));
  ops::GitRequest req;
  req.remote = Attr(src, "git.fullurl");
  if (req.remote.empty()) req.remote = parts[0];
  if (parts.size() > 1) {
    std::vector<std::string> ref = absl::StrSplit(parts[1], absl::MaxSplits(':', 1));
    req.ref = ref[0];
    if (ref.size() > 1) req.subdir = ref[1];
  }
  req.keep_git_dir = Attr(src, "git.keepgitdir") == "true";
  if (req.remote.empty()) return absl::InvalidArgumentError("git source without a remote");
  std::string checksum = Attr(src, "git.checksum");
  if (!checksum.empty() && (checksum.size() < 7 || checksum.size() > 64 ||
                            checksum.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return absl::InvalidArgumentError(
        absl::StrCat("git source ", ops::RedactRemote(req.remote), ": checksum \"", checksum,
                     "\" is not a commit (7 to 64 lowercase hex characters)"));
  }
  return std::make_unique<GitRunner>(std::move(req), std::move(checksum));
}

}  // namespace kiln::ops_internal
