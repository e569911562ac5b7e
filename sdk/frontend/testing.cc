#include "sdk/frontend/testing.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/image_ref.h"

namespace kiln::frontend {
namespace {

std::string Clean(std::string path) {
  while (absl::StartsWith(path, "/")) path.erase(0, 1);
  while (absl::EndsWith(path, "/")) path.pop_back();
  return path;
}

}  // namespace

void FakeBridge::AddBusybox() {
  images["docker.io/library/busybox:latest"] = ResolvedImage{
      "docker.io/library/busybox:latest", "sha256:" + std::string(64, 'b'),
      R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin","HOME=/root"],)"
      R"("WorkingDir":"/srv"},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},)"
      R"("history":[{"created_by":"base"}]})"};
}

absl::StatusOr<std::string> FakeBridge::Solve(const pb::Definition& def) {
  solved.push_back(def);
  return absl::StrCat("ref-", solved.size() - 1);
}

absl::StatusOr<const std::map<std::string, std::string>*> FakeBridge::Files(
    const std::string& ref) {
  size_t i;
  if (!absl::StartsWith(ref, "ref-") || !absl::SimpleAtoi(ref.substr(4), &i) ||
      i >= solved.size()) {
    return absl::NotFoundError("unknown result reference " + ref);
  }
  const pb::Definition& def = solved[i];
  if (def.def_size() < 2) return absl::UnimplementedError("FakeBridge: an empty result");
  pb::Op terminal, target;
  terminal.ParseFromString(def.def(def.def_size() - 1));
  for (int j = 0; j < def.def_size() - 1; ++j) {
    if (terminal.inputs_size() == 1 && DigestOf(def.def(j)) == terminal.inputs(0).digest()) {
      target.ParseFromString(def.def(j));
    }
  }
  if (!target.has_source() || !absl::StartsWith(target.source().identifier(), "local://")) {
    return absl::UnimplementedError(
        "FakeBridge: only local sources have files here (this result runs ops)");
  }
  std::string name = target.source().identifier().substr(8);
  auto it = locals.find(name);
  if (it == locals.end()) return absl::NotFoundError("FakeBridge: no local " + name);
  return &it->second;
}

absl::StatusOr<std::string> FakeBridge::ReadFile(const std::string& ref, const std::string& path) {
  KILN_ASSIGN_OR_RETURN(const auto* files, Files(ref));
  auto it = files->find(Clean(path));
  if (it == files->end()) return absl::NotFoundError("file " + path + " not found in result");
  return it->second;
}

absl::StatusOr<std::vector<FileStat>> FakeBridge::ReadDir(const std::string& ref,
                                                          const std::string& path,
                                                          const std::string& include_pattern) {
  KILN_ASSIGN_OR_RETURN(const auto* files, Files(ref));
  std::string dir = Clean(path);
  std::string prefix = dir.empty() ? "" : dir + "/";
  std::map<std::string, FileStat> entries;
  for (const auto& [p, content] : *files) {
    if (!absl::StartsWith(p, prefix)) continue;
    std::string rest = p.substr(prefix.size());
    size_t slash = rest.find('/');
    std::string name = rest.substr(0, slash);
    if (!include_pattern.empty() && fnmatch(include_pattern.c_str(), name.c_str(), 0) != 0) {
      continue;
    }
    FileStat st;
    st.path = name;
    st.mode = slash == std::string::npos ? (S_IFREG | 0644) : (S_IFDIR | 0755);
    st.size = slash == std::string::npos ? static_cast<int64_t>(content.size()) : 0;
    entries[name] = st;
  }
  if (entries.empty() && !dir.empty()) {
    return absl::NotFoundError("directory " + path + " not found in result");
  }
  std::vector<FileStat> out;
  for (auto& [_, st] : entries) out.push_back(st);
  return out;
}

absl::StatusOr<FileStat> FakeBridge::StatFile(const std::string& ref, const std::string& path) {
  KILN_ASSIGN_OR_RETURN(const auto* files, Files(ref));
  std::string p = Clean(path);
  FileStat st;
  st.path = path;
  if (auto it = files->find(p); it != files->end()) {
    st.mode = S_IFREG | 0644;
    st.size = static_cast<int64_t>(it->second.size());
    return st;
  }
  for (const auto& [f, _] : *files) {
    if (p.empty() || absl::StartsWith(f, p + "/")) {
      st.mode = S_IFDIR | 0755;
      return st;
    }
  }
  return absl::NotFoundError("file " + path + " not found in result");
}

absl::StatusOr<ResolvedImage> FakeBridge::ResolveImageConfig(const std::string& ref) {
  KILN_ASSIGN_OR_RETURN(std::string normalized, llb::NormalizeImageRef(ref));
  auto it = images.find(normalized);
  if (it == images.end()) {
    return absl::NotFoundError("image " + normalized + " is not in kiln's image store");
  }
  return it->second;
}

absl::StatusOr<Result> FakeBridge::CallFrontend(
    const std::string& name, const std::map<std::string, std::string>& options,
    const std::map<std::string, pb::Definition>& inputs) {
  calls.push_back({name, options, inputs});
  return frontend_result;
}

}  // namespace kiln::frontend
