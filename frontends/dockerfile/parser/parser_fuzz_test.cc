// Parse must never crash: every prefix of every sample (BuildKit's tables
// when present, plus inline ones) and random bytes either parse or fail.
#include <dirent.h>

#include <random>
#include <string>
#include <vector>

#include "frontends/dockerfile/parser/parser.h"
#include "frontends/dockerfile/shell/testdata.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile {
namespace {

std::vector<std::string> Samples() {
  std::vector<std::string> samples = {
      "# escape=`\nFROM a\nRUN x `\n y\nCOPY <<-\"E\" 2<<F /d\n\tE\nF\n",
      "ONBUILD RUN <<EOF\n${x:-y}\nEOF\nHEALTHCHECK --a=\"b c\" CMD [\"x\", \"\\ud800\"]\n",
      "ENV a=\"b \\\n c\" d='e'\nLABEL x y\nARG z\nCMD [1, [2], {\"a\": null}]\n",
  };
  auto dir = testing::FindBuildkitTestdata("frontends/dockerfile/parser/parser_fuzz_test.cc");
  if (!dir) return samples;
  for (const char* sub : {"/parser/testfiles/", "/parser/testfiles-negative/"}) {
    std::string base = *dir + sub;
    DIR* d = opendir(base.c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      auto text = testing::ReadFileToString(base + e->d_name + "/Dockerfile");
      if (text) samples.push_back(*text);
    }
    closedir(d);
  }
  return samples;
}

// Returns something derived from the result so the call is not elided.
size_t Exercise(const std::string& text) {
  auto result = Parse(text);
  if (!result.ok()) return result.status().message().size();
  return Dump(*result).size();
}

TEST(ParserFuzzTest, EveryPrefixOfEverySampleIsHandled) {
  size_t total = 0;
  for (const std::string& sample : Samples()) {
    for (size_t n = 0; n <= sample.size(); ++n) total += Exercise(sample.substr(0, n));
  }
  EXPECT_GT(total, 0u);
}

TEST(ParserFuzzTest, RandomBytesAndMutationsAreHandled) {
  std::mt19937 rng(42);
  const std::string alphabet = "RUN COPY <<-EOF\"'`\\$[]{},:=#\n\t \xEF\xBB\xBF\x85\xA0\xC3";
  std::vector<std::string> samples = Samples();
  size_t total = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    size_t len = rng() % 200;
    for (size_t j = 0; j < len; ++j) {
      text.push_back(i % 2 ? static_cast<char>(rng() & 0xFF) : alphabet[rng() % alphabet.size()]);
    }
    total += Exercise(text);
    std::string mutated = samples[i % samples.size()];
    for (int k = 0; k < 5 && !mutated.empty(); ++k) {
      mutated[rng() % mutated.size()] = alphabet[rng() % alphabet.size()];
    }
    total += Exercise(mutated);
  }
  EXPECT_GT(total, 0u);
}

TEST(ParserFuzzTest, DeepNestingFailsCleanly) {
  std::string onbuild;
  for (int i = 0; i < 8000; ++i) onbuild += "ONBUILD ";
  auto result = Parse(onbuild + "RUN x\n");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("ONBUILD nested deeper than"), std::string::npos);
  EXPECT_TRUE(Parse("ONBUILD ONBUILD RUN x\n").ok());

  std::string subst;
  for (int i = 0; i < 10000; ++i) subst += "${a:-";
  subst += std::string(10000, '}');
  EXPECT_TRUE(Parse("RUN <<EOF " + subst + "\nEOF\n").ok());
  std::string json = "CMD " + std::string(30000, '[') + std::string(30000, ']') + "\n";
  EXPECT_TRUE(Parse(json).ok());
}

}  // namespace
}  // namespace kiln::dockerfile
