#include "gateway/ops/source/internal/checkout.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kiln::source_internal {

namespace fs = std::filesystem;

absl::StatusOr<ScratchDir> ScratchDir::Create(const std::string& parent,
                                              const std::string& prefix) {
  std::string tmpl = absl::StrCat(parent, "/.", prefix, "XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create scratch dir ", tmpl, ": ", strerror(errno)));
  }
  return ScratchDir(tmpl);
}

ScratchDir::ScratchDir(ScratchDir&& o) noexcept : path_(std::exchange(o.path_, "")) {}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

std::string ParentDir(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  fs::path parent = p.parent_path();
  return parent.empty() ? "." : parent.string();
}

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

std::string CleanSubdir(const std::string& subdir) {
  // Rooted first, so ".." can never climb out (BuildKit: path.Join("/", x)).
  std::string s = fs::path("/" + subdir).lexically_normal().relative_path().string();
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

absl::Status HoistSubdir(const std::string& root, const std::string& subdir,
                         const std::string& dest) {
  std::string dir = root;
  for (absl::string_view part : absl::StrSplit(subdir, '/')) {
    dir = absl::StrCat(dir, "/", part);
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0) {
      return absl::NotFoundError(
          absl::StrCat("git: subdir \"", subdir, "\" not found in the checkout"));
    }
    if (!S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("git: subdir \"", subdir, "\" is not a directory (at \"", part, "\")"));
    }
  }
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    fs::path to = fs::path(dest) / e.path().filename();
    if (::rename(e.path().c_str(), to.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("git: cannot move ", e.path().string(), " to ",
                                              to.string(), ": ", strerror(errno)));
    }
  }
  if (ec) {
    return absl::InternalError(absl::StrCat("git: cannot list ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status SetTreeTimes(const std::string& root, int64_t seconds) {
  // Pre-order listing; applied in reverse so that children come before the
  // directory holding them (writing a child would bump the parent again).
  std::vector<std::string> paths = {root};
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    paths.push_back(it->path().string());
  }
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot walk ", root, ": ", ec.message()));
  }
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    if (::utimensat(AT_FDCWD, it->c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return absl::InternalError(absl::StrCat("cannot set times of ", *it, ": ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln::source_internal
