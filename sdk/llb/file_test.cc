// FileOps: action chains, their input/output numbering, and path resolution.
#include "sdk/llb/file.h"

#include <string>

#include "gtest/gtest.h"
#include "sdk/llb/llb.h"
#include "sdk/llb/testing.h"

namespace kiln::llb {
namespace {

using llb_testing::DecodedDefinition;

DecodedDefinition MustDecode(const State& s) {
  absl::StatusOr<DecodedDefinition> g = llb_testing::MarshalAndDecode(s);
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? *g : DecodedDefinition{};
}

TEST(FileTest, SingleActionOnScratchHasNoInputs) {
  DecodedDefinition g = MustDecode(Scratch().File(Mkdir("/out", 0755)));
  ASSERT_EQ(g.ops.size(), 2u);
  const pb::Op& op = g.Target();
  EXPECT_EQ(op.inputs_size(), 0);
  EXPECT_FALSE(op.has_platform());
  EXPECT_TRUE(op.has_constraints());
  ASSERT_EQ(op.file().actions_size(), 1);
  const pb::FileAction& a = op.file().actions(0);
  EXPECT_EQ(a.input(), -1);
  EXPECT_EQ(a.secondaryinput(), -1);
  EXPECT_EQ(a.output(), 0);
  EXPECT_EQ(a.mkdir().path(), "/out");
  EXPECT_EQ(a.mkdir().mode(), 0755);
  EXPECT_FALSE(a.mkdir().makeparents());
  EXPECT_EQ(a.mkdir().timestamp(), -1);
  EXPECT_FALSE(a.mkdir().has_owner());
  EXPECT_TRUE(g.Metadata(g.digests[0]).caps().at("file.base"));
}

TEST(FileTest, ChainedActionsReadThePreviousResult) {
  State base = Image("busybox");
  State other = Local("ctx");
  State out = base.File(Mkdir("/a", 0700)
                            .Copy(other, "/f", "/a/f")
                            .Mkfile("/a/g", 0600, "data")
                            .Copy(base, "/etc/passwd", "/a/p")
                            .Rm("/a/old"));
  DecodedDefinition g = MustDecode(out);
  const pb::Op& op = g.Target();
  // Inputs: the base (busybox) 0 and the copy source (ctx) 1; base reused.
  ASSERT_EQ(op.inputs_size(), 2);
  EXPECT_EQ(g.InputOp(op, 0).source().identifier(),
            "docker-image://docker.io/library/busybox:latest");
  EXPECT_EQ(g.InputOp(op, 1).source().identifier(), "local://ctx");
  const auto& acts = op.file().actions();
  ASSERT_EQ(acts.size(), 5);
  EXPECT_EQ(acts[0].input(), 0);
  for (int i = 1; i < 5; ++i) EXPECT_EQ(acts[i].input(), 2 + i - 1) << i;
  EXPECT_EQ(acts[1].secondaryinput(), 1);
  EXPECT_EQ(acts[3].secondaryinput(), 0);
  EXPECT_EQ(acts[2].secondaryinput(), -1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(acts[i].output(), -1) << i;
  EXPECT_EQ(acts[4].output(), 0);
  EXPECT_EQ(acts[2].mkfile().data(), "data");
  EXPECT_EQ(acts[4].rm().path(), "/a/old");
}

TEST(FileTest, DependenciesAreEmittedInBuildKitOrder) {
  // Base first, then copy sources from the last action back to the first.
  State out = Image("base").File(Copy(Local("one"), "/", "/1").Copy(Local("two"), "/", "/2"));
  DecodedDefinition g = MustDecode(out);
  ASSERT_EQ(g.ops.size(), 5u);
  EXPECT_EQ(g.ops[0].source().identifier(), "docker-image://docker.io/library/base:latest");
  EXPECT_EQ(g.ops[1].source().identifier(), "local://two");
  EXPECT_EQ(g.ops[2].source().identifier(), "local://one");
  EXPECT_EQ(g.InputOp(g.Target(), 1).source().identifier(), "local://one");
}

TEST(FileTest, RelativePathsResolveAgainstWorkingDirs) {
  State src = Local("ctx").Dir("/project");
  State out = Scratch().Dir("/srv").File(Mkdir("www", 0755)
                                             .Mkfile("./www/../index.html", 0644, "")
                                             .Copy(src, "lib/", "www/lib/")
                                             .Copy(src, "/abs/./x", "www/.")
                                             .Rm("../tmp")
                                             .Symlink("rel/target", "link"));
  DecodedDefinition g = MustDecode(out);
  const auto& acts = g.Target().file().actions();
  EXPECT_EQ(acts[0].mkdir().path(), "/srv/www");
  EXPECT_EQ(acts[1].mkfile().path(), "/srv/index.html");
  EXPECT_EQ(acts[2].copy().src(), "/project/lib");
  EXPECT_EQ(acts[2].copy().dest(), "/srv/www/lib/");
  EXPECT_EQ(acts[3].copy().src(), "/abs/x");
  EXPECT_EQ(acts[3].copy().dest(), "/srv/www/.");
  EXPECT_EQ(acts[4].rm().path(), "/tmp");
  EXPECT_EQ(acts[5].symlink().oldpath(), "rel/target");  // used as written
  EXPECT_EQ(acts[5].symlink().newpath(), "link");
}

TEST(FileTest, CopyOptionsMapToTheProto) {
  CopyOptions o;
  o.owner = Owner::Parse("app:1000");
  o.follow_symlinks = true;
  o.copy_dir_contents_only = true;
  o.create_dest_path = true;
  o.allow_wildcard = true;
  o.allow_empty_wildcard = true;
  o.include_patterns = {"*.go"};
  o.exclude_patterns = {"*_test.go"};
  o.timestamp = absl::FromUnixSeconds(1700000000);
  const pb::FileActionCopy c = MustDecode(Image("base").File(Copy(Local("ctx"), "/", "/dst", o)))
                                   .Target()
                                   .file()
                                   .actions(0)
                                   .copy();
  EXPECT_EQ(c.mode(), -1);
  EXPECT_EQ(c.owner().user().byname().name(), "app");
  EXPECT_EQ(c.owner().user().byname().input(), 0);
  EXPECT_EQ(c.owner().group().byid(), 1000u);
  EXPECT_TRUE(c.followsymlink() && c.dircopycontents() && c.createdestpath() && c.allowwildcard() &&
              c.allowemptywildcard());
  EXPECT_EQ(c.include_patterns(0), "*.go");
  EXPECT_EQ(c.exclude_patterns(0), "*_test.go");
  EXPECT_EQ(c.timestamp(), int64_t{1700000000} * 1000000000);
  CopyOptions m;
  m.mode = 0755;
  EXPECT_EQ(MustDecode(Scratch().File(Copy(Local("c"), "a", "b", m)))
                .Target()
                .file()
                .actions(0)
                .copy()
                .mode(),
            0755);
}

TEST(FileTest, OwnerParsingFollowsGoWithUser) {
  Owner root = Owner::Parse("root");
  EXPECT_EQ(root.user->name, "");
  EXPECT_EQ(root.user->id, 0u);
  EXPECT_FALSE(root.group.has_value());
  Owner named = Owner::Parse("www-data:staff");
  EXPECT_EQ(named.user->name, "www-data");
  EXPECT_EQ(named.group->name, "staff");
  EXPECT_EQ(Owner::Parse("1000:-1").group->id, 4294967295u);
  EXPECT_EQ(Owner::Parse("99999999999").user->name, "99999999999");  // not an int32
}

TEST(FileTest, ModeIsMaskedToPermissionBits) {
  const pb::FileAction a =
      MustDecode(Scratch().File(Mkfile("/f", 04755, "x"))).Target().file().actions(0);
  EXPECT_EQ(a.mkfile().mode(), 0755);
}

TEST(FileTest, NamedOwnerOnScratchLooksUpInputMinusOne) {
  MkdirOptions o;
  o.owner = Owner::Parse("nobody");
  const pb::FileAction a =
      MustDecode(Scratch().File(Mkdir("/d", 0755, o))).Target().file().actions(0);
  EXPECT_EQ(a.mkdir().owner().user().byname().input(), -1);
}

TEST(FileTest, CapsNameTheFeaturesUsed) {
  CopyOptions o;
  o.include_patterns = {"x"};
  DecodedDefinition g =
      MustDecode(Scratch().File(Symlink("a", "/b").Copy(Local("c"), "/", "/", o)));
  const auto& caps = g.Metadata(g.digests[1]).caps();
  EXPECT_TRUE(caps.count("file.base"));
  EXPECT_TRUE(caps.count("file.symlink.create"));
  EXPECT_TRUE(caps.count("file.copy.includeexcludepatterns"));
}

TEST(FileTest, EmptyChainOrBrokenSourceFailsAtMarshal) {
  absl::Status st = Marshal(Scratch().File(FileAction())).status();
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  st = Marshal(Scratch().File(Copy(Image(""), "/a", "/b"))).status();
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  RunOptions run;
  run.args = {"true"};
  State no_such_mount = Image("busybox").Run(run).GetMount("/missing");
  st = Marshal(Scratch().File(Copy(no_such_mount, "/a", "/b"))).status();
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
}

}  // namespace
}  // namespace kiln::llb
