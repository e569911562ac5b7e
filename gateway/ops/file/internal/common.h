// Helpers shared by the file action sources. Not a public API.
#ifndef KILN_GATEWAY_OPS_FILE_INTERNAL_COMMON_H_
#define KILN_GATEWAY_OPS_FILE_INTERNAL_COMMON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/fsutil/tree.h"

namespace kiln::ops_internal {

// nullopt for BuildKit's "unset" timestamp -1, else the nanoseconds.
inline std::optional<int64_t> Timestamp(int64_t ts) {
  if (ts == -1) return std::nullopt;
  return ts;
}

// Rewrites host paths below `root` in `s`'s message to root-relative
// paths ("<root>/a/b" -> "/a/b"), keeping the code.
absl::Status StripRoot(absl::Status s, const std::string& root);

// BuildKit's cleanPath: "/" + clean(p), keeping a trailing "/" or "/.".
std::string CleanKeepTrailing(std::string_view p);

// Chown (when `owner`), then times (when `ts`) of `path`, not following it.
absl::Status ChownAndTime(const std::string& path, const std::optional<fsutil::Ownership>& owner,
                          std::optional<int64_t> ts);

// True when `src_host` is a regular file holding a tar archive, plain or
// compressed with gzip, bzip2, xz or zstd (Docker's ADD auto-extraction).
bool IsTarArchive(const std::string& src_host);

// Extracts the archive `src_host` into the existing directory `dest_host` as
// if chrooted there: entry paths, hard-link targets and existing symlinks
// all stay inside it. Entries keep their mode, times, xattrs and owner, or
// get `owner` when given. Errors: an entry or link escaping the directory is
// InvalidArgument; archive or system errors otherwise.
absl::Status ExtractArchive(const std::string& src_host, const std::string& dest_host,
                            const std::optional<fsutil::Ownership>& owner);

}  // namespace kiln::ops_internal

#endif  // KILN_GATEWAY_OPS_FILE_INTERNAL_COMMON_H_
