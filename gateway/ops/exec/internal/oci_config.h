// The OCI runtime config (config.json) for one exec step, with BuildKit's
// defaults: namespaces, capabilities, masked paths and the standard mounts.
// Pure functions; thread-safe.
#ifndef KILN_GATEWAY_OPS_EXEC_INTERNAL_OCI_CONFIG_H_
#define KILN_GATEWAY_OPS_EXEC_INTERNAL_OCI_CONFIG_H_

#include <string>
#include <string_view>

#include "gateway/ops/exec/executor.h"
#include "gateway/ops/exec/internal/user.h"

namespace kiln::exec_internal {

// BuildKit's hostname when the step sets none.
inline constexpr char kDefaultHostname[] = "buildkitsandbox";

// What the config needs besides the Spec.
struct ConfigInputs {
  User user;
  std::string hosts_file;        // host path bound read-only at /etc/hosts
  std::string resolv_conf_file;  // host path bound read-only at /etc/resolv.conf
  int oom_score_adj = 0;
};

// config.json text for `spec`.
std::string OciConfig(const exec::Spec& spec, const ConfigInputs& in);

// /etc/hosts for a container named `hostname`.
std::string HostsFile(const std::string& hostname);

// /etc/resolv.conf: the host's as is when the container shares the host's
// network; otherwise without loopback name servers, which would point into
// the container's own empty network namespace.
std::string ResolvConf(std::string_view host_resolv_conf, bool host_network);

// `s` as a JSON string literal.
std::string JsonQuote(std::string_view s);

}  // namespace kiln::exec_internal

#endif  // KILN_GATEWAY_OPS_EXEC_INTERNAL_OCI_CONFIG_H_
