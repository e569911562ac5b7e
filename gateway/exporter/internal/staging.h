// Temporary files and directories beside an export's destination, so that
// the destination only ever changes by rename.
#ifndef KILN_GATEWAY_EXPORTER_INTERNAL_STAGING_H_
#define KILN_GATEWAY_EXPORTER_INTERNAL_STAGING_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace kiln::exporter_internal {

// "a/b/c" -> "a/b"; "c" -> "."; trailing slashes ignored.
std::string DirName(const std::string& path);
// "a/b/c/" -> "c".
std::string BaseName(const std::string& path);

// A new file "<dir>/.<name>.kiln-tmp-<random>" for `dest` "<dir>/<name>",
// opened for writing with mode 0666 less umask. Closed and unlinked on
// destruction unless committed.
class TempFile {
 public:
  // NotFound when the directory of `dest` does not exist.
  static absl::StatusOr<TempFile> CreateBeside(const std::string& dest);
  TempFile(TempFile&& o) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Flushes to disk, closes, and renames over `dest`.
  absl::Status Commit(const std::string& dest);

 private:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// Creates "<dir>/.<name>.kiln-tmp-XXXXXX" (mode 0700) for `dest`; the
// directory of `dest` must exist.
absl::StatusOr<std::string> MakeStagingDir(const std::string& dest);

// mkdir -p; created directories get `mode` (less umask).
absl::Status MakeDirs(const std::string& dir, mode_t mode);

// rm -rf without following symlinks; a missing path is fine.
absl::Status RemoveAll(const std::string& path);

}  // namespace kiln::exporter_internal

#endif  // KILN_GATEWAY_EXPORTER_INTERNAL_STAGING_H_
