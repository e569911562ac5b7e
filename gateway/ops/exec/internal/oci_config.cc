#include "gateway/ops/exec/internal/oci_config.h"

#include <cstdio>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kiln::exec_internal {
namespace {

// containerd's default capability set, which BuildKit keeps.
constexpr const char* kCapabilities[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

constexpr const char* kMaskedPaths[] = {
    "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi",          "/sys/firmware",
};

constexpr const char* kReadonlyPaths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

template <typename Range>
std::string Array(const Range& items) {
  std::vector<std::string> quoted;
  for (const auto& s : items) quoted.push_back(JsonQuote(s));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

std::string MountJson(std::string_view dest, std::string_view type, std::string_view source,
                      const std::vector<std::string>& options) {
  return absl::StrCat("{\"destination\":", JsonQuote(dest), ",\"type\":", JsonQuote(type),
                      ",\"source\":", JsonQuote(source), ",\"options\":", Array(options), "}");
}

std::vector<std::string> Mounts(const exec::Spec& spec, const ConfigInputs& in) {
  std::vector<std::string> m = {
      MountJson("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      MountJson("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      MountJson("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      MountJson("/dev/shm", "tmpfs", "shm",
                {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      MountJson("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      MountJson("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      MountJson("/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "noexec", "nodev"}),
      MountJson("/etc/resolv.conf", "bind", in.resolv_conf_file, {"ro", "rbind"}),
      MountJson("/etc/hosts", "bind", in.hosts_file, {"ro", "rbind"}),
  };
  for (const exec::Mount& mount : spec.mounts) {
    if (mount.kind == exec::Mount::Kind::kTmpfs) {
      std::vector<std::string> opts = {"nosuid"};
      if (mount.tmpfs_size > 0) opts.push_back(absl::StrCat("size=", mount.tmpfs_size));
      m.push_back(MountJson(mount.dest, "tmpfs", "tmpfs", opts));
    } else {
      std::vector<std::string> opts = {"rbind"};
      if (mount.readonly) opts.push_back("ro");
      m.push_back(MountJson(mount.dest, "bind", mount.source, opts));
    }
  }
  return m;
}

// No rlimits: like BuildKit the process inherits runc's, since raising
// RLIMIT_NOFILE above the caller's hard limit needs CAP_SYS_RESOURCE.
std::string Process(const exec::Spec& spec, const ConfigInputs& in) {
  std::vector<std::string> gids;
  for (uint32_t g : in.user.additional_gids) gids.push_back(absl::StrCat(g));
  std::string caps = Array(kCapabilities);
  return absl::StrCat(
      "{\"terminal\":false,\"user\":{\"uid\":", in.user.uid, ",\"gid\":", in.user.gid,
      gids.empty() ? "" : absl::StrCat(",\"additionalGids\":[", absl::StrJoin(gids, ","), "]"),
      "},\"args\":", Array(spec.args), ",\"env\":", Array(spec.env),
      ",\"cwd\":", JsonQuote(spec.cwd.empty() ? "/" : spec.cwd),
      ",\"capabilities\":{\"bounding\":", caps, ",\"effective\":", caps, ",\"permitted\":", caps,
      "},\"noNewPrivileges\":false,\"oomScoreAdj\":", in.oom_score_adj, "}");
}

std::string Linux(const exec::Spec& spec) {
  std::vector<std::string> ns = {"pid", "ipc", "uts", "mount"};
  if (spec.network != pb::NetMode::HOST) ns.push_back("network");
  std::vector<std::string> ns_json;
  for (const std::string& n : ns) ns_json.push_back(absl::StrCat("{\"type\":\"", n, "\"}"));
  return absl::StrCat(
      "{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},\"namespaces\":[",
      absl::StrJoin(ns_json, ","), "],\"maskedPaths\":", Array(kMaskedPaths),
      ",\"readonlyPaths\":", Array(kReadonlyPaths), "}");
}

}  // namespace

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string OciConfig(const exec::Spec& spec, const ConfigInputs& in) {
  const std::string& hostname = spec.hostname.empty() ? kDefaultHostname : spec.hostname;
  return absl::StrCat("{\"ociVersion\":\"1.0.2\",\"process\":", Process(spec, in),
                      ",\"root\":{\"path\":", JsonQuote(spec.rootfs),
                      ",\"readonly\":", spec.readonly_rootfs ? "true" : "false",
                      "},\"hostname\":", JsonQuote(hostname), ",\"mounts\":[",
                      absl::StrJoin(Mounts(spec, in), ","), "],\"linux\":", Linux(spec), "}\n");
}

std::string HostsFile(const std::string& hostname) {
  return absl::StrCat("127.0.0.1 localhost ", hostname,
                      "\n::1 localhost ip6-localhost ip6-loopback\n");
}

std::string ResolvConf(std::string_view host_resolv_conf, bool host_network) {
  absl::string_view text(host_resolv_conf.data(), host_resolv_conf.size());
  if (host_network) return std::string(text);
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&rest, "nameserver")) {
      rest = absl::StripAsciiWhitespace(rest);
      if (absl::StartsWith(rest, "127.") || rest == "::1") continue;
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace kiln::exec_internal
