// yaml.v0: the built-in YAML frontend on the SDK's Bridge.
//
// It reads the spec (the "filename" option, default "kiln.yaml") from the
// "dockerfile" local source (the directory of `kiln build -f FILE`), and
// the context's ignore file as the Dockerfile frontend does; reads and
// validates it with frontends/yaml/spec, converts it with
// frontends/yaml/convert, and returns the definition with the image config
// as result metadata.
//
// Options read: filename, target, build-arg:NAME. A Dockerfile frontend
// that finds `# syntax=yaml.v0` on a spec's first line forwards here, so
// `kiln build -f build.yaml` needs no --frontend flag.
#ifndef KILN_FRONTENDS_YAML_FRONTEND_FRONTEND_H_
#define KILN_FRONTENDS_YAML_FRONTEND_FRONTEND_H_

#include <memory>

#include "sdk/frontend/frontend.h"

namespace kiln::yamlfrontend {

inline constexpr char kFrontendName[] = "yaml.v0";
inline constexpr char kDefaultFilename[] = "kiln.yaml";

std::unique_ptr<frontend::Frontend> NewFrontend();

}  // namespace kiln::yamlfrontend

#endif  // KILN_FRONTENDS_YAML_FRONTEND_FRONTEND_H_
