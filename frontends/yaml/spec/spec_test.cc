#include "frontends/yaml/spec/spec.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace kiln::yamlspec {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<Spec> ReadText(const std::string& text,
                              std::map<std::string, std::string> build_args = {}) {
  ReadOptions o;
  o.build_args = std::move(build_args);
  return Read(text, o);
}

// The error lines of reading `text`; empty when it reads.
std::vector<std::string> Errors(const std::string& text,
                                std::map<std::string, std::string> build_args = {}) {
  absl::StatusOr<Spec> s = ReadText(text, std::move(build_args));
  if (s.ok()) return {};
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  return absl::StrSplit(std::string(s.status().message()), '\n');
}

std::string One(const std::string& text, std::map<std::string, std::string> build_args = {}) {
  std::vector<std::string> e = Errors(text, std::move(build_args));
  EXPECT_EQ(e.size(), 1u) << absl::StrJoin(e, "\n");
  return e.empty() ? "" : e[0];
}

const char kHead[] = "version: 1\nstages:\n";

TEST(ReadTest, TheSampleReads) {
  std::string text = Slurp("samples/yaml/kiln.yaml");
  ASSERT_FALSE(text.empty());
  absl::StatusOr<Spec> spec = ReadText(text);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->stages.size(), 3u);
  EXPECT_EQ(spec->stages[0].name, "build");
  EXPECT_EQ(spec->stages[2].name, "final");
  const Stage& build = spec->stages[0];
  EXPECT_EQ(build.from.value, "busybox");
  EXPECT_EQ(build.base.kind, Source::Kind::kImage);
  EXPECT_EQ(build.workdir.value, "/src");
  ASSERT_EQ(build.steps.size(), 3u);
  EXPECT_EQ(build.steps[0].verb, "copy");
  EXPECT_EQ(build.steps[0].args.size(), 2u);
  EXPECT_EQ(build.steps[0].exclude, std::vector<std::string>{"*.log"});
  ASSERT_EQ(build.steps[1].mounts.size(), 1u);
  EXPECT_EQ(build.steps[1].mounts[0].type, "cache");
  EXPECT_EQ(build.steps[1].mounts[0].sharing.value, "locked");
  EXPECT_TRUE(absl::StrContains(build.steps[1].args[0].value, "# wordcount 1.0,"));
  EXPECT_EQ(build.steps[2].content.value, "1.0\n");
  const Stage& test = spec->stages[1];
  EXPECT_EQ(test.base.kind, Source::Kind::kStage);
  EXPECT_TRUE(test.steps[0].exec_form);
  const Stage& final_stage = spec->stages[2];
  EXPECT_EQ(final_stage.steps[0].from.kind, Source::Kind::kStage);
  EXPECT_EQ(final_stage.steps[1].mode, 0750u);
  ASSERT_TRUE(final_stage.image.entrypoint.has_value());
  EXPECT_EQ(final_stage.image.labels.size(), 2u);
  EXPECT_EQ(final_stage.image.labels[1].second, "1.0");
}

TEST(ReadTest, UnknownKeyWithDidYouMean) {
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: busybox\n    wrokdir: /x\n"),
            "kiln.yaml:5:5: unknown key \"wrokdir\" in stage \"a\" (did you mean \"workdir\"?)");
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: busybox\n    steps:\n      - run: x\n"
                                     "        netwrk: none\n"),
            "kiln.yaml:7:9: unknown key \"netwrk\" in a run step (did you mean \"network\"?)");
  EXPECT_EQ(Errors("version: 1\nstagez: {}\n"),
            (std::vector<std::string>{
                "kiln.yaml:1:1: the spec is missing the required key \"stages\"",
                "kiln.yaml:2:1: unknown key \"stagez\" in the spec (did you mean \"stages\"?)"}));
}

TEST(ReadTest, WrongTypes) {
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: busybox\n    steps: run echo\n"),
            "kiln.yaml:5:12: \"steps\" must be a list of steps, not \"run echo\"");
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: [busybox]\n"),
            "kiln.yaml:4:11: \"from\" must be a string, not a list");
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: busybox\n    env: [A=b]\n"),
            "kiln.yaml:5:10: \"env\" must be a map of strings, not a list");
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: busybox\n    steps:\n"
                                     "      - copy: x\n        to: /\n        link: yes\n"),
            "kiln.yaml:8:15: \"link\" must be true or false, not \"yes\"");
  EXPECT_EQ(One("- version: 1\n"),
            "kiln.yaml:1:1: a spec must be a map with version: 1 and stages, not a list");
}

TEST(ReadTest, MissingRequiredKeys) {
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    steps: []\n"),
            "kiln.yaml:4:5: stage \"a\" is missing the required key \"from\"");
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: busybox\n    steps:\n      - copy: x\n"),
            "kiln.yaml:6:9: a copy step is missing the required key \"to\"");
  EXPECT_EQ(One("stages: {a: {from: scratch}}\n"),
            "kiln.yaml:1:1: the spec is missing the required key \"version\"");
}

TEST(ReadTest, StageThatDependsOnItself) {
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: a\n"),
            "kiln.yaml:4:11: stage \"a\" depends on itself (a -> a)");
  // Through a copy and a mount.
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: b\n  b:\n    from: busybox\n    steps:\n"
                                     "      - copy: /x\n        from: c\n        to: /x\n"
                                     "  c:\n    from: busybox\n    steps:\n      - run: ls\n"
                                     "        mounts: [{type: bind, target: /a, from: a}]\n"),
            "kiln.yaml:15:49: stage \"a\" depends on itself (a -> b -> c -> a)");
}

TEST(ReadTest, UnknownStage) {
  EXPECT_EQ(One(std::string(kHead) + "  build:\n    from: busybox\n  out:\n    from: scratch\n"
                                     "    steps:\n      - copy: /x\n        from: biuld\n"
                                     "        to: /x\n"),
            "kiln.yaml:9:15: unknown stage \"biuld\" (did you mean \"build\"?); for an image of "
            "that name write biuld:latest");
  EXPECT_TRUE(absl::StrContains(One(std::string(kHead) + "  a:\n    from: Not An Image\n"),
                                "unknown stage \"Not An Image\""));
  // An image: a reference that is no stage's near-miss.
  EXPECT_TRUE(Errors(std::string(kHead) + "  build:\n    from: busybox\n  out:\n"
                                          "    from: build:latest\n")
                  .empty());
}

TEST(ReadTest, BuildArgs) {
  std::string text =
      "version: 1\nargs:\n  BASE: busybox\n  TAG: ${BASE}-1\n  NEEDED:\n  EMPTY: ''\n"
      "stages:\n  a:\n    from: ${BASE}\n    steps:\n"
      "      - run: echo $HOME $$HOME ${TAG} ${EMPTY:-dflt} ${NEEDED}\n";
  EXPECT_EQ(One(text),
            "kiln.yaml:11:14: build arg NEEDED is not set and has no default (give --build-arg "
            "NEEDED=VALUE)");
  absl::StatusOr<Spec> spec = ReadText(text, {{"NEEDED", "n"}, {"UNDECLARED", "u"}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->stages[0].steps[0].args[0].value, "echo $HOME $HOME busybox-1 dflt n");
  spec = ReadText(text, {{"NEEDED", "n"}, {"BASE", "other"}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->stages[0].from.value, "other");
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: ${NOPE}\n"),
            "kiln.yaml:4:11: ${NOPE} names no build arg; declare it under args:");
  EXPECT_TRUE(
      absl::StrContains(One(std::string(kHead) + "  a:\n    from: ${oops\n"), "unterminated"));
}

TEST(ReadTest, BadModes) {
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: busybox\n    steps:\n"
                                     "      - mkdir: /d\n        mode: \"0999\"\n"),
            "kiln.yaml:7:15: bad mode \"0999\": want an octal mode such as \"0755\"");
  EXPECT_TRUE(absl::StrContains(
      One(std::string(kHead) + "  a:\n    from: busybox\n    steps:\n"
                               "      - copy: x\n        to: /\n        chmod: rwx\n"),
      "kiln.yaml:8:16: bad mode \"rwx\""));
  EXPECT_TRUE(Errors(std::string(kHead) +
                     "  a:\n    from: busybox\n    steps:\n"
                     "      - copy: x\n        to: /\n        chmod: u+x\n"
                     "      - file: /f\n        content: x\n        mode: 0600\n")
                  .empty());
}

TEST(ReadTest, MountsAreCheckedPerType) {
  std::string head = std::string(kHead) + "  a:\n    from: busybox\n    steps:\n      - run: ls\n";
  EXPECT_EQ(One(head + "        mounts: [{type: cahce, target: /c}]\n"),
            "kiln.yaml:7:25: unknown mount type \"cahce\" (did you mean \"cache\"?)");
  EXPECT_TRUE(absl::StrContains(One(head + "        mounts: [{type: bind, target: /c, size: 1}]\n"),
                                "unknown key \"size\" in a bind mount"));
  EXPECT_EQ(One(head + "        mounts: [{type: cache, target: /c, sharing: all}]\n"),
            "kiln.yaml:7:53: bad sharing \"all\": want one of shared, private, locked");
  EXPECT_TRUE(absl::StrContains(One(head + "        mounts: [{type: secret}]\n"),
                                "a secret mount needs a target or an id"));
  EXPECT_TRUE(
      absl::StrContains(One(head + "        mounts: [{type: tmpfs, target: /t, size: lots}]\n"),
                        "bad size \"lots\""));
}

TEST(ReadTest, StepsHaveExactlyOneVerb) {
  std::string head = std::string(kHead) + "  a:\n    from: busybox\n    steps:\n";
  EXPECT_EQ(One(head + "      - rn: ls\n"),
            "kiln.yaml:6:9: a step needs one of run, copy, add, mkdir, file, rm, symlink (did you "
            "mean \"run\"?)");
  EXPECT_EQ(One(head + "      - run: ls\n        rm: /x\n"),
            "kiln.yaml:7:9: a step has one verb, and this one has both run and rm");
  EXPECT_EQ(One(head + "      - run: []\n"), "kiln.yaml:6:14: \"run\" is an empty list");
  EXPECT_EQ(One(head + "      - ls -l\n"),
            "kiln.yaml:6:9: a step must be a map with one of run, copy, add, mkdir, file, rm, "
            "symlink, not \"ls -l\"");
}

TEST(ReadTest, VersionNamesAndDuplicates) {
  EXPECT_EQ(One("version: 2\nstages: {a: {from: scratch}}\n"),
            "kiln.yaml:1:10: unsupported version \"2\"; this kiln reads version 1");
  EXPECT_TRUE(absl::StrContains(One(std::string(kHead) + "  context:\n    from: scratch\n"),
                                "bad stage name \"context\""));
  EXPECT_EQ(One(std::string(kHead) + "  a:\n    from: scratch\n    from: busybox\n"),
            "kiln.yaml:5:5: duplicate key \"from\" in stage \"a\"");
  EXPECT_EQ(One("version: 1\nstages: {}\n"),
            "kiln.yaml:2:9: stages is empty; a spec needs at least one stage");
}

TEST(ReadTest, EveryErrorIsReportedAtOnce) {
  std::vector<std::string> e = Errors(
      "version: 1\n"
      "stages:\n"
      "  a:\n"
      "    from: a\n"    // cycle
      "    usr: root\n"  // unknown key
      "    steps:\n"
      "      - mkdir: /x\n"
      "        mode: 9\n"    // bad mode
      "      - copy: y\n");  // missing to
  ASSERT_EQ(e.size(), 4u) << absl::StrJoin(e, "\n");
  EXPECT_TRUE(absl::StartsWith(e[0], "kiln.yaml:4:11: stage \"a\" depends on itself")) << e[0];
  EXPECT_TRUE(absl::StartsWith(e[1], "kiln.yaml:5:5: unknown key \"usr\"")) << e[1];
  EXPECT_TRUE(absl::StartsWith(e[2], "kiln.yaml:8:15: bad mode")) << e[2];
  EXPECT_TRUE(absl::StartsWith(e[3], "kiln.yaml:9:9: a copy step is missing")) << e[3];
}

TEST(ReadTest, YamlSyntaxErrorsArePlaced) {
  std::string e = One("version: 1\nstages:\n  a: [from\n");
  EXPECT_TRUE(absl::StartsWith(e, "kiln.yaml:")) << e;
  ReadOptions o;
  o.filename = "build/spec.yml";
  absl::StatusOr<Spec> s = Read("a: b: c\n", o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.status().message(), "build/spec.yml:1:")) << s.status();
}

// Random and truncated specs: an error or a spec, never a crash or a hang.
TEST(ReadTest, TruncatedAndMutatedSpecsNeverCrash) {
  std::string text = Slurp("samples/yaml/kiln.yaml");
  ASSERT_FALSE(text.empty());
  int errors = 0;
  for (size_t n = 0; n <= text.size(); ++n) {
    absl::StatusOr<Spec> s = ReadText(text.substr(0, n));
    if (!s.ok()) {
      ++errors;
      EXPECT_TRUE(absl::StartsWith(s.status().message(), "kiln.yaml:")) << s.status();
    }
  }
  EXPECT_GT(errors, static_cast<int>(text.size()) / 2);
  std::mt19937 rng(20261123);
  const std::string alphabet = "{}[]:-,'\"&*!|>#%@`\n \t$\\ab0";
  for (int i = 0; i < 3000; ++i) {
    std::string m = text;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < edits; ++k) {
      size_t at = rng() % m.size();
      switch (rng() % 3) {
        case 0:
          m[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          m.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          m.erase(at, 1 + rng() % 16);
      }
      if (m.empty()) m = "x";
    }
    absl::StatusOr<Spec> s = ReadText(m);
    if (!s.ok()) {
      EXPECT_TRUE(absl::StartsWith(s.status().message(), "kiln.yaml:")) << s.status();
    }
  }
  for (int i = 0; i < 500; ++i) {
    std::string junk(rng() % 200, ' ');
    for (char& c : junk) c = static_cast<char>(rng() % 256);
    absl::StatusOr<Spec> s = ReadText(junk);
    if (!s.ok()) {
      EXPECT_TRUE(absl::StartsWith(s.status().message(), "kiln.yaml:")) << s.status();
    }
  }
}

// The specs the schema test checks (tests/yaml_schema_test.sh): the reader
// agrees with the schema on each.
TEST(ReadTest, TestdataGoodSpecsReadAndBadOnesDoNot) {
  int good = 0, bad = 0;
  for (const char* dir : {"good", "bad"}) {
    std::string listing = absl::StrCat("frontends/yaml/testdata/", dir);
    for (const auto& entry : std::filesystem::directory_iterator(listing)) {
      std::string text = Slurp(entry.path().string());
      absl::StatusOr<Spec> s = ReadText(text);
      if (std::string(dir) == "good") {
        ++good;
        EXPECT_TRUE(s.ok()) << entry.path() << ": " << s.status();
      } else {
        ++bad;
        EXPECT_FALSE(s.ok()) << entry.path();
      }
    }
  }
  EXPECT_GE(good, 2);
  EXPECT_GE(bad, 10);
}

TEST(SchemaTest, IsJsonWithEveryVerbAndMountType) {
  nlohmann::json schema = nlohmann::json::parse(JsonSchema());
  EXPECT_EQ(schema["required"], nlohmann::json({"version", "stages"}));
  EXPECT_EQ(schema["definitions"]["step"]["oneOf"].size(), 7u);
  EXPECT_EQ(schema["definitions"]["mount"]["oneOf"].size(), 5u);
  EXPECT_EQ(schema["definitions"]["stage"]["additionalProperties"], false);
  EXPECT_EQ(schema["definitions"]["stage"]["required"], nlohmann::json({"from"}));
}

}  // namespace
}  // namespace kiln::yamlspec
