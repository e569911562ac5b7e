#include "frontends/lua/frontend.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "frontends/lua/program.h"
#include "sdk/base/status_macros.h"
#include "sdk/frontend/context.h"
#include "sdk/llb/llb.h"

namespace kiln::luafrontend {
namespace {

// A positive integer option, or `def` when unset.
absl::StatusOr<int64_t> Limit(const std::map<std::string, std::string>& opts, const char* key,
                              int64_t def) {
  auto it = opts.find(key);
  if (it == opts.end()) return def;
  int64_t v;
  if (!absl::SimpleAtoi(it->second, &v) || v <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--opt ", key, "=", it->second, ": expected a positive whole number"));
  }
  return v;
}

class LuaFrontend : public frontend::Frontend {
 public:
  absl::StatusOr<frontend::Result> Build(frontend::Bridge& bridge) override {
    const auto& opts = bridge.Options();
    auto it = opts.find("filename");
    ProgramOptions po;
    po.filename = it == opts.end() || it->second.empty() ? kDefaultFilename : it->second;
    KILN_ASSIGN_OR_RETURN(int64_t mib, Limit(opts, "lua-max-memory", 512));
    KILN_ASSIGN_OR_RETURN(po.limits.max_instructions,
                          Limit(opts, "lua-max-instructions", po.limits.max_instructions));
    KILN_ASSIGN_OR_RETURN(int64_t seconds, Limit(opts, "lua-timeout", 300));
    if (mib > (int64_t{1} << 20))
      return absl::InvalidArgumentError("--opt lua-max-memory: too large");
    po.limits.max_memory = mib << 20;
    po.limits.timeout = absl::Seconds(seconds);
    if (auto p = opts.find("platform"); p != opts.end() && !p->second.empty()) {
      KILN_RETURN_IF_ERROR(llb::CheckNativePlatform(p->second, po.platform));
    }
    absl::StatusOr<std::string> text = frontend::ReadLocalFile(bridge, "dockerfile", po.filename);
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(absl::StrCat("cannot read ", po.filename,
                                              ": there is no such file in the script's directory "
                                              "(name another with -f FILE)"));
    }
    KILN_RETURN_IF_ERROR(text.status());
    KILN_ASSIGN_OR_RETURN(ProgramResult out, RunProgram(bridge, *text, po));
    frontend::Result result;
    KILN_ASSIGN_OR_RETURN(result.definition, llb::Marshal(out.state));
    result.metadata[frontend::kImageConfigKey] = out.image_config;
    return result;
  }
};

}  // namespace

std::unique_ptr<frontend::Frontend> NewFrontend() { return std::make_unique<LuaFrontend>(); }

}  // namespace kiln::luafrontend
