#include "gateway/exporter/internal/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/exporter/internal/tree_walk.h"

namespace kiln::exporter_internal {
namespace {

namespace fs = std::filesystem;

std::string Trimmed(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

absl::Status CheckDirExists(const std::string& dir, const std::string& dest) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat("export: the directory of ", dest, " (", dir, ") does not exist"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DirName(const std::string& path) {
  std::string p = Trimmed(path);
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  std::string p = Trimmed(path);
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

absl::StatusOr<TempFile> TempFile::CreateBeside(const std::string& dest) {
  const std::string dir = DirName(dest);
  if (absl::Status s = CheckDirExists(dir, dest); !s.ok()) return s;
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string path = absl::StrFormat("%s/.%s.kiln-tmp-%08x%08x", dir, BaseName(dest), rd(), rd());
    // O_CREAT with 0666 lets the umask decide the final mode, as for any
    // file a user's tool would create.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return TempFile(fd, std::move(path));
    if (errno != EEXIST) return ErrnoError("export: cannot create", path);
  }
  return absl::InternalError(absl::StrCat("export: no free temporary name beside ", dest));
}

TempFile::TempFile(TempFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::exchange(o.path_, "")) {}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

absl::Status TempFile::Commit(const std::string& dest) {
  if (::fsync(fd_) != 0) return ErrnoError("export: cannot flush", path_);
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return ErrnoError("export: cannot close", path_);
  if (::rename(path_.c_str(), dest.c_str()) != 0) {
    return ErrnoError(absl::StrCat("export: cannot rename ", path_, " to"), dest);
  }
  path_.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::string> MakeStagingDir(const std::string& dest) {
  const std::string dir = DirName(dest);
  if (absl::Status s = CheckDirExists(dir, dest); !s.ok()) return s;
  std::string tmpl = absl::StrCat(dir, "/.", BaseName(dest), ".kiln-tmp-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoError("export: cannot create", tmpl);
  return tmpl;
}

absl::Status MakeDirs(const std::string& dir, mode_t mode) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("export: ", dir, " is not a directory"));
  }
  const std::string parent = DirName(dir);
  if (parent != dir) {
    if (absl::Status s = MakeDirs(parent, mode); !s.ok()) return s;
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoError("export: cannot create", dir);
  }
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("export: cannot remove ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace kiln::exporter_internal
