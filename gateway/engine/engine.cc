#include "gateway/engine/engine.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gateway/exporter/local.h"
#include "gateway/exporter/tar.h"
#include "gateway/fsutil/path.h"
#include "gateway/image/build.h"
#include "gateway/ops/exec/runc.h"
#include "gateway/ops/ops.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/image_ref.h"
#include "sdk/llb/llb.h"

namespace kiln::engine {

absl::StatusOr<OutputSpec> ParseOutputSpec(const std::string& spec) {
  OutputSpec out;
  if (spec.find('=') == std::string::npos) {
    if (spec.empty()) return absl::InvalidArgumentError("empty --output");
    out.type = "local";
    out.attrs["dest"] = spec;
    return out;
  }
  for (absl::string_view part : absl::StrSplit(spec, ',')) {
    std::vector<std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--output ", spec, ": \"", part, "\" is not KEY=VALUE"));
    }
    if (kv[0] == "type") {
      out.type = kv[1];
    } else {
      out.attrs[kv[0]] = kv[1];
    }
  }
  absl::Status st = ValidateOutputSpec(out);
  if (!st.ok())
    return absl::InvalidArgumentError(absl::StrCat("--output ", spec, ": ", st.message()));
  return out;
}

std::string DefaultRoot() {
  if (const char* r = std::getenv("KILN_ROOT"); r != nullptr && *r) return r;
  if (geteuid() == 0) return "/var/lib/kiln";
  const char* home = std::getenv("HOME");
  return absl::StrCat(home ? home : "/tmp", "/.local/share/kiln");
}

absl::Status ValidateOutputSpec(const OutputSpec& out) {
  struct Options {
    std::vector<std::string> required, optional;
  };
  static const std::map<std::string, Options> kTypes = {
      {"local", {{"dest"}, {}}},
      {"tar", {{"dest"}, {}}},
      {"oci", {{"dest"}, {"name", "compression"}}},
      {"docker", {{"dest", "name"}, {}}},
      {"image", {{"name"}, {}}}};
  auto type = kTypes.find(out.type);
  if (type == kTypes.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown output type \"", out.type,
                                                   "\" (want local, tar, oci, docker or image)"));
  }
  for (const std::string& key : type->second.required) {
    auto value = out.attrs.find(key);
    if (value == out.attrs.end() || value->second.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output type=", out.type, ": ", key, "= is required"));
    }
  }
  for (const auto& [k, v] : out.attrs) {
    const Options& o = type->second;
    if (std::find(o.required.begin(), o.required.end(), k) == o.required.end() &&
        std::find(o.optional.begin(), o.optional.end(), k) == o.optional.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output type=", out.type, ": unknown option \"", k, "\""));
    }
  }
  if (auto c = out.attrs.find("compression"); c != out.attrs.end()) {
    KILN_RETURN_IF_ERROR(image::ParseCompression(c->second).status());
  }
  return absl::OkStatus();
}

// The Bridge built-in frontends get: solves go to this engine's solver.
class Engine::EngineBridge : public frontend::Bridge {
 public:
  EngineBridge(Engine* engine, const BuildRequest& req, const solver::Session& session,
               progress::Sink* progress, const std::atomic<bool>* cancel, int depth = 0,
               std::map<std::string, pb::Definition> inputs = {})
      : engine_(engine),
        req_(req),
        session_(session),
        progress_(progress),
        cancel_(cancel),
        depth_(depth),
        inputs_(std::move(inputs)) {}

  const std::map<std::string, std::string>& Options() const override {
    return req_.frontend_options;
  }

  absl::StatusOr<std::string> Solve(const pb::Definition& def) override {
    KILN_ASSIGN_OR_RETURN(solver::Graph g, solver::LoadDefinition(def));
    solver::SolveOptions o{&session_, progress_, req_.no_cache, cancel_};
    KILN_ASSIGN_OR_RETURN(solver::SolveResult r, engine_->solver_->Solve(g, o));
    std::string ref = absl::StrCat("ref-", results_.size());
    results_[ref] = r.chain;
    return ref;
  }

  absl::StatusOr<std::string> ReadFile(const std::string& ref, const std::string& path) override {
    KILN_ASSIGN_OR_RETURN(auto view, View(ref));
    KILN_ASSIGN_OR_RETURN(std::string host, fsutil::ResolveInRoot(view->path(), path, true));
    std::ifstream in(host, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("file ", path, " not found in result"));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  absl::StatusOr<std::vector<frontend::FileStat>> ReadDir(
      const std::string& ref, const std::string& path,
      const std::string& include_pattern) override {
    KILN_ASSIGN_OR_RETURN(auto view, View(ref));
    KILN_ASSIGN_OR_RETURN(std::string host, fsutil::ResolveInRoot(view->path(), path, true));
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat("directory ", path, " not found in result"));
    }
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(path, " is not a directory"));
    }
    std::vector<frontend::FileStat> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(host, ec)) {
      std::string name = entry.path().filename().string();
      if (!include_pattern.empty() && ::fnmatch(include_pattern.c_str(), name.c_str(), 0) != 0) {
        continue;
      }
      KILN_ASSIGN_OR_RETURN(frontend::FileStat fs, StatHost(entry.path().string(), name));
      out.push_back(std::move(fs));
    }
    if (ec)
      return absl::InternalError(absl::StrCat("reading directory ", path, ": ", ec.message()));
    std::sort(out.begin(), out.end(), [](const frontend::FileStat& a, const frontend::FileStat& b) {
      return a.path < b.path;
    });
    return out;
  }

  absl::StatusOr<frontend::FileStat> StatFile(const std::string& ref,
                                              const std::string& path) override {
    KILN_ASSIGN_OR_RETURN(auto view, View(ref));
    KILN_ASSIGN_OR_RETURN(std::string host, fsutil::ResolveInRoot(view->path(), path, false));
    return StatHost(host, path);
  }

  const std::map<std::string, pb::Definition>& Inputs() const override { return inputs_; }

  absl::StatusOr<frontend::ResolvedImage> ResolveImageConfig(const std::string& ref) override {
    KILN_ASSIGN_OR_RETURN(std::string normalized, llb::NormalizeImageRef(ref));
    KILN_ASSIGN_OR_RETURN(image::ImageConfigInfo info, engine_->images_->ResolveConfig(normalized));
    return frontend::ResolvedImage{info.ref, info.digest, info.config};
  }

  void Warn(const std::string& message) override {
    if (progress_ == nullptr) return;
    progress::Event e;
    e.kind = progress::Event::Kind::kWarning;
    e.data = message;
    progress_->Emit(e);
  }

  absl::StatusOr<frontend::Result> CallFrontend(
      const std::string& name, const std::map<std::string, std::string>& options,
      const std::map<std::string, pb::Definition>& inputs) override {
    constexpr int kMaxDepth = 8;  // `# syntax=` lines that forward in a circle
    if (depth_ >= kMaxDepth) {
      return absl::FailedPreconditionError(
          absl::StrCat("frontends forwarded to each other more than ", kMaxDepth,
                       " deep (last: ", name, "); check the # syntax= lines"));
    }
    if (name == frontend::kGatewayFrontend) return RunImage(options, inputs);
    if (engine_->frontends_ == nullptr) return frontend::Registry().New(name).status();
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<frontend::Frontend> fe, engine_->frontends_->New(name));
    BuildRequest sub = req_;
    sub.frontend = name;
    sub.frontend_options = options;
    EngineBridge bridge(engine_, sub, session_, progress_, cancel_, depth_ + 1, inputs);
    return fe->Build(bridge);
  }

  // gateway.v0: runs the frontend image `options["source"]` in a container
  // with network none, BuildKit's environment for frontends, and LLBBridge
  // served on its stdin and stdout; returns what it Returns.
  absl::StatusOr<frontend::Result> RunImage(const std::map<std::string, std::string>& options,
                                            const std::map<std::string, pb::Definition>& inputs) {
    auto src = options.find("source");
    if (src == options.end() || src->second.empty()) {
      return absl::InvalidArgumentError(
          "gateway.v0 runs a frontend image: name it with --opt source=IMAGE");
    }
    const std::string& source = src->second;
    const frontend::ServeGatewayFn* serve =
        engine_->frontends_ == nullptr ? nullptr : &engine_->frontends_->gateway();
    if (serve == nullptr || !*serve) {
      return absl::FailedPreconditionError(absl::StrCat(
          frontend::kNoGatewayMessage, " (", source, " is one): install kiln-gateway beside kiln"));
    }
    if (engine_->executor_ == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("frontend image ", source, " needs runc to run (apt-get install runc)"));
    }
    int64_t timeout_s = 600;
    if (auto t = options.find("frontend-timeout"); t != options.end()) {
      if (!absl::SimpleAtoi(t->second, &timeout_s) || timeout_s <= 0) {
        return absl::InvalidArgumentError("--opt frontend-timeout=" + t->second +
                                          ": expected a positive number of seconds");
      }
    }
    absl::StatusOr<frontend::ResolvedImage> img = ResolveImageConfig(source);
    if (!img.ok()) {
      return absl::Status(img.status().code(),
                          absl::StrCat("frontend image ", source, ": ", img.status().message()));
    }
    nlohmann::json config = nlohmann::json::parse(img->config, nullptr, false);
    if (!config.is_object()) {
      return absl::InvalidArgumentError("frontend image " + source + ": its config is not JSON");
    }
    const nlohmann::json& c = config.value("config", nlohmann::json::object());
    exec::Spec spec;
    spec.args = {"/run"};  // BuildKit's default when there is no entrypoint
    spec.cwd = "/";
    spec.network = pb::NONE;
    try {
      if (c.contains("Entrypoint") && c["Entrypoint"].is_array() && !c["Entrypoint"].empty()) {
        spec.args = c["Entrypoint"].get<std::vector<std::string>>();
      }
      if (c.contains("Env") && c["Env"].is_array()) {
        spec.env = c["Env"].get<std::vector<std::string>>();
      }
      if (c.contains("WorkingDir") && c["WorkingDir"].is_string() &&
          !c["WorkingDir"].get<std::string>().empty()) {
        spec.cwd = c["WorkingDir"].get<std::string>();
      }
      if (c.contains("User") && c["User"].is_string()) spec.user = c["User"].get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "frontend image ", source, ": a config field of the wrong type (", e.what(), ")"));
    }
    int i = 0;
    for (const auto& [k, v] : options) {  // std::map: the same order every run
      spec.env.push_back(absl::StrCat("BUILDKIT_FRONTEND_OPT_", i++, "=", k, "=", v));
    }
    // Empty: kiln's locals come from the build's one client, and local
    // sources without a session keep the digests the in-process frontends
    // give them, so the two share cache.
    spec.env.push_back("BUILDKIT_SESSION_ID=");
    const llb::Platform host = llb::Platform::Host();
    nlohmann::json workers = nlohmann::json::array(
        {{{"id", "kiln"},
          {"platforms", {{{"os", host.os}, {"architecture", host.architecture}}}}}});
    spec.env.push_back("BUILDKIT_WORKERS=" + workers.dump());
    spec.env.push_back("BUILDKIT_EXPORTEDPRODUCT=kiln");

    // The image's filesystem, writable for this run only.
    llb::State image = llb::Image(absl::StrCat(img->ref, "@", img->digest));
    KILN_ASSIGN_OR_RETURN(pb::Definition def, llb::Marshal(image));
    KILN_ASSIGN_OR_RETURN(std::string rootfs_ref, Solve(def));
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<cache::Active> rootfs,
                          engine_->cache_->snapshotter()->Prepare(results_[rootfs_ref]));
    spec.rootfs = rootfs->path();

    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return absl::InternalError(absl::StrCat("socketpair: ", strerror(errno)));
    }
    BuildRequest sub = req_;
    sub.frontend = frontend::kGatewayFrontend;
    sub.frontend_options = options;
    EngineBridge bridge(engine_, sub, session_, progress_, cancel_, depth_ + 1, inputs);
    absl::StatusOr<std::unique_ptr<frontend::GatewayServer>> server = (*serve)(sv[0], bridge);
    if (!server.ok()) {
      ::close(sv[0]);
      ::close(sv[1]);
      return server.status();
    }
    spec.stdio_fd = sv[1];
    std::string stderr_tail;
    const absl::Time deadline = absl::Now() + absl::Seconds(timeout_s);
    std::optional<absl::Time> returned_at;
    bool timed_out = false;
    frontend::GatewayServer* srv = server->get();
    absl::StatusOr<int> status = engine_->executor_->Run(
        spec,
        [&](int stream, std::string_view data) {
          stderr_tail.append(data);
          if (stderr_tail.size() > 8192) stderr_tail.erase(0, stderr_tail.size() - 8192);
        },
        [&] {
          if (cancel_ != nullptr && cancel_->load()) return true;
          absl::Time now = absl::Now();
          // Returned but lingering: a few seconds to exit, then it is stopped.
          if (!returned_at.has_value() && srv->HasReturned()) returned_at = now;
          if (returned_at.has_value() && now - *returned_at > absl::Seconds(5)) return true;
          if (now > deadline) timed_out = true;
          return timed_out;
        });
    ::close(sv[1]);
    srv->Shutdown();
    std::string tail(absl::StripAsciiWhitespace(stderr_tail));
    std::string said = tail.empty() ? "" : absl::StrCat("; its last output:\n", tail);
    if (srv->HasReturned()) {
      absl::StatusOr<frontend::Result> r = srv->Returned();
      if (!r.ok()) {
        return absl::Status(r.status().code(),
                            absl::StrCat("frontend image ", source, ": ", r.status().message()));
      }
      return r;
    }
    if (timed_out) {
      return absl::DeadlineExceededError(
          absl::StrCat("frontend image ", source, " did not return a result within ", timeout_s,
                       " s (raise it with --opt frontend-timeout=SECONDS)", said));
    }
    if (!status.ok()) {
      return absl::Status(status.status().code(),
                          absl::StrCat("frontend image ", source, ": ", status.status().message()));
    }
    return absl::FailedPreconditionError(absl::StrCat("frontend image ", source,
                                                      " exited with status ", *status,
                                                      " without returning a result", said));
  }

 private:
  absl::StatusOr<std::unique_ptr<cache::Mount>> View(const std::string& ref) {
    auto it = results_.find(ref);
    if (it == results_.end()) return absl::NotFoundError("unknown result reference " + ref);
    return engine_->cache_->snapshotter()->View(it->second);
  }

  static absl::StatusOr<frontend::FileStat> StatHost(const std::string& host,
                                                     const std::string& shown) {
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat("file ", shown, " not found in result"));
    }
    frontend::FileStat fs;
    fs.path = shown;
    fs.mode = st.st_mode;
    fs.uid = st.st_uid;
    fs.gid = st.st_gid;
    fs.size = st.st_size;
    fs.mod_time_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    if (S_ISLNK(st.st_mode)) {
      std::vector<char> buf(PATH_MAX);
      ssize_t n = ::readlink(host.c_str(), buf.data(), buf.size());
      if (n > 0) fs.linkname.assign(buf.data(), n);
    }
    return fs;
  }

  Engine* engine_;
  const BuildRequest& req_;
  const solver::Session& session_;
  progress::Sink* progress_;
  const std::atomic<bool>* cancel_;
  int depth_;
  std::map<std::string, pb::Definition> inputs_;
  std::map<std::string, cache::Chain> results_;
};

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options,
                                                     const frontend::Registry* frontends) {
  std::unique_ptr<Engine> e(new Engine());
  e->frontends_ = frontends;
  KILN_ASSIGN_OR_RETURN(e->cache_, cache::Cache::Open({options.root, options.snapshotter}));
  ops::OpsOptions ops_options;
  ops_options.state_dir = options.root + "/locals";
  if (mkdir(ops_options.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError("cannot create " + ops_options.state_dir);
  }
  // Exec ops run through runc when it is installed; without it they fail
  // with a message saying so.
  auto runc = exec::RuncExecutor::Create({"runc", options.root + "/exec"});
  if (runc.ok()) e->executor_ = std::move(*runc);
  ops_options.executor = e->executor_.get();
  KILN_ASSIGN_OR_RETURN(e->images_, image::DiskStore::Open(e->cache_.get()));
  ops_options.images = e->images_.get();
  ops_options.cache_mounts = e->cache_->cache_mounts();
  e->resolver_ = ops::NewOpResolver(ops_options);
  solver::SolverOptions solver_options;
  solver_options.max_parallelism = options.max_parallelism;
  cache::Cache* c = e->cache_.get();
  solver_options.lock_key = [c](const std::string& key) { return c->LockKey(key); };
  e->solver_ = std::make_unique<solver::Solver>(c->index(), c->snapshotter(), e->resolver_.get(),
                                                std::move(solver_options));
  return e;
}

Engine::~Engine() = default;

absl::StatusOr<BuildResult> Engine::Build(const BuildRequest& request, progress::Sink* progress,
                                          const std::atomic<bool>* cancel) {
  // Checked before anything runs: a bad output costs nothing.
  for (const OutputSpec& o : request.outputs) KILN_RETURN_IF_ERROR(ValidateOutputSpec(o));
  ops::LocalSession local_session(request.locals, request.secrets, request.ssh);
  const solver::Session& session = request.session ? *request.session : local_session;
  pb::Definition def = request.definition;
  std::string image_config;
  if (!request.frontend.empty()) {
    std::unique_ptr<frontend::Frontend> fe;
    if (request.frontend != frontend::kGatewayFrontend) {
      if (frontends_ == nullptr) return frontend::Registry().New(request.frontend).status();
      KILN_ASSIGN_OR_RETURN(fe, frontends_->New(request.frontend));
    }
    EngineBridge bridge(this, request, session, progress, cancel);
    KILN_ASSIGN_OR_RETURN(
        frontend::Result result,
        fe == nullptr ? bridge.RunImage(request.frontend_options, {}) : fe->Build(bridge));
    def = std::move(result.definition);
    image_config = std::move(result.metadata[frontend::kImageConfigKey]);
  }
  KILN_ASSIGN_OR_RETURN(solver::Graph graph, solver::LoadDefinition(def));
  solver::SolveOptions o{&session, progress, request.no_cache, cancel};
  KILN_ASSIGN_OR_RETURN(solver::SolveResult r, solver_->Solve(graph, o));
  KILN_RETURN_IF_ERROR(Export(r.chain, request, image_config));
  return BuildResult{r.chain, r.key};
}

absl::Status Engine::Export(const cache::Chain& chain, const BuildRequest& request,
                            const std::string& image_config) {
  if (request.outputs.empty()) return absl::OkStatus();
  KILN_ASSIGN_OR_RETURN(auto view, cache_->snapshotter()->View(chain));
  std::optional<exporter::Epoch> epoch;
  if (request.source_date_epoch.has_value()) epoch = exporter::Epoch{*request.source_date_epoch};
  // Built once per compression, shared by the image outputs.
  std::map<image::Compression, image::BuiltImage> built;
  for (const OutputSpec& o : request.outputs) {
    if (o.type == "local") {
      exporter::LocalOptions opts;
      opts.source_date_epoch = epoch;
      KILN_RETURN_IF_ERROR(exporter::ExportLocal(view->path(), o.attrs.at("dest"), opts));
    } else if (o.type == "tar") {
      exporter::TarOptions opts;
      opts.source_date_epoch = epoch;
      opts.exact_times = o.exact_times;
      KILN_RETURN_IF_ERROR(exporter::ExportTar(view->path(), o.attrs.at("dest"), opts));
    } else {
      image::BuildImageOptions image_options;
      image_options.epoch = request.source_date_epoch;
      image_options.config = image_config;
      auto compression = o.attrs.find("compression");
      if (compression != o.attrs.end()) {
        KILN_ASSIGN_OR_RETURN(image_options.compression,
                              image::ParseCompression(compression->second));
      }
      auto it = built.find(image_options.compression);
      if (it == built.end()) {
        KILN_ASSIGN_OR_RETURN(image::BuiltImage b,
                              image::BuildImage(cache_.get(), chain, image_options));
        it = built.emplace(image_options.compression, std::move(b)).first;
      }
      const image::BuiltImage& image = it->second;
      auto name = o.attrs.find("name");
      std::string ref;
      if (name != o.attrs.end()) {
        KILN_ASSIGN_OR_RETURN(ref, llb::NormalizeImageRef(name->second));
      }
      if (o.type == "oci" || o.type == "docker") {
        auto format =
            o.type == "oci" ? image::ArchiveFormat::kOciLayout : image::ArchiveFormat::kDockerSave;
        KILN_RETURN_IF_ERROR(
            image::WriteImageArchive(cache_->content(), image, ref, o.attrs.at("dest"), format));
      } else {
        KILN_RETURN_IF_ERROR(images_->Tag(image, chain, ref).status());
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln::engine
