// Filesystem steps around a git checkout: scratch space, subdir hoisting and
// mtime normalisation.
#ifndef KILN_GATEWAY_OPS_SOURCE_INTERNAL_CHECKOUT_H_
#define KILN_GATEWAY_OPS_SOURCE_INTERNAL_CHECKOUT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace kiln::source_internal {

// A fresh directory "<parent>/.<prefix>XXXXXX" (mode 0700); removed with
// everything in it on destruction.
class ScratchDir {
 public:
  static absl::StatusOr<ScratchDir> Create(const std::string& parent, const std::string& prefix);
  ScratchDir(ScratchDir&& o) noexcept;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

// The directory containing `path` ("a/b/" -> "a", "b" -> ".").
std::string ParentDir(const std::string& path);

// mkdir -p with mode 0755; Internal on failure.
absl::Status MakeDirs(const std::string& dir);

// "/a/../b/" -> "b"; "" and "/" -> ""; "../../x" -> "x" (never outside).
std::string CleanSubdir(const std::string& subdir);

// Moves every entry of `root`/`subdir` into `dest`. `subdir` must be reached
// through real directories: InvalidArgument for a symlink or file on the
// way, NotFound when it does not exist.
absl::Status HoistSubdir(const std::string& root, const std::string& subdir,
                         const std::string& dest);

// Sets the modification and access times of `root` and everything under it
// to `seconds`, symlinks themselves rather than their targets, directories
// after their contents.
absl::Status SetTreeTimes(const std::string& root, int64_t seconds);

}  // namespace kiln::source_internal

#endif  // KILN_GATEWAY_OPS_SOURCE_INTERNAL_CHECKOUT_H_
