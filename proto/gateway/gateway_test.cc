// The gateway protos against the wire bytes BuildKit's field numbers give:
// each expected string below is hand-encoded from upstream's
// frontend/gateway/pb/gateway.proto (and the protos it imports), so a
// renumbered or retyped field fails here.
#include <google/protobuf/descriptor.h>

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "proto/gateway/gateway.grpc.pb.h"
#include "proto/gateway/gateway.pb.h"

namespace moby::buildkit::v1::frontend {
namespace {

std::string Bytes(const char* s, size_t n) { return std::string(s, n); }
#define WIRE(lit) Bytes(lit, sizeof(lit) - 1)

TEST(GatewayWireTest, ReadFileRequest) {
  ReadFileRequest r;
  r.set_ref("r");
  r.set_filepath("p");
  r.mutable_range()->set_offset(1);
  r.mutable_range()->set_length(2);
  r.set_mountindex(3);
  EXPECT_EQ(r.SerializeAsString(), WIRE("\x0a\x01r\x12\x01p\x1a\x04\x08\x01\x10\x02\x20\x03"));
}

TEST(GatewayWireTest, SolveRequestUsesUpstreamsGaps) {
  SolveRequest r;
  r.set_frontend("f");
  r.set_allowresultreturn(true);           // 5
  r.set_final(true);                       // 10
  r.set_evaluate(true);                    // 14
  r.add_sourcepolicies()->set_version(1);  // 15
  EXPECT_EQ(r.SerializeAsString(), WIRE("\x12\x01"
                                        "f\x28\x01\x50\x01\x70\x01\x7a\x02\x08\x01"));
}

TEST(GatewayWireTest, ResultAndReturn) {
  Result res;
  res.mutable_ref()->set_id("i");
  (*res.mutable_metadata())["k"] = "v";
  EXPECT_EQ(res.SerializeAsString(), WIRE("\x1a\x03\x0a\x01i\x52\x06\x0a\x01k\x12\x01v"));
  ReturnRequest ret;
  ret.mutable_error()->set_code(2);
  ret.mutable_error()->set_message("m");
  EXPECT_EQ(ret.SerializeAsString(), WIRE("\x12\x05\x08\x02\x12\x01m"));
}

TEST(GatewayWireTest, PingAnswerCapsAndWorkers) {
  PongResponse p;
  auto* cap = p.add_frontendapicaps();
  cap->set_id("x");
  cap->set_enabled(true);
  p.add_workers()->set_id("w");
  EXPECT_EQ(p.SerializeAsString(), WIRE("\x0a\x05\x0a\x01x\x10\x01\x1a\x03\x0a\x01w"));
}

TEST(GatewayWireTest, FilesImagesWarningsAndExec) {
  StatFileResponse st;
  st.mutable_stat()->set_path("a");
  st.mutable_stat()->set_mode(0755);
  st.mutable_stat()->set_size(5);
  EXPECT_EQ(st.SerializeAsString(), WIRE("\x0a\x08\x0a\x01"
                                         "a\x10\xed\x03\x28\x05"));
  ResolveImageConfigResponse img;
  img.set_digest("d");
  img.set_config("{}");
  img.set_ref("r");
  EXPECT_EQ(img.SerializeAsString(), WIRE("\x0a\x01"
                                          "d\x12\x02{}\x1a\x01r"));
  WarnRequest w;
  w.set_level(1);
  w.set_short_("s");
  EXPECT_EQ(w.SerializeAsString(), WIRE("\x10\x01\x1a\x01s"));
  ExecMessage e;
  e.set_processid("p");
  e.mutable_exit()->set_code(3);
  EXPECT_EQ(e.SerializeAsString(), WIRE("\x0a\x01p\x32\x02\x08\x03"));
}

TEST(GatewayServiceTest, NamesAndMethodsAreBuildKits) {
  EXPECT_STREQ(LLBBridge::service_full_name(), "moby.buildkit.v1.frontend.LLBBridge");
  const google::protobuf::ServiceDescriptor* s =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "moby.buildkit.v1.frontend.LLBBridge");
  ASSERT_NE(s, nullptr);
  std::set<std::string> methods;
  for (int i = 0; i < s->method_count(); ++i) methods.insert(s->method(i)->name());
  EXPECT_EQ(methods,
            (std::set<std::string>{"Evaluate", "ExecProcess", "Inputs", "NewContainer", "Ping",
                                   "ReadDir", "ReadDirContainer", "ReadFile", "ReadFileContainer",
                                   "ReleaseContainer", "ResolveImageConfig", "ResolveSourceMeta",
                                   "Return", "Solve", "StatFile", "StatFileContainer", "Warn"}));
  const google::protobuf::MethodDescriptor* exec = s->FindMethodByName("ExecProcess");
  EXPECT_TRUE(exec->client_streaming() && exec->server_streaming());
  EXPECT_EQ(s->FindMethodByName("Solve")->input_type()->full_name(),
            "moby.buildkit.v1.frontend.SolveRequest");
}

}  // namespace
}  // namespace moby::buildkit::v1::frontend
