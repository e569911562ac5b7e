#include "gateway/engine/engine.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gtest/gtest.h"
#include "sdk/base/digest.h"
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
    result.metadata[frontend::kImageConfigKey] =
        R"({"config":{"Cmd":["ls"]},"history":[{"created_by":"LIST","empty_layer":true}]})";
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

// The config and layer media types of the one image in OCI layout `tar`.
struct OciImage {
  nlohmann::json config;
  std::vector<std::string> media_types;
  std::vector<std::string> blobs;  // contents
};
OciImage ReadOci(const std::string& tar) {
  std::string dir = TempDir("oci");
  EXPECT_EQ(system(("tar -xf " + tar + " -C " + dir).c_str()), 0);
  auto blob = [&](const std::string& digest) {
    return Read(dir + "/blobs/sha256/" + digest.substr(7));
  };
  nlohmann::json index = nlohmann::json::parse(Read(dir + "/index.json"));
  nlohmann::json manifest = nlohmann::json::parse(blob(index["manifests"][0]["digest"]));
  OciImage out;
  out.config = nlohmann::json::parse(blob(manifest["config"]["digest"]));
  for (const auto& l : manifest["layers"]) {
    out.media_types.push_back(l["mediaType"]);
    out.blobs.push_back(blob(l["digest"]));
  }
  return out;
}

TEST(EngineTest, ImageOutputsTakeTheFrontendConfigAndACompression) {
  std::string ctx = TempDir("ctx3");
  std::ofstream(ctx + "/LIST") << "alpha\n";
  frontend::Registry registry;
  registry.Register("list.v0", [] { return std::make_unique<ListFrontend>(); });
  auto engine = Engine::Open({TempDir("root3"), "auto", 2}, &registry);
  ASSERT_TRUE(engine.ok()) << engine.status();
  BuildRequest req;
  req.frontend = "list.v0";
  req.frontend_options["filename"] = "LIST";
  req.locals["context"] = ctx;
  std::string out = TempDir("out3");
  for (const char* c : {"gzip", "zstd", "uncompressed"}) {
    req.outputs.push_back({"oci", {{"dest", out + "/" + c + ".tar"}, {"compression", c}}});
  }
  auto r = (*engine)->Build(req, nullptr, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  OciImage gz = ReadOci(out + "/gzip.tar"), zst = ReadOci(out + "/zstd.tar"),
           raw = ReadOci(out + "/uncompressed.tar");
  ASSERT_EQ(raw.blobs.size(), 1u);
  EXPECT_EQ(gz.media_types[0], "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(zst.media_types[0], "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(raw.media_types[0], "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(gz.blobs[0].substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(zst.blobs[0].substr(0, 4), "\x28\xb5\x2f\xfd");
  // The same layer whatever the compression: the diff ID is the raw tar's.
  EXPECT_EQ(raw.config["rootfs"]["diff_ids"][0], DigestOf(raw.blobs[0]));
  EXPECT_EQ(gz.config["rootfs"], zst.config["rootfs"]);
  // The frontend's config and history, with an entry added for the layer.
  EXPECT_EQ(gz.config["config"]["Cmd"], nlohmann::json({"ls"}));
  ASSERT_EQ(gz.config["history"].size(), 2u);
  EXPECT_EQ(gz.config["history"][0]["created_by"], "LIST");
  EXPECT_FALSE(gz.config["history"][1].value("empty_layer", false));
  EXPECT_FALSE(ParseOutputSpec("type=oci,dest=x,compression=lz4").ok());
}

TEST(EngineTest, LayerBlobsAreReusedUntilTheirLayerOrBlobIsGone) {
  std::string ctx = TempDir("ctx4"), root = TempDir("root4"), out = TempDir("out4");
  std::ofstream(ctx + "/LIST") << "alpha\n";
  frontend::Registry registry;
  registry.Register("list.v0", [] { return std::make_unique<ListFrontend>(); });
  auto engine = Engine::Open({root, "auto", 2}, &registry);
  ASSERT_TRUE(engine.ok()) << engine.status();
  BuildRequest req;
  req.frontend = "list.v0";
  req.frontend_options["filename"] = "LIST";
  req.locals["context"] = ctx;
  req.outputs.push_back({"oci", {{"dest", out + "/a.tar"}}});
  ASSERT_TRUE((*engine)->Build(req, nullptr, nullptr).ok());
  OciImage first = ReadOci(out + "/a.tar");
  ASSERT_EQ(first.blobs.size(), 1u);
  std::string layer_digest = "sha256:" + Sha256Hex(first.blobs[0]);
  // The memo names the stored blob; the second export reuses it.
  std::string meta = root + "/layer-meta";
  std::vector<std::string> ids;
  if (DIR* d = opendir(meta.c_str())) {
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ids.push_back(e->d_name);
    }
    closedir(d);
  }
  ASSERT_EQ(ids.size(), 1u);
  std::string id = ids[0];
  std::string memo = Read(meta + "/" + id + "/blob-v1-gzip-none");
  EXPECT_EQ(memo.substr(0, memo.find(' ')), layer_digest);
  req.outputs = {{"oci", {{"dest", out + "/b.tar"}}}};
  ASSERT_TRUE((*engine)->Build(req, nullptr, nullptr).ok());
  EXPECT_EQ(Read(out + "/a.tar"), Read(out + "/b.tar"));
  // A memo whose blob left the content store is not trusted.
  ASSERT_TRUE((*engine)->cache()->content()->Delete(layer_digest).ok());
  req.outputs = {{"oci", {{"dest", out + "/c.tar"}}}};
  ASSERT_TRUE((*engine)->Build(req, nullptr, nullptr).ok());
  EXPECT_EQ(ReadOci(out + "/c.tar").blobs, first.blobs);
  // Prune takes the memo with its layer.
  ASSERT_TRUE((*engine)->cache()->Prune(-1, absl::Seconds(5), false).ok());
  EXPECT_NE(access((meta + "/" + id).c_str(), F_OK), 0);
}

// ListFrontend's result with an image config of the wrong shape.
class BadConfigFrontend : public ListFrontend {
 public:
  absl::StatusOr<frontend::Result> Build(frontend::Bridge& bridge) override {
    KILN_ASSIGN_OR_RETURN(frontend::Result r, ListFrontend::Build(bridge));
    r.metadata[frontend::kImageConfigKey] = R"({"history":[{"empty_layer":"yes"}]})";
    return r;
  }
};

TEST(EngineTest, AFrontendConfigOfTheWrongShapeIsAnErrorAndWritesNothing) {
  std::string ctx = TempDir("ctx5"), out = TempDir("out5");
  std::ofstream(ctx + "/LIST") << "alpha\n";
  frontend::Registry registry;
  registry.Register("bad.v0", [] { return std::make_unique<BadConfigFrontend>(); });
  auto engine = Engine::Open({TempDir("root5"), "auto", 2}, &registry);
  ASSERT_TRUE(engine.ok()) << engine.status();
  BuildRequest req;
  req.frontend = "bad.v0";
  req.frontend_options["filename"] = "LIST";
  req.locals["context"] = ctx;
  req.outputs.push_back({"oci", {{"dest", out + "/img.tar"}}});
  auto r = (*engine)->Build(req, nullptr, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("wrong type"), std::string::npos) << r.status();
  EXPECT_NE(access((out + "/img.tar").c_str(), F_OK), 0);
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
