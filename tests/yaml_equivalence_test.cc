// A YAML spec and the Dockerfile that says the same thing convert to the
// same ops, so they share cache (the end-to-end check of the filesystems is
// in yaml_test.cc). Both converters run on one fake image store.
#include <nlohmann/json.hpp>

#include "frontends/dockerfile/convert/convert.h"
#include "frontends/yaml/convert/convert.h"
#include "frontends/yaml/spec/spec.h"
#include "gtest/gtest.h"
#include "sdk/llb/testing.h"

namespace kiln {
namespace {

absl::StatusOr<frontend::ResolvedImage> FakeResolve(const std::string& ref) {
  absl::StatusOr<std::string> normalized = llb::NormalizeImageRef(ref);
  if (!normalized.ok()) return normalized.status();
  if (*normalized != "docker.io/library/busybox:latest") {
    return absl::NotFoundError("image " + *normalized + " is not in the store");
  }
  return frontend::ResolvedImage{
      *normalized, "sha256:" + std::string(64, 'b'),
      R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],)"
      R"("WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]}})"};
}

struct Graph {
  std::vector<std::string> digests;  // sorted
  std::string terminal;
  nlohmann::json config;
};

Graph FromDockerfile(const std::string& text, const std::string& target) {
  dockerfile::ConvertOptions o;
  o.platform = {"linux", "amd64"};
  o.resolve_image = FakeResolve;
  o.target = target;
  absl::StatusOr<dockerfile::Converted> c = dockerfile::Convert(text, o);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return {};
  auto g = llb_testing::MarshalAndDecode(c->state);
  EXPECT_TRUE(g.ok()) << g.status();
  Graph out{g->digests, g->digests.back(), nlohmann::json::parse(c->image_config)};
  std::sort(out.digests.begin(), out.digests.end());
  return out;
}

Graph FromYaml(const std::string& text, const std::string& target) {
  absl::StatusOr<yamlspec::Spec> spec = yamlspec::Read(text, yamlspec::ReadOptions());
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return {};
  yamlconvert::ConvertOptions o;
  o.platform = {"linux", "amd64"};
  o.resolve_image = FakeResolve;
  o.target = target;
  absl::StatusOr<yamlconvert::Converted> c = yamlconvert::Convert(*spec, o);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return {};
  auto g = llb_testing::MarshalAndDecode(c->state);
  EXPECT_TRUE(g.ok()) << g.status();
  Graph out{g->digests, g->digests.back(), nlohmann::json::parse(c->image_config)};
  std::sort(out.digests.begin(), out.digests.end());
  return out;
}

constexpr char kSpec[] = R"(version: 1
stages:
  build:
    from: busybox
    env: {LANG: C.UTF-8}
    workdir: /src
    user: "0:0"
    steps:
      - copy: [src/, VERSION]
        to: /src/
        chown: "1000:1000"
        exclude: ["*.log"]
      - run: echo hi > /hello
        network: none
        mounts:
          - {type: cache, target: /root/.cache, id: deps, sharing: locked}
          - {type: bind, target: /ctx, from: context, source: sub}
          - {type: tmpfs, target: /scratch}
          - {type: secret, target: /run/secrets/token, id: token, required: true}
      - run: ["/bin/sh", "-c", "ls > /list"]
      - add: https://example.invalid/x.tgz
        checksum: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        to: /x.tgz
      - copy: notes.txt
        to: linked/
        link: true
  final:
    from: scratch
    steps:
      - copy: /hello
        from: build
        to: /hello
      - copy: /bin/busybox
        from: busybox
        to: /bin/
        chmod: "0755"
)";

constexpr char kDockerfile[] = R"(FROM busybox AS build
ENV LANG=C.UTF-8
WORKDIR /src
USER 0:0
COPY --chown=1000:1000 --exclude=*.log src/ VERSION /src/
RUN --network=none --mount=type=cache,target=/root/.cache,id=deps,sharing=locked \
    --mount=type=bind,target=/ctx,source=sub --mount=type=tmpfs,target=/scratch \
    --mount=type=secret,target=/run/secrets/token,id=token,required=true \
    echo hi > /hello
RUN ["/bin/sh", "-c", "ls > /list"]
ADD --checksum=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
    https://example.invalid/x.tgz /x.tgz
COPY --link notes.txt linked/

FROM scratch AS final
COPY --from=build /hello /hello
COPY --from=busybox --chmod=0755 /bin/busybox /bin/
)";

TEST(YamlEquivalenceTest, SameOpsAsTheDockerfile) {
  for (const char* target : {"build", "final"}) {
    Graph y = FromYaml(kSpec, target);
    Graph d = FromDockerfile(kDockerfile, target);
    ASSERT_FALSE(y.digests.empty());
    EXPECT_EQ(y.terminal, d.terminal) << target;
    EXPECT_EQ(y.digests, d.digests) << target;
  }
}

TEST(YamlEquivalenceTest, SameConfigWhereTheyOverlap) {
  Graph y = FromYaml(kSpec, "build");
  Graph d = FromDockerfile(kDockerfile, "build");
  for (const char* field : {"Env", "WorkingDir", "User"}) {
    EXPECT_EQ(y.config["config"][field], d.config["config"][field]) << field;
  }
  EXPECT_EQ(y.config["architecture"], d.config["architecture"]);
  EXPECT_EQ(y.config["history"].size(), d.config["history"].size());
}

}  // namespace
}  // namespace kiln
