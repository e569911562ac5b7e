// kilnd's settings: defaults, then the YAML config file, then flags.
//
//   # /etc/kiln/kilnd.yaml
//   root: /var/lib/kiln
//   addr: [unix:///run/kiln/kilnd.sock, tcp://0.0.0.0:7451]
//   max-parallelism: 4
//   snapshotter: auto
//   tls: {cert: /etc/kiln/server.pem, key: /etc/kiln/server-key.pem, ca: /etc/kiln/ca.pem}
//   insecure: false
#ifndef KILN_CMD_KILND_CONFIG_H_
#define KILN_CMD_KILND_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::kilnd {

constexpr char kDefaultAddr[] = "unix:///run/kiln/kilnd.sock";
constexpr char kDefaultConfig[] = "/etc/kiln/kilnd.yaml";

struct Config {
  std::string root;
  std::vector<std::string> addrs;  // empty: kDefaultAddr
  int max_parallelism = 0;         // 0: cores
  std::string snapshotter = "auto";
  std::string tls_cert, tls_key, tls_ca;
  bool insecure = false;  // TCP without TLS
  bool help = false;
};

// Applies the YAML config `text` (read from `file`, for messages) over
// `config`. InvalidArgument "FILE:LINE:COL: message" for syntax errors,
// unknown keys (with a suggestion) and values of the wrong type.
absl::Status ApplyConfigFile(const std::string& file, const std::string& text, Config* config);

// Applies kilnd's command line over `config`; --config FILE is read first
// (the default file when it exists), whatever its place among the flags.
absl::Status ApplyFlags(const std::vector<std::string>& args, Config* config);

// The listening addresses parsed and checked against the TLS settings:
// unix:///ABS/PATH, tcp://HOST:PORT only with cert, key and CA (mutual TLS)
// or `insecure`.
struct Listen {
  bool unix_socket = false;
  std::string path;    // unix
  std::string target;  // tcp: HOST:PORT as gRPC takes it
  std::string addr;    // as given
};
absl::StatusOr<std::vector<Listen>> ParseListen(const Config& config);

}  // namespace kiln::kilnd

#endif  // KILN_CMD_KILND_CONFIG_H_
