// The SourceOp each constructor produces, field by field.
#include "sdk/llb/source.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "sdk/llb/llb.h"
#include "sdk/llb/testing.h"

namespace kiln::llb {
namespace {

using Attrs = std::map<std::string, std::string>;

struct Source {
  pb::Op op;
  pb::OpMetadata metadata;
  Attrs attrs() const { return Attrs(op.source().attrs().begin(), op.source().attrs().end()); }
  bool HasCap(const std::string& cap) const { return metadata.caps().count(cap) > 0; }
};

Source Decode(const State& s, const MarshalOptions& options = {}) {
  absl::StatusOr<llb_testing::DecodedDefinition> g = llb_testing::MarshalAndDecode(s, options);
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return {};
  EXPECT_EQ(g->ops.size(), 2u);
  return {g->ops[0], g->Metadata(g->digests[0])};
}

absl::Status MarshalError(const State& s) { return Marshal(s).status(); }

TEST(SourceTest, ImageIsNormalizedAndPlatformSpecific) {
  Source s = Decode(Image("busybox"), {Platform{"linux", "arm64"}});
  EXPECT_EQ(s.op.source().identifier(), "docker-image://docker.io/library/busybox:latest");
  EXPECT_TRUE(s.attrs().empty());
  ASSERT_TRUE(s.op.has_platform());
  EXPECT_EQ(s.op.platform().os(), "linux");
  EXPECT_EQ(s.op.platform().architecture(), "arm64");
  EXPECT_TRUE(s.op.has_constraints());
  EXPECT_EQ(s.op.inputs_size(), 0);
  EXPECT_TRUE(s.HasCap("source.image"));
}

TEST(SourceTest, ImageOptionsBecomeAttrsAndStatePlatform) {
  ImageOptions o;
  o.platform = Platform{"linux", "arm", "v7"};
  o.resolve_mode = ResolveMode::kForcePull;
  o.layer_limit = 2;
  State st = Image("alpine:3.19", o);
  ASSERT_TRUE(st.GetPlatform().has_value());
  EXPECT_EQ(st.GetPlatform()->variant, "v7");
  Source s = Decode(st);
  EXPECT_EQ(s.attrs(), (Attrs{{"image.layerlimit", "2"}, {"image.resolvemode", "pull"}}));
  EXPECT_EQ(s.op.platform().variant(), "v7");
  EXPECT_TRUE(s.HasCap("source.image.resolvemode"));
  EXPECT_TRUE(s.HasCap("source.image.layerlimit"));
}

TEST(SourceTest, LocalSetsPatternAttrsAsGoJson) {
  LocalOptions o;
  o.include_patterns = {"src/", "*.go"};
  o.exclude_patterns = {"<tmp>"};
  o.follow_paths = {"link"};
  o.shared_key_hint = "ctx";
  Source s = Decode(Local("context", o));
  EXPECT_EQ(s.op.source().identifier(), "local://context");
  EXPECT_EQ(s.attrs(), (Attrs{{"local.excludepatterns", R"(["\u003ctmp\u003e"])"},
                              {"local.followpaths", R"(["link"])"},
                              {"local.includepattern", R"(["src/","*.go"])"},
                              {"local.sharedkeyhint", "ctx"}}));
  EXPECT_FALSE(s.op.has_platform());
  EXPECT_TRUE(s.HasCap("source.local"));
  EXPECT_TRUE(s.HasCap("source.local.includepatterns"));
  EXPECT_TRUE(s.HasCap("source.local.excludepatterns"));
}

TEST(SourceTest, LocalUniqueIdComesFromOptionsOrMarshal) {
  EXPECT_EQ(Decode(Local("a")).attrs().count("local.unique"), 0u);
  MarshalOptions m;
  m.local_unique_id = "client-1";
  Source s = Decode(Local("a"), m);
  EXPECT_EQ(s.attrs().at("local.unique"), "client-1");
  EXPECT_TRUE(s.HasCap("source.local.unique"));
  LocalOptions own;
  own.unique_id = "mine";
  EXPECT_EQ(Decode(Local("a", own), m).attrs().at("local.unique"), "mine");
  LocalOptions session;
  session.session_id = "sess";
  Attrs attrs = Decode(Local("a", session), m).attrs();
  EXPECT_EQ(attrs.count("local.unique"), 0u);
  EXPECT_EQ(attrs.at("local.session"), "sess");
}

TEST(SourceTest, HttpAttrsFollowBuildKit) {
  HttpOptions o;
  o.checksum = "sha256:" + std::string(64, '0');
  o.filename = "x.tgz";
  o.perm = 0755;
  o.uid = 1000;
  o.gid = 1001;
  Source s = Decode(Http("https://example.com/x.tgz", o));
  EXPECT_EQ(s.op.source().identifier(), "https://example.com/x.tgz");
  EXPECT_EQ(s.attrs(), (Attrs{{"http.checksum", o.checksum},
                              {"http.filename", "x.tgz"},
                              {"http.gid", "1001"},
                              {"http.perm", "0755"},
                              {"http.uid", "1000"}}));
  EXPECT_FALSE(s.op.has_platform());
  EXPECT_TRUE(s.HasCap("source.http.perm"));
  EXPECT_TRUE(s.HasCap("soruce.http.uidgid"));  // BuildKit's spelling
  EXPECT_EQ(Decode(Http("https://e.com/f")).attrs(), Attrs{});
}

TEST(SourceTest, GitIdentifierDropsSchemeAndAddsRef) {
  Source s = Decode(Git("https://github.com/moby/buildkit.git", "v0.12.0"));
  EXPECT_EQ(s.op.source().identifier(), "git://github.com/moby/buildkit.git#v0.12.0");
  EXPECT_EQ(s.attrs(), (Attrs{{"git.authheadersecret", "GIT_AUTH_HEADER"},
                              {"git.authtokensecret", "GIT_AUTH_TOKEN"},
                              {"git.fullurl", "https://github.com/moby/buildkit.git"}}));
  EXPECT_TRUE(s.HasCap("source.git"));
  EXPECT_TRUE(s.HasCap("source.git.fullurl"));
  EXPECT_FALSE(s.HasCap("source.git.httpauth"));
}

TEST(SourceTest, GitRefSubdirAndOptions) {
  GitOptions o;
  o.keep_git_dir = true;
  o.checksum = "abc123";
  Source s = Decode(Git("github.com/moby/buildkit", "main:docs/../frontend", o));
  EXPECT_EQ(s.op.source().identifier(), "git://github.com/moby/buildkit#main:frontend");
  Attrs attrs = s.attrs();
  EXPECT_EQ(attrs.at("git.fullurl"), "https://github.com/moby/buildkit");
  EXPECT_EQ(attrs.at("git.keepgitdir"), "true");
  EXPECT_EQ(attrs.at("git.checksum"), "abc123");
  EXPECT_TRUE(s.HasCap("source.git.keepgitdir"));
}

TEST(SourceTest, GitOverSshMountsTheAgent) {
  GitOptions o;
  o.known_ssh_hosts = "github.com ssh-ed25519 AAAA\n";
  Source s = Decode(Git("git@github.com:moby/buildkit.git", "", o));
  EXPECT_EQ(s.op.source().identifier(), "git://github.com/moby/buildkit.git");
  Attrs attrs = s.attrs();
  EXPECT_EQ(attrs.at("git.fullurl"), "git@github.com:moby/buildkit.git");
  EXPECT_EQ(attrs.at("git.mountsshsock"), "default");
  EXPECT_EQ(attrs.at("git.knownsshhosts"), "github.com ssh-ed25519 AAAA\n");
}

TEST(SourceTest, BadArgumentsFailAtMarshal) {
  for (const State& s :
       {Image(""), Image("Bad:Ref"), Local(""), Http(""), Git(""), Git("ftp://host/repo"),
        Image("alpine", ImageOptions{{}, {}, {}, "md5"})}) {
    absl::Status st = MarshalError(s);
    EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  }
  EXPECT_NE(MarshalError(Image("Bad:Ref")).message().find("Bad:Ref"), absl::string_view::npos);
}

TEST(SourceTest, ScratchMarshalsToAnEmptyDefinition) {
  absl::StatusOr<pb::Definition> def = Marshal(Scratch());
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->def_size(), 0);
  EXPECT_EQ(def->metadata_size(), 0);
  EXPECT_FALSE(def->has_source());
}

TEST(SourceTest, GitLocalRepositoryByPathOrFileUrl) {
  for (const char* url : {"/srv/repo", "file:///srv/repo"}) {
    auto def = llb_testing::MarshalAndDecode(Git(url, "main"));
    ASSERT_TRUE(def.ok()) << url << ": " << def.status();
    const pb::SourceOp& src = def->Target().source();
    EXPECT_EQ(src.identifier(), "git:///srv/repo#main") << url;
    EXPECT_EQ(src.attrs().at("git.fullurl"), "file:///srv/repo") << url;
  }
}

}  // namespace
}  // namespace kiln::llb
