//===- KernelCache.h - Compiled kernels, kept by content --------*- C++ -*-===//
//
// This file declares the kernel cache fmc keeps between runs: one object
// file per compiled kernel, found by a key that hashes everything the
// object depends on (the kernel's IR, the Halide target, the schedule, the
// symbol, the compiler itself). An unchanged kernel is then copied instead
// of lowered, scheduled and compiled. docs/codegen.md, "Compile time and
// the kernel cache", has the design and the figures.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_KERNELCACHE_H
#define FM_CODEGEN_KERNELCACHE_H

#include "llvm/ADT/StringRef.h"

#include <atomic>
#include <cstdint>
#include <string>

namespace mlir {
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace fm {

/// The folder fmc caches kernels in when not told otherwise:
/// $FM_CACHE_DIR/kernels, else $XDG_CACHE_HOME/fm/kernels, else
/// $HOME/.cache/fm/kernels (the root fmrun keeps its libraries in, see
/// tools/fmrun/ModelLoader.cpp). Empty when none of them is set.
std::string getDefaultKernelCacheDir();

/// The size fmc keeps the kernel cache under: $FM_CACHE_MAX_SIZE (a whole
/// number with an optional unit K, M or G; no unit: megabytes), else 1G.
/// False (with `error`) when the variable is set to anything else.
bool getKernelCacheLimit(uint64_t &bytes, std::string &error);

/// A digest of the running compiler: its executable's bytes and the Halide
/// library it loaded (path, size, mtime). Part of every key, so that a
/// rebuilt fmc never reuses objects an older one compiled. Computed once.
const std::string &getCompilerIdentity();

/// A digest of `kernel`'s IR with its name replaced by a fixed one, in
/// the generic op form, without locations: two kernels that lower to the
/// same pipeline get the same digest, wherever they sit in the module.
std::string hashKernelIR(mlir::func::FuncOp kernel);

/// Hashes the parts of a key into 32 hex digits. The parts are separated,
/// so ("ab", "c") and ("a", "bc") differ.
std::string hashParts(std::initializer_list<llvm::StringRef> parts);

/// A folder of objects, each in one file `KEY.fmk`: a header (magic, the
/// key, the object's size and BLAKE3 digest) and the object. Entries are
/// written to a temporary file and renamed into place, so concurrent and
/// interrupted fmc runs never see half an entry; one that fails any check
/// is removed and counted as damaged, and the caller compiles again. Safe
/// to use from several threads at once.
class KernelCache {
public:
  explicit KernelCache(std::string dir) : dir(std::move(dir)) {}

  /// Writes the object stored under `key` to `objectPath`. False when
  /// there is none, when it is damaged, or when `objectPath` cannot be
  /// written.
  bool fetch(llvm::StringRef key, const std::string &objectPath);

  /// Stores the object at `objectPath` under `key`. A cache that cannot be
  /// written only costs time, so failures are not errors; `error` says why
  /// for fmc -v.
  bool store(llvm::StringRef key, const std::string &objectPath,
             std::string &error);

  /// Keeps the folder under `maxBytes`: when its entries take more, the
  /// least recently used (fetch and store refresh an entry's time) are
  /// removed until they take at most 90% of it. Temporary files older
  /// than an hour (left by killed runs) go too. Returns the entries
  /// removed.
  unsigned prune(uint64_t maxBytes);

  /// Entries found damaged (and removed) so far.
  unsigned getDamaged() const { return damaged; }
  const std::string &getDir() const { return dir; }

private:
  std::string getEntryPath(llvm::StringRef key) const;

  std::string dir;
  std::atomic<unsigned> damaged{0};
};

} // namespace fm

#endif // FM_CODEGEN_KERNELCACHE_H
