// A build graph with independent branches, written with kiln's LLB builder
// and printed as a binary pb.Definition on stdout:
//
//   bazel run //samples/llb:parallel | kiln build --llb - --output type=local,dest=out
//
// The graph, with no containers involved (file operations only):
//
//   scratch --> [greet/en] --.
//   scratch --> [greet/fr] --+--> Merge --> out/
//   scratch --> [greet/de] --'     ^
//                  |               |
//                  '--> Copy into "docs" branch
//   scratch --> [base] --> [base + notes] --> Diff(base, base + notes)
//
// The three greet branches do not depend on each other, so the solver may
// run them in parallel; the Merge waits for all of them.
#include <cstdio>
#include <iostream>
#include <string>

#include "sdk/llb/llb.h"

namespace llb = kiln::llb;

namespace {

llb::OpOptions Named(const std::string& name) {
  llb::OpOptions options;
  options.custom_name = name;
  return options;
}

// One independent branch: a directory with one file in it.
llb::State Greeting(const std::string& lang, const std::string& text) {
  llb::MkdirOptions parents;
  parents.make_parents = true;
  std::string dir = "/greet/" + lang;
  return llb::Scratch().File(
      llb::Mkdir(dir, 0755, parents).Mkfile(dir + "/hello.txt", 0644, text + "\n"),
      Named("write greeting (" + lang + ")"));
}

llb::State BuildGraph() {
  llb::State en = Greeting("en", "Hello, world!");
  llb::State fr = Greeting("fr", "Bonjour, le monde !");
  llb::State de = Greeting("de", "Hallo, Welt!");

  // Copy between states: the docs branch takes the English file.
  llb::CopyOptions create_dirs;
  create_dirs.create_dest_path = true;
  llb::State docs = llb::Scratch().Dir("/docs").File(
      llb::Mkdir("/docs", 0755)
          .Mkfile("README", 0644, "Greetings in several languages.\n")
          .Copy(en, "/greet/en/hello.txt", "examples/hello-en.txt", create_dirs),
      Named("write docs"));

  // Diff: only what the second step added on top of the base.
  llb::State base = llb::Scratch().File(llb::Mkdir("/notes", 0755), Named("make notes dir"));
  llb::State with_notes =
      base.File(llb::Mkfile("/notes/build.txt", 0644, "built by kiln\n"), Named("write notes"));
  llb::State notes_only = llb::Diff(base, with_notes, Named("notes diff"));

  return llb::Merge({en, fr, de, docs, notes_only}, Named("merge branches"));
}

}  // namespace

int main() {
  absl::StatusOr<pb::Definition> def = llb::Marshal(BuildGraph());
  if (!def.ok()) {
    std::cerr << "parallel: " << def.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::string> bytes = llb::SerializeDeterministic(*def);
  if (!bytes.ok()) {
    std::cerr << "parallel: " << bytes.status() << "\n";
    return 1;
  }
  if (std::fwrite(bytes->data(), 1, bytes->size(), stdout) != bytes->size() ||
      std::fflush(stdout) != 0) {
    std::perror("parallel: writing stdout");
    return 1;
  }
  return 0;
}
