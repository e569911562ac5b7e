// The local source: a directory the client shares, filtered by patterns.
//
// Its cache key is the checksum of the filtered files' content and metadata
// (never mtime), so an unchanged context hits the cache without copying. The
// scan reuses the digests of files whose stat did not change since the last
// build of the same directory, kept in ROOT/locals.
#include "absl/strings/str_cat.h"
#include "gateway/fsutil/context.h"
#include "gateway/fsutil/filter.h"
#include "gateway/ops/internal.h"
#include "sdk/base/digest.h"
#include "sdk/base/json.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops_internal {
namespace {

constexpr char kPrefix[] = "local://";

absl::StatusOr<std::vector<std::string>> PatternAttr(const pb::SourceOp& src,
                                                     const std::string& key) {
  absl::StatusOr<std::vector<std::string>> v = ParseJsonStringArray(Attr(src, key));
  if (!v.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("source ", src.identifier(), " attr ", key, ": ", v.status().message()));
  }
  return v;
}

class LocalRunner : public solver::OpRunner {
 public:
  LocalRunner(const solver::Session& session, std::string name, solver::LocalFilter filter,
              std::string state_dir)
      : session_(session),
        name_(std::move(name)),
        filter_(std::move(filter)),
        state_dir_(std::move(state_dir)) {}

  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext& ctx) override {
    // Asked here, inside the step, not when the graph is loaded: kilnd
    // transfers the client's files now, and logs it under this step.
    KILN_ASSIGN_OR_RETURN(dir_, session_.LocalDir(name_, filter_, &ctx));
    KILN_ASSIGN_OR_RETURN(std::vector<std::string> include,
                          fsutil::IncludeFollowPaths(dir_, filter_.include, filter_.follow));
    KILN_ASSIGN_OR_RETURN(fsutil::Filter filter, fsutil::Filter::Create(include, filter_.exclude));
    std::string index_path = fsutil::ContextIndexPath(state_dir_, dir_, name_);
    fsutil::ContextIndex index = fsutil::ContextIndex::Load(index_path);
    KILN_ASSIGN_OR_RETURN(scan_, fsutil::ScanContext(dir_, filter, &index));
    // A failed save only costs rehashing next time; an unchanged index is
    // not rewritten (that would cost an fsync per build).
    if (index.dirty()) index.Save(index_path).IgnoreError();
    Sha256 h;
    h.UpdateField("local");
    h.UpdateField(name_);
    h.UpdateField(JsonStringArray(filter_.include));
    h.UpdateField(JsonStringArray(filter_.exclude));
    h.UpdateField(JsonStringArray(filter_.follow));
    h.UpdateField(scan_.checksum);
    return solver::CacheMap{h.Digest(), {}, true};
  }

  absl::StatusOr<std::vector<cache::Committed>> Run(solver::OpContext& ctx,
                                                    const std::vector<cache::Chain>&) override {
    KILN_ASSIGN_OR_RETURN(auto active, ctx.snapshotter()->Prepare({}));
    KILN_RETURN_IF_ERROR(fsutil::MaterializeContext(scan_, dir_, active->path()));
    KILN_ASSIGN_OR_RETURN(cache::Committed c, active->Commit());
    return std::vector<cache::Committed>{std::move(c)};
  }

 private:
  const solver::Session& session_;
  std::string name_;
  solver::LocalFilter filter_;
  std::string state_dir_;
  std::string dir_;
  fsutil::ContextScan scan_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewLocalRunner(const solver::Vertex& v,
                                                                 const solver::Session& s,
                                                                 const ops::OpsOptions& o) {
  const pb::SourceOp& src = v.op.source();
  std::string name = src.identifier().substr(sizeof(kPrefix) - 1);
  if (name.empty()) return absl::InvalidArgumentError("local source without a name");
  solver::LocalFilter f;
  KILN_ASSIGN_OR_RETURN(f.include, PatternAttr(src, "local.includepattern"));
  KILN_ASSIGN_OR_RETURN(f.exclude, PatternAttr(src, "local.excludepatterns"));
  KILN_ASSIGN_OR_RETURN(f.follow, PatternAttr(src, "local.followpaths"));
  return std::make_unique<LocalRunner>(s, std::move(name), std::move(f), o.state_dir);
}

}  // namespace kiln::ops_internal
