// Dockerfile frontend micro-benchmark: the time to parse and convert one
// Dockerfile to LLB and marshal it to a pb::Definition, the frontend's whole
// share of a build before the solver starts. Image lookups are answered by a
// fake (no image store, no registry), so only the frontend's own work counts.
//
//   bazel run -c opt //bench:dockerfile_convert_bench -- DOCKERFILE [RUNS]
//
// Prints the median, min and max of RUNS (default 51) in milliseconds, after
// one untimed warm-up run. The Dockerfile frontend issue's target for the
// 500-instruction, 20-stage file bench/dockerfile_bench.sh generates is < 5 ms.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "frontends/dockerfile/convert/convert.h"
#include "sdk/frontend/frontend.h"
#include "sdk/llb/llb.h"

namespace llb = kiln::llb;

namespace {

// Every image is the same one-layer image: what a store lookup would return.
absl::StatusOr<kiln::frontend::ResolvedImage> FakeResolve(const std::string& ref) {
  return kiln::frontend::ResolvedImage{
      ref, "sha256:" + std::string(64, 'a'),
      R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"]},)"
      R"("rootfs":{"type":"layers","diff_ids":["sha256:aa"]}})"};
}

struct Run {
  double ms = 0;
  size_t ops = 0;    // definition entries: ops plus the terminal
  size_t bytes = 0;  // the serialized definition
};

// One parse + convert + marshal; exits on error, which is a frontend bug or
// a Dockerfile the frontend rejects: either way there is nothing to time.
Run ConvertOnce(const std::string& text) {
  kiln::dockerfile::ConvertOptions options;
  options.resolve_image = FakeResolve;
  absl::Time start = absl::Now();
  absl::StatusOr<kiln::dockerfile::Converted> converted = kiln::dockerfile::Convert(text, options);
  if (!converted.ok()) {
    fprintf(stderr, "convert: %s\n", converted.status().ToString().c_str());
    exit(1);
  }
  absl::StatusOr<pb::Definition> def = llb::Marshal(converted->state);
  Run run;
  run.ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  if (!def.ok()) {
    fprintf(stderr, "marshal: %s\n", def.status().ToString().c_str());
    exit(1);
  }
  run.ops = def->def_size();
  run.bytes = def->ByteSizeLong();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: dockerfile_convert_bench DOCKERFILE [RUNS]\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int n = argc > 2 ? std::max(1, atoi(argv[2])) : 51;

  Run warm = ConvertOnce(text);
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) ms.push_back(ConvertOnce(text).ms);
  std::sort(ms.begin(), ms.end());
  absl::PrintF(
      "parse+convert+marshal of %s (%d bytes): median %.2f ms, min %.2f, max %.2f "
      "over %d runs; %d LLB ops, %d definition bytes (target < 5 ms)\n",
      argv[1], text.size(), ms[ms.size() / 2], ms.front(), ms.back(), n, warm.ops, warm.bytes);
  return 0;
}
