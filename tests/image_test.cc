// End to end: images through the kiln binary, checked with a real OCI tool.
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "gateway/ops/exec/busybox_rootfs.h"
#include "gtest/gtest.h"
#include "sdk/llb/llb.h"
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

TEST(ImageTest, BuildResultAsOciImageAndInTheStore) {
  std::string why = exec::WhyNoContainers();
  if (!why.empty()) GTEST_SKIP() << why;
  if (system("command -v umoci >/dev/null 2>&1") != 0) GTEST_SKIP() << "needs umoci";
  Harness h;
  std::string dir = TempDir("img");
  exec::MakeBusyboxRootfs(dir + "/rootfs");
  ASSERT_EQ(system(("tar -C " + dir + "/rootfs -cf " + dir + "/bb.tar .").c_str()), 0);
  ASSERT_EQ(h.Run({"image", "import", "--rootfs", dir + "/bb.tar", "busybox"}).exit_code, 0);
  llb::RunOptions write, remove;
  write.args = {"/bin/sh", "-c", "echo hi > /hello; echo tmp > /tmp/junk"};
  remove.args = {"/bin/rm", "/tmp/junk"};
  auto def = llb::Marshal(llb::Image("busybox").Run(write).Root().Run(remove).Root());
  ASSERT_TRUE(def.ok());

  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  std::string a = dir + "/a.tar", b = dir + "/b.tar";
  std::string docker = dir + "/docker.tar";
  KilnRun first = h.Build(
      *def, {"--output", "type=oci,dest=" + a + ",name=app:1", "--output", "type=image,name=app:1",
             "--output", "type=docker,dest=" + docker + ",name=app:1"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  KilnRun second = h.Build(*def, {"--no-cache", "--output", "type=oci,dest=" + b + ",name=app:1"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  unsetenv("SOURCE_DATE_EPOCH");
  EXPECT_EQ(ReadFile(a), ReadFile(b)) << "two cold builds with SOURCE_DATE_EPOCH differ";

  std::string unpack = "mkdir " + dir + "/layout && tar -C " + dir + "/layout -xf " + a +
                       " && umoci unpack --image " + dir + "/layout:docker.io/library/app:1 " +
                       dir + "/bundle";
  ASSERT_EQ(system(unpack.c_str()), 0);
  EXPECT_EQ(ReadFile(dir + "/bundle/rootfs/hello"), "hi\n");
  EXPECT_NE(access((dir + "/bundle/rootfs/tmp/junk").c_str(), F_OK), 0) << "whiteout not applied";
  EXPECT_EQ(access((dir + "/bundle/rootfs/bin/busybox").c_str(), X_OK), 0);

  // The docker archive loads back (through kiln's docker save importer) as
  // an image.
  KilnRun loaded = h.Run({"image", "import", docker, "loaded:1"});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_TRUE(absl::StrContains(h.Run({"image", "ls"}).out, "docker.io/library/loaded:1"));
  EXPECT_TRUE(absl::StrContains(ReadFile(docker), "\"RepoTags\":[\"app:1\"]"));

  // The stored image is a base for the next build.
  llb::RunOptions cat;
  cat.args = {"/bin/sh", "-c", "cat /hello > /copied"};
  auto next = llb::Marshal(llb::Image("app:1").Run(cat).Root());
  ASSERT_TRUE(next.ok());
  std::string out = TempDir("out");
  KilnRun r = h.Build(*next, {"--output", "type=local,dest=" + out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/copied"), "hi\n");
}

}  // namespace
}  // namespace kiln::testing
