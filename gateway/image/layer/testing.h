// Test helpers: building layer tar streams in memory with libarchive.
// Test-only; not thread-safe.
#ifndef KILN_GATEWAY_IMAGE_LAYER_TESTING_H_
#define KILN_GATEWAY_IMAGE_LAYER_TESTING_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gateway/image/layer/layer.h"

namespace kiln::image::testing {

// One tar entry. `type` is 'f' file, 'd' directory, 'l' symlink, 'h' hard
// link, 'c' char device, 'b' block device, 'p' fifo.
struct TarEntry {
  std::string name;
  char type = 'f';
  std::string data;  // file content
  std::string link;  // symlink or hard-link target
  mode_t perm = 0644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 1600000000;  // seconds
  unsigned major = 0;
  unsigned minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

TarEntry File(std::string name, std::string data, mode_t perm = 0644);
TarEntry Dir(std::string name, mode_t perm = 0755);
TarEntry Symlink(std::string name, std::string target);
TarEntry Hardlink(std::string name, std::string target);

// The entries as a pax tar stream, compressed as asked. libarchive errors
// are reported as test failures.
std::string MakeTar(const std::vector<TarEntry>& entries, Compression c = Compression::kNone);

// Compresses `data` alone (no tar), for corrupt-stream tests.
std::string Compress(const std::string& data, Compression c);

}  // namespace kiln::image::testing

#endif  // KILN_GATEWAY_IMAGE_LAYER_TESTING_H_
