#include "sdk/frontend/context.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/internal/go_path.h"
#include "sdk/llb/llb.h"

namespace kiln::frontend {

namespace {

// The Engine API's uploaded context (see GivenContext).
std::optional<llb::State> RemoteContext(const Bridge& bridge) {
  auto it = bridge.Options().find("context");
  if (it == bridge.Options().end()) return std::nullopt;
  const std::string& url = it->second;
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) return std::nullopt;
  llb::HttpOptions h;
  h.filename = "context";
  h.op.custom_name = "[internal] load remote build context";
  llb::CopyOptions unpack;
  unpack.attempt_unpack = true;
  llb::OpOptions op;
  op.custom_name = "[internal] unpack build context";
  return llb::Scratch().File(llb::Copy(llb::Http(url, h), "/context", "/", unpack), op);
}

}  // namespace

std::optional<llb::State> GivenContext(const Bridge& bridge) {
  auto in = bridge.Inputs().find("context");
  if (in != bridge.Inputs().end()) return llb::FromDefinition(in->second);
  return RemoteContext(bridge);
}

absl::StatusOr<std::string> ReadLocalFile(Bridge& bridge, const std::string& local,
                                          const std::string& path) {
  if (bridge.Inputs().count(local) == 0 && (local == "context" || local == "dockerfile")) {
    if (std::optional<llb::State> remote = RemoteContext(bridge)) {
      KILN_ASSIGN_OR_RETURN(pb::Definition def, llb::Marshal(*remote));
      KILN_ASSIGN_OR_RETURN(std::string ref, bridge.Solve(def));
      return bridge.ReadFile(ref, path);
    }
  }
  if (auto in = bridge.Inputs().find(local); in != bridge.Inputs().end()) {
    KILN_ASSIGN_OR_RETURN(std::string ref, bridge.Solve(in->second));
    return bridge.ReadFile(ref, path);
  }
  llb::LocalOptions lo;
  lo.include_patterns = {path};
  lo.shared_key_hint = local;
  lo.session_id = bridge.SessionID();
  lo.op.custom_name = absl::StrCat("[internal] load ", path);
  KILN_ASSIGN_OR_RETURN(pb::Definition def, llb::Marshal(llb::Local(local, lo)));
  KILN_ASSIGN_OR_RETURN(std::string ref, bridge.Solve(def));
  return bridge.ReadFile(ref, path);
}

std::vector<std::string> ParseIgnoreFile(std::string_view content) {
  std::vector<std::string> out;
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
  while (!content.empty()) {
    size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view() : content.substr(nl + 1);
    if (!line.empty() && line[0] == '#') continue;
    std::string p(absl::StripAsciiWhitespace(absl::string_view(line.data(), line.size())));
    if (p.empty()) continue;
    bool invert = p[0] == '!';
    if (invert) p = std::string(absl::StripAsciiWhitespace(absl::string_view(p).substr(1)));
    if (!p.empty()) {
      p = llb_internal::CleanPath(p);
      if (p.size() > 1 && p[0] == '/') p.erase(0, 1);
    }
    out.push_back(invert ? "!" + p : p);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ReadContextExcludes(Bridge& bridge,
                                                             const std::string& filename) {
  absl::StatusOr<std::string> ignore =
      ReadLocalFile(bridge, "dockerfile", filename + ".dockerignore");
  if (absl::IsNotFound(ignore.status())) ignore = ReadLocalFile(bridge, "context", ".dockerignore");
  if (absl::IsNotFound(ignore.status())) return std::vector<std::string>();
  KILN_RETURN_IF_ERROR(ignore.status());
  return ParseIgnoreFile(*ignore);
}

BuildContext::BuildContext(std::optional<llb::State> given, std::string name,
                           std::vector<std::string> excludes, std::string session_id)
    : given_(std::move(given)),
      name_(std::move(name)),
      excludes_(std::move(excludes)),
      session_id_(std::move(session_id)),
      follow_(std::make_shared<std::vector<std::string>>()) {}

llb::State BuildContext::State() const {
  if (given_.has_value()) return *given_;
  if (state_.has_value()) return *state_;
  llb::LocalOptions lo;
  lo.exclude_patterns = excludes_;
  lo.shared_key_hint = name_;
  lo.session_id = session_id_;
  lo.follow_paths_later = follow_;  // one node: its follow paths are marshaled once
  lo.op.custom_name = "[internal] load build context";
  state_ = llb::Local(name_, lo);
  return *state_;
}

void BuildContext::Read(std::string_view path) {
  paths_.insert(llb_internal::JoinPath({"/", path}));
}

void BuildContext::Finish() { follow_->assign(paths_.begin(), paths_.end()); }

}  // namespace kiln::frontend
