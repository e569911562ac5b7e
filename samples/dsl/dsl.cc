#include "samples/dsl/dsl.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sdk/base/status_macros.h"
#include "sdk/base/suggest.h"
#include "sdk/frontend/context.h"
#include "sdk/frontend/dockerlike.h"

namespace kb {
namespace {

namespace llb = kiln::llb;
namespace frontend = kiln::frontend;
using Json = nlohmann::json;

const std::vector<std::string> kVerbs = {"cmd",    "copy",     "env", "from",
                                         "output", "parallel", "run", "workdir"};

absl::Status Err(const std::string& file, int line, const std::string& msg) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", msg));
}

}  // namespace

absl::StatusOr<Program> Parse(std::string_view text, const std::string& filename) {
  Program p;
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(text.data(), text.size()), '\n');
  Command* block = nullptr;  // the open parallel block
  for (size_t i = 0; i < lines.size(); ++i) {
    int n = static_cast<int>(i) + 1;
    absl::string_view line = absl::StripAsciiWhitespace(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    if (line == "}") {
      if (block == nullptr) return Err(filename, n, "\"}\" without an open parallel {");
      if (block->branches.empty()) return Err(filename, block->line, "parallel { } is empty");
      block = nullptr;
      continue;
    }
    size_t sp = line.find_first_of(" \t");
    Command c;
    c.line = n;
    c.verb = std::string(line.substr(0, sp));
    if (sp != absl::string_view::npos) {
      c.arg = std::string(absl::StripAsciiWhitespace(line.substr(sp)));
    }
    if (std::find(kVerbs.begin(), kVerbs.end(), c.verb) == kVerbs.end()) {
      std::string hint = kiln::Suggest(c.verb, kVerbs);
      return Err(filename, n,
                 absl::StrCat("unknown command \"", c.verb, "\"",
                              hint.empty() ? "" : absl::StrCat(" (did you mean \"", hint, "\"?)")));
    }
    if (block != nullptr) {
      if (c.verb != "run") {
        return Err(filename, n, "only run commands go inside parallel { ... }");
      }
      if (c.arg.empty()) return Err(filename, n, "run needs a command");
      block->branches.push_back(std::move(c));
      continue;
    }
    if (c.verb == "parallel") {
      if (c.arg != "{") return Err(filename, n, "write parallel as \"parallel {\"");
      c.arg.clear();
      p.commands.push_back(std::move(c));
      block = &p.commands.back();
      continue;
    }
    if (c.arg.empty()) return Err(filename, n, c.verb + " needs an argument");
    if (p.commands.empty() && c.verb != "from") {
      return Err(filename, n, "the first command must be from (an image, or scratch)");
    }
    if (!p.commands.empty() && c.verb == "from") {
      return Err(filename, n, "from can only be the first command");
    }
    if (c.verb == "env" && c.arg.find('=') == std::string::npos) {
      return Err(filename, n, "env takes NAME=VALUE");
    }
    if (c.verb == "copy" &&
        std::vector<std::string>(absl::StrSplit(c.arg, absl::ByAnyChar(" \t"), absl::SkipEmpty()))
                .size() != 2) {
      return Err(filename, n, "copy takes SOURCE DEST");
    }
    p.commands.push_back(std::move(c));
  }
  if (block != nullptr) return Err(filename, block->line, "parallel { is never closed");
  if (p.commands.empty()) return Err(filename, 1, "the file has no commands (start with from)");
  return p;
}

absl::StatusOr<Converted> Convert(const Program& program, const ConvertOptions& options) {
  const std::string& file = options.filename;
  llb::State st;
  Json image = frontend::EmptyImageConfig();
  std::optional<std::string> output;
  for (const Command& c : program.commands) {
    llb::OpOptions op;
    op.custom_name = absl::StrCat("[", file, ":", c.line, "] ", c.verb, " ", c.arg);
    if (c.verb == "from") {
      if (c.arg != "scratch") {
        if (!options.resolve_image) return Err(file, c.line, "no image resolver");
        absl::StatusOr<frontend::ResolvedImage> img = options.resolve_image(c.arg);
        if (!img.ok()) return Err(file, c.line, std::string(img.status().message()));
        absl::Status loaded = frontend::LoadBaseImage(*img, options.platform, &st, &image);
        if (!loaded.ok()) return Err(file, c.line, std::string(loaded.message()));
      }
      frontend::ApplyBaseConfig(options.platform, &image, &st);
    } else if (c.verb == "workdir") {
      std::string dir = frontend::WorkdirPath(image, c.arg);
      frontend::ApplyWorkdir(dir, op, &image, &st);
    } else if (c.verb == "env") {
      size_t eq = c.arg.find('=');
      std::string k = c.arg.substr(0, eq), v = c.arg.substr(eq + 1);
      st = st.AddEnv(k, v);
      frontend::SetConfigEnv(image["config"]["Env"], k, v);
    } else if (c.verb == "copy") {
      std::vector<std::string> parts =
          absl::StrSplit(c.arg, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      llb::CopyOptions o;
      o.follow_symlinks = true;
      o.copy_dir_contents_only = true;
      o.create_dest_path = true;
      o.allow_wildcard = true;
      st = st.File(llb::Copy(options.context, "/" + parts[0], parts[1], o), op);
    } else if (c.verb == "run") {
      llb::RunOptions run;
      run.args = frontend::ShellOf(image);
      run.args.push_back(c.arg);
      if (options.network != pb::UNSET) run.network = options.network;
      run.op = op;
      st = st.Run(run).Root();
    } else if (c.verb == "parallel") {
      // Each branch runs on the same state with a fresh /out; the outputs
      // are then copied into the working directory, one after the other
      // (no merge op, so older BuildKits run it too).
      std::vector<llb::State> outs;
      for (const Command& b : c.branches) {
        llb::RunOptions run;
        run.args = frontend::ShellOf(image);
        run.args.push_back(b.arg);
        if (options.network != pb::UNSET) run.network = options.network;
        llb::Mount out;
        out.target = "/out";
        run.mounts.push_back(out);
        run.op.custom_name = absl::StrCat("[", file, ":", b.line, "] run ", b.arg);
        outs.push_back(st.Run(run).GetMount("/out"));
      }
      for (size_t i = 0; i < outs.size(); ++i) {
        llb::CopyOptions o;
        o.copy_dir_contents_only = true;
        o.create_dest_path = true;
        llb::OpOptions cop;
        cop.custom_name = absl::StrCat("[", file, ":", c.branches[i].line, "] collect /out");
        std::string cwd = st.GetDir().empty() ? "/" : st.GetDir();
        st = st.File(llb::Copy(outs[i], "/", cwd + "/", o), cop);
      }
    } else if (c.verb == "cmd") {
      std::vector<std::string> args =
          absl::StrSplit(c.arg, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      image["config"]["Cmd"] = args;
    } else if (c.verb == "output") {
      output = c.arg;
    }
  }
  Converted out;
  out.state = st;
  if (output.has_value()) {
    llb::CopyOptions o;
    o.copy_dir_contents_only = true;
    o.follow_symlinks = true;
    llb::OpOptions op;
    op.custom_name = absl::StrCat("[", file, "] output ", *output);
    out.state = llb::Scratch().File(llb::Copy(st, *output, "/", o), op);
  }
  image["history"] = Json::array({{{"created_by", "kb " + file}, {"comment", "kiln dsl sample"}}});
  out.image_config = image.dump();
  return out;
}

absl::StatusOr<frontend::Result> Build(frontend::Bridge& bridge) {
  auto it = bridge.Options().find("filename");
  std::string filename = it == bridge.Options().end() ? "build.kb" : it->second;
  KILN_ASSIGN_OR_RETURN(std::string text, frontend::ReadLocalFile(bridge, "dockerfile", filename));
  KILN_ASSIGN_OR_RETURN(Program program, Parse(text, filename));
  ConvertOptions co;
  co.filename = filename;
  if (std::optional<llb::State> given = frontend::GivenContext(bridge)) {
    co.context = *given;
  } else {
    llb::LocalOptions lo;
    lo.shared_key_hint = "context";
    lo.session_id = bridge.SessionID();
    lo.op.custom_name = "[internal] load build context";
    co.context = llb::Local("context", lo);
  }
  KILN_ASSIGN_OR_RETURN(co.network, frontend::ForcedNetwork(bridge.Options()));
  co.resolve_image = [&bridge](const std::string& ref) { return bridge.ResolveImageConfig(ref); };
  KILN_ASSIGN_OR_RETURN(Converted c, Convert(program, co));
  frontend::Result r;
  KILN_ASSIGN_OR_RETURN(r.definition, llb::Marshal(c.state));
  r.metadata[frontend::kImageConfigKey] = c.image_config;
  return r;
}

}  // namespace kb
