#include "gateway/image/build.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gateway/exporter/tar.h"
#include "gateway/image/internal.h"
#include "sdk/base/digest.h"
#include "sdk/base/json.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/platform.h"

namespace kiln::image {
namespace {

using image_internal::Descriptor;
using image_internal::LayerMediaType;
using image_internal::StoreFile;

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
using Writer = std::unique_ptr<struct archive, ArchiveFree>;

absl::Status ArchiveError(struct archive* a, const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", archive_error_string(a)));
}

// A temporary file that removes itself.
struct TempFile {
  TempFile() {
    char tmpl[] = "/tmp/kiln-layer-XXXXXX";
    fd = mkstemp(tmpl);
    path = tmpl;
  }
  ~TempFile() {
    if (fd >= 0) close(fd);
    unlink(path.c_str());
  }
  int fd;
  std::string path;
};

// File `in` compressed into file `out` (gzip without a timestamp in its
// header, so the same tar always gives the same blob).
absl::Status Compress(const std::string& in, const std::string& out, Compression c) {
  Writer a(archive_write_new());
  int filter = c == Compression::kZstd ? archive_write_add_filter_zstd(a.get())
                                       : archive_write_add_filter_gzip(a.get());
  if (archive_write_set_format_raw(a.get()) != ARCHIVE_OK || filter != ARCHIVE_OK ||
      (c == Compression::kGzip &&
       archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr) < ARCHIVE_WARN) ||
      archive_write_open_filename(a.get(), out.c_str()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "compressing a layer");
  }
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_pathname(e, "layer");
  bool ok = archive_write_header(a.get(), e) == ARCHIVE_OK;
  archive_entry_free(e);
  std::ifstream src(in, std::ios::binary);
  char buf[1 << 16];
  while (ok && (src.read(buf, sizeof(buf)) || src.gcount() > 0)) {
    ok = archive_write_data(a.get(), buf, src.gcount()) == src.gcount();
  }
  if (!ok || archive_write_close(a.get()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "compressing a layer");
  }
  return absl::OkStatus();
}

std::string Rfc3339(int64_t seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(seconds),
                          absl::UTCTimeZone());
}

// The config document: the frontend's (or an empty one) with our rootfs,
// and history completed for layers the frontend did not describe, as
// BuildKit's exporter does.
absl::StatusOr<std::string> ImageConfigDocument(const BuildImageOptions& options,
                                                const std::vector<std::string>& diff_ids) {
  nlohmann::json config = nlohmann::json::object();
  if (!options.config.empty()) {
    config = nlohmann::json::parse(options.config, nullptr, false);
    if (!config.is_object()) {
      return absl::InvalidArgumentError("the frontend's image config is not a JSON object");
    }
  }
  if (!config.contains("architecture")) config["architecture"] = llb::Platform::Host().architecture;
  if (!config.contains("os")) config["os"] = "linux";
  if (!config.contains("config") || !config["config"].is_object()) {
    config["config"] = nlohmann::json::object();
  }
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  nlohmann::json history = config.value("history", nlohmann::json::array());
  if (!history.is_array()) history = nlohmann::json::array();
  size_t described = 0;
  for (nlohmann::json& h : history) {
    if (!h.is_object()) h = nlohmann::json::object();
    if (!h.value("empty_layer", false)) ++described;
  }
  // More described layers than there are (a frontend's miscount): the
  // oldest extra entries become empty, so history still lines up.
  for (size_t i = 0; i < history.size() && described > diff_ids.size(); ++i) {
    if (!history[i].value("empty_layer", false)) {
      history[i]["empty_layer"] = true;
      --described;
    }
  }
  for (size_t i = described; i < diff_ids.size(); ++i) {
    history.push_back({{"created_by", "kiln build"}, {"comment", "kiln.exporter.image.v0"}});
  }
  if (options.epoch.has_value()) {
    std::string created = Rfc3339(*options.epoch);
    config["created"] = created;
    for (nlohmann::json& h : history) h["created"] = created;
  } else {
    config.erase("created");
  }
  config["history"] = std::move(history);
  return config.dump();
}

// The frontend's config is input from outside: a field of the wrong JSON
// type is an error, not an exception.
absl::StatusOr<std::string> ImageConfig(const BuildImageOptions& options,
                                        const std::vector<std::string>& diff_ids) {
  try {
    return ImageConfigDocument(options, diff_ids);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the frontend's image config has a field of the wrong type (", e.what(), ")"));
  }
}

absl::StatusOr<std::string> FileDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Sha256 h;
  char buf[1 << 16];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) h.Update(std::string_view(buf, in.gcount()));
  return h.Digest();
}

absl::Status AddTarFile(struct archive* a, const std::string& name, const std::string& data) {
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(e, 0, 0);
  bool ok = archive_write_header(a, e) == ARCHIVE_OK &&
            archive_write_data(a, data.data(), data.size()) == static_cast<la_ssize_t>(data.size());
  archive_entry_free(e);
  if (!ok) return ArchiveError(a, "writing " + name);
  return absl::OkStatus();
}

// Blob `digest` of `content` as blobs/sha256/HEX, streamed.
absl::Status AddTarBlob(struct archive* a, cache::ContentStore* content,
                        const std::string& digest) {
  std::string name = "blobs/sha256/" + DigestHex(digest);
  KILN_ASSIGN_OR_RETURN(int64_t size, content->Size(digest));
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(size));
  archive_entry_set_mtime(e, 0, 0);
  bool ok = archive_write_header(a, e) == ARCHIVE_OK;
  archive_entry_free(e);
  if (!ok) return ArchiveError(a, "writing " + name);
  int64_t written = 0;
  KILN_RETURN_IF_ERROR(content->ReadTo(digest, [&](std::string_view chunk) -> absl::Status {
    if (archive_write_data(a, chunk.data(), chunk.size()) !=
        static_cast<la_ssize_t>(chunk.size())) {
      return ArchiveError(a, "writing " + name);
    }
    written += static_cast<int64_t>(chunk.size());
    return absl::OkStatus();
  }));
  if (written != size) {
    return absl::DataLossError(absl::StrCat("blob ", digest, " changed size while being exported"));
  }
  return absl::OkStatus();
}

// A layer as an image blob. Layers never change once committed, so the blob
// for one compression and epoch is remembered beside the layer: a rebuild
// then neither tars nor compresses layers it exported before.
struct LayerBlob {
  std::string digest;
  int64_t size = 0;
  std::string diff_id;
};

std::string MemoPath(cache::Cache* cache, const std::string& id, const BuildImageOptions& o) {
  // "v1": bump when the layer tar format changes, so older blobs are not reused.
  return absl::StrCat(cache->LayerMetaDir(id), "/blob-v1-",
                      std::string(CompressionName(o.compression)), "-",
                      o.epoch.has_value() ? absl::StrCat(*o.epoch) : "none");
}

// The remembered blob, if there is one and the content store still has it.
std::optional<LayerBlob> ReadMemo(cache::Cache* cache, const std::string& path) {
  std::ifstream in(path);
  LayerBlob b;
  if (!(in >> b.digest >> b.size >> b.diff_id) || !cache->content()->Has(b.digest)) {
    return std::nullopt;
  }
  return b;
}

// Best effort: without the memo the next export only redoes the work.
void WriteMemo(const std::string& path, const LayerBlob& b) {
  std::string dir = path.substr(0, path.rfind('/')), tmp = path + ".tmp";
  mkdir(dir.substr(0, dir.rfind('/')).c_str(), 0700);
  mkdir(dir.c_str(), 0700);
  std::ofstream(tmp) << b.digest << " " << b.size << " " << b.diff_id << "\n";
  if (rename(tmp.c_str(), path.c_str()) != 0) unlink(tmp.c_str());
}

// Tars (and compresses) layer `id` into the content store.
absl::StatusOr<LayerBlob> ExportLayer(cache::Cache* cache, const std::string& id,
                                      const BuildImageOptions& options) {
  TempFile tar, packed;
  if (tar.fd < 0 || packed.fd < 0) return absl::InternalError("cannot create a temporary file");
  exporter::TarOptions tar_options;
  tar_options.oci_whiteouts = true;
  // Image layers clamp newer times to the epoch, as BuildKit's image
  // exporter does.
  if (options.epoch.has_value()) {
    tar_options.source_date_epoch =
        exporter::Epoch{*options.epoch, exporter::EpochMode::kClampNewer};
  }
  KILN_RETURN_IF_ERROR(
      exporter::ExportTarToFd(cache->snapshotter()->LayerDir(id), tar.fd, tar_options));
  LayerBlob b;
  if (options.compression == Compression::kNone) {
    // The blob is the tar itself: storing it digests it, once.
    KILN_ASSIGN_OR_RETURN(std::tie(b.digest, b.size), StoreFile(cache->content(), tar.path));
    b.diff_id = b.digest;
    return b;
  }
  KILN_ASSIGN_OR_RETURN(b.diff_id, FileDigest(tar.path));
  KILN_RETURN_IF_ERROR(Compress(tar.path, packed.path, options.compression));
  KILN_ASSIGN_OR_RETURN(std::tie(b.digest, b.size), StoreFile(cache->content(), packed.path));
  return b;
}

}  // namespace

absl::StatusOr<Compression> ParseCompression(const std::string& name) {
  if (name.empty() || name == "gzip") return Compression::kGzip;
  if (name == "zstd") return Compression::kZstd;
  if (name == "uncompressed") return Compression::kNone;
  return absl::InvalidArgumentError(
      absl::StrCat("compression=", name, ": want gzip, zstd or uncompressed"));
}

absl::StatusOr<BuiltImage> BuildImage(cache::Cache* cache, const cache::Chain& chain,
                                      const BuildImageOptions& options) {
  BuiltImage out;
  std::vector<std::string> diff_ids;
  std::vector<std::pair<std::string, int64_t>> blobs;
  for (const std::string& id : chain) {
    std::string memo = MemoPath(cache, id, options);
    std::optional<LayerBlob> blob = ReadMemo(cache, memo);
    if (!blob.has_value()) {
      KILN_ASSIGN_OR_RETURN(blob, ExportLayer(cache, id, options));
      WriteMemo(memo, *blob);
    }
    diff_ids.push_back(blob->diff_id);
    out.layers.push_back(blob->digest);
    out.media_types.push_back(LayerMediaType(options.compression));
    blobs.emplace_back(blob->digest, blob->size);
  }
  KILN_ASSIGN_OR_RETURN(std::string config, ImageConfig(options, diff_ids));
  KILN_ASSIGN_OR_RETURN(out.config, cache->content()->Put(config));
  std::string layers;
  for (size_t i = 0; i < blobs.size(); ++i) {
    absl::StrAppend(&layers, i ? "," : "",
                    Descriptor(out.media_types[i], blobs[i].first, blobs[i].second));
  }
  std::string manifest = absl::StrCat(
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":",
      Descriptor("application/vnd.oci.image.config.v1+json", out.config, config.size()),
      ",\"layers\":[", layers, "]}");
  KILN_ASSIGN_OR_RETURN(out.manifest, cache->content()->Put(manifest));
  return out;
}

std::string FamiliarName(const std::string& ref) {
  for (const char* prefix : {"docker.io/library/", "docker.io/"}) {
    std::string p = prefix;
    if (ref.compare(0, p.size(), p) == 0) return ref.substr(p.size());
  }
  return ref;
}

// docker save's manifest.json for `image`.
std::string DockerManifest(const BuiltImage& image, const std::string& ref) {
  std::vector<std::string> layers;
  for (const std::string& l : image.layers) layers.push_back("blobs/sha256/" + DigestHex(l));
  // Docker tags need a tag: a reference pinned only by digest gets none.
  std::string name = FamiliarName(ref);
  bool tagged = !name.empty() && name.find('@') == std::string::npos;
  return absl::StrCat("[{\"Config\":", JsonQuote("blobs/sha256/" + DigestHex(image.config)),
                      ",\"RepoTags\":", tagged ? JsonStringArray({name}) : "[]",
                      ",\"Layers\":", JsonStringArray(layers), "}]");
}

absl::Status WriteImageArchive(cache::ContentStore* content, const BuiltImage& image,
                               const std::string& ref, const std::string& dest,
                               ArchiveFormat format) {
  KILN_ASSIGN_OR_RETURN(std::string manifest, content->Get(image.manifest));
  std::string annotations =
      ref.empty()
          ? ""
          : absl::StrCat(",\"annotations\":{\"org.opencontainers.image.ref.name\":", JsonQuote(ref),
                         "}");
  std::string index = absl::StrCat(
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
      "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"digest\":",
      JsonQuote(image.manifest), ",\"size\":", manifest.size(), annotations, "}]}");
  std::string tmp = dest + ".kiln-tmp";
  Writer a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", dest, ": ", archive_error_string(a.get())));
  }
  std::vector<std::string> blobs = {image.manifest, image.config};
  blobs.insert(blobs.end(), image.layers.begin(), image.layers.end());
  absl::Status st = AddTarFile(a.get(), "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
  if (st.ok()) st = AddTarFile(a.get(), "index.json", index);
  if (st.ok() && format == ArchiveFormat::kDockerSave) {
    st = AddTarFile(a.get(), "manifest.json", DockerManifest(image, ref));
  }
  for (const std::string& digest : blobs) {
    if (!st.ok()) break;
    st = AddTarBlob(a.get(), content, digest);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK && st.ok()) st = ArchiveError(a.get(), dest);
  if (st.ok() && rename(tmp.c_str(), dest.c_str()) != 0) {
    st = absl::InternalError(absl::StrCat("cannot write ", dest, ": ", strerror(errno)));
  }
  if (!st.ok()) unlink(tmp.c_str());
  return st;
}

}  // namespace kiln::image

namespace kiln::image_internal {

std::string LayerMediaType(image::Compression c) {
  switch (c) {
    case image::Compression::kGzip:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case image::Compression::kZstd:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
    default:
      return "application/vnd.oci.image.layer.v1.tar";
  }
}

std::string Descriptor(const std::string& media_type, const std::string& digest, int64_t size) {
  return absl::StrCat("{\"mediaType\":", JsonQuote(media_type), ",\"digest\":", JsonQuote(digest),
                      ",\"size\":", size, "}");
}

absl::StatusOr<std::pair<std::string, int64_t>> StoreFile(cache::ContentStore* content,
                                                          const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  KILN_ASSIGN_OR_RETURN(auto w, content->NewWriter());
  char buf[1 << 16];
  int64_t size = 0;
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    KILN_RETURN_IF_ERROR(w->Write(std::string_view(buf, in.gcount())));
    size += in.gcount();
  }
  KILN_ASSIGN_OR_RETURN(std::string digest, w->Commit(""));
  return std::make_pair(digest, size);
}

}  // namespace kiln::image_internal
