// The control service in process, driven by hand-made client messages:
// the protocol's bad inputs, Status, counters, and a client that leaves.
#include "gateway/control/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/control/client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"
#include "sdk/llb/llb.h"

namespace kiln::controlrpc {
namespace {

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = absl::StrCat(t ? t : "/tmp", "/", name);
  (void)system(("rm -rf '" + d + "' && mkdir -p '" + d + "'").c_str());
  return d;
}

using Stream = grpc::ClientReaderWriter<cpb::SolveClientMessage, cpb::SolveServerMessage>;

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir("root");
    auto e = engine::Engine::Open({root_, "native", 2}, &registry_);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    service_ = std::make_unique<ControlServer>(engine_.get(), root_);
    char dir[] = "/tmp/kiln-ctl-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    sock_dir_ = dir;
    grpc::ServerBuilder b;
    b.AddListeningPort("unix://" + sock_dir_ + "/s", grpc::InsecureServerCredentials());
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = cpb::Control::NewStub(
        grpc::CreateChannel("unix://" + sock_dir_ + "/s", grpc::InsecureChannelCredentials()));
    ctx_dir_ = TempDir("ctx");
    std::ofstream(ctx_dir_ + "/a.txt") << "alpha\n";
    auto def = llb::Marshal(llb::Local("context"));
    ASSERT_TRUE(def.ok());
    def_ = *def;
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    service_.reset();
    (void)system(("rm -rf " + sock_dir_).c_str());
  }

  cpb::SolveClientMessage Request() const {
    cpb::SolveClientMessage m;
    *m.mutable_request()->mutable_definition() = def_;
    (*m.mutable_request()->mutable_locals())["context"] = "test:" + ctx_dir_;
    return m;
  }

  // Reads until a message of `kind`; false when the stream ends first.
  static bool ReadUntil(Stream* s, cpb::SolveServerMessage::MsgCase kind,
                        cpb::SolveServerMessage* m) {
    while (s->Read(m)) {
      if (m->msg_case() == kind) return true;
    }
    return false;
  }

  // Runs a build whose context answer is `entries` (and `data` for any
  // wants); returns the daemon's result.
  cpb::SolveDone BuildWith(const std::vector<cpb::ContextEntry>& entries,
                           const std::map<std::string, std::string>& data) {
    grpc::ClientContext ctx;
    auto s = stub_->Solve(&ctx);
    EXPECT_TRUE(s->Write(Request()));
    cpb::SolveServerMessage m;
    cpb::SolveDone done;
    while (s->Read(&m)) {
      if (m.has_context()) {
        cpb::SolveClientMessage reply;
        reply.mutable_entries()->set_id(m.context().id());
        for (const auto& e : entries) *reply.mutable_entries()->add_entries() = e;
        reply.mutable_entries()->set_last(true);
        s->Write(reply);
      } else if (m.has_wants()) {
        for (const std::string& p : m.wants().paths()) {
          cpb::SolveClientMessage reply;
          reply.mutable_data()->set_id(m.wants().id());
          reply.mutable_data()->set_path(p);
          auto it = data.find(p);
          reply.mutable_data()->set_data(it == data.end() ? "" : it->second);
          reply.mutable_data()->set_last(true);
          s->Write(reply);
        }
      } else if (m.has_done()) {
        done = m.done();
        break;
      }
    }
    s->WritesDone();
    EXPECT_TRUE(s->Finish().ok());
    return done;
  }

  static cpb::ContextEntry File(const std::string& path, const std::string& content) {
    cpb::ContextEntry e;
    e.set_path(path);
    e.set_mode(S_IFREG | 0644);
    e.set_size(content.size());
    e.set_mtime_ns(1);
    e.set_digest(Sha256Hex(content));
    return e;
  }

  frontend::Registry registry_;
  std::string root_, sock_dir_, ctx_dir_;
  pb::Definition def_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<ControlServer> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<cpb::Control::Stub> stub_;
};

TEST_F(ControlServerTest, TheFirstMessageMustBeTheRequest) {
  grpc::ClientContext ctx;
  auto s = stub_->Solve(&ctx);
  cpb::SolveClientMessage m;
  m.mutable_entries()->set_id(1);
  s->Write(m);
  s->WritesDone();
  grpc::Status st = s->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "the first message of a Solve must be its request");
}

TEST_F(ControlServerTest, EntriesClimbingOutOfTheMirrorAreRefused) {
  cpb::SolveDone done = BuildWith({File("../../escaped", "x")}, {{"../../escaped", "x"}});
  EXPECT_EQ(done.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(absl::StrContains(done.message(), "\"../../escaped\"")) << done.message();
  EXPECT_NE(access((root_ + "/escaped").c_str(), F_OK), 0);
  cpb::ContextEntry abs = File("/etc/x", "x");
  done = BuildWith({abs}, {{"/etc/x", "x"}});
  EXPECT_EQ(done.code(), static_cast<int>(absl::StatusCode::kInvalidArgument)) << done.message();
}

TEST_F(ControlServerTest, ContentThatIsNotItsDigestIsRefused) {
  cpb::SolveDone done = BuildWith({File("a.txt", "alpha\n")}, {{"a.txt", "forged\n"}});
  EXPECT_EQ(done.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(absl::StrContains(done.message(), "does not match its digest")) << done.message();
  // The daemon is fine: the honest build works, and then sends nothing.
  done = BuildWith({File("a.txt", "alpha\n")}, {{"a.txt", "alpha\n"}});
  EXPECT_EQ(done.code(), 0) << done.message();
  EXPECT_EQ(done.context_files_sent(), 1);
  done = BuildWith({File("a.txt", "alpha\n")}, {});
  EXPECT_EQ(done.code(), 0) << done.message();
  EXPECT_EQ(done.context_files_sent(), 0);
  EXPECT_EQ(done.context_files_unchanged(), 1);
  EXPECT_EQ(service_->stats().context_files_sent, 2);  // the forged file travelled too
}

TEST_F(ControlServerTest, AClientThatLeavesCancelsItsBuild) {
  {
    grpc::ClientContext ctx;
    auto s = stub_->Solve(&ctx);
    s->Write(Request());
    cpb::SolveServerMessage m;
    ASSERT_TRUE(ReadUntil(s.get(), cpb::SolveServerMessage::kContext, &m));
    EXPECT_EQ(service_->running(), 1);
    ctx.TryCancel();  // and never answers
    s->Finish();
  }
  for (int i = 0; i < 200 && service_->running() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(service_->running(), 0);
}

TEST_F(ControlServerTest, StatusFollowsARunningBuild) {
  grpc::ClientContext ctx;
  auto s = stub_->Solve(&ctx);
  s->Write(Request());
  cpb::SolveServerMessage m;
  ASSERT_TRUE(ReadUntil(s.get(), cpb::SolveServerMessage::kRef, &m));
  std::string ref = m.ref();
  std::vector<cpb::ProgressEvent> seen;
  std::thread follower([&] {
    grpc::ClientContext sctx;
    cpb::StatusRequest req;
    req.set_ref(ref);
    auto reader = stub_->Status(&sctx, req);
    cpb::ProgressEvent e;
    while (reader->Read(&e)) seen.push_back(e);
    EXPECT_TRUE(reader->Finish().ok());
  });
  ASSERT_TRUE(ReadUntil(s.get(), cpb::SolveServerMessage::kContext, &m));
  cpb::SolveClientMessage reply;
  reply.mutable_entries()->set_id(m.context().id());
  *reply.mutable_entries()->add_entries() = File("a.txt", "alpha\n");
  reply.mutable_entries()->set_last(true);
  s->Write(reply);
  ASSERT_TRUE(ReadUntil(s.get(), cpb::SolveServerMessage::kWants, &m));
  cpb::SolveClientMessage data;
  data.mutable_data()->set_id(m.wants().id());
  data.mutable_data()->set_path("a.txt");
  data.mutable_data()->set_data("alpha\n");
  data.mutable_data()->set_last(true);
  s->Write(data);
  ASSERT_TRUE(ReadUntil(s.get(), cpb::SolveServerMessage::kDone, &m));
  EXPECT_EQ(m.done().code(), 0) << m.done().message();
  s->WritesDone();
  EXPECT_TRUE(s->Finish().ok());
  follower.join();
  bool completed = false;
  for (const auto& e : seen) completed |= e.kind() == cpb::ProgressEvent::COMPLETED;
  EXPECT_TRUE(completed) << seen.size();

  grpc::ClientContext gone;
  cpb::StatusRequest req;
  req.set_ref(ref);
  auto reader = stub_->Status(&gone, req);
  cpb::ProgressEvent e;
  EXPECT_FALSE(reader->Read(&e));
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControlServerTest, WorkersAndDiskUsage) {
  grpc::ClientContext c1;
  cpb::ListWorkersResponse w;
  ASSERT_TRUE(stub_->ListWorkers(&c1, cpb::ListWorkersRequest(), &w).ok());
  ASSERT_EQ(w.workers_size(), 1);
  EXPECT_EQ(w.workers(0).max_parallelism(), 2);
  EXPECT_EQ(w.workers(0).platforms(0).os(), "linux");
  BuildWith({File("a.txt", "alpha\n")}, {{"a.txt", "alpha\n"}});
  grpc::ClientContext c2;
  cpb::DiskUsageResponse du;
  ASSERT_TRUE(stub_->DiskUsage(&c2, cpb::DiskUsageRequest(), &du).ok());
  EXPECT_GE(du.records_size(), 1);
  grpc::ClientContext c3;
  cpb::PruneRequest all;
  all.set_all(true);
  cpb::PruneResponse pr;
  ASSERT_TRUE(stub_->Prune(&c3, all, &pr).ok());
  EXPECT_GE(pr.records_removed(), 1);
  // The mirror went with --all: everything travels again.
  cpb::SolveDone done = BuildWith({File("a.txt", "alpha\n")}, {{"a.txt", "alpha\n"}});
  EXPECT_EQ(done.context_files_sent(), 1);
}

}  // namespace
}  // namespace kiln::controlrpc
