// kiln's LLB builder: the C++ API frontends use to describe builds as
// BuildKit LLB graphs. Include this one header for all of it.
//
//   #include "sdk/llb/llb.h"
//   namespace llb = kiln::llb;
//
//   absl::StatusOr<pb::Definition> HelloGraph() {
//     llb::State a = llb::Scratch().File(llb::Mkfile("/a.txt", 0644, "a\n"));
//     llb::State b = llb::Scratch().File(llb::Mkfile("/b.txt", 0644, "b\n"));
//     return llb::Marshal(llb::Merge({a, b}));
//   }
//
//   state.h       State: a filesystem plus env/dir/user; immutable value
//   source.h      Scratch, Image, Local, Http, Git
//   exec.h        State::Run, RunOptions, Mount, ExecState
//   file.h        FileAction chains: Mkdir, Mkfile, Rm, Copy, Symlink
//   merge_diff.h  Merge, Diff
//   op_options.h  per-op names, cache policy, progress groups, source maps
//   marshal.h     Marshal to pb::Definition, SerializeDeterministic
//   image_ref.h   Docker reference normalization
//   shlex.h       shell-like word splitting for Run
//   platform.h    Platform
#ifndef KILN_SDK_LLB_LLB_H_
#define KILN_SDK_LLB_LLB_H_

#include "sdk/llb/definition.h"  // IWYU pragma: export
#include "sdk/llb/exec.h"        // IWYU pragma: export
#include "sdk/llb/file.h"        // IWYU pragma: export
#include "sdk/llb/image_ref.h"   // IWYU pragma: export
#include "sdk/llb/marshal.h"     // IWYU pragma: export
#include "sdk/llb/merge_diff.h"  // IWYU pragma: export
#include "sdk/llb/op_options.h"  // IWYU pragma: export
#include "sdk/llb/platform.h"    // IWYU pragma: export
#include "sdk/llb/shlex.h"       // IWYU pragma: export
#include "sdk/llb/source.h"      // IWYU pragma: export
#include "sdk/llb/state.h"       // IWYU pragma: export

#endif  // KILN_SDK_LLB_LLB_H_
