// lua.v0: the built-in Lua frontend on the SDK's Bridge.
//
// It reads the script (the "filename" option, default "build.lua") from
// the "dockerfile" local source (the directory of `kiln build -f FILE`) or
// the "dockerfile" input, runs it with frontends/lua/program, and returns
// the state and image config it returns.
//
// Options read: filename, build-arg:NAME (kiln.args, and the proxy
// settings), any other option (kiln.args too), lua-max-memory (MiB, default
// 512), lua-max-instructions (default 2e9), lua-timeout (seconds, default
// 300), platform (native only). A Dockerfile frontend that finds
// `-- syntax=lua.v0` or `# syntax=lua.v0` on the first line forwards here,
// so `kiln build -f build.lua` needs no --frontend flag.
#ifndef KILN_FRONTENDS_LUA_FRONTEND_H_
#define KILN_FRONTENDS_LUA_FRONTEND_H_

#include <memory>

#include "sdk/frontend/frontend.h"

namespace kiln::luafrontend {

inline constexpr char kFrontendName[] = "lua.v0";
inline constexpr char kDefaultFilename[] = "build.lua";

std::unique_ptr<frontend::Frontend> NewFrontend();

}  // namespace kiln::luafrontend

#endif  // KILN_FRONTENDS_LUA_FRONTEND_H_
