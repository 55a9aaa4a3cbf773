//===- Error.h - The runtime's error type -----------------------*- C++ -*-===//
//
// This file declares fm::Error, the one exception type the C++ core of
// libfmrt throws. Every error carries a status code so that the C API
// (fm_runtime.h) can turn it into an fm_status_t without guessing; no
// exception ever crosses the C API.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_ERROR_H
#define FM_RUNTIME_ERROR_H

#include "runtime/fm_runtime.h"

#include <stdexcept>
#include <string>

namespace fm {

/// A runtime error: a status code plus a lowercase message that says what
/// was expected and what was found (STYLE.md, "Diagnostics").
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message,
                 fm_status_code_t code = FM_STATUS_INVALID_ARGUMENT)
      : std::runtime_error(message), code(code) {}

  fm_status_code_t getCode() const { return code; }

private:
  fm_status_code_t code;
};

/// Prefixes an error's message with context ("loading 'x.safetensors': "),
/// keeping its code. Used where a lower layer cannot know the file name.
[[noreturn]] inline void rethrowWithContext(const Error &error,
                                            const std::string &context) {
  throw Error(context + ": " + error.what(), error.getCode());
}

} // namespace fm

#endif // FM_RUNTIME_ERROR_H
