#include "frontends/yaml/frontend/frontend.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "frontends/yaml/convert/convert.h"
#include "frontends/yaml/spec/spec.h"
#include "sdk/base/status_macros.h"
#include "sdk/frontend/context.h"
#include "sdk/frontend/dockerlike.h"
#include "sdk/llb/llb.h"

namespace kiln::yamlfrontend {
namespace {

class YamlFrontend : public frontend::Frontend {
 public:
  absl::StatusOr<frontend::Result> Build(frontend::Bridge& bridge) override {
    const auto& opts = bridge.Options();
    auto opt = [&](const std::string& k, const std::string& def = "") {
      auto it = opts.find(k);
      return it == opts.end() ? def : it->second;
    };
    std::string filename = opt("filename", kDefaultFilename);
    absl::StatusOr<std::string> text = frontend::ReadLocalFile(bridge, "dockerfile", filename);
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(absl::StrCat("cannot read ", filename,
                                              ": there is no such file in the spec's directory "
                                              "(name another with -f FILE)"));
    }
    KILN_RETURN_IF_ERROR(text.status());
    yamlspec::ReadOptions ro;
    ro.filename = filename;
    yamlconvert::ConvertOptions co;
    co.filename = filename;
    co.text = *text;
    co.target = opt("target");
    co.session_id = bridge.SessionID();
    KILN_ASSIGN_OR_RETURN(co.default_network, frontend::ForcedNetwork(opts));
    for (const auto& [k, v] : opts) {
      if (absl::StartsWith(k, "build-arg:")) ro.build_args[k.substr(10)] = v;
    }
    co.build_args = ro.build_args;
    std::string platform = opt("platform");
    if (!platform.empty()) KILN_RETURN_IF_ERROR(llb::CheckNativePlatform(platform, co.platform));
    KILN_ASSIGN_OR_RETURN(yamlspec::Spec spec, yamlspec::Read(*text, ro));
    co.context_state = frontend::GivenContext(bridge);
    if (!co.context_state.has_value()) {
      KILN_ASSIGN_OR_RETURN(co.context_excludes, frontend::ReadContextExcludes(bridge, filename));
    }
    co.resolve_image = [&bridge](const std::string& ref) { return bridge.ResolveImageConfig(ref); };
    KILN_ASSIGN_OR_RETURN(yamlconvert::Converted out, yamlconvert::Convert(spec, co));
    frontend::Result result;
    KILN_ASSIGN_OR_RETURN(result.definition, llb::Marshal(out.state));
    result.metadata[frontend::kImageConfigKey] = out.image_config;
    return result;
  }
};

}  // namespace

std::unique_ptr<frontend::Frontend> NewFrontend() { return std::make_unique<YamlFrontend>(); }

}  // namespace kiln::yamlfrontend
