#include "sdk/frontend/dockerlike.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sdk/llb/internal/go_path.h"

namespace kiln::frontend {
namespace {

using Json = nlohmann::json;

std::string BaseName(const std::string& p) {
  std::string c = llb_internal::CleanPath(p);
  size_t slash = c.rfind('/');
  return slash == std::string::npos ? c : c.substr(slash + 1);
}

}  // namespace

Json EmptyImageConfig() {
  Json image = Json::object();
  image["rootfs"] = {{"type", "layers"}};
  image["config"] = {{"WorkingDir", "/"}, {"Env", {absl::StrCat("PATH=", kDefaultPath)}}};
  return image;
}

void SetConfigEnv(Json& env, const std::string& key, const std::string& value) {
  if (!env.is_array()) env = Json::array();
  for (Json& e : env) {
    if (!e.is_string()) continue;
    std::string kv = e.get<std::string>();
    if (kv.substr(0, kv.find('=')) == key) {
      e = key + "=" + value;
      return;
    }
  }
  env.push_back(key + "=" + value);
}

absl::Status LoadBaseImage(const ResolvedImage& image, const llb::Platform& platform,
                           llb::State* state, Json* config) {
  Json parsed = Json::parse(image.config, nullptr, false);
  if (!parsed.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("image ", image.ref, ": config is not JSON"));
  }
  parsed.erase("created");
  const Json* rootfs = parsed.contains("rootfs") ? &parsed["rootfs"] : nullptr;
  bool layers =
      rootfs != nullptr && rootfs->is_object() && !rootfs->value("diff_ids", Json::array()).empty();
  *config = std::move(parsed);
  if (!layers) {
    *state = llb::Scratch();
    return absl::OkStatus();
  }
  llb::ImageOptions io;
  io.platform = platform;
  io.op.custom_name = absl::StrCat("[internal] load ", image.ref);
  *state = llb::Image(image.digest.empty() ? image.ref : image.ref + "@" + image.digest, io);
  return absl::OkStatus();
}

void AddDefaultPath(Json* image) {
  Json& config = (*image)["config"];
  if (!config.is_object()) config = Json::object();
  Json& env = config["Env"];
  if (!env.is_array()) env = Json::array();
  for (const Json& e : env) {
    if (e.is_string() && absl::StartsWith(e.get<std::string>(), "PATH=")) return;
  }
  env.push_back(absl::StrCat("PATH=", kDefaultPath));
}

void ApplyBaseConfig(const llb::Platform& platform, Json* image, llb::State* state) {
  AddDefaultPath(image);
  Json& config = (*image)["config"];
  const Json& env = config["Env"];
  for (const Json& e : env) {
    if (!e.is_string()) continue;
    std::string kv = e.get<std::string>();
    size_t eq = kv.find('=');
    *state = state->AddEnv(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  std::string wd = config.value("WorkingDir", "");
  if (!wd.empty()) {
    wd = llb_internal::NormalizeActionPath(wd, wd, false);
    config["WorkingDir"] = wd;
    *state = state->Dir(wd);
  }
  std::string user = config.value("User", "");
  if (!user.empty()) *state = state->User(user);
  *state = state->WithPlatform(platform);
}

std::string WorkdirPath(const Json& image, const std::string& path) {
  std::string current;
  if (image.is_object() && image.contains("config") && image["config"].is_object()) {
    current = image["config"].value("WorkingDir", "");
  }
  return llb_internal::NormalizeActionPath(current, path, false);
}

bool ApplyWorkdir(const std::string& dir, const llb::OpOptions& op, Json* image,
                  llb::State* state) {
  Json& config = (*image)["config"];
  if (!config.is_object()) config = Json::object();
  config["WorkingDir"] = dir;
  *state = state->Dir(dir);
  if (dir == "/") return false;
  llb::MkdirOptions mo;
  mo.make_parents = true;
  std::string user = config.value("User", "");
  if (!user.empty()) mo.owner = llb::Owner::Parse(user);
  *state = state->File(llb::Mkdir(dir, 0755, mo), op);
  return true;
}

absl::StatusOr<std::optional<llb::Mount>> MakeRunMount(const RunMount& m, const std::string& cwd,
                                                       const llb::State& context,
                                                       std::vector<llb::SecretEnv>* secret_env) {
  llb::Mount mount;
  std::string target = m.target;
  if (!target.empty() && target[0] != '/') target = llb_internal::JoinPath({"/", cwd, target});
  if (m.type == "secret") {
    std::string id = !m.id.empty() ? m.id : m.source;
    if (id.empty()) id = BaseName(m.target);
    if (!m.env.empty()) secret_env->push_back({id, m.env, !m.required});
    if (target.empty() && m.env.empty()) target = "/run/secrets/" + BaseName(id);
    if (target.empty()) return std::nullopt;
    mount.target = target;
    mount.secret = llb::SecretMount{id, m.uid.value_or(0), m.gid.value_or(0), m.mode.value_or(0400),
                                    !m.required};
    return mount;
  }
  if (m.type == "ssh") {
    mount.target = target;
    mount.ssh = llb::SshMount{m.id, m.uid.value_or(0), m.gid.value_or(0), m.mode.value_or(0600),
                              !m.required};
    return mount;
  }
  if (target.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("a ", m.type, " mount needs a target"));
  }
  if (target == "/") return absl::InvalidArgumentError("invalid mount target \"/\"");
  mount.target = target;
  llb::State src = context;
  if (m.from.has_value()) {
    src = *m.from;
  } else if (m.type == "cache") {
    src = llb::Scratch();
  }
  if (m.type == "tmpfs") {
    src = llb::Scratch();
    mount.tmpfs = llb::TmpfsMount{m.size};
  }
  if (m.readonly) {
    mount.readonly = true;
  } else if (m.type == "bind") {
    mount.no_output = true;
  }
  if (m.type == "cache") {
    pb::CacheSharingOpt sharing = m.sharing == "private"  ? pb::PRIVATE
                                  : m.sharing == "locked" ? pb::LOCKED
                                                          : pb::SHARED;
    std::string id = m.id.empty() ? llb_internal::CleanPath(m.target) : m.id;
    mount.cache = llb::CacheMount{"/" + id, sharing};
  }
  std::string selector = llb_internal::JoinPath({"/", m.source});
  if (selector != "/") {
    mount.selector = selector;
  } else if (m.uid || m.gid || m.mode) {
    llb::MkdirOptions mo;
    mo.owner = llb::Owner::Ids(m.uid.value_or(0), m.gid.value_or(0));
    llb::OpOptions op;
    op.custom_name = "[internal] setting cache mount permissions";
    src = src.File(llb::Mkdir("/cache", m.mode.value_or(0755), mo), op);
    mount.selector = "/cache";
  }
  mount.source = src;
  return mount;
}

std::vector<std::string> ShellOf(const Json& image) {
  std::vector<std::string> shell;
  if (image.is_object() && image.contains("config") && image["config"].is_object()) {
    const Json& config = image["config"];
    if (config.contains("Shell") && config["Shell"].is_array()) {
      for (const Json& j : config["Shell"]) {
        if (j.is_string()) shell.push_back(j.get<std::string>());
      }
    }
  }
  if (shell.empty()) shell = {"/bin/sh", "-c"};
  return shell;
}

RemoteSource ParseRemoteSource(const std::string& src) {
  auto http = [](const std::string& s) {
    return absl::StartsWith(s, "http://") || absl::StartsWith(s, "https://");
  };
  RemoteSource r;
  std::string url = src.substr(0, src.find('#'));
  if (absl::StartsWith(url, "git@") || absl::StartsWith(url, "git://") ||
      absl::StartsWith(url, "ssh://") || (http(url) && absl::EndsWith(url, ".git"))) {
    r.kind = RemoteSource::Kind::kGit;
    r.url = url;
    r.ref = url.size() < src.size() ? src.substr(url.size() + 1) : "";
    r.path = "/";
    return r;
  }
  if (!http(src)) return r;
  r.kind = RemoteSource::Kind::kHttp;
  r.url = src;
  std::string path = src.substr(src.find("//") + 2);
  size_t slash = path.find('/');
  path = slash == std::string::npos ? "" : path.substr(slash);
  path = path.substr(0, path.find_first_of("?#"));
  r.path = BaseName(path.empty() ? "/" : path);
  if (r.path.empty() || r.path == "/" || r.path == ".") r.path = "__unnamed__";
  return r;
}

llb::State RemoteSourceState(const RemoteSource& source, const std::string& checksum,
                             bool keep_git_dir, const std::string& name) {
  if (source.kind == RemoteSource::Kind::kGit) {
    llb::GitOptions go;
    go.keep_git_dir = keep_git_dir;
    go.checksum = checksum;
    go.op.custom_name = name;
    return llb::Git(source.url, source.ref, go);
  }
  llb::HttpOptions ho;
  ho.filename = source.path;
  ho.checksum = checksum;
  ho.op.custom_name = name;
  return llb::Http(source.url, ho);
}

std::optional<pb::ProxyEnv> ProxyEnvFromBuildArgs(const std::map<std::string, std::string>& args) {
  std::optional<pb::ProxyEnv> out;
  for (const auto& [k, v] : args) {
    std::string l = absl::AsciiStrToLower(k);
    pb::ProxyEnv proxy = out.value_or(pb::ProxyEnv());
    if (l == "http_proxy") {
      proxy.set_http_proxy(v);
    } else if (l == "https_proxy") {
      proxy.set_https_proxy(v);
    } else if (l == "ftp_proxy") {
      proxy.set_ftp_proxy(v);
    } else if (l == "no_proxy") {
      proxy.set_no_proxy(v);
    } else if (l == "all_proxy") {
      proxy.set_all_proxy(v);
    } else {
      continue;
    }
    out = proxy;
  }
  return out;
}

absl::StatusOr<pb::NetMode> ForcedNetwork(const std::map<std::string, std::string>& options) {
  auto it = options.find("force-network-mode");
  if (it == options.end() || it->second.empty() || it->second == "sandbox") return pb::UNSET;
  if (it->second == "none") return pb::NONE;
  if (it->second == "host") return pb::HOST;
  return absl::InvalidArgumentError("force-network-mode=" + it->second +
                                    ": want none, host or sandbox");
}

absl::StatusOr<pb::NetMode> RunNetwork(const std::string& mode, pb::NetMode forced) {
  if (mode.empty() || mode == "default") return forced;
  if (mode == "none") return pb::NONE;
  if (mode == "host") return pb::HOST;
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported network mode \"", mode, "\" (want default, none or host)"));
}

namespace {

// "N" or "N-M", each 0..65535, N <= M.
bool PortRange(const std::string& text, uint32_t* lo, uint32_t* hi) {
  std::vector<std::string> r = absl::StrSplit(text, absl::MaxSplits('-', 1));
  auto number = [](const std::string& t, uint32_t* v) {
    return !t.empty() && t.size() <= 5 && t.find_first_not_of("0123456789") == std::string::npos &&
           absl::SimpleAtoi(t, v) && *v <= 65535;
  };
  if (!number(r[0], lo)) return false;
  *hi = *lo;
  return (r.size() == 1 || number(r[1], hi)) && *hi >= *lo;
}

}  // namespace

absl::StatusOr<PortSpec> ParsePortSpec(const std::string& spec) {
  std::string rest = spec, proto = "tcp";
  if (size_t slash = spec.rfind('/'); slash != std::string::npos) {
    rest = spec.substr(0, slash);
    proto = absl::AsciiStrToLower(spec.substr(slash + 1));
  }
  if (proto != "tcp" && proto != "udp" && proto != "sctp") {
    return absl::InvalidArgumentError(absl::StrCat("invalid proto: ", proto));
  }
  // IP:HOST:CONTAINER, HOST:CONTAINER or CONTAINER; an IPv6 address has
  // colons of its own.
  std::vector<std::string> parts = absl::StrSplit(rest, ':');
  PortSpec out;
  const std::string container = parts.back();
  if (parts.size() > 1) {
    out.host_mapping = true;
    const std::string host = parts[parts.size() - 2];
    std::string ip = absl::StrJoin(parts.begin(), parts.end() - 2, ":");
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    unsigned char addr[sizeof(struct in6_addr)];
    if (!ip.empty() && inet_pton(AF_INET, ip.c_str(), addr) != 1 &&
        inet_pton(AF_INET6, ip.c_str(), addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("invalid IP address: ", ip));
    }
    uint32_t lo, hi;
    if (!host.empty() && !PortRange(host, &lo, &hi)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid hostPort: ", host));
    }
  }
  uint32_t lo, hi;
  if (!PortRange(container, &lo, &hi)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid containerPort: ", container));
  }
  for (uint32_t p = lo; p <= hi; ++p) out.ports.push_back(absl::StrCat(p, "/", proto));
  return out;
}

}  // namespace kiln::frontend
