#include "cmd/kiln/daemon_client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/control/client.h"
#include "sdk/base/status_macros.h"

namespace kiln::cli {
namespace {

namespace cpb = ::kiln::control::v1;

absl::StatusOr<std::unique_ptr<cpb::Control::Stub>> Connect(const DaemonAddress& a) {
  controlrpc::DialOptions o;
  o.addr = a.addr;
  o.ca_cert = a.ca_cert;
  o.cert = a.cert;
  o.key = a.key;
  o.server_name = a.server_name;
  return controlrpc::Dial(o);
}

class GrpcDaemonClient : public DaemonClient {
 public:
  absl::Status Build(const DaemonAddress& a, const engine::BuildRequest& req,
                     const std::string& state_dir, progress::Sink* progress,
                     const std::atomic<bool>* cancel) const override {
    KILN_ASSIGN_OR_RETURN(auto stub, Connect(a));
    return controlrpc::RemoteBuild(stub.get(), req, state_dir, progress, cancel).status();
  }

  absl::StatusOr<std::vector<cache::RecordUsage>> DiskUsage(const DaemonAddress& a) const override {
    KILN_ASSIGN_OR_RETURN(auto stub, Connect(a));
    grpc::ClientContext ctx;
    cpb::DiskUsageResponse resp;
    grpc::Status st = stub->DiskUsage(&ctx, cpb::DiskUsageRequest(), &resp);
    if (!st.ok()) return controlrpc::FromGrpc(st);
    std::vector<cache::RecordUsage> out;
    for (const cpb::UsageRecord& r : resp.records()) {
      cache::RecordUsage u;
      u.key = r.id();
      u.size = r.size();
      u.last_used = r.last_used_unix();
      u.description = r.description();
      out.push_back(std::move(u));
    }
    return out;
  }

  absl::StatusOr<cache::PruneReport> Prune(const DaemonAddress& a, int64_t keep_bytes,
                                           bool all) const override {
    KILN_ASSIGN_OR_RETURN(auto stub, Connect(a));
    grpc::ClientContext ctx;
    cpb::PruneRequest req;
    req.set_all(all);
    req.set_keep_storage(keep_bytes);
    cpb::PruneResponse resp;
    grpc::Status st = stub->Prune(&ctx, req, &resp);
    if (!st.ok()) return controlrpc::FromGrpc(st);
    cache::PruneReport r;
    r.records_removed = static_cast<int>(resp.records_removed());
    r.layers_removed = static_cast<int>(resp.layers_removed());
    r.bytes_freed = resp.bytes_freed();
    r.cache_mount_instances_removed = static_cast<int>(resp.cache_mount_instances_removed());
    return r;
  }

  absl::StatusOr<image::ImageInfo> ImportImage(const DaemonAddress& a, const std::string& path,
                                               const std::string& name,
                                               bool rootfs) const override {
    KILN_ASSIGN_OR_RETURN(auto stub, Connect(a));
    KILN_ASSIGN_OR_RETURN(cpb::ImportImageResponse resp,
                          controlrpc::ImportImage(stub.get(), path, name, rootfs));
    image::ImageInfo info;
    info.ref = resp.ref();
    info.digest = resp.digest();
    return info;
  }

  absl::StatusOr<std::vector<image::ImageInfo>> ListImages(const DaemonAddress& a) const override {
    KILN_ASSIGN_OR_RETURN(auto stub, Connect(a));
    grpc::ClientContext ctx;
    cpb::ListImagesResponse resp;
    grpc::Status st = stub->ListImages(&ctx, cpb::ListImagesRequest(), &resp);
    if (!st.ok()) return controlrpc::FromGrpc(st);
    std::vector<image::ImageInfo> out;
    for (const cpb::ImageInfo& i : resp.images()) {
      image::ImageInfo info;
      info.ref = i.ref();
      info.digest = i.digest();
      info.size = i.size();
      out.push_back(std::move(info));
    }
    return out;
  }

  absl::Status RemoveImage(const DaemonAddress& a, const std::string& ref) const override {
    KILN_ASSIGN_OR_RETURN(auto stub, Connect(a));
    grpc::ClientContext ctx;
    cpb::RemoveImageRequest req;
    req.set_ref(ref);
    cpb::RemoveImageResponse resp;
    grpc::Status st = stub->RemoveImage(&ctx, req, &resp);
    return st.ok() ? absl::OkStatus() : controlrpc::FromGrpc(st);
  }

  absl::Status ExportImage(const DaemonAddress& a, const std::string& ref,
                           const std::string& dest) const override {
    KILN_ASSIGN_OR_RETURN(auto stub, Connect(a));
    return controlrpc::ExportImage(stub.get(), ref, dest);
  }

  absl::StatusOr<std::vector<std::string>> Workers(const DaemonAddress& a) const override {
    KILN_ASSIGN_OR_RETURN(auto stub, Connect(a));
    grpc::ClientContext ctx;
    cpb::ListWorkersResponse resp;
    grpc::Status st = stub->ListWorkers(&ctx, cpb::ListWorkersRequest(), &resp);
    if (!st.ok()) return controlrpc::FromGrpc(st);
    std::vector<std::string> out;
    for (const cpb::Worker& w : resp.workers()) {
      std::vector<std::string> platforms, labels;
      for (const pb::Platform& p : w.platforms()) {
        platforms.push_back(absl::StrCat(p.os(), "/", p.architecture(),
                                         p.variant().empty() ? "" : "/", p.variant()));
      }
      std::map<std::string, std::string> sorted(w.labels().begin(), w.labels().end());
      for (const auto& [k, v] : sorted) labels.push_back(absl::StrCat(k, "=", v));
      out.push_back(absl::StrCat(w.id(), " ", absl::StrJoin(platforms, ","), " parallelism=",
                                 w.max_parallelism(), " ", absl::StrJoin(labels, ",")));
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<DaemonClient> NewGrpcDaemonClient() { return std::make_unique<GrpcDaemonClient>(); }

}  // namespace kiln::cli
