// The local source: a directory the client shares, filtered by patterns.
//
// Its cache key is the checksum of the filtered files' content and metadata
// (never mtime), so an unchanged context hits the cache without copying. The
// scan reuses the digests of files whose stat did not change since the last
// build of the same directory, kept in ROOT/locals.
#include "absl/strings/str_cat.h"
#include "gateway/fsutil/context.h"
#include "gateway/fsutil/patterns.h"
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
  LocalRunner(std::string name, std::string dir, std::string index_path,
              std::vector<std::string> include, std::vector<std::string> exclude,
              std::vector<std::string> follow)
      : name_(std::move(name)),
        dir_(std::move(dir)),
        index_path_(std::move(index_path)),
        include_(std::move(include)),
        exclude_(std::move(exclude)),
        follow_(std::move(follow)) {}

  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext& ctx) override {
    KILN_ASSIGN_OR_RETURN(fsutil::Filter filter, fsutil::Filter::Create(include_, exclude_));
    fsutil::ContextIndex index = fsutil::ContextIndex::Load(index_path_);
    KILN_ASSIGN_OR_RETURN(scan_, fsutil::ScanContext(dir_, filter, &index));
    // A failed save only costs rehashing next time; an unchanged index is
    // not rewritten (that would cost an fsync per build).
    if (index.dirty()) index.Save(index_path_).IgnoreError();
    Sha256 h;
    h.UpdateField("local");
    h.UpdateField(name_);
    h.UpdateField(JsonStringArray(include_));
    h.UpdateField(JsonStringArray(exclude_));
    h.UpdateField(JsonStringArray(follow_));
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
  std::string name_, dir_, index_path_;
  std::vector<std::string> include_, exclude_, follow_;
  fsutil::ContextScan scan_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewLocalRunner(const solver::Vertex& v,
                                                                 const solver::Session& s,
                                                                 const ops::OpsOptions& o) {
  const pb::SourceOp& src = v.op.source();
  std::string name = src.identifier().substr(sizeof(kPrefix) - 1);
  if (name.empty()) return absl::InvalidArgumentError("local source without a name");
  KILN_ASSIGN_OR_RETURN(std::string dir, s.LocalDir(name));
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> include, PatternAttr(src, "local.includepattern"));
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> exclude,
                        PatternAttr(src, "local.excludepatterns"));
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> follow, PatternAttr(src, "local.followpaths"));
  std::string index_path = absl::StrCat(o.state_dir, "/", Sha256Hex(dir + "\n" + name), ".idx");
  return std::make_unique<LocalRunner>(std::move(name), std::move(dir), std::move(index_path),
                                       std::move(include), std::move(exclude), std::move(follow));
}

}  // namespace kiln::ops_internal
