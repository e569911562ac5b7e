// dump FILE: prints the Dockerfile AST of FILE as BuildKit's parser dumps it,
// followed by any parser warnings on stderr.
#include <fstream>
#include <iostream>
#include <sstream>

#include "frontends/dockerfile/parser/parser.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: dump FILE\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "dump: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto result = kiln::dockerfile::Parse(text.str());
  if (!result.ok()) {
    std::cerr << result.status().message() << "\n";
    return 1;
  }
  std::cout << kiln::dockerfile::Dump(*result) << "\n";
  for (const auto& warning : result->warnings) {
    std::cerr << "[WARNING]: " << warning.short_text << "\n";
  }
  return 0;
}
