#include "sdk/llb/source.h"

#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sdk/base/digest.h"
#include "sdk/base/json.h"
#include "sdk/llb/image_ref.h"
#include "sdk/llb/internal/git_url.h"
#include "sdk/llb/internal/go_path.h"
#include "sdk/llb/internal/node.h"

namespace kiln::llb {
namespace {

using llb_internal::CapSet;
using llb_internal::MarshalContext;
using Attrs = std::map<std::string, std::string>;

struct SourceSpec {
  std::string identifier;
  Attrs attrs;
  CapSet caps;
  // Only image sources name a platform in their op (BuildKit's
  // platformSpecificSource); others are the same on every platform.
  bool platform_specific = false;
  std::optional<Platform> platform;
  bool is_local = false;
  std::string local_unique_id;
  std::vector<std::string> follow_paths;
  std::shared_ptr<const std::vector<std::string>> follow_paths_later;
};

class SourceNode final : public llb_internal::Node {
 public:
  SourceNode(SourceSpec spec, OpOptions options, absl::Status error)
      : Node(std::move(options), std::move(error)), spec_(std::move(spec)) {}

  std::vector<llb_internal::Output> Deps() const override { return {}; }

  absl::Status Fill(const MarshalContext& ctx, pb::Op* op, CapSet* caps) const override {
    pb::SourceOp* src = op->mutable_source();
    src->set_identifier(spec_.identifier);
    auto& attrs = *src->mutable_attrs();
    for (const auto& [k, v] : spec_.attrs) attrs[k] = v;
    caps->insert(spec_.caps.begin(), spec_.caps.end());
    std::vector<std::string> follow = spec_.follow_paths;
    if (spec_.follow_paths_later != nullptr) {
      follow.insert(follow.end(), spec_.follow_paths_later->begin(),
                    spec_.follow_paths_later->end());
    }
    if (!follow.empty()) {
      attrs["local.followpaths"] = JsonStringArray(follow);
      caps->insert("source.local.followpaths");
    }
    if (spec_.is_local && spec_.attrs.count("local.session") == 0) {
      const std::string& id =
          spec_.local_unique_id.empty() ? ctx.local_unique_id() : spec_.local_unique_id;
      if (!id.empty()) {
        attrs["local.unique"] = id;
        caps->insert("source.local.unique");
      }
    }
    if (spec_.platform_specific) *op->mutable_platform() = ctx.PlatformFor(spec_.platform);
    return absl::OkStatus();
  }

 private:
  SourceSpec spec_;
};

State MakeSource(SourceSpec spec, const OpOptions& options, absl::Status error) {
  std::optional<Platform> platform = spec.platform;
  auto node = llb_internal::NewNode<SourceNode>(std::move(spec), options, std::move(error));
  return llb_internal::StateAccess::Fresh({node, 0}, platform);
}

absl::Status Invalid(std::string_view where, std::string_view arg, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("llb: ", std::string(where), "(\"",
                                                 std::string(arg), "\"): ", std::string(why)));
}

// A wrapped error from a helper whose message already quotes the argument.
absl::Status Wrap(std::string_view where, const absl::Status& st) {
  return absl::InvalidArgumentError(
      absl::StrCat("llb: ", std::string(where), ": ", std::string(st.message())));
}

const char* ResolveModeName(ResolveMode mode) {
  switch (mode) {
    case ResolveMode::kForcePull:
      return "pull";
    case ResolveMode::kPreferLocal:
      return "local";
    default:
      return "default";
  }
}

}  // namespace

State Scratch() { return State(); }

State Image(std::string_view ref, const ImageOptions& options) {
  SourceSpec spec;
  spec.platform_specific = true;
  spec.platform = options.platform;
  spec.caps.insert("source.image");
  absl::Status error;
  absl::StatusOr<std::string> normalized = NormalizeImageRef(ref);
  if (normalized.ok()) {
    spec.identifier = "docker-image://" + *normalized;
  } else {
    error = Wrap("Image", normalized.status());
  }
  if (options.resolve_mode != ResolveMode::kDefault) {
    spec.attrs["image.resolvemode"] = ResolveModeName(options.resolve_mode);
    if (options.resolve_mode == ResolveMode::kForcePull) {
      spec.caps.insert("source.image.resolvemode");
    }
  }
  if (options.layer_limit.has_value()) {
    spec.attrs["image.layerlimit"] = absl::StrCat(*options.layer_limit);
    spec.caps.insert("source.image.layerlimit");
  }
  if (!options.checksum.empty()) {
    absl::Status st = ValidateDigest(options.checksum);
    if (!st.ok() && error.ok()) error = Wrap("Image", st);
    spec.attrs["image.checksum"] = options.checksum;
    spec.caps.insert("source.image.checksum");
  }
  return MakeSource(std::move(spec), options.op, std::move(error));
}

State Local(std::string_view name, const LocalOptions& options) {
  SourceSpec spec;
  spec.identifier = absl::StrCat("local://", std::string(name));
  spec.is_local = true;
  spec.local_unique_id = options.unique_id;
  absl::Status error;
  if (name.empty()) error = Invalid("Local", name, "empty name");
  const auto list_attr = [&](const std::vector<std::string>& values, const char* attr,
                             const char* cap) {
    if (values.empty()) return;
    spec.attrs[attr] = JsonStringArray(values);
    spec.caps.insert(cap);
  };
  if (!options.session_id.empty()) {
    spec.attrs["local.session"] = options.session_id;
    spec.caps.insert("source.local.sessionid");
  }
  list_attr(options.include_patterns, "local.includepattern", "source.local.includepatterns");
  spec.follow_paths = options.follow_paths;
  spec.follow_paths_later = options.follow_paths_later;
  list_attr(options.exclude_patterns, "local.excludepatterns", "source.local.excludepatterns");
  if (!options.shared_key_hint.empty()) {
    spec.attrs["local.sharedkeyhint"] = options.shared_key_hint;
    spec.caps.insert("source.local.sharedkeyhint");
  }
  spec.caps.insert("source.local");
  return MakeSource(std::move(spec), options.op, std::move(error));
}

State Http(std::string_view url, const HttpOptions& options) {
  SourceSpec spec;
  spec.identifier = std::string(url);
  absl::Status error;
  if (url.empty()) error = Invalid("Http", url, "empty URL");
  if (!options.checksum.empty()) {
    absl::Status st = ValidateDigest(options.checksum);
    if (!st.ok() && error.ok()) error = Wrap("Http", st);
    spec.attrs["http.checksum"] = options.checksum;
    spec.caps.insert("source.http.checksum");
  }
  if (!options.filename.empty()) spec.attrs["http.filename"] = options.filename;
  if ((options.perm & 0777) != 0) {
    spec.attrs["http.perm"] = absl::StrFormat("0%o", options.perm & 0777);
    spec.caps.insert("source.http.perm");
  }
  // BuildKit spells this capability "soruce.http.uidgid"; it is a wire name.
  if (options.uid != 0) {
    spec.attrs["http.uid"] = absl::StrCat(options.uid);
    spec.caps.insert("soruce.http.uidgid");
  }
  if (options.gid != 0) {
    spec.attrs["http.gid"] = absl::StrCat(options.gid);
    spec.caps.insert("soruce.http.uidgid");
  }
  if (!options.auth_header_secret.empty()) {
    spec.attrs["http.authheadersecret"] = options.auth_header_secret;
    spec.caps.insert("source.http.auth");
  }
  spec.caps.insert("source.http");
  return MakeSource(std::move(spec), options.op, std::move(error));
}

namespace {

// The ref and subdir of BuildKit's "ref:subdir" fragment syntax.
void SplitGitFragment(std::string_view fragment, std::string* ref, std::string* subdir) {
  size_t colon = fragment.find(':');
  *ref = std::string(fragment.substr(0, colon));
  subdir->clear();
  if (colon == std::string_view::npos) return;
  std::string cleaned = llb_internal::JoinPath({"/", fragment.substr(colon + 1)});
  *subdir = cleaned.substr(1);
}

void AddGitAuthAttrs(const GitOptions& options, SourceSpec* spec) {
  const GitOptions defaults;
  if (!options.auth_token_secret.empty()) {
    spec->attrs["git.authtokensecret"] = options.auth_token_secret;
    if (options.auth_token_secret != defaults.auth_token_secret) {
      spec->caps.insert("source.git.httpauth");
    }
  }
  if (!options.auth_header_secret.empty()) {
    spec->attrs["git.authheadersecret"] = options.auth_header_secret;
    if (options.auth_header_secret != defaults.auth_header_secret) {
      spec->caps.insert("source.git.httpauth");
    }
  }
}

void AddGitSshAttrs(const GitOptions& options, SourceSpec* spec) {
  if (!options.known_ssh_hosts.empty()) {
    std::string hosts = options.known_ssh_hosts;
    if (hosts.back() == '\n') hosts.pop_back();
    spec->attrs["git.knownsshhosts"] = hosts + "\n";
  }
  spec->caps.insert("source.git.knownsshhosts");
  spec->attrs["git.mountsshsock"] =
      options.mount_ssh_sock.empty() ? "default" : options.mount_ssh_sock;
  spec->caps.insert("source.git.mountsshsock");
}

}  // namespace

State Git(std::string_view url, std::string_view ref, const GitOptions& options) {
  SourceSpec spec;
  absl::Status error;
  // An absolute path is a repository on the builder's machine.
  std::string local =
      !url.empty() && url[0] == '/' ? absl::StrCat("file://", std::string(url)) : "";
  absl::StatusOr<llb_internal::GitRemote> remote =
      llb_internal::ParseGitUrl(local.empty() ? url : std::string_view(local));
  if (absl::IsNotFound(remote.status())) {
    remote = llb_internal::ParseGitUrl(absl::StrCat("https://", std::string(url)));
  }
  if (url.empty()) {
    error = Invalid("Git", url, "empty URL");
  } else if (!remote.ok()) {
    error = Wrap("Git", remote.status());
  }
  std::string git_ref, subdir;
  SplitGitFragment(ref, &git_ref, &subdir);
  if (!options.subdir.empty()) subdir = options.subdir;
  if (remote.ok()) {
    spec.identifier =
        absl::StrCat("git://", remote->host, llb_internal::JoinPath({"/", remote->path}));
    if (!git_ref.empty() || !subdir.empty()) {
      absl::StrAppend(&spec.identifier, "#", git_ref);
      if (!subdir.empty()) absl::StrAppend(&spec.identifier, ":", subdir);
    }
    spec.attrs["git.fullurl"] = remote->remote;
    spec.caps.insert("source.git.fullurl");
  }
  if (options.keep_git_dir) {
    spec.attrs["git.keepgitdir"] = "true";
    spec.caps.insert("source.git.keepgitdir");
  }
  AddGitAuthAttrs(options, &spec);
  if (remote.ok() && remote->scheme == "ssh") AddGitSshAttrs(options, &spec);
  if (!options.checksum.empty()) {
    spec.attrs["git.checksum"] = options.checksum;
    spec.caps.insert("source.git.checksum");
  }
  if (options.skip_submodules) {
    spec.attrs["git.skipsubmodules"] = "true";
    spec.caps.insert("source.git.skipsubmodules");
  }
  spec.caps.insert("source.git");
  return MakeSource(std::move(spec), options.op, std::move(error));
}

}  // namespace kiln::llb
