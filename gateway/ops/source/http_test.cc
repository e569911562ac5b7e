#include "gateway/ops/source/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/ops/source/test_http_server.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"

namespace kiln::ops {
namespace {

namespace fs = std::filesystem;

std::string MakeTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/http-XXXXXX");
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A port nothing listens on: bound, then closed again.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class FetchHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TestHttpServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    dir_ = MakeTempDir();
  }

  absl::StatusOr<HttpResult> Fetch(const std::string& path, HttpRequest req = {}) {
    req.url = server_->Url(path);
    return FetchHttp(req, dir_);
  }

  std::unique_ptr<TestHttpServer> server_;
  std::string dir_;
};

TEST_F(FetchHttpTest, DownloadsAndVerifiesChecksum) {
  server_->Set("/files/hello.txt", "hello world\n");
  HttpRequest req;
  req.expected_checksum = DigestOf("hello world\n");
  uint64_t progress = 0;
  req.on_progress = [&](uint64_t n) { progress = n; };
  absl::StatusOr<HttpResult> r = Fetch("/files/hello.txt", req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->digest, DigestOf("hello world\n"));
  EXPECT_EQ(r->size, 12u);
  EXPECT_EQ(progress, 12u);
  EXPECT_EQ(r->filename, "hello.txt");
  EXPECT_FALSE(r->last_modified.has_value());
  EXPECT_EQ(List(dir_), std::vector<std::string>{"hello.txt"});
  EXPECT_EQ(ReadAll(dir_ + "/hello.txt"), "hello world\n");
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/hello.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);  // BuildKit's default
  EXPECT_EQ(st.st_mtime, 0);             // no Last-Modified: the epoch
}

TEST_F(FetchHttpTest, EmptyBodyMakesEmptyFile) {
  server_->Set("/empty", "");
  absl::StatusOr<HttpResult> r = Fetch("/empty");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->digest, DigestOf(""));
  EXPECT_EQ(ReadAll(dir_ + "/empty"), "");
}

TEST_F(FetchHttpTest, ChecksumMismatchLeavesNothing) {
  server_->Set("/a.bin", "actual");
  HttpRequest req;
  req.expected_checksum = DigestOf("expected");
  absl::StatusOr<HttpResult> r = Fetch("/a.bin", req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            absl::StrCat("checksum mismatch for ", server_->Url("/a.bin"), ": expected ",
                         DigestOf("expected"), ", got ", DigestOf("actual")));
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(FetchHttpTest, NotFoundNamesUrlAndStatus) {
  absl::StatusOr<HttpResult> r = Fetch("/missing.tgz");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find(server_->Url("/missing.tgz")), std::string::npos);
  EXPECT_NE(r.status().message().find("404"), std::string::npos);
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(FetchHttpTest, ErrorStatusesMapToCodes) {
  server_->Set("/forbidden", {403, "no", {}, -1});
  server_->Set("/broken", {503, "down", {}, -1});
  EXPECT_EQ(Fetch("/forbidden").status().code(), absl::StatusCode::kPermissionDenied);
  absl::Status s = Fetch("/broken").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("503"), std::string::npos);
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(FetchHttpTest, FollowsRedirectAndNamesFileAfterRequestedUrl) {
  server_->Set("/old/tool", {302, "", {{"Location", "/new/tool-1.2"}}, -1});
  server_->Set("/new/tool-1.2", "binary");
  absl::StatusOr<HttpResult> r = Fetch("/old/tool");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->filename, "tool");  // BuildKit names it after the source URL
  EXPECT_EQ(ReadAll(dir_ + "/tool"), "binary");
}

TEST_F(FetchHttpTest, RedirectLoopFails) {
  server_->Set("/loop", {302, "", {{"Location", "/loop"}}, -1});
  absl::Status s = Fetch("/loop").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(FetchHttpTest, RedirectToOtherSchemeIsRefused) {
  server_->Set("/evil", {302, "", {{"Location", "file:///etc/passwd"}}, -1});
  absl::Status s = Fetch("/evil").status();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(FetchHttpTest, ConnectionRefusedIsFastAndClear) {
  HttpRequest req;
  req.url = absl::StrCat("http://127.0.0.1:", ClosedPort(), "/x");
  absl::Time start = absl::Now();
  absl::Status s = FetchHttp(req, dir_).status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(req.url), std::string::npos) << s;
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(FetchHttpTest, StalledServerHitsLowSpeedTimeout) {
  server_->Set("/slow", {200, "0123456789", {}, 3});
  HttpRequest req;
  req.low_speed_time = absl::Seconds(1);
  absl::Time start = absl::Now();
  absl::Status s = Fetch("/slow", req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(FetchHttpTest, CancelStopsStalledDownload) {
  server_->Set("/slow", {200, "0123456789", {}, 3});
  // Cancel only once the first bytes have arrived, mid-body.
  std::atomic<bool> started{false};
  HttpRequest req;
  req.url = server_->Url("/slow");
  req.on_progress = [&](uint64_t n) { started = n >= 3; };
  absl::Time start = absl::Now();
  absl::Status s = FetchHttp(req, dir_, [&] { return started.load(); }).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(FetchHttpTest, AppliesPermOwnerAndLastModified) {
  server_->Set("/tool", {200,
                         "#!/bin/sh\n",
                         {{"Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"}, {"ETag", "W/\"v1\""}},
                         -1});
  HttpRequest req;
  req.perm = 04755;
  req.uid = 1234;
  req.gid = 5678;
  absl::StatusOr<HttpResult> r = Fetch("/tool", req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->last_modified, 1445412480);
  EXPECT_EQ(r->etag, "\"v1\"");
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);  // set-uid survives the chown
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mtime, 1445412480);
}

TEST_F(FetchHttpTest, ContentDispositionAndExplicitNames) {
  server_->Set("/dl",
               {200, "pdf", {{"Content-Disposition", "attachment; filename=\"report.pdf\""}}, -1});
  absl::StatusOr<HttpResult> r = Fetch("/dl");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->filename, "report.pdf");
  HttpRequest req;
  req.filename = "../../etc/renamed";
  r = Fetch("/dl", req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->filename, "renamed");
  EXPECT_EQ(List(dir_), (std::vector<std::string>{"renamed", "report.pdf"}));
}

TEST_F(FetchHttpTest, ReplacesExistingFile) {
  std::ofstream(dir_ + "/f") << "old contents";
  server_->Set("/f", "new");
  ASSERT_TRUE(Fetch("/f").ok());
  EXPECT_EQ(ReadAll(dir_ + "/f"), "new");
  EXPECT_EQ(List(dir_), std::vector<std::string>{"f"});
}

TEST_F(FetchHttpTest, SendsUserAgentAndCustomHeaders) {
  server_->Set("/h", "x");
  HttpRequest req;
  req.headers = {{"Accept", "application/json"}, {"User-Agent", "custom/1"}};
  ASSERT_TRUE(Fetch("/h?q=1", req).ok());
  std::vector<TestHttpServer::Request> seen = server_->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/h?q=1");
  EXPECT_EQ(seen[0].Header("accept"), "application/json");
  EXPECT_EQ(seen[0].Header("user-agent"), "custom/1");
}

TEST_F(FetchHttpTest, RejectsBadInput) {
  HttpRequest req;
  for (const char* url : {"ftp://127.0.0.1/x", "file:///etc/passwd", "not a url"}) {
    req.url = url;
    EXPECT_EQ(FetchHttp(req, dir_).status().code(), absl::StatusCode::kInvalidArgument) << url;
  }
  req.url = server_->Url("/x");
  req.expected_checksum = "md5:abc";
  EXPECT_EQ(FetchHttp(req, dir_).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(server_->requests().empty());
}

TEST(HttpFileNameTest, FollowsBuildKitRules) {
  EXPECT_EQ(HttpFileName("http://h/a/b.tar.gz", "", ""), "b.tar.gz");
  EXPECT_EQ(HttpFileName("http://h/a/b.tar.gz?x=1#frag", "", ""), "b.tar.gz");
  EXPECT_EQ(HttpFileName("http://h/dir/", "", ""), "dir");
  EXPECT_EQ(HttpFileName("http://h/a%20b", "", ""), "a b");
  EXPECT_EQ(HttpFileName("http://h/", "", ""), "download");
  EXPECT_EQ(HttpFileName("http://h", "", ""), "download");
  EXPECT_EQ(HttpFileName("http://h/x", "..", ""), "download");
  EXPECT_EQ(HttpFileName("http://h/x", " a/b/c.txt ", ""), "c.txt");
  EXPECT_EQ(HttpFileName("http://h/x", "bad\tname", ""), "download");
  EXPECT_EQ(HttpFileName("http://h/x", "", "attachment; filename=plain.txt"), "plain.txt");
  EXPECT_EQ(HttpFileName("http://h/x", "", "attachment; filename=\"../up.txt\""), "up.txt");
  EXPECT_EQ(HttpFileName("http://h/x", "",
                         "attachment; filename=\"fallback\"; filename*=UTF-8''na%C3%AFve.txt"),
            "na\xC3\xAFve.txt");
  // A name ending in '/' or an unparsable header falls back to the URL.
  EXPECT_EQ(HttpFileName("http://h/x", "", "attachment; filename=\"d/\""), "x");
  EXPECT_EQ(HttpFileName("http://h/x", "", "attachment; filename=a b"), "x");
  EXPECT_EQ(HttpFileName("http://h/x", "name", "attachment; filename=cd"), "name");
}

}  // namespace
}  // namespace kiln::ops
