//===- EmitLibrary.h - A compiled module -> a model library -----*- C++ -*-===//
//
// This file declares the entry points fmc uses after the passes:
//   fmc model.fm -o DIR [--shared]  ->  emitModelLibrary
//   fmc model.fm --emit=halide      ->  emitHalide
// The header stays free of Halide and of most of MLIR so that tools
// including it compile quickly.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_EMITLIBRARY_H
#define FM_CODEGEN_EMITLIBRARY_H

#include "mlir/Support/LogicalResult.h"

#include <functional>
#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace fm {

struct LoweredKernel;

struct EmitOptions {
  /// Where DIR/libMODEL.a, DIR/MODEL.h (and DIR/libMODEL.so) go; created
  /// if missing.
  std::string outDir;
  /// Also link DIR/libMODEL.so.
  bool shared = false;
  /// A Halide target string: "host", "host-cuda", "x86-64-linux-avx2", ...
  std::string target = "host";
  /// "hand" (Schedules.h), "root" (every Func at root, serial; a
  /// debugging aid), or one of Halide's autoschedulers: "adams2019",
  /// "mullapudi2016", "li2018" (AutoSchedule.h).
  std::string schedule = "hand";
  /// The folder holding fm_model_desc.h; empty means the runtime/ folder
  /// of the fm source tree this compiler was built from.
  std::string runtimeIncludeDir;
  /// Kernels compiled at once; 0 means one per hardware thread.
  unsigned jobs = 0;
  /// Keep the per-kernel objects in DIR/MODEL.objs/ instead of removing
  /// them after archiving.
  bool keepObjects = false;
  /// The C compiler and archiver used for the descriptor and the library.
  std::string cc = "cc";
  std::string ar = "ar";
  /// Where compiled kernels are kept between runs (KernelCache.h; fmc
  /// passes getDefaultKernelCacheDir()); empty compiles every kernel.
  std::string cacheDir;
  /// The size the cache is kept under (getKernelCacheLimit).
  uint64_t cacheMaxBytes = uint64_t(1) << 30;
  /// For tests: runs on each kernel variant after its schedule, with the
  /// kernel's IR name (a test breaks a schedule to see the build refuse).
  std::function<void(const std::string &kernel, LoweredKernel &lowered)>
      afterSchedule;
};

/// What emitModelLibrary did, for fmc -v. Identical kernels share one
/// object, so compiled + cached counts objects, not kernels.
struct EmitStats {
  unsigned kernels = 0;  ///< the kernel table's entries
  unsigned compiled = 0; ///< objects compiled by Halide
  unsigned cached = 0;   ///< objects copied from the kernel cache
  unsigned damaged = 0;  ///< cache entries that failed their checks
  unsigned pruned = 0;   ///< old entries removed to keep the cache's size
  bool runtimeCached = false;
  /// The first reason the cache could not be written to, if any.
  std::string cacheWarning;
  /// Wall-clock seconds of each step (EmitLibrary.cpp's list).
  double plan = 0, lower = 0, compile = 0, runtime = 0, descriptor = 0,
         archive = 0, link = 0;
};

/// Compiles every kernel of `module` to an object, adds the Halide runtime
/// once and the descriptor (MODEL_desc.c), and writes DIR/libMODEL.a,
/// DIR/MODEL.h, DIR/fm_model_desc.h and, with `shared`, DIR/libMODEL.so.
/// IR problems are reported as MLIR diagnostics; everything else (Halide,
/// the C compiler, the file system) in `error`. Returns failure on any.
mlir::LogicalResult emitModelLibrary(mlir::ModuleOp module,
                                     const EmitOptions &options,
                                     std::string &error,
                                     EmitStats *stats = nullptr);

/// Prints each kernel's scheduled Halide pipeline (its lowered statement:
/// loop nests, allocations, vectorised loads) to `os`, headed by the
/// kernel's name and its argv signature.
mlir::LogicalResult emitHalide(mlir::ModuleOp module, llvm::raw_ostream &os,
                               const EmitOptions &options, std::string &error);

} // namespace fm

#endif // FM_CODEGEN_EMITLIBRARY_H
