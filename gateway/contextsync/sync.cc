#include "gateway/contextsync/sync.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/tree.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::contextsync {
namespace {

absl::Status Bad(const std::string& rel, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("context entry \"", rel, "\": ", why));
}

std::string Parent(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

uint32_t Type(uint32_t mode) { return mode & S_IFMT; }

}  // namespace

std::vector<WireEntry> ToWire(const fsutil::ContextScan& scan) {
  std::vector<WireEntry> out;
  out.reserve(scan.entries.size());
  for (const fsutil::ContextEntry& e : scan.entries) {
    WireEntry w;
    w.rel = e.rel;
    w.mode = e.st.st_mode;
    w.uid = e.st.st_uid;
    w.gid = e.st.st_gid;
    w.size = S_ISREG(e.st.st_mode) ? e.st.st_size : 0;
    w.mtime_ns = int64_t{e.st.st_mtim.tv_sec} * 1000000000 + e.st.st_mtim.tv_nsec;
    w.link_target = e.link_target;
    w.digest_hex = e.digest_hex;
    out.push_back(std::move(w));
  }
  return out;
}

absl::Status Validate(const std::vector<WireEntry>& entries) {
  std::map<std::string, uint32_t> seen;  // rel -> type
  for (const WireEntry& e : entries) {
    if (e.rel.empty() || e.rel[0] == '/' || e.rel.back() == '/') {
      return Bad(e.rel, "not a relative path");
    }
    for (absl::string_view part : absl::StrSplit(e.rel, '/')) {
      if (part.empty() || part == "." || part == "..") {
        return Bad(e.rel, "not a clean path (empty, \".\" or \"..\" parts)");
      }
    }
    if (e.rel.find('\0') != std::string::npos) return Bad(e.rel, "has a NUL byte");
    uint32_t t = Type(e.mode);
    if (t != S_IFREG && t != S_IFDIR && t != S_IFLNK) {
      return Bad(e.rel, "only files, directories and symlinks travel");
    }
    if (t == S_IFREG && e.digest_hex.size() != 64) return Bad(e.rel, "a file without a digest");
    std::string parent = Parent(e.rel);
    if (!parent.empty()) {
      auto p = seen.find(parent);
      if (p == seen.end()) return Bad(e.rel, "its directory is not listed before it");
      if (p->second != S_IFDIR) return Bad(e.rel, "below something that is not a directory");
    }
    if (!seen.emplace(e.rel, t).second) return Bad(e.rel, "listed twice");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadContent(const std::string& dir, const WireEntry& e) {
  std::ifstream in(dir + "/" + e.rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  if (!in || static_cast<int64_t>(data.size()) != e.size) {
    return absl::AbortedError("context changed during transfer: " + e.rel);
  }
  return data;
}

absl::StatusOr<std::map<std::string, std::string>> ReadContents(
    const std::string& dir, const std::vector<WireEntry>& entries,
    const std::vector<std::string>& rels) {
  std::map<std::string, const WireEntry*> by_rel;
  for (const WireEntry& e : entries) by_rel[e.rel] = &e;
  std::map<std::string, std::string> out;
  for (const std::string& rel : rels) {
    auto it = by_rel.find(rel);
    if (it == by_rel.end()) return Bad(rel, "was not in the scan");
    KILN_ASSIGN_OR_RETURN(out[rel], ReadContent(dir, *it->second));
  }
  return out;
}

struct Mirror::Incoming {
  std::string dir;
  int fd = -1;
  std::string rel;  // the file being written
  std::unique_ptr<Sha256> hash;
  int files = 0;
  struct Staged {
    std::string path;
    std::string digest_hex;
  };
  std::map<std::string, Staged> done;
};

void Mirror::IncomingDeleter::operator()(Incoming* in) const {
  if (in->fd >= 0) ::close(in->fd);
  (void)fsutil::RemoveAll(in->dir);
  delete in;
}

absl::Status Mirror::Receive(const std::string& rel, std::string_view chunk, bool last) {
  if (incoming_ == nullptr) {
    incoming_.reset(new Incoming);
    incoming_->dir = dir_ + ".incoming";
    KILN_RETURN_IF_ERROR(fsutil::RemoveAll(incoming_->dir));
    if (::mkdir(incoming_->dir.c_str(), 0700) != 0) {
      return fsutil::ErrnoToStatus(errno, "mkdir", incoming_->dir);
    }
  }
  Incoming& in = *incoming_;
  if (in.fd < 0) {
    if (in.done.count(rel)) return Bad(rel, "its content was sent twice");
    std::string path = absl::StrCat(in.dir, "/", in.files++);
    in.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (in.fd < 0) return fsutil::ErrnoToStatus(errno, "open", path);
    in.rel = rel;
    in.hash = std::make_unique<Sha256>();
    in.done[rel] = Incoming::Staged{path, ""};
  } else if (rel != in.rel) {
    return Bad(rel, absl::StrCat("content sent before the end of \"", in.rel, "\""));
  }
  KILN_RETURN_IF_ERROR(fsutil::WriteAll(in.fd, chunk, in.done[rel].path));
  in.hash->Update(chunk);
  if (last) {
    if (::close(in.fd) != 0) {
      in.fd = -1;
      return fsutil::ErrnoToStatus(errno, "close", in.done[rel].path);
    }
    in.fd = -1;
    in.done[rel].digest_hex = in.hash->HexDigest();
    in.hash.reset();
  }
  return absl::OkStatus();
}

absl::Status Mirror::Apply(const std::vector<WireEntry>& entries,
                           const std::map<std::string, std::string>& contents) {
  for (const auto& [rel, data] : contents) KILN_RETURN_IF_ERROR(Receive(rel, data, true));
  return Apply(entries);
}

absl::StatusOr<Mirror> Mirror::Open(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fsutil::ErrnoToStatus(errno, "mkdir", dir);
  }
  Mirror m(dir);
  std::ifstream in(m.ManifestPath());
  std::string line;
  bool ok = static_cast<bool>(std::getline(in, line)) && line == "kiln-context-mirror 2";
  while (ok && std::getline(in, line)) {
    // mode uid gid mtime digest link rel, tab-separated; rel last (it may
    // hold anything but NUL and newline).
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 6));
    if (f.size() != 7) {
      ok = false;
      break;
    }
    Known k;
    k.mode = static_cast<uint32_t>(std::strtoul(f[0].c_str(), nullptr, 8));
    k.uid = static_cast<uint32_t>(std::strtoul(f[1].c_str(), nullptr, 10));
    k.gid = static_cast<uint32_t>(std::strtoul(f[2].c_str(), nullptr, 10));
    k.mtime_ns = std::strtoll(f[3].c_str(), nullptr, 10);
    k.digest_hex = f[4];
    k.link_target = f[5];
    m.manifest_[f[6]] = k;
  }
  if (!ok) m.manifest_.clear();  // start over: everything is wanted
  return m;
}

absl::Status Mirror::SaveManifest() const {
  std::string tmp = ManifestPath() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "kiln-context-mirror 2\n";
    for (const auto& [rel, k] : manifest_) {
      if (rel.find('\n') != std::string::npos ||
          k.link_target.find_first_of("\t\n") != std::string::npos) {
        continue;  // not recorded: wanted again next time, which is safe
      }
      char mode[16];
      snprintf(mode, sizeof mode, "%o", k.mode);
      out << mode << '\t' << k.uid << '\t' << k.gid << '\t' << k.mtime_ns << '\t' << k.digest_hex
          << '\t' << k.link_target << '\t' << rel << '\n';
    }
    if (!out) return absl::InternalError("cannot write " + tmp);
  }
  if (::rename(tmp.c_str(), ManifestPath().c_str()) != 0) {
    return fsutil::ErrnoToStatus(errno, "rename", tmp);
  }
  return absl::OkStatus();
}

bool Mirror::Same(const std::vector<WireEntry>& entries) const {
  if (entries.size() != manifest_.size() || !Validate(entries).ok()) return false;
  for (const WireEntry& e : entries) {
    auto it = manifest_.find(e.rel);
    if (it == manifest_.end() || !Equal(it->second, KnownOf(e))) return false;
  }
  return true;
}

absl::StatusOr<std::vector<std::string>> Mirror::Wants(
    const std::vector<WireEntry>& entries) const {
  KILN_RETURN_IF_ERROR(Validate(entries));
  std::vector<std::string> out;
  for (const WireEntry& e : entries) {
    if (Type(e.mode) != S_IFREG) continue;
    auto it = manifest_.find(e.rel);
    if (it == manifest_.end() || Type(it->second.mode) != S_IFREG ||
        it->second.digest_hex != e.digest_hex) {
      out.push_back(e.rel);
    }
  }
  return out;
}

absl::Status Mirror::Apply(const std::vector<WireEntry>& entries) {
  // Whatever happens, what was received is used now or dropped.
  std::unique_ptr<Incoming, IncomingDeleter> incoming = std::move(incoming_);
  std::map<std::string, Incoming::Staged> staged;
  if (incoming != nullptr) {
    if (incoming->fd >= 0) return Bad(incoming->rel, "its content was cut short");
    staged = incoming->done;
  }
  KILN_RETURN_IF_ERROR(Validate(entries));
  std::map<std::string, const WireEntry*> next;
  for (const WireEntry& e : entries) next[e.rel] = &e;
  for (const auto& [rel, file] : staged) {
    auto e = next.find(rel);
    if (e == next.end() || Type(e->second->mode) != S_IFREG) {
      return Bad(rel, "content sent for a path not listed as a file");
    }
    if (file.digest_hex != e->second->digest_hex) {
      return Bad(rel, "its content does not match its digest");
    }
  }

  // What goes: paths no longer listed, or listed as another type. Deepest
  // first (reverse order puts "a/b" before "a").
  for (auto it = manifest_.rbegin(); it != manifest_.rend(); ++it) {
    auto n = next.find(it->first);
    if (n == next.end() || Type(n->second->mode) != Type(it->second.mode) ||
        (Type(it->second.mode) == S_IFLNK && n->second->link_target != it->second.link_target)) {
      KILN_RETURN_IF_ERROR(fsutil::RemoveAll(dir_ + "/" + it->first));
    }
  }
  // A manifest is rebuilt as things land; written at the end. Directories
  // whose listing changed get their times set again at the end.
  std::map<std::string, Known> landed;
  std::set<std::string> touched;
  for (auto it = manifest_.begin(); it != manifest_.end(); ++it) {
    if (next.find(it->first) == next.end()) touched.insert(Parent(it->first));
  }
  for (const WireEntry& e : entries) {
    std::string path = dir_ + "/" + e.rel;
    uint32_t t = Type(e.mode);
    auto old = manifest_.find(e.rel);
    landed[e.rel] = KnownOf(e);
    if (old != manifest_.end() && Equal(old->second, landed[e.rel]) &&
        staged.find(e.rel) == staged.end()) {
      continue;  // as it is
    }
    touched.insert(e.rel);
    touched.insert(Parent(e.rel));
    bool same_type = old != manifest_.end() && Type(old->second.mode) == t;
    if (t == S_IFDIR) {
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
        KILN_RETURN_IF_ERROR(fsutil::RemoveAll(path));
      }
      if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        return fsutil::ErrnoToStatus(errno, "mkdir", path);
      }
    } else if (t == S_IFLNK) {
      if (!same_type || old->second.link_target != e.link_target) {
        KILN_RETURN_IF_ERROR(fsutil::RemoveAll(path));
        if (::symlink(e.link_target.c_str(), path.c_str()) != 0) {
          return fsutil::ErrnoToStatus(errno, "symlink", path);
        }
      }
    } else {
      auto c = staged.find(e.rel);
      if (c != staged.end()) {
        // A sibling of the mirror: the rename is atomic, and replaces what
        // is there without following it.
        // (A path of another type was removed above.)
        if (::rename(c->second.path.c_str(), path.c_str()) != 0) {
          return fsutil::ErrnoToStatus(errno, "rename", path);
        }
      } else if (!same_type || old->second.digest_hex != e.digest_hex) {
        return Bad(e.rel, "the mirror lacks its content and none was sent");
      }
    }
    if (t != S_IFLNK && ::chmod(path.c_str(), e.mode & 07777) != 0) {
      return fsutil::ErrnoToStatus(errno, "chmod", path);
    }
    if (geteuid() == 0) (void)::lchown(path.c_str(), e.uid, e.gid);
  }
  // Times last, children before parents, so writing a file does not move
  // its directory's mtime afterwards.
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (touched.count(it->rel) == 0) continue;
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = it->mtime_ns / 1000000000;
    ts[0].tv_nsec = ts[1].tv_nsec = it->mtime_ns % 1000000000;
    std::string path = dir_ + "/" + it->rel;
    if (::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
      return fsutil::ErrnoToStatus(errno, "utimensat", path);
    }
  }
  manifest_ = std::move(landed);
  return SaveManifest();
}

}  // namespace kiln::contextsync
