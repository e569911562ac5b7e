// Builds directory trees on disk for exporter tests: files, directories,
// symlinks, hard links, fifos, owners, exact times and xattrs.
//
// Methods chain and never abort; the first failure is kept in status() (so
// a test can ASSERT on it once). Not thread-safe.
#ifndef KILN_GATEWAY_EXPORTER_TEST_TREE_H_
#define KILN_GATEWAY_EXPORTER_TEST_TREE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace kiln::exporter {

// A fresh directory under $TEST_TMPDIR (or /tmp).
std::string MakeTestDir(const std::string& prefix);

class TestTree {
 public:
  // Creates `root` (and parents) if missing.
  explicit TestTree(std::string root);

  TestTree& Dir(const std::string& rel, mode_t mode = 0755);
  // Parents are created as needed (0755).
  TestTree& File(const std::string& rel, const std::string& content, mode_t mode = 0644);
  TestTree& Symlink(const std::string& target, const std::string& rel);
  TestTree& Hardlink(const std::string& existing_rel, const std::string& rel);
  TestTree& Fifo(const std::string& rel, mode_t mode = 0644);
  TestTree& Owner(const std::string& rel, uid_t uid, gid_t gid);
  // Sets atime and mtime of `rel` itself (a symlink is not followed).
  TestTree& Time(const std::string& rel, int64_t sec, long nsec = 0);
  // Sets the times of every path, the root included, children first.
  TestTree& AllTimes(int64_t sec, long nsec = 0);

  // Sets an xattr; false (with status() untouched) when the filesystem or
  // kernel refuses, so a test can skip what the host cannot do.
  bool TrySetXattr(const std::string& rel, const std::string& name, const std::string& value);

  const std::string& root() const { return root_; }
  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }
  const absl::Status& status() const { return status_; }

 private:
  void Check(bool ok, const std::string& what, const std::string& rel);
  std::string root_;
  absl::Status status_;
};

}  // namespace kiln::exporter

#endif  // KILN_GATEWAY_EXPORTER_TEST_TREE_H_
