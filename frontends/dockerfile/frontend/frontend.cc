#include "frontends/dockerfile/frontend/frontend.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "frontends/dockerfile/convert/convert.h"
#include "frontends/dockerfile/parser/parser.h"
#include "re2/re2.h"
#include "sdk/base/status_macros.h"
#include "sdk/frontend/context.h"
#include "sdk/frontend/dockerlike.h"
#include "sdk/llb/internal/go_path.h"
#include "sdk/llb/llb.h"

namespace kiln::dockerfile {
namespace {

std::string Option(const std::map<std::string, std::string>& o, const std::string& k,
                   const std::string& def = "") {
  auto it = o.find(k);
  return it == o.end() ? def : it->second;
}

class DockerfileFrontend : public frontend::Frontend {
 public:
  absl::StatusOr<frontend::Result> Build(frontend::Bridge& bridge) override {
    const auto& opts = bridge.Options();
    std::string filename = Option(opts, "filename", "Dockerfile");
    absl::StatusOr<std::string> text = frontend::ReadLocalFile(bridge, "dockerfile", filename);
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(
          absl::StrCat("cannot read ", filename,
                       ": there is no such file in the Dockerfile's directory "
                       "(name another with -f FILE)"));
    }
    KILN_RETURN_IF_ERROR(text.status());

    std::string syntax = Option(opts, "build-arg:BUILDKIT_SYNTAX");
    if (syntax.empty()) {
      if (auto d = DetectSyntax(*text)) syntax = d->ref;
    }
    if (syntax.empty()) syntax = DetectLuaSyntax(*text);
    // BuildKit's mark of a build already forwarded by its syntax line: this
    // frontend is what the line named, so it does not forward again.
    if (opts.count("cmdline") != 0) syntax.clear();
    if (syntax != kFrontendName && IsBuiltinFrontendName(syntax)) {
      // `# syntax=yaml.v0`: the file is another built-in language.
      std::map<std::string, std::string> forwarded = opts;
      forwarded.erase("build-arg:BUILDKIT_SYNTAX");
      return bridge.CallFrontend(syntax, forwarded, bridge.Inputs());
    }
    std::string note;
    KILN_RETURN_IF_ERROR(CheckSyntax(syntax, &note));
    if (!note.empty()) bridge.Warn(note);
    if (IsFrontendImage(syntax)) {
      // `# syntax=IMAGE`: the image is the frontend; gateway.v0 runs it.
      std::map<std::string, std::string> forwarded = opts;
      forwarded.erase("build-arg:BUILDKIT_SYNTAX");
      forwarded["source"] = syntax;
      forwarded["cmdline"] = syntax;
      return bridge.CallFrontend("gateway.v0", forwarded, bridge.Inputs());
    }

    ConvertOptions co;
    co.filename = filename;
    co.target = Option(opts, "target");
    co.session_id = bridge.SessionID();
    KILN_ASSIGN_OR_RETURN(co.default_network, frontend::ForcedNetwork(opts));
    co.target_platform = Option(opts, "platform");
    for (const auto& [k, v] : opts) {
      if (absl::StartsWith(k, "build-arg:")) co.build_args[k.substr(10)] = v;
      if (absl::StartsWith(k, "context:")) co.named_contexts[k.substr(8)] = v;
    }
    co.context_state = frontend::GivenContext(bridge);
    if (!co.context_state.has_value()) {
      KILN_ASSIGN_OR_RETURN(co.context_excludes, frontend::ReadContextExcludes(bridge, filename));
    }
    co.resolve_image = [&bridge](const std::string& ref) { return bridge.ResolveImageConfig(ref); };
    absl::StatusOr<Converted> out = Convert(*text, co);
    if (!out.ok() && (absl::EndsWith(filename, ".yaml") || absl::EndsWith(filename, ".yml"))) {
      // Most likely a YAML spec without its `# syntax=` line.
      return absl::Status(out.status().code(),
                          absl::StrCat(out.status().message(), "\n(", filename,
                                       " was read as a Dockerfile; for a YAML spec, make "
                                       "\"# syntax=yaml.v0\" its first line or pass "
                                       "--frontend yaml.v0)"));
    }
    if (!out.ok() && absl::EndsWith(filename, ".lua")) {
      return absl::Status(out.status().code(),
                          absl::StrCat(out.status().message(), "\n(", filename,
                                       " was read as a Dockerfile; for a Lua script, make "
                                       "\"-- syntax=lua.v0\" its first line or pass "
                                       "--frontend lua.v0)"));
    }
    KILN_RETURN_IF_ERROR(out.status());
    for (const std::string& w : out->warnings) bridge.Warn(w);
    frontend::Result result;
    KILN_ASSIGN_OR_RETURN(result.definition, llb::Marshal(out->state));
    result.metadata[frontend::kImageConfigKey] = out->image_config;
    return result;
  }
};

}  // namespace

std::unique_ptr<frontend::Frontend> NewFrontend() { return std::make_unique<DockerfileFrontend>(); }

std::string DetectLuaSyntax(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  static const LazyRE2 kLine = {R"(--[ \t]*syntax[ \t]*=[ \t]*([^ \t\r\n]+)[ \t\r]*(?:\n|$))"};
  std::string name;
  re2::StringPiece in(text.data(), text.size());
  if (!RE2::Consume(&in, *kLine, &name)) return "";
  return name;
}

bool IsBuiltinFrontendName(const std::string& syntax) {
  static const LazyRE2 kName = {R"([a-z][a-z0-9]*\.v[0-9]+)"};
  return RE2::FullMatch(syntax, *kName);
}

namespace {

bool IsDockerfileImage(const std::string& syntax) {
  std::string name = syntax;
  for (const char* prefix : {"docker.io/", "index.docker.io/"}) {
    if (absl::StartsWith(name, prefix)) name = name.substr(strlen(prefix));
  }
  std::string repo = name.substr(0, name.find_first_of(":@"));
  return repo == "docker/dockerfile" || repo == "docker/dockerfile-upstream";
}

}  // namespace

bool IsFrontendImage(const std::string& syntax) {
  return !syntax.empty() && syntax != kFrontendName && !IsBuiltinFrontendName(syntax) &&
         !IsDockerfileImage(syntax);
}

absl::Status CheckSyntax(const std::string& syntax, std::string* served_note) {
  served_note->clear();
  if (IsDockerfileImage(syntax)) {
    *served_note = absl::StrCat("# syntax=", syntax, " is served by kiln's built-in ",
                                kFrontendName, " frontend");
  }
  return absl::OkStatus();
}

}  // namespace kiln::dockerfile
