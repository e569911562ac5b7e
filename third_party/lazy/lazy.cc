#include "third_party/lazy/lazy.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace kiln::lazy {

void* Library::Symbol(const char* name) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (handle_ == nullptr) {
    handle_ = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      fprintf(stderr, "kiln: cannot load %s (%s); install the %s package\n", soname_, dlerror(),
              package_);
      exit(70);
    }
  }
  void* sym = dlsym(handle_, name);
  if (sym == nullptr) {
    fprintf(stderr, "kiln: %s has no %s; is the %s package too old?\n", soname_, name, package_);
    exit(70);
  }
  return sym;
}

}  // namespace kiln::lazy
