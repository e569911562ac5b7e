#include "sdk/llb/op_options.h"

namespace kiln::llb {

pb::Range SourceRange(int start_line, int start_character, int end_line, int end_character) {
  pb::Range r;
  r.mutable_start()->set_line(start_line);
  r.mutable_start()->set_character(start_character);
  r.mutable_end()->set_line(end_line);
  r.mutable_end()->set_character(end_character);
  return r;
}

}  // namespace kiln::llb
