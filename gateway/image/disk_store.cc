#include "gateway/image/disk_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/image/build.h"
#include "gateway/image/internal.h"
#include "gateway/image/layer/layer.h"
#include "sdk/base/digest.h"
#include "sdk/base/json.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/image_ref.h"
#include "sdk/llb/platform.h"

namespace kiln::image {
namespace {

using image_internal::Descriptor;
using image_internal::LayerMediaType;
using image_internal::StoreFile;

constexpr char kRecordMagic[] = "kiln-image 1";

}  // namespace

absl::StatusOr<std::unique_ptr<DiskStore>> DiskStore::Open(cache::Cache* cache) {
  std::string dir = cache->root() + "/images";
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
  }
  return std::unique_ptr<DiskStore>(new DiskStore(cache));
}

std::string DiskStore::RecordPath(const std::string& ref) const {
  return absl::StrCat(cache_->root(), "/images/", Sha256Hex(ref));
}

absl::Status DiskStore::WriteRecord(const Record& r) {
  std::string text = absl::StrCat(kRecordMagic, "\nref ", r.ref, "\nmanifest ", r.manifest,
                                  "\nconfig ", r.config, "\n");
  for (size_t i = 0; i < r.layers.size(); ++i) {
    absl::StrAppend(&text, "layer ", r.layers[i], " ", r.media_types[i], "\n");
  }
  std::string path = RecordPath(r.ref), tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return absl::InternalError("cannot write " + tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<DiskStore::Record> DiskStore::ReadRecord(const std::string& path) const {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(path);
  std::string line;
  if (!std::getline(in, line) || line != kRecordMagic) {
    return absl::DataLossError(absl::StrCat("image record ", path, " is not readable"));
  }
  Record r;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() == 2 && f[0] == "ref") r.ref = f[1];
    if (f.size() == 2 && f[0] == "manifest") r.manifest = f[1];
    if (f.size() == 2 && f[0] == "config") r.config = f[1];
    if (f.size() == 3 && f[0] == "layer") {
      r.layers.push_back(f[1]);
      r.media_types.push_back(f[2]);
    }
  }
  if (r.ref.empty() || ValidateDigest(r.manifest).code() != absl::StatusCode::kOk) {
    return absl::DataLossError(absl::StrCat("image record ", path, " is incomplete"));
  }
  return r;
}

absl::StatusOr<Image> DiskStore::ImportRootfs(const std::string& tar_path,
                                              const std::string& name) {
  KILN_ASSIGN_OR_RETURN(std::string ref, llb::NormalizeImageRef(name));
  absl::MutexLock lock(&mu_);
  cache::ContentStore* content = cache_->content();
  KILN_ASSIGN_OR_RETURN(auto blob, StoreFile(content, tar_path));
  KILN_ASSIGN_OR_RETURN(auto active, cache_->snapshotter()->Prepare({}));
  ApplyOptions opts;
  opts.whiteouts = ApplyOptions::Whiteouts::kOverlay;
  opts.name = tar_path;
  KILN_ASSIGN_OR_RETURN(LayerStats stats, ApplyLayerFile(tar_path, active->path(), opts));
  KILN_ASSIGN_OR_RETURN(cache::Committed layer, active->Commit());
  // No timestamps: the same tar gives the same config and manifest digests.
  std::string config =
      absl::StrCat("{\"architecture\":", JsonQuote(llb::Platform::Host().architecture),
                   ",\"config\":{},\"history\":[{\"created_by\":\"kiln image import --rootfs\"}],"
                   "\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[",
                   JsonQuote(stats.diff_id), "],\"type\":\"layers\"}}");
  KILN_ASSIGN_OR_RETURN(std::string config_digest, content->Put(config));
  std::string media_type = LayerMediaType(stats.compression);
  std::string manifest = absl::StrCat(
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":",
      Descriptor("application/vnd.oci.image.config.v1+json", config_digest, config.size()),
      ",\"layers\":[", Descriptor(media_type, blob.first, blob.second), "]}");
  KILN_ASSIGN_OR_RETURN(std::string manifest_digest, content->Put(manifest));
  KILN_RETURN_IF_ERROR(cache_->index()->Record("image:" + manifest_digest, {layer.chain},
                                               "image " + ref, layer.new_layers));
  Record r{ref, manifest_digest, config_digest, {blob.first}, {media_type}};
  KILN_RETURN_IF_ERROR(WriteRecord(r));
  return Image{ref, manifest_digest, layer.chain, config};
}

absl::StatusOr<cache::Chain> DiskStore::Unpack(const Record& r) {
  std::string key = "image:" + r.manifest;
  KILN_ASSIGN_OR_RETURN(auto known, cache_->index()->Lookup(key, 1));
  if (known.has_value()) return (*known)[0];
  // Pruned from the cache: unpack again from the blobs.
  cache::Chain chain;
  std::vector<cache::LayerInfo> layers;
  for (const std::string& digest : r.layers) {
    KILN_ASSIGN_OR_RETURN(std::string data, cache_->content()->Get(digest));
    KILN_ASSIGN_OR_RETURN(auto active, cache_->snapshotter()->Prepare(chain));
    size_t pos = 0;
    ReadFn read = [&](char* buf, size_t size) -> absl::StatusOr<size_t> {
      size_t n = std::min(size, data.size() - pos);
      memcpy(buf, data.data() + pos, n);
      pos += n;
      return n;
    };
    ApplyOptions opts;
    // Applied through the mounted view: a deletion is a real deletion, and
    // the snapshotter records it (overlay writes its own whiteout).
    opts.whiteouts = ApplyOptions::Whiteouts::kOci;
    opts.name = digest;
    KILN_RETURN_IF_ERROR(ApplyLayer(read, active->path(), opts).status());
    KILN_ASSIGN_OR_RETURN(cache::Committed c, active->Commit());
    chain = c.chain;
    layers.insert(layers.end(), c.new_layers.begin(), c.new_layers.end());
  }
  KILN_RETURN_IF_ERROR(cache_->index()->Record(key, {chain}, "image " + r.ref, layers));
  return chain;
}

absl::StatusOr<DiskStore::Record> DiskStore::FindRecord(const std::string& ref) const {
  size_t at = ref.find('@');
  std::string name = ref.substr(0, at);
  absl::StatusOr<Record> r = ReadRecord(RecordPath(name));
  if (absl::IsNotFound(r.status())) return ImageNotFound(name);
  KILN_RETURN_IF_ERROR(r.status());
  if (at != std::string::npos && r->manifest != ref.substr(at + 1)) {
    return absl::NotFoundError(absl::StrCat("image ", name, " is ", r->manifest, ", not ",
                                            ref.substr(at + 1),
                                            " as the build asked; import that image again"));
  }
  return r;
}

absl::StatusOr<ImageConfigInfo> DiskStore::ResolveConfig(const std::string& ref) {
  KILN_ASSIGN_OR_RETURN(Record r, FindRecord(ref));
  KILN_ASSIGN_OR_RETURN(std::string config, cache_->content()->Get(r.config));
  return ImageConfigInfo{r.ref, r.manifest, std::move(config)};
}

absl::StatusOr<Image> DiskStore::Resolve(const std::string& ref) {
  absl::StatusOr<Record> r = FindRecord(ref);
  KILN_RETURN_IF_ERROR(r.status());
  absl::MutexLock lock(&mu_);
  KILN_ASSIGN_OR_RETURN(cache::Chain chain, Unpack(*r));
  KILN_ASSIGN_OR_RETURN(std::string config, cache_->content()->Get(r->config));
  return Image{r->ref, r->manifest, std::move(chain), std::move(config)};
}

absl::StatusOr<std::vector<ImageInfo>> DiskStore::List() {
  std::vector<ImageInfo> out;
  std::string dir = cache_->root() + "/images";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() == 64) names.push_back(n);
  }
  closedir(d);
  for (const std::string& n : names) {
    absl::StatusOr<Record> r = ReadRecord(dir + "/" + n);
    if (!r.ok()) continue;  // removed meanwhile, or not an image record
    ImageInfo info{r->ref, r->manifest, 0};
    for (const std::string& layer : r->layers) {
      absl::StatusOr<std::string> blob = cache_->content()->Get(layer);
      if (blob.ok()) info.size += static_cast<int64_t>(blob->size());
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const ImageInfo& a, const ImageInfo& b) { return a.ref < b.ref; });
  return out;
}

absl::Status DiskStore::ExportOci(const std::string& name, const std::string& dest) {
  KILN_ASSIGN_OR_RETURN(std::string ref, llb::NormalizeImageRef(name));
  absl::StatusOr<Record> r = ReadRecord(RecordPath(ref));
  if (absl::IsNotFound(r.status())) return ImageNotFound(ref);
  KILN_RETURN_IF_ERROR(r.status());
  return WriteImageArchive(cache_->content(), {r->manifest, r->config, r->layers, r->media_types},
                           ref, dest);
}

absl::StatusOr<Image> DiskStore::Tag(const BuiltImage& built, const cache::Chain& chain,
                                     const std::string& name) {
  KILN_ASSIGN_OR_RETURN(std::string ref, llb::NormalizeImageRef(name));
  absl::MutexLock lock(&mu_);
  // The chain's layers are already recorded by the steps that made them.
  KILN_RETURN_IF_ERROR(
      cache_->index()->Record("image:" + built.manifest, {chain}, "image " + ref, {}));
  KILN_RETURN_IF_ERROR(
      WriteRecord({ref, built.manifest, built.config, built.layers, built.media_types}));
  KILN_ASSIGN_OR_RETURN(std::string config, cache_->content()->Get(built.config));
  return Image{ref, built.manifest, chain, config};
}

absl::Status DiskStore::Remove(const std::string& name) {
  KILN_ASSIGN_OR_RETURN(std::string ref, llb::NormalizeImageRef(name));
  if (unlink(RecordPath(ref).c_str()) != 0) {
    if (errno == ENOENT) return ImageNotFound(ref);
    return absl::InternalError(absl::StrCat("cannot remove image ", ref, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace kiln::image
