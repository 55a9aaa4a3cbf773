//===- CompileKernels.h - A library's kernels, compiled -----*- C++ -*-===//
//
// This file declares the compiling half of EmitLibrary.cpp's steps, which
// both entry points (emitModelLibrary, emitHalide) share: the plan and a
// KernelJob per kernel (named by the digest of its IR, targets and
// schedule), each lowered and scheduled for every target variant, then
// compiled to one object (several variants through compile_multitarget),
// with Halide's warnings about a kernel reported as errors at its op; and
// the Halide runtime. Private to codegen/.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_COMPILEKERNELS_H
#define FM_CODEGEN_COMPILEKERNELS_H

#include "codegen/Descriptor.h"
#include "codegen/EmitLibrary.h"
#include "codegen/FmToHalide.h"
#include "codegen/Schedules.h"
#include "codegen/Targets.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <string>
#include <vector>

namespace fm {

class KernelCache;

/// A kernel lowered and scheduled for one target variant.
struct LoweredVariant {
  ::fm::LoweredKernel lowered;
  /// Halide's warnings while lowering and compiling it.
  std::vector<std::string> warnings;
  /// What an autoscheduler said about the schedule it chose.
  std::vector<std::string> remarks;
};

/// One kernel on its way to an object file.
struct KernelJob {
  std::string name; ///< the IR symbol (kernel_names)
  mlir::func::FuncOp kernel;
  /// The digest of everything the code depends on but the compiler.
  std::string digest;
  /// The C symbol: fm_MODEL_<digest> (and fm_MODEL_<digest>_argv).
  std::string symbol;
  /// The index of an earlier, identical job whose object this one shares.
  int sameAs = -1;
  std::string key; ///< the kernel cache's key; empty without a cache
  bool cached = false;
  /// One per target variant, in the order of EmitContext::variants.
  std::vector<LoweredVariant> variants;
  /// Warnings Halide raised about no variant in particular.
  std::vector<std::string> warnings;
  std::string object;
  std::string error;

  bool hasWarnings() const {
    bool any = !warnings.empty();
    for (const LoweredVariant &v : variants)
      any |= !v.warnings.empty();
    return any;
  }
};

/// What every kernel of one library is compiled with.
struct EmitContext {
  ::fm::ModelPlan plan;
  /// The targets, best first; the last is the baseline that the Halide
  /// runtime is compiled for.
  std::vector<::fm::TargetVariant> variants;
  ::fm::ScheduleOptions schedule;
  /// The C compiler, for joining multi-target objects.
  std::string cc;
  std::function<void(const std::string &, ::fm::LoweredKernel &)> afterSchedule;
};

/// Plans the module, resolves the targets and schedule of `options` into
/// `ctx`, and names every kernel. With `contentSymbols` (model libraries)
/// a kernel's symbol is `fm_MODEL_<digest>`, the digest of its IR,
/// targets and schedule, so that a kernel keeps its symbol, and its
/// cached object, when kernels before it come or go; identical kernels
/// get one symbol and share an object. Otherwise (--emit=halide) the
/// symbol is `fm_MODEL_<name>`.
mlir::LogicalResult prepare(mlir::ModuleOp module, const EmitOptions &options,
                            EmitContext &ctx, std::vector<KernelJob> &jobs,
                            bool contentSymbols, std::string &error);

/// Lowers and schedules, for every target variant, the jobs that need an
/// object of their own, serially (see the definition for why).
mlir::LogicalResult lowerKernels(std::vector<KernelJob> &jobs,
                                 const EmitContext &ctx, std::string &error);

/// Compiles every lowered job that the cache lacks to its object on up to
/// `threads` threads, storing each in `cache` (when given) unless Halide
/// warned about it. Halide's warnings are reported at their ops; false
/// (and `error`) if any kernel failed or was warned about.
bool compileKernels(std::vector<KernelJob> &jobs, const EmitContext &ctx,
                    unsigned threads, KernelCache *cache, EmitStats &stats,
                    std::string &error);

/// Reports every Halide warning of `jobs` at the op it is about; true (and
/// `error`) if there were any.
bool reportWarnings(const std::vector<KernelJob> &jobs, const EmitContext &ctx,
                    std::string &error);

/// Compiles the Halide runtime for `target` to `path`, or copies it from
/// the cache.
bool compileRuntime(const Halide::Target &target, const std::string &path,
                    KernelCache *cache, EmitStats &stats, std::string &error);

/// Runs `tool args...`; on failure sets `error` to its output.
bool runTool(const std::string &tool, const std::vector<std::string> &args,
             std::string &error);

} // namespace fm

#endif // FM_CODEGEN_COMPILEKERNELS_H
