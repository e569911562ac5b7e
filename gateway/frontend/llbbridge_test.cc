#include "gateway/frontend/llbbridge.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "frontends/lua/frontend.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel_posix.h"
#include "gtest/gtest.h"
#include "sdk/client/client.h"
#include "sdk/client/wire.h"
#include "sdk/frontend/testing.h"
#include "sdk/llb/llb.h"
#include "sdk/llb/testing.h"

namespace kiln::gatewayrpc {
namespace {

// Maps serialize in any order; compare definitions deterministically.
std::string Bytes(const pb::Definition& def) { return *llb::SerializeDeterministic(def); }

// A server on one end of a socketpair, a Client on the other, and a
// FakeBridge behind the server.
class LlbBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.AddBusybox();
    fake_.locals["context"] = {{"MODULES", "a\nb\n"}, {"src/x.txt", "xx"}};
    fake_.options = {{"filename", "build.lua"}, {"build-arg:V", "1"}};
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    absl::StatusOr<std::unique_ptr<grpc::Server>> server = ServeOnFd(&service_, sv[0]);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = client::ChannelFromFd(sv[1]);
    client_ = std::make_unique<client::Client>(channel_, fake_.options);
    ASSERT_TRUE(client_->Ping().ok());
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown();
  }

  std::string SolveContext() {
    absl::StatusOr<pb::Definition> def = llb::Marshal(llb::Local("context"));
    EXPECT_TRUE(def.ok());
    absl::StatusOr<std::string> ref = client_->Solve(*def);
    EXPECT_TRUE(ref.ok()) << ref.status();
    return ref.ok() ? *ref : "";
  }

  frontend::FakeBridge fake_;
  LlbBridgeServer service_{fake_};
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(LlbBridgeTest, PingListsWhatKilnServes) {
  EXPECT_TRUE(client_->HasCap("readdir"));
  EXPECT_TRUE(client_->HasCap("frontend.inputs"));
  EXPECT_TRUE(client_->HasCap("gateway.solve.evaluate"));
  EXPECT_FALSE(client_->HasCap("gateway.exec"));
  // Every LLB capability the SDK's builder can ask for but the insecure
  // security mode.
  llb::RunOptions run;
  run.shlex = "true";
  llb::Mount cache;
  cache.target = "/c";
  cache.cache = llb::CacheMount{"c"};
  run.mounts.push_back(cache);
  llb::State all = llb::Merge(
      {llb::Image("busybox").Run(run).Root(), llb::Scratch().File(llb::Symlink("/a", "/b"))});
  EXPECT_TRUE(client_->CheckLlbCaps(*llb::Marshal(all)).ok());
  llb::Mount ssh;
  ssh.target = "/s";
  ssh.ssh = llb::SshMount{};
  run.mounts = {ssh};
  EXPECT_TRUE(client_->CheckLlbCaps(*llb::Marshal(llb::Image("busybox").Run(run).Root())).ok());
  run.security = pb::INSECURE;
  absl::Status st_sec = client_->CheckLlbCaps(*llb::Marshal(llb::Image("busybox").Run(run).Root()));
  EXPECT_EQ(st_sec.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(st_sec.message(), "exec.meta.security")) << st_sec;
  absl::Status st = client_->RequireCap("gateway.exec", "running a container");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(st.message(), "running a container")) << st;
}

TEST_F(LlbBridgeTest, SolveAndReadFiles) {
  std::string ref = SolveContext();
  ASSERT_FALSE(ref.empty());
  absl::StatusOr<std::string> data = client_->ReadFile(ref, "MODULES");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(*data, "a\nb\n");
  ASSERT_EQ(fake_.solved.size(), 1u);  // Evaluate: solved at once, and once

  absl::StatusOr<std::vector<frontend::FileStat>> dir = client_->ReadDir(ref, "src", "");
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_EQ(dir->size(), 1u);
  EXPECT_EQ((*dir)[0].path, "x.txt");
  EXPECT_EQ((*dir)[0].mode, static_cast<uint32_t>(S_IFREG | 0644));  // through Go's FileMode
  absl::StatusOr<frontend::FileStat> st = client_->StatFile(ref, "src");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(S_ISDIR(st->mode));
  EXPECT_EQ(st->mode & 0777, 0755u);

  absl::StatusOr<std::string> missing = client_->ReadFile(ref, "nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::string> bad = client_->ReadFile("not-a-ref", "MODULES");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "not-a-ref")) << bad.status();
  EXPECT_EQ(fake_.solved.size(), 1u);
}

TEST_F(LlbBridgeTest, ResultsAreLazyUntilRead) {
  moby::buildkit::v1::frontend::SolveRequest req;
  *req.mutable_definition() = *llb::Marshal(llb::Local("context"));
  moby::buildkit::v1::frontend::SolveResponse resp;
  auto stub = moby::buildkit::v1::frontend::LLBBridge::NewStub(channel_);
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub->Solve(&ctx, req, &resp).ok());
  EXPECT_TRUE(fake_.solved.empty()) << "not evaluated, not read: not solved";
  absl::StatusOr<std::string> data = client_->ReadFile(resp.ref(), "src/x.txt");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(*data, "xx");
  EXPECT_EQ(fake_.solved.size(), 1u);

  // A range.
  moby::buildkit::v1::frontend::ReadFileRequest rf;
  rf.set_ref(resp.ref());
  rf.set_filepath("MODULES");
  rf.mutable_range()->set_offset(2);
  rf.mutable_range()->set_length(1);
  moby::buildkit::v1::frontend::ReadFileResponse rr;
  grpc::ClientContext ctx2;
  ASSERT_TRUE(stub->ReadFile(&ctx2, rf, &rr).ok());
  EXPECT_EQ(rr.data(), "b");
}

TEST_F(LlbBridgeTest, ImagesInputsWarningsAndFrontends) {
  absl::StatusOr<frontend::ResolvedImage> img = client_->ResolveImageConfig("busybox");
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->ref, "docker.io/library/busybox:latest");
  EXPECT_EQ(img->digest, "sha256:" + std::string(64, 'b'));
  EXPECT_TRUE(absl::StrContains(img->config, "PATH=/bin"));
  EXPECT_EQ(client_->ResolveImageConfig("nothere").status().code(), absl::StatusCode::kNotFound);

  client_->Warn("look out");
  ASSERT_EQ(fake_.warnings.size(), 1u);
  EXPECT_EQ(fake_.warnings[0], "look out");

  frontend::Result inner;
  inner.definition = *llb::Marshal(llb::Scratch().File(llb::Mkfile("/f", 0644, "x")));
  inner.metadata[frontend::kImageConfigKey] = "{}";
  fake_.frontend_result = inner;
  std::map<std::string, pb::Definition> inputs = {{"context", *llb::Marshal(llb::Local("c"))}};
  absl::StatusOr<frontend::Result> r = client_->CallFrontend("yaml.v0", {{"k", "v"}}, inputs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Bytes(r->definition), Bytes(inner.definition));
  EXPECT_EQ(r->metadata.at(frontend::kImageConfigKey), "{}");
  ASSERT_EQ(fake_.calls.size(), 1u);
  EXPECT_EQ(fake_.calls[0].name, "yaml.v0");
  EXPECT_EQ(fake_.calls[0].options.at("k"), "v");
  EXPECT_EQ(fake_.calls[0].inputs.count("context"), 1u);
  fake_.frontend_result = absl::NotFoundError("frontend \"x.v0\" is not available");
  r = client_->CallFrontend("x.v0", {}, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "x.v0")) << r.status();
}

TEST_F(LlbBridgeTest, InputsComeFromTheServer) {
  fake_.inputs["dockerfile"] = *llb::Marshal(llb::Local("df"));
  // A fresh client: Inputs are read once.
  client::Client c(channel_, {});
  ASSERT_EQ(c.Inputs().size(), 1u);
  EXPECT_EQ(c.Inputs().count("dockerfile"), 1u);
}

TEST_F(LlbBridgeTest, UnsupportedCallsSaySo) {
  auto stub = moby::buildkit::v1::frontend::LLBBridge::NewStub(channel_);
  grpc::ClientContext ctx;
  moby::buildkit::v1::frontend::NewContainerRequest req;
  moby::buildkit::v1::frontend::NewContainerResponse resp;
  grpc::Status st = stub->NewContainer(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(absl::StrContains(st.error_message(), "NewContainer")) << st.error_message();
}

TEST_F(LlbBridgeTest, ReturnHandsOverTheResultOrTheError) {
  EXPECT_FALSE(service_.HasReturned());
  EXPECT_EQ(service_.Returned().status().code(), absl::StatusCode::kFailedPrecondition);
  frontend::Result r;
  r.definition = *llb::Marshal(llb::Image("busybox"));
  r.metadata[frontend::kImageConfigKey] = "{\"a\":1}";
  ASSERT_TRUE(client_->Return(r).ok());
  ASSERT_TRUE(service_.HasReturned());
  absl::StatusOr<frontend::Result> got = service_.Returned();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Bytes(got->definition), Bytes(r.definition));
  EXPECT_EQ(got->metadata.at(frontend::kImageConfigKey), "{\"a\":1}");
  // Twice is refused; the first result stands.
  EXPECT_FALSE(client_->Return(absl::InternalError("late")).ok());
  EXPECT_TRUE(service_.Returned().ok());
}

TEST_F(LlbBridgeTest, ReturnedErrorsKeepTheirCodeAndMessage) {
  ASSERT_TRUE(client_->Return(absl::InvalidArgumentError("build.lua:3: boom")).ok());
  absl::StatusOr<frontend::Result> got = service_.Returned();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(), "build.lua:3: boom");
}

// A built-in frontend runs the same over gRPC as in-process.
TEST_F(LlbBridgeTest, TheLuaFrontendOverTheWireGivesTheSameResult) {
  fake_.locals["dockerfile"]["build.lua"] =
      "local ctx = kiln.context()\n"
      "local names = kiln.read_file(ctx, 'MODULES')\n"
      "local n = #kiln.read_dir(ctx, 'src')\n"
      "return kiln.result(kiln.image('busybox'):run('echo ' .. names:gsub('\\n', ' ') .. n)"
      ":root(), {env = {V = kiln.args.V}})\n";
  absl::StatusOr<frontend::Result> direct = luafrontend::NewFrontend()->Build(fake_);
  ASSERT_TRUE(direct.ok()) << direct.status();
  absl::StatusOr<frontend::Result> wired = luafrontend::NewFrontend()->Build(*client_);
  ASSERT_TRUE(wired.ok()) << wired.status();
  EXPECT_EQ(Bytes(wired->definition), Bytes(direct->definition));
  EXPECT_EQ(wired->metadata, direct->metadata);
}

TEST(OptionsFromEnvTest, ReadsBuildKitsVariables) {
  char a[] = "BUILDKIT_FRONTEND_OPT_0=filename=Dockerfile";
  char b[] = "BUILDKIT_FRONTEND_OPT_1=build-arg:X=a=b";
  char c[] = "BUILDKIT_FRONTEND_OPT_2=novalue";
  char d[] = "PATH=/bin";
  char* env[] = {a, b, c, d, nullptr};
  std::map<std::string, std::string> opts = client::OptionsFromEnv(env);
  EXPECT_EQ(opts.size(), 3u);
  EXPECT_EQ(opts["filename"], "Dockerfile");
  EXPECT_EQ(opts["build-arg:X"], "a=b");
  EXPECT_EQ(opts["novalue"], "");
}

TEST(WireTest, FileModesRoundTripThroughGo) {
  for (uint32_t m :
       {S_IFREG | 0644u, S_IFDIR | 0755u, S_IFLNK | 0777u, S_IFREG | 04755u, S_IFDIR | 01777u,
        S_IFIFO | 0600u, S_IFSOCK | 0700u, S_IFCHR | 0620u, S_IFBLK | 0660u}) {
    EXPECT_EQ(client::UnixFileMode(client::GoFileMode(m)), m) << std::oct << m;
  }
  EXPECT_EQ(client::GoFileMode(S_IFDIR | 0755), (1u << 31) | 0755);
}

}  // namespace
}  // namespace kiln::gatewayrpc
