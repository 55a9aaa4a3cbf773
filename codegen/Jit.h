//===- Jit.h - Run one fm kernel in process through Halide's JIT -*- C++
//-*-===//
//
// This file declares JitKernel: a kernel lowered, scheduled and JIT-compiled
// so that tests (and tools that want a quick look) can run it on
// Halide::Buffers without building a model library.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_JIT_H
#define FM_CODEGEN_JIT_H

#include "codegen/FmToHalide.h"
#include "codegen/Schedules.h"

#include <memory>

namespace fm {

/// A compiled kernel. Arguments are passed like the argv entry point of a
/// generated library: one buffer per kernel argument (a 0-d float buffer
/// for an `fm.scalar`), then one buffer per output.
class JitKernel {
public:
  /// Lowers, schedules and compiles `kernel`; returns null after
  /// reporting a diagnostic (lowering) or writing `error` (Halide).
  static std::unique_ptr<JitKernel> create(mlir::func::FuncOp kernel,
                                           const ScheduleOptions &options,
                                           std::string &error);

  /// Allocates output buffers (innermost-first dims) for a batch extent.
  std::vector<Halide::Buffer<>> allocateOutputs(int batch) const;

  /// Runs the kernel; returns false and sets `error` on a Halide error
  /// (bad buffer shapes included).
  bool run(const std::vector<Halide::Buffer<>> &args,
           std::vector<Halide::Buffer<>> &outputs, std::string &error);

  const LoweredKernel &getKernel() const { return kernel; }

private:
  JitKernel() = default;
  LoweredKernel kernel;
  Halide::Pipeline pipeline;
  Halide::Target target;
};

/// Shorthand for tests: JIT-compiles with the given schedule; null on error
/// (the Halide error is printed to stderr).
std::unique_ptr<JitKernel>
jitKernel(mlir::func::FuncOp kernel,
          ScheduleKind schedule = ScheduleKind::Hand);

/// A row-major shape as Halide buffer sizes (innermost first), with -1
/// replaced by `batch`.
std::vector<int> getBufferSizes(const std::vector<int64_t> &shape, int batch);

} // namespace fm

#endif // FM_CODEGEN_JIT_H
