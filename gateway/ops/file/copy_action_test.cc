#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/fsutil/testing.h"
#include "gateway/ops/file/actions.h"
#include "gtest/gtest.h"

namespace kiln::ops {
namespace {

using fsutil::testing::Exists;
using fsutil::testing::ListTree;
using fsutil::testing::Lstat;
using fsutil::testing::MakeDir;
using fsutil::testing::MakeSymlink;
using fsutil::testing::MakeTempDir;
using fsutil::testing::ReadFile;
using fsutil::testing::SetMtime;
using fsutil::testing::WriteFile;
using V = std::vector<std::string>;

class CopyActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    src_ = base_ + "/src";
    dst_ = base_ + "/dst";
    WriteFile(src_ + "/foo.txt", "foo", 0644);
    WriteFile(src_ + "/bar.txt", "bar", 0600);
    WriteFile(src_ + "/app.go", "go", 0755);
    WriteFile(src_ + "/dir/a", "a");
    WriteFile(src_ + "/dir/sub/b", "b");
    MakeDir(dst_);
  }
  mode_t SrcMode(const std::string& rel) { return Lstat(src_ + "/" + rel).st_mode & 07777; }

  pb::FileActionCopy Action(const std::string& src, const std::string& dest) {
    pb::FileActionCopy a;
    a.set_src(src);
    a.set_dest(dest);
    a.set_mode(-1);
    a.set_timestamp(-1);
    a.set_createdestpath(true);
    return a;
  }
  absl::Status Copy(const pb::FileActionCopy& a, std::optional<Ownership> owner = std::nullopt) {
    absl::Status s = ApplyCopy(src_, dst_, a, owner);
    EXPECT_EQ(std::string(s.message()).find(base_), std::string::npos) << s;
    return s;
  }
  std::string base_, src_, dst_;
};

TEST_F(CopyActionTest, FileToNewName) {
  ASSERT_TRUE(Copy(Action("foo.txt", "foo2.txt")).ok());
  EXPECT_EQ(ListTree(dst_), V{"foo2.txt"});
  EXPECT_EQ(Lstat(dst_ + "/foo2.txt").st_mode & 07777, 0644u);
}

TEST_F(CopyActionTest, FileIntoRootAndIntoTrailingSlashDir) {
  ASSERT_TRUE(Copy(Action("/foo.txt", "/")).ok());
  ASSERT_TRUE(Copy(Action("/bar.txt", "/a/b/c/")).ok());
  EXPECT_EQ(ListTree(dst_), (V{"a/", "a/b/", "a/b/c/", "a/b/c/bar.txt", "foo.txt"}));
  EXPECT_EQ(Lstat(dst_ + "/a/b").st_mode & 07777, 0755u);
}

TEST_F(CopyActionTest, FileIntoExistingDirectoryByName) {
  MakeDir(dst_ + "/existing");
  ASSERT_TRUE(Copy(Action("foo.txt", "/existing")).ok());
  EXPECT_EQ(ReadFile(dst_ + "/existing/foo.txt"), "foo");
}

TEST_F(CopyActionTest, CreateDestPathFalseNeedsParent) {
  pb::FileActionCopy a = Action("foo.txt", "/missing/foo.txt");
  a.set_createdestpath(false);
  absl::Status s = Copy(a);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/missing/foo.txt"), std::string::npos);
  a.set_dest("/foo.txt");
  EXPECT_TRUE(Copy(a).ok());
  a.set_dest("/newdir/");  // the directory itself is created either way
  EXPECT_TRUE(Copy(a).ok());
  EXPECT_EQ(ReadFile(dst_ + "/newdir/foo.txt"), "foo");
}

TEST_F(CopyActionTest, DirectoryToNewAndExistingDest) {
  ASSERT_TRUE(Copy(Action("dir", "/new")).ok());
  EXPECT_EQ(ListTree(dst_), (V{"new/", "new/a", "new/sub/", "new/sub/b"}));
  MakeDir(dst_ + "/exists");
  ASSERT_TRUE(Copy(Action("dir", "/exists")).ok());
  EXPECT_EQ(ReadFile(dst_ + "/exists/dir/sub/b"), "b");
}

TEST_F(CopyActionTest, TrailingDotSourceCopiesContentsLikeGoBase) {
  MakeDir(dst_ + "/exists");
  ASSERT_TRUE(Copy(Action("dir/.", "/exists")).ok());
  EXPECT_EQ(ListTree(dst_), (V{"exists/", "exists/a", "exists/sub/", "exists/sub/b"}));
}

TEST_F(CopyActionTest, DirCopyContentsMergesIntoExistingDest) {
  MakeDir(dst_ + "/exists", 0700);
  ASSERT_EQ(lchown((dst_ + "/exists").c_str(), 1, 1), 0);
  WriteFile(dst_ + "/exists/old", "old");
  pb::FileActionCopy a = Action("dir", "/exists");
  a.set_dircopycontents(true);
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_EQ(ListTree(dst_),
            (V{"exists/", "exists/a", "exists/old", "exists/sub/", "exists/sub/b"}));
  EXPECT_EQ(Lstat(dst_ + "/exists").st_mode & 07777, 0700u);  // kept
  EXPECT_EQ(Lstat(dst_ + "/exists").st_uid, 1u);
  a.set_dest("/fresh");
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_EQ(ReadFile(dst_ + "/fresh/sub/b"), "b");
}

TEST_F(CopyActionTest, WildcardsCopyEveryMatchIntoDir) {
  pb::FileActionCopy a = Action("*.txt", "/out/");
  a.set_allowwildcard(true);
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_EQ(ListTree(dst_), (V{"out/", "out/bar.txt", "out/foo.txt"}));
}

TEST_F(CopyActionTest, WildcardWithoutMatches) {
  pb::FileActionCopy a = Action("*.none", "/out/");
  a.set_allowwildcard(true);
  absl::Status s = Copy(a);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("*.none"), std::string::npos);
  a.set_allowemptywildcard(true);
  EXPECT_TRUE(Copy(a).ok());
  EXPECT_TRUE(ListTree(dst_).empty());
}

TEST_F(CopyActionTest, GlobCharactersAreLiteralWithoutAllowWildcard) {
  WriteFile(src_ + "/lit*.txt", "literal");
  ASSERT_TRUE(Copy(Action("lit*.txt", "/x")).ok());
  EXPECT_EQ(ReadFile(dst_ + "/x"), "literal");
  EXPECT_EQ(Copy(Action("*.go", "/y")).code(), absl::StatusCode::kNotFound);
}

TEST_F(CopyActionTest, SourceOutsideContextIsInvalidArgument) {
  absl::Status s = Copy(Action("../../x", "/"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "copy source ../../x is outside the build context");
}

TEST_F(CopyActionTest, MissingSourceIsNotFoundNamingIt) {
  absl::Status s = Copy(Action("/nope.txt", "/"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nope.txt"), std::string::npos);
}

TEST_F(CopyActionTest, OwnerModeAndTimestampApplyToEverything) {
  pb::FileActionCopy a = Action("dir", "/p/q/dir");
  a.set_mode(0700);
  a.set_timestamp(1000000000LL * 1000000000 + 7);
  ASSERT_TRUE(Copy(a, Ownership{11, 22}).ok());
  for (const char* p : {"/p", "/p/q", "/p/q/dir", "/p/q/dir/a", "/p/q/dir/sub", "/p/q/dir/sub/b"}) {
    struct stat st = Lstat(dst_ + p);
    // Created parents are 0755 and the copied top directory keeps the
    // source's mode, as BuildKit (fsutil) leaves them; everything inside
    // takes the copy's mode.
    std::string path = p;
    mode_t want = path == "/p" || path == "/p/q" ? 0755
                  : path == "/p/q/dir"           ? SrcMode("dir")
                                                 : 0700;
    EXPECT_EQ(st.st_mode & 07777, want) << p;
    EXPECT_EQ(st.st_uid, 11u) << p;
    EXPECT_EQ(st.st_gid, 22u) << p;
    EXPECT_EQ(st.st_mtim.tv_sec, 1000000000) << p;
    EXPECT_EQ(st.st_mtim.tv_nsec, 7) << p;
  }
}

TEST_F(CopyActionTest, SourceOwnerKeptWithoutChown) {
  ASSERT_EQ(lchown((src_ + "/foo.txt").c_str(), 77, 88), 0);
  ASSERT_TRUE(Copy(Action("foo.txt", "/f")).ok());
  EXPECT_EQ(Lstat(dst_ + "/f").st_uid, 77u);
  EXPECT_EQ(Lstat(dst_ + "/f").st_gid, 88u);
}

TEST_F(CopyActionTest, ModeStringIsAppliedPerEntry) {
  pb::FileActionCopy a = Action("/", "/all/");
  a.set_modestr("go-rwx,u+x");
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_EQ(Lstat(dst_ + "/all/foo.txt").st_mode & 07777, 0700u);
  EXPECT_EQ(Lstat(dst_ + "/all/app.go").st_mode & 07777, 0700u);
  EXPECT_EQ(Lstat(dst_ + "/all/bar.txt").st_mode & 07777, 0700u);
  a.set_modestr("bogus");
  EXPECT_EQ(Copy(a).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CopyActionTest, FollowSymlinkCopiesTheTarget) {
  MakeSymlink("foo.txt", src_ + "/link");
  ASSERT_TRUE(Copy(Action("link", "/nofollow")).ok());
  EXPECT_TRUE(S_ISLNK(Lstat(dst_ + "/nofollow").st_mode));
  pb::FileActionCopy a = Action("link", "/follow");
  a.set_followsymlink(true);
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_TRUE(S_ISREG(Lstat(dst_ + "/follow").st_mode));
  EXPECT_EQ(ReadFile(dst_ + "/follow"), "foo");
}

TEST_F(CopyActionTest, EscapingSourceSymlinkStaysInSourceRoot) {
  WriteFile(base_ + "/secret", "host secret");
  MakeSymlink("../../../../secret", src_ + "/esc");
  pb::FileActionCopy a = Action("esc", "/got");
  a.set_followsymlink(true);
  absl::Status s = Copy(a);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;  // <src>/secret does not exist
  EXPECT_FALSE(Exists(dst_ + "/got"));
}

TEST_F(CopyActionTest, DestinationThroughSymlinkIsReRooted) {
  MakeDir(dst_ + "/real");
  MakeSymlink("/real", dst_ + "/link");
  ASSERT_TRUE(Copy(Action("foo.txt", "/link/")).ok());
  EXPECT_EQ(ReadFile(dst_ + "/real/foo.txt"), "foo");
}

TEST_F(CopyActionTest, IncludeAndExcludePatterns) {
  pb::FileActionCopy a = Action("/", "/out");
  a.set_dircopycontents(true);
  a.add_include_patterns("*.txt");
  a.add_include_patterns("dir");
  a.add_exclude_patterns("bar.txt");
  a.add_exclude_patterns("dir/sub");
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_EQ(ListTree(dst_), (V{"out/", "out/dir/", "out/dir/a", "out/foo.txt"}));
  pb::FileActionCopy bad = Action("/", "/out2");
  bad.add_exclude_patterns("[");
  EXPECT_EQ(Copy(bad).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CopyActionTest, TypeConflictsAndAlwaysReplace) {
  MakeDir(dst_ + "/x/foo.txt");
  absl::Status s = Copy(Action("foo.txt", "/x/foo.txt/"));
  EXPECT_TRUE(s.ok()) << s;  // copied inside the directory
  MakeDir(dst_ + "/y");
  WriteFile(dst_ + "/y/dir", "a file where the dir goes");
  pb::FileActionCopy a = Action("dir", "/y");
  EXPECT_EQ(Copy(a).code(), absl::StatusCode::kFailedPrecondition);
  a.set_alwaysreplaceexistingdestpaths(true);
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_EQ(ReadFile(dst_ + "/y/dir/sub/b"), "b");
}

TEST_F(CopyActionTest, HardLinksKeptWithinTheCopiedSet) {
  ASSERT_EQ(link((src_ + "/dir/a").c_str(), (src_ + "/dir/sub/a-link").c_str()), 0);
  ASSERT_TRUE(Copy(Action("dir", "/d")).ok());
  EXPECT_EQ(Lstat(dst_ + "/d/a").st_ino, Lstat(dst_ + "/d/sub/a-link").st_ino);
}

// Writes a gzip'd tar with the given (name, content) entries; a content
// starting with "->" makes a symlink.
void WriteTarGz(const std::string& path,
                const std::vector<std::pair<std::string, std::string>>& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& [name, content] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_mtime(e, 1500000000, 0);
    if (content.rfind("->", 0) == 0) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_perm(e, 0777);
      archive_entry_set_symlink(e, content.substr(2).c_str());
      archive_write_header(a, e);
    } else if (!name.empty() && name.back() == '/') {
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0750);
      archive_write_header(a, e);
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0640);
      archive_entry_set_size(e, content.size());
      archive_write_header(a, e);
      archive_write_data(a, content.data(), content.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

TEST_F(CopyActionTest, UnpackExtractsArchivesIntoDest) {
  WriteTarGz(src_ + "/layer.tar.gz", {{"./", ""},
                                      {"etc/", ""},
                                      {"etc/conf", "x=1"},
                                      {"/abs/file", "abs"},
                                      {"etc/link", "->/etc/conf"}});
  pb::FileActionCopy a = Action("layer.tar.gz", "/opt/app");
  a.set_attemptunpackdockercompatibility(true);
  ASSERT_TRUE(Copy(a, Ownership{5, 5}).ok());
  EXPECT_EQ(ListTree(dst_), (V{"opt/", "opt/app/", "opt/app/abs/", "opt/app/abs/file",
                               "opt/app/etc/", "opt/app/etc/conf", "opt/app/etc/link->/etc/conf"}));
  struct stat st = Lstat(dst_ + "/opt/app/etc/conf");
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 5u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(Lstat(dst_ + "/opt/app/etc").st_mode & 07777, 0750u);
}

TEST_F(CopyActionTest, UnpackCopiesNonArchivesNormally) {
  pb::FileActionCopy a = Action("foo.txt", "/plain");
  a.set_attemptunpackdockercompatibility(true);
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_EQ(ReadFile(dst_ + "/plain"), "foo");
}

TEST_F(CopyActionTest, UnpackRejectsEntriesEscapingDest) {
  WriteTarGz(src_ + "/evil.tgz", {{"../../evil", "pwned"}});
  pb::FileActionCopy a = Action("evil.tgz", "/x");
  a.set_attemptunpackdockercompatibility(true);
  absl::Status s = Copy(a);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(Exists(base_ + "/evil"));
  EXPECT_FALSE(Exists(dst_ + "/../evil"));
}

TEST_F(CopyActionTest, UnpackConfinesWritesThroughArchiveSymlinks) {
  // The first entry plants an absolute symlink; the second writes through
  // it. Inside the destination "/" means the destination itself.
  WriteTarGz(src_ + "/sneaky.tgz", {{"up", "->/"}, {"up/inside", "ok"}});
  pb::FileActionCopy a = Action("sneaky.tgz", "/d");
  a.set_attemptunpackdockercompatibility(true);
  ASSERT_TRUE(Copy(a).ok());
  EXPECT_EQ(ReadFile(dst_ + "/d/inside"), "ok");
}

}  // namespace
}  // namespace kiln::ops
