#include "cmd/kiln/cli.h"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cmd/kiln/args.h"
#include "cmd/kiln/ssh_agents.h"
#include "frontends/dockerfile/parser/parser.h"
#include "frontends/yaml/spec/spec.h"
#include "gateway/engine/engine.h"
#include "gateway/fsutil/path.h"
#include "gateway/progress/printer.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/platform.h"

namespace kiln::cli {
namespace {

constexpr char kUsage[] = R"(kiln: a build engine for custom build languages

Usage: kiln [--root DIR] COMMAND [FLAGS] [ARGS]

Commands:
  build     build a context with a frontend, or an LLB definition (--llb)
  du        show the disk usage of the build cache, per record
  prune     remove build cache
  image     manage images: import, ls, rm
  debug     debugging aids: dockerfile-ast FILE, yaml-schema, workers
  help      show help for a command (kiln help build)

Global flags:
  --root DIR          state directory (default $KILN_ROOT, else
                      ~/.local/share/kiln, or /var/lib/kiln for root)
  --snapshotter KIND  auto (default), overlay or native (copying fallback)
  --addr ADDR         use the kilnd at ADDR (unix:///PATH or tcp://HOST:PORT)
                      instead of the embedded engine (default $KILN_ADDR);
                      build, du, prune, image and debug workers go to the
                      daemon; local directories and outputs stay here
  --tlscacert FILE    with tcp://: the CA that signed kilnd's certificate
  --tlscert FILE      with tcp://: this client's certificate
  --tlskey FILE       with tcp://: this client's key
  --tlsservername N   with tcp://: the name kilnd's certificate carries
  -h, --help          show this help
)";

constexpr char kBuildUsage[] = R"(Usage: kiln build [FLAGS] [CONTEXT]

Builds CONTEXT (default ".") with a frontend, or solves an LLB definition.

Flags:
  -f, --file FILE            the build definition (default CONTEXT/Dockerfile;
                             kiln.yaml for yaml.v0, build.lua for lua.v0)
      --frontend NAME        frontend to run: dockerfile.v0 (default),
                             yaml.v0, lua.v0, or gateway.v0 with --opt
                             source=IMAGE (a frontend image, run by
                             kiln-gateway); a file whose first line is
                             "# syntax=yaml.v0", "-- syntax=lua.v0" or
                             "# syntax=IMAGE" picks that frontend itself
      --opt K=V              frontend option (repeatable)
      --target T             build stage to build
      --platform P           target platform (os/arch); only the native
                             one until multi-platform builds come
      --build-arg K=V        build argument (repeatable)
      --build-context NAME=VALUE
                             named context for FROM / COPY --from NAME:
                             a directory, or docker-image://REF (repeatable)
      --local NAME=DIR       share DIR as local source NAME (repeatable);
                             CONTEXT is "context", the definition's folder
                             is "dockerfile"
      --llb FILE             solve a serialized pb.Definition (- for stdin)
                             instead of running a frontend
      --secret SPEC          id=NAME,src=FILE or id=NAME,env=VAR: a secret
                             for RUN secret mounts and env (repeatable);
                             its value is never logged or stored
      --ssh SPEC             default | ID | ID=SOCKET | ID=KEY[,KEY]: an ssh
                             agent for RUN ssh mounts (repeatable);
                             default and ID alone use $SSH_AUTH_SOCK, key
                             files get a private ssh-agent for the build
  -o, --output SPEC          type=local,dest=DIR | type=tar,dest=FILE |
                             type=oci,dest=FILE[,name=REF][,compression=C]
                             (OCI layout tar; C: gzip, zstd, uncompressed) |
                             type=docker,dest=FILE,name=REF (docker load) |
                             type=image,name=REF (kiln's image store)
                             (FILE - is stdout); a bare path means local
                             (repeatable)
      --no-cache             run every step; results still fill the cache
      --progress MODE        auto (default), tty, plain or rawjson
      --max-parallelism N    steps run at once (default: cores)

SOURCE_DATE_EPOCH in the environment fixes exported timestamps.
)";

constexpr char kDuUsage[] = R"(Usage: kiln du

Lists build cache records, most recently used first: the record's key, the
size of the layers it created, when it was last used, and its step.
)";

constexpr char kPruneUsage[] = R"(Usage: kiln prune [--keep-storage SIZE] [--all]

Removes build cache records, least recently used first, and their layers.

Flags:
      --keep-storage SIZE   keep the most recently used records within SIZE
                            (like 10GB, 512MB)
      --all                 remove everything, exec cache mounts too
                            (without flags: every record; cache mounts
                            stay, less the extra copies that
                            sharing=private made for parallel builds)
)";

constexpr char kImageUsage[] = R"(Usage: kiln image COMMAND

Commands:
  import FILE NAME            import a `docker save` archive or an OCI
                              image-layout tar; every layer is checked
                              against the config's diff IDs
  import --rootfs FILE NAME   import a filesystem tar (plain, gzip or zstd)
                              as a one-layer image, like docker import
  ls                          list images: name, digest, size
  rm NAME                     remove an image's name
  export NAME FILE            write an image as an OCI image-layout tar

NAME is a Docker reference; short names resolve as Docker does (busybox is
docker.io/library/busybox:latest). Builds use images with docker-image://.
)";

constexpr char kDebugUsage[] = R"(Usage: kiln debug dockerfile-ast FILE
       kiln debug yaml-schema
       kiln debug workers

dockerfile-ast prints the parsed syntax tree of a Dockerfile in the format
of BuildKit's parser test results (one instruction per line, with flags and
heredocs).

yaml-schema prints a JSON Schema (draft 7) of the yaml.v0 build language,
for editors to validate specs with.

workers lists the engine's workers (kilnd's with --addr): id, platforms,
steps run at once, labels.
)";

int Fail(const absl::Status& st, int code = 1) {
  std::string msg(st.message());
  std::cerr << "kiln: " << (msg.empty() ? st.ToString() : msg) << "\n";
  return code;
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  if (path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::pair<std::string, std::string>> KeyValue(const std::string& flag,
                                                             const std::string& kv) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", kv, ": want KEY=VALUE"));
  }
  return std::make_pair(kv.substr(0, eq), kv.substr(eq + 1));
}

// Cancels the running build on SIGINT/SIGTERM; a second signal kills.
std::atomic<bool> g_cancel{false};
void OnSignal(int sig) {
  if (g_cancel.exchange(true)) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

// --secret id=NAME,src=FILE | id=NAME,env=VAR -> (NAME, value).
absl::StatusOr<std::pair<std::string, std::string>> ParseSecret(const std::string& spec) {
  std::map<std::string, std::string> kv;
  for (absl::string_view part : absl::StrSplit(spec, ',')) {
    std::vector<std::string> p = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (p.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("--secret ", spec, ": want KEY=VALUE parts"));
    }
    kv[p[0]] = p[1];
  }
  auto get = [&](const char* key) {
    auto it = kv.find(key);
    return it == kv.end() ? std::string() : it->second;
  };
  std::string id = get("id"), src = get("src"), env = get("env");
  if (id.empty() || src.empty() == env.empty() || kv.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("--secret ", spec, ": want id=NAME,src=FILE or id=NAME,env=VAR"));
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--secret ", spec, ": environment variable ", env, " is not set"));
    }
    return std::make_pair(id, std::string(v));
  }
  absl::StatusOr<std::string> value = ReadAll(src);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--secret ", spec, ": cannot read ", src));
  }
  return std::make_pair(id, std::move(*value));
}

absl::StatusOr<engine::BuildRequest> MakeBuildRequest(const ParsedArgs& a) {
  engine::BuildRequest req;
  if (a.positional.size() > 1) {
    return absl::InvalidArgumentError("build takes at most one CONTEXT argument");
  }
  std::string context = fsutil::AbsPath(a.positional.empty() ? "." : a.positional[0]);
  if (a.Has("llb")) {
    KILN_ASSIGN_OR_RETURN(std::string bytes, ReadAll(a.Get("llb")));
    if (!req.definition.ParseFromString(bytes)) {
      return absl::InvalidArgumentError(absl::StrCat(a.Get("llb") == "-" ? "stdin" : a.Get("llb"),
                                                     ": not a serialized pb.Definition (",
                                                     bytes.size(), " bytes)"));
    }
    if (a.Has("frontend"))
      return absl::InvalidArgumentError("--llb and --frontend exclude each other");
  } else {
    req.frontend = a.Get("frontend", "dockerfile.v0");
  }
  req.locals["context"] = context;
  std::string file = a.Get("file");
  if (!file.empty()) {
    std::string abs = fsutil::AbsPath(file);
    req.locals["dockerfile"] = abs.substr(0, abs.rfind('/'));
    req.frontend_options["filename"] = abs.substr(abs.rfind('/') + 1);
  } else {
    req.locals["dockerfile"] = context;
  }
  for (const std::string& kv : a.All("local")) {
    KILN_ASSIGN_OR_RETURN(auto p, KeyValue("--local", kv));
    req.locals[p.first] = fsutil::AbsPath(p.second);
  }
  for (const std::string& kv : a.All("opt")) {
    KILN_ASSIGN_OR_RETURN(auto p, KeyValue("--opt", kv));
    req.frontend_options[p.first] = p.second;
  }
  for (const std::string& kv : a.All("build-arg")) {
    KILN_ASSIGN_OR_RETURN(auto p, KeyValue("--build-arg", kv));
    req.frontend_options["build-arg:" + p.first] = p.second;
  }
  for (const std::string& kv : a.All("build-context")) {
    KILN_ASSIGN_OR_RETURN(auto p, KeyValue("--build-context", kv));
    if (p.second.rfind("docker-image://", 0) == 0) {
      req.frontend_options["context:" + p.first] = p.second;
    } else {
      // A directory: shared as its own local source.
      std::string local = "context-" + p.first;
      req.locals[local] = fsutil::AbsPath(p.second);
      req.frontend_options["context:" + p.first] = "local:" + local;
    }
  }
  if (a.Has("target")) req.frontend_options["target"] = a.Get("target");
  if (a.Has("platform")) req.frontend_options["platform"] = a.Get("platform");
  for (const std::string& spec : a.All("secret")) {
    KILN_ASSIGN_OR_RETURN(auto secret, ParseSecret(spec));
    req.secrets[secret.first] = std::move(secret.second);
  }
  for (const std::string& spec : a.All("output")) {
    KILN_ASSIGN_OR_RETURN(engine::OutputSpec o, engine::ParseOutputSpec(spec));
    auto dest = o.attrs.find("dest");
    if (dest != o.attrs.end() && dest->second != "-") dest->second = fsutil::AbsPath(dest->second);
    req.outputs.push_back(std::move(o));
  }
  req.no_cache = a.Has("no-cache");
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde != nullptr && *sde) {
    int64_t v;
    if (!absl::SimpleAtoi(sde, &v) || v < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("SOURCE_DATE_EPOCH=", sde, " is not a number of seconds"));
    }
    req.source_date_epoch = v;
  }
  return req;
}

struct Globals {
  std::string root;
  std::string snapshotter = "auto";
  DaemonAddress daemon;  // addr empty: the embedded engine
  bool remote() const { return !daemon.addr.empty(); }
};

// kilnd's client, in kiln-gateway; null in the lean kiln.
const DaemonClient* g_daemon = nullptr;

// The whole command line, for handing a build over to kiln-gateway.
std::vector<std::string> g_args;

// A build that needs a frontend image, in a kiln built without the gateway
// server (which links gRPC, ~20 ms of start-up kiln does not pay otherwise).
bool NeedsGateway(const absl::Status& st, const frontend::Registry& fes) {
  return st.code() == absl::StatusCode::kFailedPrecondition && !fes.gateway() &&
         absl::StartsWith(st.message(), frontend::kNoGatewayMessage) &&
         getenv("KILN_GATEWAY_REEXEC") == nullptr;
}

// Runs the same command in kiln-gateway, installed beside this binary.
int HandOverToGateway(const absl::Status& why) {
  char self[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, n) : "";
  dir = dir.substr(0, dir.rfind('/'));
  std::string twin = dir + "/kiln-gateway";
  if (access(twin.c_str(), X_OK) != 0) {
    return Fail(absl::Status(why.code(), absl::StrCat(why.message(), " (not found: ", twin, ")")));
  }
  std::vector<char*> argv = {const_cast<char*>(twin.c_str())};
  for (const std::string& a : g_args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  setenv("KILN_GATEWAY_REEXEC", "1", 1);
  fflush(stdout);
  fflush(stderr);
  execv(twin.c_str(), argv.data());
  return Fail(absl::InternalError(absl::StrCat("cannot run ", twin, ": ", strerror(errno))));
}

// The lean kiln has no gRPC: commands for kilnd run in kiln-gateway.
bool NeedsDaemonClient(const Globals& g) { return g.remote() && g_daemon == nullptr; }

absl::StatusOr<std::unique_ptr<engine::Engine>> OpenEngine(const Globals& g, int parallelism,
                                                           const frontend::Registry& fes) {
  return engine::Engine::Open({g.root, g.snapshotter, parallelism}, &fes);
}

int Build(const Globals& g, const std::vector<std::string>& args, const frontend::Registry& fes) {
  auto a = ParseArgs(args, {{"file", "f"},
                            {"frontend"},
                            {"opt", "", false, true},
                            {"target"},
                            {"platform"},
                            {"build-arg", "", false, true},
                            {"build-context", "", false, true},
                            {"local", "", false, true},
                            {"llb"},
                            {"output", "o", false, true},
                            {"secret", "", false, true},
                            {"ssh", "", false, true},
                            {"no-cache", "", true},
                            {"progress"},
                            {"max-parallelism"},
                            {"help", "h", true}});
  if (!a.ok()) return Fail(a.status(), 2);
  if (a->Has("help")) return std::cout << kBuildUsage, 0;
  auto req = MakeBuildRequest(*a);
  if (!req.ok()) return Fail(req.status(), 2);
  if (NeedsDaemonClient(g)) {
    return HandOverToGateway(absl::FailedPreconditionError("--addr needs kiln-gateway"));
  }
  int parallelism = 0;
  if (g.remote() && a->Has("max-parallelism")) {
    return Fail(absl::InvalidArgumentError("--max-parallelism is the embedded engine's; kilnd "
                                           "takes its own (kilnd --max-parallelism)"),
                2);
  }
  if (a->Has("max-parallelism") &&
      (!absl::SimpleAtoi(a->Get("max-parallelism"), &parallelism) || parallelism < 1)) {
    return Fail(absl::InvalidArgumentError("--max-parallelism wants a positive number"), 2);
  }
  auto printer = progress::NewPrinter(a->Get("progress", "auto"), stderr);
  if (!printer.ok()) return Fail(printer.status(), 2);
  SshAgents agents;
  for (const std::string& spec : a->All("ssh")) {
    if (absl::Status st = agents.Add(spec); !st.ok()) return Fail(st, 2);
  }
  req->ssh = agents.sockets();
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  if (g.remote()) {
    absl::Status st =
        g_daemon->Build(g.daemon, *req, g.root + "/locals", printer->get(), &g_cancel);
    (*printer)->Finish();
    return st.ok() ? 0 : Fail(st);
  }
  auto eng = OpenEngine(g, parallelism, fes);
  if (!eng.ok()) return Fail(eng.status());
  auto result = (*eng)->Build(*req, printer->get(), &g_cancel);
  (*printer)->Finish();
  if (!result.ok() && NeedsGateway(result.status(), fes)) {
    eng->reset();   // releases the root for the twin
    agents.Stop();  // the twin starts its own
    return HandOverToGateway(result.status());
  }
  if (!result.ok()) return Fail(result.status());
  return 0;
}

int Du(const Globals& g, const std::vector<std::string>& args, const frontend::Registry& fes) {
  auto a = ParseArgs(args, {{"help", "h", true}});
  if (!a.ok()) return Fail(a.status(), 2);
  if (a->Has("help")) return std::cout << kDuUsage, 0;
  if (NeedsDaemonClient(g)) return HandOverToGateway(absl::FailedPreconditionError("--addr"));
  std::unique_ptr<engine::Engine> eng;
  absl::StatusOr<std::vector<cache::RecordUsage>> usage;
  if (g.remote()) {
    usage = g_daemon->DiskUsage(g.daemon);
  } else {
    auto e = OpenEngine(g, 1, fes);
    if (!e.ok()) return Fail(e.status());
    eng = std::move(*e);
    usage = eng->cache()->index()->Usage();
  }
  if (!usage.ok()) return Fail(usage.status());
  int64_t now = absl::ToUnixSeconds(absl::Now());
  int64_t total = 0;
  absl::PrintF("%-14s %10s %12s  %s\n", "ID", "SIZE", "LAST USED", "DESCRIPTION");
  for (const cache::RecordUsage& u : *usage) {
    total += u.size;
    absl::PrintF("%-14s %10s %11ds  %s\n", DigestHex(u.key).substr(0, 12), FormatSize(u.size),
                 now - u.last_used, u.description.substr(0, 80));
  }
  absl::PrintF("Total: %s in %d records\n", FormatSize(total), usage->size());
  return 0;
}

int Prune(const Globals& g, const std::vector<std::string>& args, const frontend::Registry& fes) {
  auto a = ParseArgs(args, {{"keep-storage"}, {"all", "", true}, {"help", "h", true}});
  if (!a.ok()) return Fail(a.status(), 2);
  if (a->Has("help")) return std::cout << kPruneUsage, 0;
  int64_t keep = -1;
  if (a->Has("keep-storage") && !a->Has("all")) {
    auto size = ParseSize(a->Get("keep-storage"));
    if (!size.ok()) return Fail(size.status(), 2);
    keep = *size;
  }
  if (NeedsDaemonClient(g)) return HandOverToGateway(absl::FailedPreconditionError("--addr"));
  absl::StatusOr<cache::PruneReport> report;
  if (g.remote()) {
    report = g_daemon->Prune(g.daemon, keep, a->Has("all"));
  } else {
    auto eng = OpenEngine(g, 1, fes);
    if (!eng.ok()) return Fail(eng.status());
    report = (*eng)->cache()->Prune(keep, absl::Seconds(30), a->Has("all"));
  }
  if (!report.ok()) return Fail(report.status());
  absl::PrintF("Removed %d records and %d layers; freed %s\n", report->records_removed,
               report->layers_removed, FormatSize(report->bytes_freed));
  if (report->cache_mount_instances_removed > 0) {
    absl::PrintF("Removed %d extra instances of private cache mounts\n",
                 report->cache_mount_instances_removed);
  }
  return 0;
}

void PrintImages(const std::vector<image::ImageInfo>& list) {
  absl::PrintF("%-50s %-22s %10s\n", "NAME", "DIGEST", "SIZE");
  for (const image::ImageInfo& i : list) {
    absl::PrintF("%-50s %-22s %10s\n", i.ref, i.digest.substr(0, 19), FormatSize(i.size));
  }
}

int Image(const Globals& g, const std::vector<std::string>& args, const frontend::Registry& fes) {
  auto a = ParseArgs(args, {{"rootfs", "", true}, {"help", "h", true}});
  if (!a.ok()) return Fail(a.status(), 2);
  const std::vector<std::string>& p = a->positional;
  if (a->Has("help")) return std::cout << kImageUsage, 0;
  if (p.empty()) return std::cerr << kImageUsage, 2;
  bool import = p[0] == "import" && p.size() == 3, ls = p[0] == "ls" && p.size() == 1,
       rm = p[0] == "rm" && p.size() == 2, exp = p[0] == "export" && p.size() == 3;
  if (!import && !ls && !rm && !exp) return std::cerr << kImageUsage, 2;
  if (g.remote()) {
    if (NeedsDaemonClient(g)) return HandOverToGateway(absl::FailedPreconditionError("--addr"));
    if (import) {
      auto img = g_daemon->ImportImage(g.daemon, fsutil::AbsPath(p[1]), p[2], a->Has("rootfs"));
      if (!img.ok()) return Fail(img.status());
      absl::PrintF("%s %s\n", img->ref, img->digest);
    } else if (ls) {
      auto list = g_daemon->ListImages(g.daemon);
      if (!list.ok()) return Fail(list.status());
      PrintImages(*list);
    } else if (exp) {
      absl::Status st = g_daemon->ExportImage(g.daemon, p[1], fsutil::AbsPath(p[2]));
      if (!st.ok()) return Fail(st);
    } else {
      absl::Status st = g_daemon->RemoveImage(g.daemon, p[1]);
      if (!st.ok()) return Fail(st);
    }
    return 0;
  }
  auto eng = OpenEngine(g, 1, fes);
  if (!eng.ok()) return Fail(eng.status());
  image::DiskStore* store = (*eng)->images();
  if (import) {
    auto img = a->Has("rootfs") ? store->ImportRootfs(fsutil::AbsPath(p[1]), p[2])
                                : store->ImportArchive(fsutil::AbsPath(p[1]), p[2]);
    if (!img.ok()) return Fail(img.status());
    absl::PrintF("%s %s\n", img->ref, img->digest);
  } else if (ls) {
    auto list = store->List();
    if (!list.ok()) return Fail(list.status());
    PrintImages(*list);
  } else if (exp) {
    absl::Status st = store->ExportOci(p[1], fsutil::AbsPath(p[2]));
    if (!st.ok()) return Fail(st);
  } else {
    absl::Status st = store->Remove(p[1]);
    if (!st.ok()) return Fail(st);
  }
  return 0;
}

int Workers(const Globals& g, const frontend::Registry& fes) {
  if (NeedsDaemonClient(g)) return HandOverToGateway(absl::FailedPreconditionError("--addr"));
  if (g.remote()) {
    auto lines = g_daemon->Workers(g.daemon);
    if (!lines.ok()) return Fail(lines.status());
    for (const std::string& l : *lines) std::cout << l << "\n";
    return 0;
  }
  auto eng = OpenEngine(g, 0, fes);
  if (!eng.ok()) return Fail(eng.status());
  const llb::Platform host = llb::Platform::Host();
  absl::PrintF("kiln %s parallelism=%d org.kiln.executor=runc,org.kiln.snapshotter=%s\n",
               host.ToString(), (*eng)->max_parallelism(), (*eng)->cache()->snapshotter()->name());
  return 0;
}

int Debug(const Globals& g, const std::vector<std::string>& args, const frontend::Registry& fes) {
  auto a = ParseArgs(args, {{"help", "h", true}});
  if (!a.ok()) return Fail(a.status(), 2);
  if (a->Has("help")) return std::cout << kDebugUsage, 0;
  if (a->positional.size() == 1 && a->positional[0] == "workers") return Workers(g, fes);
  if (a->positional.size() == 1 && a->positional[0] == "yaml-schema") {
    std::cout << yamlspec::JsonSchema();
    return 0;
  }
  if (a->positional.size() != 2 || a->positional[0] != "dockerfile-ast") {
    std::cerr << kDebugUsage;
    return 2;
  }
  auto text = ReadAll(a->positional[1]);
  if (!text.ok()) return Fail(text.status());
  auto ast = dockerfile::Parse(*text);
  if (!ast.ok()) return Fail(ast.status());
  std::string dump = dockerfile::Dump(*ast);
  // As BuildKit's parser test results: one line per instruction, each ended.
  std::cout << dump << (dump.empty() || dump.back() == '\n' ? "" : "\n");
  return 0;
}

}  // namespace

int Main(const std::vector<std::string>& args, const frontend::Registry& frontends,
         const DaemonClient* daemon) {
  g_args = args;
  g_daemon = daemon;
  Globals g;
  g.root = engine::DefaultRoot();
  if (const char* addr = std::getenv("KILN_ADDR"); addr != nullptr) g.daemon.addr = addr;
  size_t i = 0;
  for (; i < args.size() && !args[i].empty() && args[i][0] == '-'; ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") return std::cout << kUsage, 0;
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    if (auto v = value("--root")) {
      g.root = fsutil::AbsPath(*v);
    } else if (auto v = value("--snapshotter")) {
      g.snapshotter = *v;
    } else if (auto v = value("--addr")) {
      g.daemon.addr = *v;
    } else if (auto v = value("--tlscacert")) {
      g.daemon.ca_cert = fsutil::AbsPath(*v);
    } else if (auto v = value("--tlscert")) {
      g.daemon.cert = fsutil::AbsPath(*v);
    } else if (auto v = value("--tlskey")) {
      g.daemon.key = fsutil::AbsPath(*v);
    } else if (auto v = value("--tlsservername")) {
      g.daemon.server_name = *v;
    } else {
      return Fail(
          absl::InvalidArgumentError(absl::StrCat("unknown flag ", a, " (see kiln --help)")), 2);
    }
  }
  if (i == args.size()) return std::cerr << kUsage, 2;
  std::string cmd = args[i];
  std::vector<std::string> rest(args.begin() + i + 1, args.end());
  if (cmd == "build") return Build(g, rest, frontends);
  if (cmd == "du") return Du(g, rest, frontends);
  if (cmd == "prune") return Prune(g, rest, frontends);
  if (cmd == "debug") return Debug(g, rest, frontends);
  if (cmd == "image") return Image(g, rest, frontends);
  if (cmd == "help") {
    std::string topic = rest.empty() ? "" : rest[0];
    std::cout << (topic == "image"   ? kImageUsage
                  : topic == "debug" ? kDebugUsage
                  : topic == "build" ? kBuildUsage
                  : topic == "du"    ? kDuUsage
                  : topic == "prune" ? kPruneUsage
                                     : kUsage);
    return 0;
  }
  return Fail(
      absl::InvalidArgumentError(absl::StrCat("unknown command \"", cmd, "\" (see kiln --help)")),
      2);
}

}  // namespace kiln::cli
