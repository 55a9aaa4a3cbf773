//===- ModelLoader.h - Find, compile and load model libraries ---*- C++ -*-===//
//
// This file declares how fmrun turns its MODEL argument into a model
// descriptor: a `lib<Name>.so` is dlopened and its `fm_model_<Name>`
// symbol called; a `.fm` source is first compiled with
// `fmc --shared SRC -o DIR` into a cache folder keyed by a hash of
// everything that affects the result, and reused when present.
//
//===----------------------------------------------------------------------===//
#ifndef FM_TOOLS_FMRUN_MODELLOADER_H
#define FM_TOOLS_FMRUN_MODELLOADER_H

#include "runtime/fm_model_desc.h"

#include <string>
#include <vector>

namespace fm {

struct CompileOptions {
  std::string fmc;      // "": $FMC, else the fmc next to this executable
  std::string target;   // passed as --target if set
  std::string schedule; // passed as --schedule if set
  /// Train keys compiled into the library (`optimizer`, `data`), passed
  /// to fmc as `--set key=value`.
  std::vector<std::pair<std::string, std::string>> trainKeys;
  bool verbose = true;  // say on stderr when compiling
};

/// The library an input names: itself for a .so, the cached (compiled on
/// demand) library for a .fm. Throws fm::Error.
std::string resolveModelLibrary(const std::string &model,
                                const CompileOptions &options);

/// The cache folder for a .fm source and these options (exposed for tests
/// and for `fmrun --print-cache-dir`).
std::string getCacheDir(const std::string &source,
                        const CompileOptions &options);

/// dlopens a model library and returns its descriptor; the library stays
/// loaded for the life of the process.
const fm_model_desc_t *loadModelLibrary(const std::string &path);

} // namespace fm

#endif // FM_TOOLS_FMRUN_MODELLOADER_H
