// Importing image archives: `docker save` tars and OCI image-layout tars.
// The archive is unpacked into a scratch directory with the layer code (so
// nothing escapes it), its blobs are stored, and each layer is applied and
// checked against the config's diff IDs before the image gets a name.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gateway/cache/fs.h"
#include "gateway/image/disk_store.h"
#include "gateway/image/internal.h"
#include "gateway/image/layer/layer.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/image_ref.h"

namespace kiln::image {
namespace {

using Json = nlohmann::json;

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, " is missing from the archive"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses JSON without exceptions: InvalidArgument naming `what`.
absl::StatusOr<Json> ParseJson(const std::string& text, const std::string& what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON"));
  return j;
}

// j[key] when j is an object that has it; a shared null otherwise. Never
// throws, whatever shape the input has.
const Json& Get(const Json& j, const char* key) {
  static const Json* null = new Json();
  if (!j.is_object()) return *null;
  auto it = j.find(key);
  return it == j.end() ? *null : *it;
}

std::string String(const Json& j, const char* key) {
  const Json& v = Get(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// The strings of an array; InvalidArgument naming `what` otherwise.
absl::StatusOr<std::vector<std::string>> Strings(const Json& j, const std::string& what) {
  std::vector<std::string> out;
  if (!j.is_array()) return absl::InvalidArgumentError(absl::StrCat(what, " is not a list"));
  for (const Json& e : j) {
    if (!e.is_string())
      return absl::InvalidArgumentError(absl::StrCat(what, " holds a non-string"));
    out.push_back(e.get<std::string>());
  }
  return out;
}

// A path inside the unpacked archive for a blob digest, checked.
absl::StatusOr<std::string> BlobPath(const std::string& dir, const std::string& digest) {
  KILN_RETURN_IF_ERROR(ValidateDigest(digest));
  return absl::StrCat(dir, "/blobs/sha256/", DigestHex(digest));
}

// A path named by a docker manifest.json, kept inside the archive.
absl::StatusOr<std::string> MemberPath(const std::string& dir, const std::string& name) {
  if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive member \"", name, "\" is not a plain path"));
  }
  return absl::StrCat(dir, "/", name);
}

}  // namespace

absl::StatusOr<Image> DiskStore::ImportArchive(const std::string& archive,
                                               const std::string& name) {
  KILN_ASSIGN_OR_RETURN(std::string ref, llb::NormalizeImageRef(name));
  std::string dir = absl::StrCat(cache_->root(), "/tmp/import-", cache_internal::NewId());
  KILN_RETURN_IF_ERROR(cache_internal::MakeDirs(dir, 0700));
  struct Cleanup {
    std::string dir;
    ~Cleanup() { cache_internal::RemoveAll(dir).IgnoreError(); }
  } cleanup{dir};
  ApplyOptions unpack;
  unpack.name = archive;
  KILN_RETURN_IF_ERROR(ApplyLayerFile(archive, dir, unpack).status());

  std::string config_path;
  std::vector<std::string> layer_paths;
  if (access((dir + "/index.json").c_str(), F_OK) == 0) {  // OCI image layout
    KILN_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/index.json", "index.json"));
    KILN_ASSIGN_OR_RETURN(Json index, ParseJson(text, "index.json"));
    const Json& manifests = Get(index, "manifests");
    if (!manifests.is_array() || manifests.empty()) {
      return absl::InvalidArgumentError("index.json lists no manifest");
    }
    KILN_ASSIGN_OR_RETURN(std::string mpath, BlobPath(dir, String(manifests[0], "digest")));
    KILN_ASSIGN_OR_RETURN(std::string mtext,
                          ReadFile(mpath, "manifest " + String(manifests[0], "digest")));
    KILN_ASSIGN_OR_RETURN(Json manifest, ParseJson(mtext, "the manifest"));
    KILN_ASSIGN_OR_RETURN(config_path, BlobPath(dir, String(Get(manifest, "config"), "digest")));
    const Json& layers = Get(manifest, "layers");
    if (!layers.is_array()) return absl::InvalidArgumentError("manifest without layers");
    for (const Json& l : layers) {
      KILN_ASSIGN_OR_RETURN(std::string p, BlobPath(dir, String(l, "digest")));
      layer_paths.push_back(p);
    }
  } else {  // docker save
    KILN_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/manifest.json", "manifest.json"));
    KILN_ASSIGN_OR_RETURN(Json list, ParseJson(text, "manifest.json"));
    if (!list.is_array() || list.empty()) {
      return absl::InvalidArgumentError("manifest.json lists no image");
    }
    KILN_ASSIGN_OR_RETURN(config_path, MemberPath(dir, String(list[0], "Config")));
    KILN_ASSIGN_OR_RETURN(std::vector<std::string> layers,
                          Strings(Get(list[0], "Layers"), "manifest.json Layers"));
    for (const std::string& l : layers) {
      KILN_ASSIGN_OR_RETURN(std::string p, MemberPath(dir, l));
      layer_paths.push_back(p);
    }
  }
  KILN_ASSIGN_OR_RETURN(std::string config, ReadFile(config_path, "the image config"));
  KILN_ASSIGN_OR_RETURN(Json config_json, ParseJson(config, "the image config"));
  KILN_ASSIGN_OR_RETURN(
      std::vector<std::string> diff_ids,
      Strings(Get(Get(config_json, "rootfs"), "diff_ids"), "the config's rootfs.diff_ids"));
  if (diff_ids.size() != layer_paths.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the config lists ", diff_ids.size(), " diff IDs for ", layer_paths.size(), " layers"));
  }
  return AddImage(ref, config, layer_paths, diff_ids);
}

absl::StatusOr<Image> DiskStore::AddImage(const std::string& ref, const std::string& config,
                                          const std::vector<std::string>& layer_paths,
                                          const std::vector<std::string>& diff_ids) {
  absl::MutexLock lock(&mu_);
  cache::ContentStore* content = cache_->content();
  BuiltImage built;
  cache::Chain chain;
  std::vector<cache::LayerInfo> new_layers;
  std::string descriptors;
  for (size_t i = 0; i < layer_paths.size(); ++i) {
    if (access(layer_paths[i].c_str(), F_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("layer ", i + 1, " is missing from the archive"));
    }
    KILN_ASSIGN_OR_RETURN(auto active, cache_->snapshotter()->Prepare(chain));
    ApplyOptions opts;
    // Applied through the mounted view: a deletion is a real deletion, and
    // the snapshotter records it (overlay writes its own whiteout).
    opts.whiteouts = ApplyOptions::Whiteouts::kOci;
    opts.name = absl::StrCat("layer ", i + 1);
    KILN_ASSIGN_OR_RETURN(LayerStats stats, ApplyLayerFile(layer_paths[i], active->path(), opts));
    if (stats.diff_id != diff_ids[i]) {
      return absl::DataLossError(absl::StrCat("layer ", i + 1, " has diff ID ", stats.diff_id,
                                              " but the config says ", diff_ids[i]));
    }
    KILN_ASSIGN_OR_RETURN(cache::Committed c, active->Commit());
    chain = c.chain;
    new_layers.insert(new_layers.end(), c.new_layers.begin(), c.new_layers.end());
    KILN_ASSIGN_OR_RETURN(std::string data, ReadFile(layer_paths[i], opts.name));
    KILN_ASSIGN_OR_RETURN(std::string digest, content->Put(data));
    KILN_ASSIGN_OR_RETURN(Compression comp, DetectCompression(data.substr(0, 512)));
    std::string media = image_internal::LayerMediaType(comp);
    built.layers.push_back(digest);
    built.media_types.push_back(media);
    absl::StrAppend(&descriptors, i ? "," : "",
                    image_internal::Descriptor(media, digest, static_cast<int64_t>(data.size())));
  }
  KILN_ASSIGN_OR_RETURN(built.config, content->Put(config));
  std::string manifest = absl::StrCat(
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"",
      built.config, "\",\"size\":", config.size(), "},\"layers\":[", descriptors, "]}");
  KILN_ASSIGN_OR_RETURN(built.manifest, content->Put(manifest));
  KILN_RETURN_IF_ERROR(
      cache_->index()->Record("image:" + built.manifest, {chain}, "image " + ref, new_layers));
  KILN_RETURN_IF_ERROR(
      WriteRecord({ref, built.manifest, built.config, built.layers, built.media_types}));
  return Image{ref, built.manifest, chain, config};
}

}  // namespace kiln::image
