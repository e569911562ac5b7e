// Engine benchmarks for the foundation: runs the real kiln binary with the
// embedded engine and prints wall time and peak memory (max RSS) per case.
//
//   bazel run -c opt //bench:engine_bench
//   KILN_BENCH_KEEP=1 ... keeps the root, definitions and context afterwards.
//
// Cases (targets from the foundation issue):
//   noop50      no-op rebuild of a 50-step graph            (target < 20 ms),
//               as a kiln process and inside one process
//   branches4   cold build of 4 independent 1 s branches     (target ~ 1 s)
//   ctx10k      10,000-file local context, cold and unchanged (target < 200 ms)
// The rebuild figures are medians of 5 runs of a fresh kiln process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gateway/engine/engine.h"
#include "gateway/progress/progress.h"
#include "sdk/llb/llb.h"

namespace llb = kiln::llb;

namespace {

struct Sample {
  double ms = 0;
  long max_rss_kb = 0;
  int exit_code = 0;
};

std::string g_kiln;
std::string g_root;

// Runs kiln with `args`, stdout/stderr to /dev/null, and measures it.
Sample RunKiln(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {g_kiln, "--root", g_root};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::Time start = absl::Now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> c;
    for (std::string& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    execv(c[0], c.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  Sample s;
  s.ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  s.max_rss_kb = ru.ru_maxrss;
  s.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return s;
}

std::string WriteDef(const absl::StatusOr<pb::Definition>& def, const std::string& name) {
  if (!def.ok()) {
    fprintf(stderr, "marshal %s: %s\n", name.c_str(), def.status().ToString().c_str());
    exit(1);
  }
  std::string path = absl::StrCat(g_root, "-", name, ".pb");
  std::string bytes;
  def->SerializeToString(&bytes);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

void Report(const std::string& name, const Sample& s, const std::string& target) {
  absl::PrintF("%-22s %10.1f ms %10.1f MB   %s%s\n", name, s.ms, s.max_rss_kb / 1024.0, target,
               s.exit_code == 0 ? "" : "  (FAILED)");
}

Sample Median(std::vector<Sample> v) {
  std::sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.ms < b.ms; });
  return v[v.size() / 2];
}

// The 50-step no-op rebuild inside one process: the engine opened once,
// then the same build solved again and again (all cache hits).
Sample InProcessRebuild(const std::string& def_path) {
  std::ifstream in(def_path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  kiln::engine::BuildRequest req;
  req.definition.ParseFromString(bytes);
  auto engine = kiln::engine::Engine::Open({g_root, "auto", 0}, nullptr);
  if (!engine.ok()) {
    fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return Sample{0, 0, 1};
  }
  std::vector<Sample> runs;
  for (int i = 0; i < 7; ++i) {
    kiln::progress::RecordingSink sink;
    absl::Time start = absl::Now();
    auto r = (*engine)->Build(req, &sink, nullptr);
    Sample s;
    s.ms = absl::ToDoubleMilliseconds(absl::Now() - start);
    s.exit_code = r.ok() && sink.Ran() == 0 ? 0 : 1;
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    s.max_rss_kb = ru.ru_maxrss;
    runs.push_back(s);
  }
  return Median(runs);
}

// 10 parallel branches of 5 file steps each, merged: 51 steps.
std::string Graph50() {
  std::vector<llb::State> branches;
  for (int b = 0; b < 10; ++b) {
    llb::State s = llb::Scratch();
    for (int i = 0; i < 5; ++i) {
      s = s.File(llb::Mkfile(absl::StrCat("/b", b, "-", i), 0644, absl::StrCat(b, ":", i)));
    }
    branches.push_back(s);
  }
  return WriteDef(llb::Marshal(llb::Merge(branches)), "graph50");
}

// A loopback HTTP server that answers every request after one second.
class SlowServer {
 public:
  SlowServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 16);
    std::thread([this] { Accept(); }).detach();
  }
  int port() const { return port_; }

 private:
  void Accept() {
    while (true) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::thread([c] {
        char buf[4096];
        read(c, buf, sizeof(buf));
        absl::SleepFor(absl::Seconds(1));
        std::string body = absl::StrCat("payload ", c, "\n");
        std::string resp = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                                        "\r\nConnection: close\r\n\r\n", body);
        if (write(c, resp.data(), resp.size()) < 0) perror("bench server write");
        close(c);
      }).detach();
    }
  }
  int fd_;
  int port_;
};

}  // namespace

int main(int argc, char** argv) {
  const char* srcdir = std::getenv("RUNFILES_DIR");
  g_kiln =
      argc > 1 ? argv[1] : (srcdir ? absl::StrCat(srcdir, "/kiln/cmd/kiln/kiln") : "cmd/kiln/kiln");
  if (access(g_kiln.c_str(), X_OK) != 0) g_kiln = "cmd/kiln/kiln";
  char tmpl[] = "/tmp/kiln-bench-XXXXXX";
  g_root = mkdtemp(tmpl);
  absl::PrintF("kiln engine benchmarks (root %s, %d cores)\n", g_root,
               static_cast<int>(std::thread::hardware_concurrency()));
  absl::PrintF("%-22s %13s %13s   %s\n", "case", "wall", "max RSS", "target");

  std::string g50 = Graph50();
  Report("noop50 cold", RunKiln({"build", "--llb", g50}), "");
  std::vector<Sample> warm;
  for (int i = 0; i < 5; ++i) warm.push_back(RunKiln({"build", "--llb", g50}));
  Report("noop50 rebuild", Median(warm), "< 20 ms (BuildKit ~90-100 ms for 6 steps)");
  Report("noop50 in-process", InProcessRebuild(g50), "the engine alone, no process start");

  SlowServer server;
  std::vector<llb::State> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(llb::Http(absl::StrFormat("http://127.0.0.1:%d/branch%d", server.port(), i)));
  }
  std::string b4 = WriteDef(llb::Marshal(llb::Merge(slow)), "branches4");
  Report("branches4 cold", RunKiln({"build", "--llb", b4, "--max-parallelism", "4"}),
         "~1 s, not 4 s");

  std::string ctx = g_root + "-ctx";
  mkdir(ctx.c_str(), 0755);
  for (int d = 0; d < 100; ++d) {
    std::string dir = absl::StrCat(ctx, "/d", d);
    mkdir(dir.c_str(), 0755);
    for (int f = 0; f < 100; ++f) {
      std::ofstream(absl::StrCat(dir, "/f", f)) << "file " << d << "/" << f << "\n";
    }
  }
  llb::State copy = llb::Scratch().File(llb::Copy(llb::Local("context"), "/", "/src"));
  std::string c10k = WriteDef(llb::Marshal(copy), "ctx10k");
  Report("ctx10k cold", RunKiln({"build", "--llb", c10k, ctx}), "");
  std::vector<Sample> unchanged;
  for (int i = 0; i < 5; ++i) unchanged.push_back(RunKiln({"build", "--llb", c10k, ctx}));
  Report("ctx10k unchanged", Median(unchanged), "< 200 ms");

  if (std::getenv("KILN_BENCH_KEEP") != nullptr) {
    absl::PrintF("kept %s and %s-* for profiling\n", g_root, g_root);
    return 0;
  }
  std::string cmd = absl::StrCat("rm -rf ", g_root, " ", g_root, "-*");
  RunKiln({"prune", "--all"});
  return system(cmd.c_str()) == 0 ? 0 : 1;
}
