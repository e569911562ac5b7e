// Bad input gets a clear error naming the place, and leaves nothing in the
// cache or at the output.
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"
#include "sdk/llb/llb.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

namespace llb = kiln::llb;

std::string Bytes(const pb::Op& op) {
  std::string s;
  op.SerializeToString(&s);
  return s;
}

class BadInputTest : public ::testing::Test {
 protected:
  // Asserts that `r` failed with a message containing `fragment`, and that
  // the cache holds no record.
  void ExpectRejected(const KilnRun& r, const std::string& fragment) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(absl::StrContains(r.err, fragment)) << "stderr: " << r.err;
    EXPECT_FALSE(absl::StrContains(r.err, "Segmentation")) << r.err;
    KilnRun du = h_.Run({"du"});
    EXPECT_TRUE(absl::StrContains(du.out, "in 0 records")) << du.out << du.err;
  }
  Harness h_;
  std::string ctx_ = TempDir("ctx");
};

TEST_F(BadInputTest, TruncatedDefinition) {
  auto def = llb::Marshal(llb::Scratch().File(llb::Mkfile("/a", 0644, "hello")));
  ASSERT_TRUE(def.ok());
  std::string bytes;
  def->SerializeToString(&bytes);
  std::string path = TempDir("def") + "/cut.pb";
  WriteFile(path, bytes.substr(0, bytes.size() / 2));
  ExpectRejected(h_.Run({"build", "--llb", path, "--progress", "plain"}), "pb.Definition");
}

TEST_F(BadInputTest, GarbageDefinition) {
  std::string path = TempDir("def") + "/garbage.pb";
  WriteFile(path, "this is not a protobuf at all \xff\xff\xff");
  ExpectRejected(h_.Run({"build", "--llb", path}), "pb.Definition");
}

TEST_F(BadInputTest, MissingInput) {
  pb::Op merge;
  merge.add_inputs()->set_digest(DigestOf("not an op"));
  merge.mutable_merge()->add_inputs()->set_input(0);
  pb::Op term;
  term.add_inputs()->set_digest(DigestOf(Bytes(merge)));
  pb::Definition def;
  def.add_def(Bytes(merge));
  def.add_def(Bytes(term));
  ExpectRejected(h_.Build(def, {}), "not in the definition");
}

TEST_F(BadInputTest, MetadataForADigestThatMatchesNoOp) {
  auto def = llb::Marshal(llb::Scratch().File(llb::Mkfile("/a", 0644, "x")));
  ASSERT_TRUE(def.ok());
  (*def->mutable_metadata())[DigestOf("tampered")];
  ExpectRejected(h_.Build(*def, {}), "metadata names op");
}

TEST_F(BadInputTest, CopySourceOutsideItsRoot) {
  // sdk/llb cleans paths as Go's llb does, so write the op by hand, as any
  // other client could.
  WriteFile(ctx_ + "/ok", "ok");
  pb::Op local;
  local.mutable_source()->set_identifier("local://context");
  pb::Op copy;
  copy.add_inputs()->set_digest(DigestOf(Bytes(local)));
  pb::FileAction* action = copy.mutable_file()->add_actions();
  action->set_input(-1);
  action->set_secondaryinput(0);
  action->set_output(0);
  action->mutable_copy()->set_src("../../../etc/passwd");
  action->mutable_copy()->set_dest("/p");
  pb::Op term;
  term.add_inputs()->set_digest(DigestOf(Bytes(copy)));
  pb::Definition def;
  def.add_def(Bytes(local));
  def.add_def(Bytes(copy));
  def.add_def(Bytes(term));
  ExpectRejected(h_.Build(def, {ctx_}), "path ../../../etc/passwd is outside its root");
}

TEST_F(BadInputTest, CleanedEscapeStaysInsideTheContext) {
  llb::State ctx = llb::Local("context");
  auto def = llb::Marshal(llb::Scratch().File(llb::Copy(ctx, "../../../etc/passwd", "/p")));
  ASSERT_TRUE(def.ok());
  KilnRun r = h_.Build(*def, {ctx_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, "/etc/passwd: no such file")) << r.err;
}

TEST_F(BadInputTest, SymlinksInTheContextNeverReachTheHost) {
  ASSERT_EQ(symlink("/etc", (ctx_ + "/etc-link").c_str()), 0);
  ASSERT_EQ(symlink("../../../../../../etc/passwd", (ctx_ + "/up").c_str()), 0);
  llb::State ctx = llb::Local("context");
  // Following the link resolves inside the context, where there is no passwd.
  auto follow = llb::Marshal(llb::Scratch().File(llb::Copy(ctx, "/etc-link/passwd", "/p")));
  ASSERT_TRUE(follow.ok());
  KilnRun r = h_.Build(*follow, {ctx_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, "passwd")) << r.err;
  // Copying the whole context keeps the links as links.
  std::string out = TempDir("out");
  auto all = llb::Marshal(llb::Scratch().File(llb::Copy(ctx, "/", "/")));
  ASSERT_TRUE(all.ok());
  KilnRun ok = h_.Build(*all, {ctx_, "--output", "type=local,dest=" + out});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  char target[256] = {0};
  ASSERT_GT(readlink((out + "/up").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "../../../../../../etc/passwd");
  struct stat st;
  ASSERT_EQ(lstat((out + "/etc-link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(BadInputTest, UnknownOutputTypeWritesNothing) {
  auto def = llb::Marshal(llb::Scratch().File(llb::Mkfile("/a", 0644, "x")));
  ASSERT_TRUE(def.ok());
  KilnRun r = h_.Build(*def, {"--output", "type=floppy,dest=/tmp/x"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectRejected(r, "unknown output type \"floppy\"");
}

TEST_F(BadInputTest, LocalDirectoryNotShared) {
  auto def = llb::Marshal(llb::Scratch().File(llb::Copy(llb::Local("secrets"), "/a", "/a")));
  ASSERT_TRUE(def.ok());
  ExpectRejected(h_.Build(*def, {ctx_}), "local directory \"secrets\" was not shared");
}

TEST_F(BadInputTest, FrontendThatDoesNotExistYet) {
  KilnRun r = h_.Run({"build", "--frontend", "nosuch.v0", ctx_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "frontend \"nosuch.v0\" is not available")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "dockerfile.v0")) << r.err;  // what there is
  EXPECT_TRUE(absl::StrContains(r.err, "--llb")) << r.err;
}

TEST_F(BadInputTest, MissingDockerfileSaysWhereItLooked) {
  KilnRun r = h_.Run({"build", ctx_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "cannot read Dockerfile")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "-f FILE")) << r.err;
}

TEST_F(BadInputTest, DockerfileAstPrintsTheTreeAndNamesTheLineOfAnError) {
  std::string dir = TempDir("df");
  WriteFile(dir + "/Dockerfile",
            "FROM busybox AS base\nRUN --mount=type=cache,target=/c echo hi\n");
  KilnRun ok = h_.Run({"debug", "dockerfile-ast", dir + "/Dockerfile"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out,
            "(from \"busybox\" \"AS\" \"base\")\n"
            "(run [\"--mount=type=cache,target=/c\"] \"echo hi\")\n");
  WriteFile(dir + "/Bad", "FROM busybox\nRUN <<EOF\necho never closed\n");
  KilnRun bad = h_.Run({"debug", "dockerfile-ast", dir + "/Bad"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "Dockerfile:")) << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "EOF")) << bad.err;
}

TEST_F(BadInputTest, UnknownCommandAndFlag) {
  EXPECT_EQ(h_.Run({"bulid"}).exit_code, 2);
  KilnRun r = h_.Run({"build", "--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--frobnicate"));
}

}  // namespace
}  // namespace kiln::testing
