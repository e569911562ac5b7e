// A frontend image for tests, written only against sdk/: it reads its
// definition file (the "filename" option, default "Dockerfile") from the
// client's "dockerfile" directory and returns a filesystem holding it in
// upper case and its options. With the "misbehave" option it returns a
// malformed definition ("bad-definition"), or tries to read the file the
// "escape" option names out of the context (a path with "..", a symlink
// out) and returns what it got.
#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "sdk/base/status_macros.h"
#include "sdk/client/client.h"
#include "sdk/frontend/context.h"
#include "sdk/llb/llb.h"

namespace {

namespace llb = kiln::llb;
using kiln::frontend::Result;

absl::StatusOr<Result> Build(kiln::client::Client& c) {
  const auto& opts = c.Options();
  auto it = opts.find("filename");
  std::string filename = it == opts.end() ? "Dockerfile" : it->second;
  KILN_ASSIGN_OR_RETURN(std::string text, kiln::frontend::ReadLocalFile(c, "dockerfile", filename));
  if (text.rfind("FAIL", 0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ":1: this frontend was asked to fail"));
  }
  Result r;
  auto misbehave = opts.find("misbehave");
  if (misbehave != opts.end() && misbehave->second == "bad-definition") {
    r.definition.add_def("\xff\xff not an op");
    r.definition.add_def("\x0a\x02\x0a\x00");
    return r;
  }
  if (misbehave != opts.end() && misbehave->second == "escape") {
    KILN_ASSIGN_OR_RETURN(pb::Definition def, llb::Marshal(llb::Local("context")));
    KILN_ASSIGN_OR_RETURN(std::string ref, c.Solve(def));
    auto path = opts.find("escape");
    if (path == opts.end()) return absl::InvalidArgumentError("misbehave=escape needs escape=PATH");
    KILN_ASSIGN_OR_RETURN(text, c.ReadFile(ref, path->second));
  }
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  std::string listed;
  for (const auto& [k, v] : opts) absl::StrAppend(&listed, k, "=", v, "\n");
  llb::State out = llb::Scratch().File(
      llb::Mkfile("/upper.txt", 0644, text).Mkfile("/options.txt", 0644, listed));
  KILN_ASSIGN_OR_RETURN(r.definition, llb::Marshal(out));
  r.metadata[kiln::frontend::kImageConfigKey] =
      R"({"architecture":"amd64","os":"linux","config":{"Env":["FROM_FRONTEND=upper"]}})";
  return r;
}

}  // namespace

int main() { return kiln::client::RunFrontend(Build); }
