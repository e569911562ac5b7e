// Loads a shared library on first use (see gen.py for why).
//
// A missing library is an installation problem, not bad input: the message
// says which package to install, and the process exits with status 70.
#ifndef KILN_THIRD_PARTY_LAZY_LAZY_H_
#define KILN_THIRD_PARTY_LAZY_LAZY_H_

namespace kiln::lazy {

class Library {
 public:
  // Nothing is loaded until the first Symbol call.
  Library(const char* soname, const char* package) : soname_(soname), package_(package) {}
  // The address of `name`. Thread-safe.
  void* Symbol(const char* name);

 private:
  const char* soname_;
  const char* package_;
  void* handle_ = nullptr;
};

}  // namespace kiln::lazy

#endif  // KILN_THIRD_PARTY_LAZY_LAZY_H_
