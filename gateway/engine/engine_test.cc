#include "gateway/engine/engine.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/llb.h"

namespace kiln::engine {
namespace {

namespace llb = kiln::llb;

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = std::string(t ? t : "/tmp") + "/" + name;
  mkdir(d.c_str(), 0755);
  return d;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A frontend whose "language" is a file listing names: it reads LIST from
// the context through the bridge and makes one file per line.
class ListFrontend : public frontend::Frontend {
 public:
  absl::StatusOr<frontend::Result> Build(frontend::Bridge& bridge) override {
    auto ctx = llb::Marshal(llb::Local("context"));
    if (!ctx.ok()) return ctx.status();
    auto ref = bridge.Solve(*ctx);
    if (!ref.ok()) return ref.status();
    auto list = bridge.ReadFile(*ref, bridge.Options().at("filename"));
    if (!list.ok()) return list.status();
    llb::FileAction actions;
    std::istringstream lines(*list);
    for (std::string line; std::getline(lines, line);) {
      actions = actions.Mkfile("/" + line, 0644, line + "\n");
    }
    frontend::Result result;
    KILN_ASSIGN_OR_RETURN(result.definition, llb::Marshal(llb::Scratch().File(actions)));
    return result;
  }
};

TEST(EngineTest, FrontendReadsTheContextThroughTheBridge) {
  std::string ctx = TempDir("ctx");
  std::ofstream(ctx + "/LIST") << "alpha\nbeta\n";
  frontend::Registry registry;
  registry.Register("list.v0", [] { return std::make_unique<ListFrontend>(); });
  auto engine = Engine::Open({TempDir("root"), "auto", 2}, &registry);
  ASSERT_TRUE(engine.ok()) << engine.status();
  BuildRequest req;
  req.frontend = "list.v0";
  req.frontend_options["filename"] = "LIST";
  req.locals["context"] = ctx;
  std::string out = TempDir("out");
  req.outputs.push_back({"local", {{"dest", out}}});
  progress::RecordingSink sink;
  auto r = (*engine)->Build(req, &sink, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Read(out + "/alpha"), "alpha\n");
  EXPECT_EQ(Read(out + "/beta"), "beta\n");

  req.frontend_options["filename"] = "MISSING";
  auto missing = (*engine)->Build(req, &sink, nullptr);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("MISSING"), std::string::npos) << missing.status();
}

TEST(EngineTest, UnknownFrontendNamesTheAlternatives) {
  frontend::Registry registry;
  auto engine = Engine::Open({TempDir("root2"), "auto", 1}, &registry);
  ASSERT_TRUE(engine.ok());
  BuildRequest req;
  req.frontend = "dockerfile.v0";
  auto r = (*engine)->Build(req, nullptr, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("--llb"), std::string::npos);
}

TEST(EngineTest, OutputSpecs) {
  auto local = ParseOutputSpec("type=local,dest=out");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->type, "local");
  EXPECT_EQ(ParseOutputSpec("out")->attrs["dest"], "out");
  EXPECT_EQ(ParseOutputSpec("type=tar,dest=-")->type, "tar");
  EXPECT_FALSE(ParseOutputSpec("type=zip,dest=x").ok());
  EXPECT_FALSE(ParseOutputSpec("type=local").ok());
  EXPECT_FALSE(ParseOutputSpec("type=local,dest=x,color=red").ok());
  EXPECT_FALSE(ParseOutputSpec("type=local,garbage").ok());
  EXPECT_TRUE(ParseOutputSpec("type=oci,dest=x.tar").ok());
  EXPECT_TRUE(ParseOutputSpec("type=docker,dest=x.tar,name=app:1").ok());
  EXPECT_FALSE(ParseOutputSpec("type=docker,dest=x.tar").ok());  // docker needs a name
  EXPECT_TRUE(ParseOutputSpec("type=image,name=app").ok());
  EXPECT_FALSE(ParseOutputSpec("type=image,dest=x").ok());
}

}  // namespace
}  // namespace kiln::engine
