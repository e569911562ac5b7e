#include "gateway/image/layer/internal/writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/tree.h"
#include "sdk/base/status_macros.h"

namespace kiln::image_internal {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kOverlayPrefix = "trusted.overlay.";

bool HasPrefix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

struct timespec Timespec(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  return ts;
}

absl::Status SetTimesNoFollow(const std::string& host, int64_t atime_ns, int64_t mtime_ns) {
  struct timespec ts[2] = {Timespec(atime_ns < mtime_ns ? mtime_ns : atime_ns), Timespec(mtime_ns)};
  if (utimensat(AT_FDCWD, host.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    return fsutil::ErrnoToStatus(errno, "utimensat", host);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListNames(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return fsutil::ErrnoToStatus(errno, "opendir", dir);
  std::vector<std::string> names;
  while (struct dirent* de = readdir(d)) {
    std::string_view n = de->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  closedir(d);
  return names;
}

// A system error for entry `e`, keeping errno's canonical code.
absl::Status SysError(const std::string& layer, const Entry& e, const char* op,
                      const std::string& host, int err) {
  return absl::Status(fsutil::ErrnoToCode(err),
                      absl::StrCat("layer ", layer, ": entry \"", e.name, "\": ", op, " ", host,
                                   ": ", std::strerror(err)));
}

}  // namespace

Writer::Writer(std::string dest, const image::ApplyOptions& opt, image::LayerStats* stats)
    : dest_(std::move(dest)), opt_(opt), stats_(stats), root_(geteuid() == 0) {
  while (dest_.size() > 1 && dest_.back() == '/') dest_.pop_back();
  if (opt_.name.empty()) opt_.name = "layer";
}

absl::Status Writer::EntryError(const Entry& e, std::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrCat("layer ", opt_.name, ": entry \"", e.name, "\": ", std::string(what)));
}

absl::StatusOr<Writer::Target> Writer::Resolve(const Entry& e, const std::string& rel) const {
  size_t slash = rel.rfind('/');
  std::string parent_rel = slash == 0 ? "/" : rel.substr(0, slash);
  Target t;
  t.base = rel.substr(slash + 1);
  auto parent = fsutil::ResolveInRoot(dest_, parent_rel, /*follow_last=*/true);
  if (!parent.ok()) return EntryError(e, std::string(parent.status().message()));
  t.parent = *std::move(parent);
  t.host = fsutil::JoinPath(t.parent, t.base);
  return t;
}

absl::Status Writer::EnsureParent(const Entry& e, const Target& t) const {
  struct stat st;
  if (lstat(t.parent.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return EntryError(e, "its parent is not a directory");
  }
  if (errno != ENOENT) return EntryError(e, "its parent is not a directory");
  // Like Docker, a parent the layer does not list is created 0755 root-owned.
  auto made = fsutil::MkdirAll(t.parent, 0755, std::nullopt, std::nullopt);
  if (!made.ok()) return EntryError(e, std::string(made.status().message()));
  return absl::OkStatus();
}

absl::Status Writer::Apply(const Entry& e, const ContentFn& content) {
  ++stats_->entries;
  std::string rel = fsutil::CleanPath(e.name);
  if (e.name.empty()) return EntryError(e, "empty name");
  if (fsutil::EscapesRoot(rel)) {
    return EntryError(e, "name is outside of the root");
  }
  rel = fsutil::CleanPath("/" + rel);
  if (rel == "/") return absl::OkStatus();  // the root keeps dest's metadata, as in containerd
  KILN_ASSIGN_OR_RETURN(Target t, Resolve(e, rel));
  const bool literal = opt_.whiteouts == image::ApplyOptions::Whiteouts::kNone;
  if (!literal && rel.find("/.wh..wh.") < rel.size() - t.base.size() - 1) {
    ++stats_->skipped_entries;  // inside AUFS bookkeeping (.wh..wh.plnk/...)
    return absl::OkStatus();
  }
  if (!literal && HasPrefix(t.base, kWhiteoutPrefix)) return ApplyWhiteout(e, t);
  KILN_RETURN_IF_ERROR(EnsureParent(e, t));
  bool created = true;
  KILN_RETURN_IF_ERROR(Create(e, t, content, &created));
  if (!created) return absl::OkStatus();
  MarkUnpacked(t.host);
  if (e.hardlink) return absl::OkStatus();  // the inode's metadata comes from its first name
  KILN_RETURN_IF_ERROR(SetMetadata(e, t));
  if (e.type == S_IFDIR) dirs_.push_back({t.host, e.atime_ns, e.mtime_ns});
  return absl::OkStatus();
}

absl::Status Writer::ApplyWhiteout(const Entry& e, const Target& t) {
  bool opaque = t.base == kOpaqueMarker;
  if (!opaque && HasPrefix(t.base, kWhiteoutMetaPrefix)) {
    ++stats_->skipped_entries;  // AUFS bookkeeping (.wh..wh.plnk and the like)
    return absl::OkStatus();
  }
  std::string victim = t.base.substr(kWhiteoutPrefix.size());
  if (!opaque && (victim.empty() || victim == "." || victim == "..")) {
    return EntryError(e, "invalid whiteout name");
  }
  if (opt_.whiteouts == image::ApplyOptions::Whiteouts::kOverlay) {
    KILN_RETURN_IF_ERROR(EnsureParent(e, t));
    if (opaque) {
      if (lsetxattr(t.parent.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
        return SysError(opt_.name, e, "setxattr trusted.overlay.opaque", t.parent, errno);
      }
      return absl::OkStatus();
    }
    std::string host = fsutil::JoinPath(t.parent, victim);
    KILN_RETURN_IF_ERROR(fsutil::RemoveAll(host));
    if (mknod(host.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
      return SysError(opt_.name, e, "mknod", host, errno);
    }
    if (lchown(host.c_str(), e.uid, e.gid) != 0 && !(errno == EPERM && !root_)) {
      return SysError(opt_.name, e, "lchown", host, errno);
    }
    MarkUnpacked(host);
    return absl::OkStatus();
  }
  struct stat st;
  if (lstat(t.parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::OkStatus();  // nothing below to delete
  }
  if (opaque) return ClearOpaque(t.parent);
  return fsutil::RemoveAll(fsutil::JoinPath(t.parent, victim));
}

// Records `host` and its ancestors below dest_: a directory the layer only
// writes into (without listing it) still holds this layer's entries.
void Writer::MarkUnpacked(const std::string& host) {
  if (!unpacked_.insert(host).second) return;
  for (size_t slash = host.rfind('/'); slash != std::string::npos && slash > dest_.size();
       slash = host.rfind('/', slash - 1)) {
    if (!unpacked_.insert(host.substr(0, slash)).second) return;
  }
}

// Removes what `dir` held before this layer. Kept directories are cleared
// recursively: an opaque directory hides everything below it in the lower
// layers, not only its direct children.
absl::Status Writer::ClearOpaque(const std::string& dir) {
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(dir));
  for (const std::string& name : names) {
    std::string path = fsutil::JoinPath(dir, name);
    if (unpacked_.count(path) == 0) {
      KILN_RETURN_IF_ERROR(fsutil::RemoveAll(path));
      continue;
    }
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      KILN_RETURN_IF_ERROR(ClearOpaque(path));
    }
  }
  return absl::OkStatus();
}

absl::Status Writer::Create(const Entry& e, const Target& t, const ContentFn& content,
                            bool* created) {
  const char* host = t.host.c_str();
  bool want_dir = !e.hardlink && e.type == S_IFDIR;
  struct stat st;
  bool is_dir = lstat(host, &st) == 0 && S_ISDIR(st.st_mode);
  if (!(is_dir && want_dir)) KILN_RETURN_IF_ERROR(fsutil::RemoveAll(t.host));
  if (e.hardlink) return CreateHardlink(e, t);
  switch (e.type) {
    case S_IFDIR:
      if (!is_dir && mkdir(host, 0700) != 0) return SysError(opt_.name, e, "mkdir", t.host, errno);
      return absl::OkStatus();
    case S_IFREG: {
      int fd = open(host, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) return SysError(opt_.name, e, "open", t.host, errno);
      absl::Status s = content(fd);
      if (close(fd) != 0 && s.ok()) s = SysError(opt_.name, e, "close", t.host, errno);
      stats_->file_bytes += e.size;
      return s;
    }
    case S_IFLNK:
      if (symlink(e.link.c_str(), host) != 0) {
        return SysError(opt_.name, e, "symlink", t.host, errno);
      }
      return absl::OkStatus();
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
      return CreateDevice(e, t, created);
    default:
      return EntryError(e, absl::StrCat("unsupported file type 0", absl::Hex(e.type)));
  }
}

absl::Status Writer::CreateHardlink(const Entry& e, const Target& t) {
  std::string rel = fsutil::CleanPath(e.link);
  if (e.link.empty() || fsutil::EscapesRoot(rel)) {
    return EntryError(e, absl::StrCat("hard link target \"", e.link, "\" is outside of the root"));
  }
  rel = fsutil::CleanPath("/" + rel);
  Entry target_entry = e;
  target_entry.name = e.link;
  KILN_ASSIGN_OR_RETURN(Target target, Resolve(target_entry, rel));
  struct stat st;
  if (rel == "/" || lstat(target.host.c_str(), &st) != 0) {
    return EntryError(e, absl::StrCat("hard link target \"", e.link, "\" does not exist"));
  }
  if (S_ISDIR(st.st_mode)) {
    return EntryError(e, absl::StrCat("hard link target \"", e.link, "\" is a directory"));
  }
  // link(2) does not follow a symlink target: the new name is a link to the
  // symlink itself, as tar means it.
  if (link(target.host.c_str(), t.host.c_str()) != 0) {
    return SysError(opt_.name, e, "link", t.host, errno);
  }
  return absl::OkStatus();
}

absl::Status Writer::CreateDevice(const Entry& e, const Target& t, bool* created) {
  dev_t dev = makedev(e.rdev_major, e.rdev_minor);
  if (mknod(t.host.c_str(), e.type | 0600, e.type == S_IFIFO ? 0 : dev) == 0) {
    return absl::OkStatus();
  }
  if (errno == EPERM && e.type != S_IFIFO) {
    // Unprivileged (or in a user namespace): devices cannot exist here, as
    // containerd and Docker skip them.
    ++stats_->skipped_devices;
    *created = false;
    return absl::OkStatus();
  }
  return SysError(opt_.name, e, "mknod", t.host, errno);
}

absl::Status Writer::SetMetadata(const Entry& e, const Target& t) {
  const char* host = t.host.c_str();
  if (lchown(host, e.uid, e.gid) != 0 && !(errno == EPERM && !root_)) {
    return SysError(opt_.name, e, "lchown", t.host, errno);
  }
  // After chown, which drops security.capability and the set-id bits.
  KILN_RETURN_IF_ERROR(SetXattrs(e, t));
  if (e.type != S_IFLNK && chmod(host, e.perm & 07777) != 0) {
    return SysError(opt_.name, e, "chmod", t.host, errno);
  }
  if (e.type == S_IFDIR) return absl::OkStatus();  // in Finish
  absl::Status s = SetTimesNoFollow(t.host, e.atime_ns, e.mtime_ns);
  if (!s.ok()) return EntryError(e, std::string(s.message()));
  return absl::OkStatus();
}

absl::Status Writer::SetXattrs(const Entry& e, const Target& t) {
  for (const auto& [key, value] : e.xattrs) {
    if (HasPrefix(key, kOverlayPrefix)) {
      ++stats_->skipped_xattrs;
      continue;
    }
    if (lsetxattr(t.host.c_str(), key.c_str(), value.data(), value.size(), 0) == 0) continue;
    if (errno == ENOTSUP || errno == EOPNOTSUPP || errno == EPERM) {
      ++stats_->skipped_xattrs;
      continue;
    }
    return SysError(opt_.name, e, ("setxattr " + key).c_str(), t.host, errno);
  }
  return absl::OkStatus();
}

absl::Status Writer::Finish() {
  for (const DirTimes& d : dirs_) {
    struct stat st;
    // A directory removed or replaced by a later entry keeps what it has.
    if (lstat(d.host.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    absl::Status s = SetTimesNoFollow(d.host, d.atime_ns, d.mtime_ns);
    if (!s.ok())
      return absl::Status(s.code(), absl::StrCat("layer ", opt_.name, ": ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace kiln::image_internal
