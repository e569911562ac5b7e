// End to end: images through the kiln binary, checked with a real OCI tool.
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "gateway/ops/exec/busybox_rootfs.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

TEST(ImageTest, ExportedImageUnpacksWithUmoci) {
  if (system("command -v umoci >/dev/null 2>&1") != 0) GTEST_SKIP() << "needs umoci";
  if (access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "needs /bin/busybox";
  Harness h;
  std::string dir = TempDir("img");
  exec::MakeBusyboxRootfs(dir + "/rootfs");
  ASSERT_EQ(system(("tar -C " + dir + "/rootfs -cf " + dir + "/bb.tar .").c_str()), 0);
  ASSERT_EQ(h.Run({"image", "import", "--rootfs", dir + "/bb.tar", "busybox"}).exit_code, 0);
  KilnRun exported = h.Run({"image", "export", "busybox", dir + "/bb.oci.tar"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::string unpack = "mkdir " + dir + "/layout && tar -C " + dir + "/layout -xf " + dir +
                       "/bb.oci.tar && umoci unpack --image " + dir +
                       "/layout:docker.io/library/busybox:latest " + dir + "/bundle";
  ASSERT_EQ(system(unpack.c_str()), 0);
  char target[64] = {0};
  ASSERT_GT(readlink((dir + "/bundle/rootfs/bin/sh").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "busybox");
  EXPECT_EQ(ReadFile(dir + "/bundle/rootfs/etc/group"), ReadFile(dir + "/rootfs/etc/group"));

  KilnRun unknown = h.Run({"image", "export", "nothing", dir + "/x.tar"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(unknown.err, "kiln image import")) << unknown.err;
  EXPECT_NE(access((dir + "/x.tar").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace kiln::testing
