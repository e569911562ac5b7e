#include "gateway/frontend/frontend.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::frontend {

absl::StatusOr<std::unique_ptr<Frontend>> Registry::New(const std::string& name) const {
  auto it = factories_.find(name);
  if (it != factories_.end()) return it->second();
  std::vector<std::string> names = Names();
  return absl::NotFoundError(
      absl::StrCat("frontend \"", name, "\" is not available in this kiln (built in: ",
                   names.empty() ? "none yet" : absl::StrJoin(names, ", "),
                   "); to solve an LLB definition directly, use kiln build --llb FILE"));
}

std::vector<std::string> Registry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : factories_) out.push_back(name);
  return out;
}

}  // namespace kiln::frontend
