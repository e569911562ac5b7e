#include "gateway/ops/ops.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/ops/internal.h"
#include "gateway/ops/ssh_agent.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "sdk/base/digest.h"

namespace kiln::ops {

LocalSession::LocalSession(std::map<std::string, std::string> dirs,
                           std::map<std::string, std::string> secrets,
                           const std::map<std::string, std::string>& ssh)
    : dirs_(std::move(dirs)), secrets_(std::move(secrets)) {
  for (const auto& [id, path] : ssh) ssh_[id] = std::make_shared<UnixSshAgent>(path);
}

absl::StatusOr<std::string> LocalSession::LocalDir(const std::string& name,
                                                   const solver::LocalFilter&,
                                                   solver::OpContext*) const {
  auto it = dirs_.find(name);
  if (it != dirs_.end()) return it->second;
  std::string known;
  for (const auto& [n, _] : dirs_) absl::StrAppend(&known, known.empty() ? "" : ", ", n);
  return absl::NotFoundError(
      absl::StrCat("local directory \"", name, "\" was not shared with this build (shared: ",
                   known.empty() ? "none" : known, "); pass --local ", name, "=DIR"));
}

absl::StatusOr<std::string> LocalSession::Secret(const std::string& id) const {
  auto it = secrets_.find(id);
  if (it != secrets_.end()) return it->second;
  return absl::NotFoundError(absl::StrCat(
      "secret \"", id, "\" was not given to this build; pass --secret id=", id, ",src=FILE"));
}

absl::StatusOr<std::shared_ptr<solver::SshAgent>> LocalSession::Ssh(const std::string& id) const {
  auto it = ssh_.find(id);
  if (it != ssh_.end()) return it->second;
  return Session::Ssh(id);
}

std::string OpDigest(std::string_view kind, const pb::Op& op) {
  pb::Op stripped = op;
  stripped.clear_inputs();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    stripped.SerializeToCodedStream(&coded);
  }
  Sha256 h;
  h.UpdateField(kind);
  h.UpdateField(bytes);
  return h.Digest();
}

namespace {

class Resolver : public solver::OpResolver {
 public:
  explicit Resolver(OpsOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<solver::OpRunner>> Resolve(
      const solver::Vertex& v, const solver::Session& session) override {
    switch (v.op.op_case()) {
      case pb::Op::kSource:
        return ResolveSource(v, session);
      case pb::Op::kFile:
        return ops_internal::NewFileRunner(v);
      case pb::Op::kMerge:
        return ops_internal::NewMergeRunner(v);
      case pb::Op::kDiff:
        return ops_internal::NewDiffRunner(v);
      case pb::Op::kExec:
        if (options_.executor == nullptr) {
          return absl::UnimplementedError(
              "exec ops need the container executor (runc), which this kiln does not have yet");
        }
        return ops_internal::NewExecRunner(v, session, options_.executor, options_.cache_mounts);
      case pb::Op::kBuild:
        return absl::UnimplementedError("BuildOp is deprecated in LLB and not supported");
      default:
        return absl::InvalidArgumentError("op has an unknown type");
    }
  }

 private:
  absl::StatusOr<std::unique_ptr<solver::OpRunner>> ResolveSource(const solver::Vertex& v,
                                                                  const solver::Session& s) {
    const std::string& id = v.op.source().identifier();
    if (absl::StartsWith(id, "local://")) return ops_internal::NewLocalRunner(v, s, options_);
    if (absl::StartsWith(id, "http://") || absl::StartsWith(id, "https://")) {
      return ops_internal::NewHttpRunner(v);
    }
    if (absl::StartsWith(id, "git://")) return ops_internal::NewGitRunner(v);
    if (absl::StartsWith(id, "docker-image://")) {
      return ops_internal::NewImageRunner(v, options_.images);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown source identifier \"", id,
                     "\" (want docker-image://, local://, http(s)://, git://)"));
  }

  OpsOptions options_;
};

}  // namespace

std::unique_ptr<solver::OpResolver> NewOpResolver(const OpsOptions& options) {
  return std::make_unique<Resolver>(options);
}

}  // namespace kiln::ops

namespace kiln::ops_internal {

std::string Attr(const pb::SourceOp& src, const std::string& key) {
  auto it = src.attrs().find(key);
  return it == src.attrs().end() ? "" : it->second;
}

}  // namespace kiln::ops_internal
