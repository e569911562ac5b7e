// A build script run: the `kiln` module (the Lua API of lua.v0) bound to a
// frontend Bridge, in a Sandbox.
//
//   luafrontend::ProgramOptions po;
//   po.filename = "build.lua";
//   KILN_ASSIGN_OR_RETURN(luafrontend::ProgramResult out,
//                         luafrontend::RunProgram(bridge, script_text, po));
//   // out.state: the filesystem the script returned; out.image_config: JSON
//
// The API, in short (docs/lua.md has all of it):
//   kiln.image(ref [, {platform}])   kiln.scratch()   kiln.context([{exclude, include}])
//   kiln.http(url [, {checksum, filename, chmod}])    kiln.git(url [, ref [, {keep_git_dir}]])
//   kiln.merge({states})   kiln.diff(lower, upper)   kiln.dockerfile(state [, {...}])
//   kiln.read_file(state, path)   kiln.read_dir(state, path [, {pattern}])
//   kiln.stat(state, path)   kiln.image_config(ref)   kiln.warn(msg)   kiln.args
//   kiln.cache/bind/tmpfs/secret/ssh(...) -> mounts for state:run
//   kiln.result(state [, {entrypoint, cmd, env, labels, user, workdir, expose,
//                         volumes, stopsignal}])
//   state:env(k, v) :dir(path) :user(u) :run(cmd [, opts]) :copy(src, from, to [, opts])
//        :mkdir(path [, opts]) :mkfile(path, data [, opts]) :symlink(old, new [, opts])
//        :rm(path [, opts])
//   exec:root()  exec:mount(path)
//
// Steps become the ops the same Dockerfile instructions become (shell form
// runs under /bin/sh -c, copies follow COPY's rules, images load as FROM
// does), so they share the cache with dockerfile.v0 and yaml.v0. Option
// tables are checked: an unknown key is an error with a "did you mean".
// Tables given to the API are read in sorted key order.
//
// Errors: InvalidArgument "FILE:LINE: message" plus a short traceback, for
// script errors and wrong uses of the API; ResourceExhausted for a limit.
#ifndef KILN_FRONTENDS_LUA_PROGRAM_H_
#define KILN_FRONTENDS_LUA_PROGRAM_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "frontends/lua/sandbox.h"
#include "sdk/frontend/frontend.h"
#include "sdk/llb/llb.h"

namespace kiln::luafrontend {

struct ProgramOptions {
  std::string filename = "build.lua";  // for messages
  Sandbox::Limits limits;
  llb::Platform platform = llb::Platform::Host();
};

struct ProgramResult {
  llb::State state;
  std::string image_config;  // JSON
};

absl::StatusOr<ProgramResult> RunProgram(frontend::Bridge& bridge, std::string_view text,
                                         const ProgramOptions& options);

}  // namespace kiln::luafrontend

#endif  // KILN_FRONTENDS_LUA_PROGRAM_H_
