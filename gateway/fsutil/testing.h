// Test helpers: scratch directories under TEST_TMPDIR and one-line file
// creation. Test-only; not thread-safe.
#ifndef KILN_GATEWAY_FSUTIL_TESTING_H_
#define KILN_GATEWAY_FSUTIL_TESTING_H_

#include <sys/stat.h>

#include <string>
#include <vector>

namespace kiln::fsutil::testing {

// A fresh, empty directory unique to this process and call.
std::string MakeTempDir();

// Creates `path` (parents too) with `content` and mode `mode`; CHECK-fails
// on error so tests stay short.
void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644);
void MakeDir(const std::string& path, mode_t mode = 0755);
void MakeSymlink(const std::string& target, const std::string& path);
std::string ReadFile(const std::string& path);
struct stat Lstat(const std::string& path);
bool Exists(const std::string& path);
// Sets atime and mtime to `sec` seconds (+ `nsec`).
void SetMtime(const std::string& path, int64_t sec, int64_t nsec = 0);

// "rel" of every entry below `root`, in Walk order, dirs marked with a
// trailing "/" and symlinks as "name->target".
std::vector<std::string> ListTree(const std::string& root);

}  // namespace kiln::fsutil::testing

#endif  // KILN_GATEWAY_FSUTIL_TESTING_H_
