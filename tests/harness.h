// Runs the real kiln binary for end-to-end tests and reads its rawjson
// progress. Each Harness has its own state root under TEST_TMPDIR.
#ifndef KILN_TESTS_HARNESS_H_
#define KILN_TESTS_HARNESS_H_

#include <string>
#include <vector>

#include "proto/llb/ops.pb.h"

namespace kiln::testing {

struct Step {
  std::string name;
  bool cached = false;
  std::string error;
};

struct KilnRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::vector<Step> steps;  // from "completed" rawjson events

  int Ran() const;
  int Cached() const;
  // Whether a step whose name contains `fragment` ran (not cached).
  bool RanStep(const std::string& fragment) const;
};

// A fresh directory under TEST_TMPDIR.
std::string TempDir(const std::string& prefix);
void WriteFile(const std::string& path, const std::string& data);
std::string ReadFile(const std::string& path);

class Harness {
 public:
  Harness();
  const std::string& root() const { return root_; }

  // kiln --root ROOT ARGS...
  KilnRun Run(const std::vector<std::string>& args) const;
  // kiln build --llb DEF --progress rawjson ARGS...
  KilnRun Build(const pb::Definition& def, const std::vector<std::string>& args) const;
  // Writes `def` to a file and returns its path.
  std::string WriteDefinition(const pb::Definition& def) const;

 private:
  std::string root_;
};

// Imports a busybox image made from the host's busybox as "busybox" into
// `h`'s root. Returns why containers cannot run here (a reason to skip), or
// "" when the image is in; an import that fails is a test failure.
std::string ImportBusybox(const Harness& h);

// The canonical manifest of a filesystem tar, by
// tests/conformance/fsmanifest.py (a data dependency of the test); "" if
// the script fails.
std::string FsManifest(const std::string& tar);

// Parses rawjson progress lines into completed steps.
std::vector<Step> ParseSteps(const std::string& rawjson);

// The path of the kiln binary in the test's runfiles.
std::string KilnBinary();

}  // namespace kiln::testing

#endif  // KILN_TESTS_HARNESS_H_
