#include "tests/harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/ops/exec/busybox_rootfs.h"
#include "gtest/gtest.h"

namespace kiln::testing {

int KilnRun::Ran() const {
  int n = 0;
  for (const Step& s : steps) n += (!s.cached && s.error.empty()) ? 1 : 0;
  return n;
}

int KilnRun::Cached() const {
  int n = 0;
  for (const Step& s : steps) n += s.cached ? 1 : 0;
  return n;
}

bool KilnRun::RanStep(const std::string& fragment) const {
  for (const Step& s : steps) {
    if (!s.cached && s.error.empty() && absl::StrContains(s.name, fragment)) return true;
  }
  return false;
}

std::string TempDir(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const char* t = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(t ? t : "/tmp", "/", prefix, "-", getpid(), "-", counter++);
  mkdir(dir.c_str(), 0755);
  return dir;
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string KilnBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  std::string p = absl::StrCat(srcdir ? srcdir : ".", "/kiln/cmd/kiln/kiln");
  if (access(p.c_str(), X_OK) == 0) return p;
  return "cmd/kiln/kiln";
}

namespace {

// The JSON string value of "key" in a one-line object, unescaped enough for
// names and errors (\" and \\ only).
std::string Field(const std::string& line, const std::string& key) {
  std::string needle = "\"" + key + "\":\"";
  size_t p = line.find(needle);
  if (p == std::string::npos) return "";
  std::string out;
  for (size_t i = p + needle.size(); i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      out += line[++i];
    } else if (line[i] == '"') {
      break;
    } else {
      out += line[i];
    }
  }
  return out;
}

}  // namespace

std::vector<Step> ParseSteps(const std::string& rawjson) {
  std::vector<Step> steps;
  for (absl::string_view line : absl::StrSplit(rawjson, '\n')) {
    std::string l(line);
    if (!absl::StartsWith(l, "{\"type\":\"completed\"")) continue;
    Step s;
    s.name = Field(l, "name");
    s.cached = absl::StrContains(l, "\"cached\":true");
    s.error = Field(l, "error");
    steps.push_back(s);
  }
  return steps;
}

Harness::Harness() : root_(TempDir("kiln-root")) {}

KilnRun Harness::Run(const std::vector<std::string>& args) const {
  std::string out_path = TempDir("run") + "/out", err_path = out_path + ".err";
  std::vector<std::string> argv = {KilnBinary(), "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  KilnRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  r.steps = ParseSteps(r.err);
  return r;
}

std::string Harness::WriteDefinition(const pb::Definition& def) const {
  std::string path = TempDir("def") + "/def.pb";
  std::string bytes;
  def.SerializeToString(&bytes);
  WriteFile(path, bytes);
  return path;
}

KilnRun Harness::Build(const pb::Definition& def, const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"build", "--llb", WriteDefinition(def), "--progress", "rawjson"};
  all.insert(all.end(), args.begin(), args.end());
  return Run(all);
}

std::string ImportBusybox(const Harness& h) {
  std::string why = exec::WhyNoContainers();
  if (!why.empty()) return why;
  std::string dir = TempDir("base");
  exec::MakeBusyboxRootfs(dir + "/rootfs");
  EXPECT_EQ(system(("tar -C " + dir + "/rootfs -cf " + dir + "/bb.tar .").c_str()), 0);
  KilnRun r = h.Run({"image", "import", "--rootfs", dir + "/bb.tar", "busybox"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return "";
}

std::string FsManifest(const std::string& tar) {
  std::string cmd = "python3 tests/conformance/fsmanifest.py " + tar;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return pclose(p) == 0 ? out : "";
}

}  // namespace kiln::testing
