#include "cmd/kilnd/config.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "frontends/yaml/doc/doc.h"
#include "sdk/base/status_macros.h"
#include "sdk/base/suggest.h"

namespace kiln::kilnd {
namespace {

absl::Status At(const std::string& file, const yamldoc::Node& n, const std::string& msg) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", n.line, ":", n.col, ": ", msg));
}

absl::StatusOr<std::string> Scalar(const std::string& file, const std::string& key,
                                   const yamldoc::Node& n) {
  if (!n.IsScalar()) return At(file, n, absl::StrCat(key, ": want a string, not ", n.KindName()));
  return n.scalar;
}

absl::StatusOr<bool> Bool(const std::string& file, const std::string& key, const yamldoc::Node& n) {
  if (n.IsScalar() && !n.quoted && (n.scalar == "true" || n.scalar == "false")) {
    return n.scalar == "true";
  }
  return At(file, n, absl::StrCat(key, ": want true or false"));
}

absl::Status Unknown(const std::string& file, const yamldoc::Node& key,
                     const std::vector<std::string>& known, const std::string& where) {
  std::string msg = absl::StrCat("unknown key \"", key.scalar, "\"", where);
  std::string s = Suggest(key.scalar, known);
  if (!s.empty()) absl::StrAppend(&msg, " (did you mean \"", s, "\"?)");
  return At(file, key, msg);
}

absl::StatusOr<int> Parallelism(const std::string& what, const std::string& v) {
  int n;
  if (!absl::SimpleAtoi(v, &n) || n < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": want a positive number, not \"", v, "\""));
  }
  return n;
}

std::string ReadFileOr(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::Status ApplyConfigFile(const std::string& file, const std::string& text, Config* c) {
  absl::StatusOr<yamldoc::Node> doc = yamldoc::Parse(text);
  if (!doc.ok()) return absl::InvalidArgumentError(absl::StrCat(file, ":", doc.status().message()));
  if (doc->IsNull()) return absl::OkStatus();
  if (!doc->IsMap()) return At(file, *doc, "want a map of settings");
  static const std::vector<std::string> kKeys = {"root",        "addr", "max-parallelism",
                                                 "snapshotter", "tls",  "insecure"};
  static const std::vector<std::string> kTlsKeys = {"cert", "key", "ca"};
  for (size_t i = 0; i < doc->keys.size(); ++i) {
    const yamldoc::Node& k = doc->keys[i];
    const yamldoc::Node& v = doc->items[i];
    const std::string& key = k.scalar;
    if (key == "root") {
      KILN_ASSIGN_OR_RETURN(c->root, Scalar(file, key, v));
    } else if (key == "snapshotter") {
      KILN_ASSIGN_OR_RETURN(c->snapshotter, Scalar(file, key, v));
    } else if (key == "addr") {
      c->addrs.clear();
      if (v.IsScalar()) {
        c->addrs.push_back(v.scalar);
      } else if (v.IsSequence()) {
        for (const yamldoc::Node& item : v.items) {
          KILN_ASSIGN_OR_RETURN(std::string a, Scalar(file, "addr", item));
          c->addrs.push_back(a);
        }
      } else {
        return At(file, v, "addr: want an address or a list of them");
      }
    } else if (key == "max-parallelism") {
      KILN_ASSIGN_OR_RETURN(std::string s, Scalar(file, key, v));
      absl::StatusOr<int> n = Parallelism(key, s);
      if (!n.ok()) return At(file, v, std::string(n.status().message()));
      c->max_parallelism = *n;
    } else if (key == "insecure") {
      KILN_ASSIGN_OR_RETURN(c->insecure, Bool(file, key, v));
    } else if (key == "tls") {
      if (!v.IsMap()) return At(file, v, "tls: want a map with cert, key and ca");
      for (size_t j = 0; j < v.keys.size(); ++j) {
        const std::string& tk = v.keys[j].scalar;
        std::string* dst = tk == "cert"  ? &c->tls_cert
                           : tk == "key" ? &c->tls_key
                           : tk == "ca"  ? &c->tls_ca
                                         : nullptr;
        if (dst == nullptr) return Unknown(file, v.keys[j], kTlsKeys, " in tls");
        KILN_ASSIGN_OR_RETURN(*dst, Scalar(file, "tls." + tk, v.items[j]));
      }
    } else {
      return Unknown(file, k, kKeys, "");
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyFlags(const std::vector<std::string>& args, Config* c) {
  // --config first: flags override the file.
  std::string config_file;
  bool explicit_config = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config_file = args[i + 1];
      explicit_config = true;
    } else if (absl::StartsWith(args[i], "--config=")) {
      config_file = args[i].substr(9);
      explicit_config = true;
    }
  }
  if (!explicit_config) config_file = kDefaultConfig;
  bool ok = false;
  std::string text = ReadFileOr(config_file, &ok);
  if (!ok && explicit_config) {
    return absl::InvalidArgumentError(absl::StrCat("--config ", config_file, ": cannot read it"));
  }
  if (ok) KILN_RETURN_IF_ERROR(ApplyConfigFile(config_file, text, c));

  std::vector<std::string> addrs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      c->help = true;
      continue;
    }
    if (a == "--insecure") {
      c->insecure = true;
      continue;
    }
    std::string flag = a, value;
    size_t eq = a.find('=');
    if (absl::StartsWith(a, "--") && eq != std::string::npos) {
      flag = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat(a, ": missing value (see kilnd --help)"));
    }
    if (flag == "--config") {
      continue;
    } else if (flag == "--addr") {
      addrs.push_back(value);
    } else if (flag == "--root") {
      c->root = value;
    } else if (flag == "--snapshotter") {
      c->snapshotter = value;
    } else if (flag == "--max-parallelism") {
      KILN_ASSIGN_OR_RETURN(c->max_parallelism, Parallelism("--max-parallelism", value));
    } else if (flag == "--tlscert") {
      c->tls_cert = value;
    } else if (flag == "--tlskey") {
      c->tls_key = value;
    } else if (flag == "--tlscacert") {
      c->tls_ca = value;
    } else {
      std::string msg = absl::StrCat("unknown flag ", flag);
      std::string s =
          Suggest(flag, {"--addr", "--root", "--config", "--snapshotter", "--max-parallelism",
                         "--tlscert", "--tlskey", "--tlscacert", "--insecure"});
      if (!s.empty()) absl::StrAppend(&msg, " (did you mean ", s, "?)");
      return absl::InvalidArgumentError(absl::StrCat(msg, " (see kilnd --help)"));
    }
  }
  if (!addrs.empty()) c->addrs = addrs;  // flags replace the file's list
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Listen>> ParseListen(const Config& c) {
  std::vector<std::string> addrs = c.addrs;
  if (addrs.empty()) addrs.push_back(kDefaultAddr);
  bool tls = !c.tls_cert.empty() || !c.tls_key.empty() || !c.tls_ca.empty();
  if (tls && (c.tls_cert.empty() || c.tls_key.empty() || c.tls_ca.empty())) {
    return absl::InvalidArgumentError(
        "TLS needs --tlscert, --tlskey and --tlscacert together (clients are checked against "
        "the CA: mutual TLS)");
  }
  std::vector<Listen> out;
  for (const std::string& a : addrs) {
    Listen l;
    l.addr = a;
    if (absl::StartsWith(a, "unix://")) {
      l.unix_socket = true;
      l.path = a.substr(7);
      if (l.path.empty() || l.path[0] != '/') {
        return absl::InvalidArgumentError(
            absl::StrCat("--addr ", a, ": want unix:///ABSOLUTE/PATH"));
      }
    } else if (absl::StartsWith(a, "tcp://")) {
      l.target = a.substr(6);
      size_t colon = l.target.rfind(':');
      int port;
      if (colon == std::string::npos || colon == 0 ||
          !absl::SimpleAtoi(l.target.substr(colon + 1), &port) || port < 0 || port > 65535) {
        return absl::InvalidArgumentError(absl::StrCat("--addr ", a, ": want tcp://HOST:PORT"));
      }
      if (!tls && !c.insecure) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--addr ", a,
            ": TCP needs mutual TLS (--tlscert, --tlskey, --tlscacert); "
            "--insecure allows plain TCP, which gives anyone who can connect the daemon's "
            "powers"));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--addr ", a, ": want unix:///PATH or tcp://HOST:PORT"));
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace kiln::kilnd
