// A frontend image for tests, written only against sdk/: it reads its
// definition file (the "filename" option, default "Dockerfile") from the
// client's "dockerfile" directory and returns a filesystem holding it in
// upper case, its options, and what a nested built-in frontend (the
// "nested" option) returned.
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
    return absl::InvalidArgumentError(absl::StrCat(filename, ":1: this frontend was asked to fail"));
  }
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  std::string listed;
  for (const auto& [k, v] : opts) absl::StrAppend(&listed, k, "=", v, "\n");
  llb::State out = llb::Scratch().File(llb::Mkfile("/upper.txt", 0644, text)
                                           .Mkfile("/options.txt", 0644, listed));
  Result r;
  KILN_ASSIGN_OR_RETURN(r.definition, llb::Marshal(out));
  r.metadata[kiln::frontend::kImageConfigKey] =
      R"({"architecture":"amd64","os":"linux","config":{"Env":["FROM_FRONTEND=upper"]}})";
  return r;
}

}  // namespace

int main() { return kiln::client::RunFrontend(Build); }
