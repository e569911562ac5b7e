// Runners of each op kind, private to gateway/ops.
#ifndef KILN_GATEWAY_OPS_INTERNAL_H_
#define KILN_GATEWAY_OPS_INTERNAL_H_

#include <memory>
#include <string>

#include "gateway/ops/exec/executor.h"
#include "gateway/ops/ops.h"

namespace kiln::ops_internal {

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewLocalRunner(const solver::Vertex& v,
                                                                 const solver::Session& s,
                                                                 const ops::OpsOptions& o);
absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewHttpRunner(const solver::Vertex& v);
absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewGitRunner(const solver::Vertex& v);
absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewFileRunner(const solver::Vertex& v);
absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewMergeRunner(const solver::Vertex& v);
absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewDiffRunner(const solver::Vertex& v);
absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewImageRunner(const solver::Vertex& v,
                                                                 image::Store* images);
absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewExecRunner(const solver::Vertex& v,
                                                                const solver::Session& session,
                                                                exec::Executor* executor,
                                                                cache::CacheMounts* cache_mounts);

// The value of attr `key` of a source op, or "".
std::string Attr(const pb::SourceOp& src, const std::string& key);

}  // namespace kiln::ops_internal

#endif  // KILN_GATEWAY_OPS_INTERNAL_H_
