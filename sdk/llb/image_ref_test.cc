#include "sdk/llb/image_ref.h"

#include <string>

#include "gtest/gtest.h"

namespace kiln::llb {
namespace {

std::string Norm(std::string_view ref) {
  absl::StatusOr<std::string> out = NormalizeImageRef(ref);
  EXPECT_TRUE(out.ok()) << ref << ": " << out.status();
  return out.ok() ? *out : "<error>";
}

TEST(ImageRefTest, FamiliarNamesGoToDockerHubLibrary) {
  EXPECT_EQ(Norm("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Norm("busybox:1.36"), "docker.io/library/busybox:1.36");
  EXPECT_EQ(Norm("docker.io/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Norm("index.docker.io/library/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Norm("me/app"), "docker.io/me/app:latest");
}

TEST(ImageRefTest, RegistriesAreKept) {
  EXPECT_EQ(Norm("localhost/app"), "localhost/app:latest");
  EXPECT_EQ(Norm("localhost:5000/a/b:v1"), "localhost:5000/a/b:v1");
  EXPECT_EQ(Norm("ghcr.io/org/tool"), "ghcr.io/org/tool:latest");
  EXPECT_EQ(Norm("[::1]:5000/x"), "[::1]:5000/x:latest");
  EXPECT_EQ(Norm("Registry/app"), "Registry/app:latest");  // capitals: a host
}

TEST(ImageRefTest, DigestsSuppressTheDefaultTag) {
  const std::string d = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(Norm("alpine@" + d), "docker.io/library/alpine@" + d);
  EXPECT_EQ(Norm("alpine:3@" + d), "docker.io/library/alpine:3@" + d);
}

TEST(ImageRefTest, RejectsMalformedReferences) {
  for (std::string_view bad : {"", "Busybox", "me/App", "a//b", "busybox:", ":tag", "a b",
                               "busybox@sha256:abc", "-lead"}) {
    absl::StatusOr<std::string> out = NormalizeImageRef(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(out.status())) << bad << " -> " << out.value_or("");
  }
  EXPECT_FALSE(NormalizeImageRef(std::string(64, 'f')).ok());
  EXPECT_FALSE(NormalizeImageRef("alpine@sha256:" + std::string(64, 'A')).ok());
  EXPECT_FALSE(NormalizeImageRef("alpine@md5:" + std::string(32, 'a')).ok());
  EXPECT_FALSE(NormalizeImageRef("docker.io/" + std::string(260, 'a')).ok());
}

TEST(ImageRefTest, ErrorNamesTheReference) {
  absl::Status st = NormalizeImageRef("Busybox").status();
  EXPECT_NE(st.message().find("\"Busybox\""), absl::string_view::npos) << st;
}

}  // namespace
}  // namespace kiln::llb
