#include "gateway/exporter/test_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kiln::exporter {

namespace fs = std::filesystem;

std::string MakeTestDir(const std::string& prefix) {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/", prefix, "-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

TestTree::TestTree(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  Check(!ec, "mkdir", "");
}

void TestTree::Check(bool ok, const std::string& what, const std::string& rel) {
  if (!ok && status_.ok()) {
    status_ = absl::InternalError(absl::StrCat(what, " ", Path(rel), ": ", strerror(errno)));
  }
}

TestTree& TestTree::Dir(const std::string& rel, mode_t mode) {
  std::error_code ec;
  fs::create_directories(Path(rel), ec);
  Check(!ec && ::chmod(Path(rel).c_str(), mode) == 0, "mkdir", rel);
  return *this;
}

TestTree& TestTree::File(const std::string& rel, const std::string& content, mode_t mode) {
  std::error_code ec;
  fs::create_directories(fs::path(Path(rel)).parent_path(), ec);
  int fd = ::open(Path(rel).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 &&
            ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fchmod(fd, mode) == 0;
  Check(ok, "write", rel);
  if (fd >= 0) ::close(fd);
  return *this;
}

TestTree& TestTree::Symlink(const std::string& target, const std::string& rel) {
  Check(::symlink(target.c_str(), Path(rel).c_str()) == 0, "symlink", rel);
  return *this;
}

TestTree& TestTree::Hardlink(const std::string& existing_rel, const std::string& rel) {
  Check(::link(Path(existing_rel).c_str(), Path(rel).c_str()) == 0, "link", rel);
  return *this;
}

TestTree& TestTree::Fifo(const std::string& rel, mode_t mode) {
  Check(::mkfifo(Path(rel).c_str(), mode) == 0 && ::chmod(Path(rel).c_str(), mode) == 0, "mkfifo",
        rel);
  return *this;
}

TestTree& TestTree::Owner(const std::string& rel, uid_t uid, gid_t gid) {
  Check(::lchown(Path(rel).c_str(), uid, gid) == 0, "chown", rel);
  return *this;
}

TestTree& TestTree::Time(const std::string& rel, int64_t sec, long nsec) {
  const struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
  Check(::utimensat(AT_FDCWD, Path(rel).c_str(), t, AT_SYMLINK_NOFOLLOW) == 0, "utimensat", rel);
  return *this;
}

TestTree& TestTree::AllTimes(int64_t sec, long nsec) {
  std::vector<std::string> paths = {root_};
  for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator();
       ++it) {
    paths.push_back(it->path().string());
  }
  const struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    Check(::utimensat(AT_FDCWD, it->c_str(), t, AT_SYMLINK_NOFOLLOW) == 0, "utimensat", *it);
  }
  return *this;
}

bool TestTree::TrySetXattr(const std::string& rel, const std::string& name,
                           const std::string& value) {
  return ::lsetxattr(Path(rel).c_str(), name.c_str(), value.data(), value.size(), 0) == 0;
}

}  // namespace kiln::exporter
