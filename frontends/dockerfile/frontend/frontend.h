// dockerfile.v0: the built-in Dockerfile frontend on the SDK's Bridge.
//
// It reads the Dockerfile (the "filename" option, default "Dockerfile")
// from the "dockerfile" local source, and `<Dockerfile>.dockerignore` from
// there or `.dockerignore` from the context; honours `# syntax=` (and the
// BUILDKIT_SYNTAX build arg: a built-in frontend's name, such as yaml.v0,
// forwards the whole build to it); converts with frontends/dockerfile/convert;
// and returns the definition with the image config as result metadata.
//
// Options read: filename, target, build-arg:NAME, context:NAME
// (docker-image://REF or local:NAME).
#ifndef KILN_FRONTENDS_DOCKERFILE_FRONTEND_FRONTEND_H_
#define KILN_FRONTENDS_DOCKERFILE_FRONTEND_FRONTEND_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/frontend/frontend.h"

namespace kiln::dockerfile {

inline constexpr char kFrontendName[] = "dockerfile.v0";

std::unique_ptr<frontend::Frontend> NewFrontend();

// True for names of built-in frontends ("yaml.v0", "lua.v0"): a `# syntax=`
// of one forwards the build to that frontend through Bridge::CallFrontend.
bool IsBuiltinFrontendName(const std::string& syntax);

// The frontend a Lua script names on its first line, `-- syntax=lua.v0`
// (after an optional BOM); empty when there is no such line.
std::string DetectLuaSyntax(std::string_view text);

// True when a `# syntax=` value names a frontend image to run through
// gateway.v0: not empty, not a built-in name, not docker/dockerfile (which
// the built-in frontend serves).
bool IsFrontendImage(const std::string& syntax);

// Sets `served_note` to a line for progress when an image name
// (docker/dockerfile:1) is served by the built-in frontend, else clears it.
absl::Status CheckSyntax(const std::string& syntax, std::string* served_note);

}  // namespace kiln::dockerfile

#endif  // KILN_FRONTENDS_DOCKERFILE_FRONTEND_FRONTEND_H_
