//===- HalideDiagnostics.h - Halide's warnings as kernel errors -*- C++ -*-===//
//
// This file declares how fm hears Halide's compile-time diagnostics.
// Halide prints a warning and carries on, even one that says the pipeline
// is guaranteed to fail an assertion when it runs; fm never ships such a
// kernel. A HalideWarningScope collects every warning Halide raises on
// its thread while it lives (Halide's CompileTimeErrorReporter is
// process-wide; fm installs one that routes each message to the scope of
// the thread raising it, so kernels compiled on several threads keep
// their own). Each warning then becomes an error at the op the Func it
// names was lowered from: the `.fm` line the user wrote.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_HALIDEDIAGNOSTICS_H
#define FM_CODEGEN_HALIDEDIAGNOSTICS_H

#include <string>
#include <vector>

namespace mlir {
class Operation;
} // namespace mlir

namespace fm {

struct LoweredKernel;
struct Stage;

/// Collects the Halide warnings raised on this thread while it lives.
/// Scopes nest; the innermost one collects. Without a scope a warning is
/// printed to stderr, as Halide does.
class HalideWarningScope {
public:
  HalideWarningScope();
  ~HalideWarningScope();
  HalideWarningScope(const HalideWarningScope &) = delete;
  HalideWarningScope &operator=(const HalideWarningScope &) = delete;

  /// The distinct warnings so far, each on one line without Halide's
  /// "Warning:".
  const std::vector<std::string> &getWarnings() const { return warnings; }

private:
  friend class HalideReporter;
  std::vector<std::string> warnings;
  HalideWarningScope *outer;
};

/// The stage of `kernel` whose Func a Halide message names (the longest
/// name that occurs in it as a whole word), or null.
const Stage *findStageInMessage(const LoweredKernel &kernel,
                                const std::string &message);

/// One line for a warning raised while compiling `kernel` for `target`:
/// the kernel, the Func and op it is about, and Halide's words.
std::string describeKernelWarning(const LoweredKernel &kernel,
                                  const std::string &kernelName,
                                  const std::string &target,
                                  const std::string &warning);

/// Emits each warning as an MLIR error at the location of the op it is
/// about (`fallback`'s, the kernel function's, when it names no Func).
void reportKernelWarnings(const LoweredKernel &kernel,
                          const std::string &kernelName,
                          const std::string &target, mlir::Operation *fallback,
                          const std::vector<std::string> &warnings);

/// Emits an autoscheduler's remarks on the schedules it chose (Mullapudi2016
/// says "Outer dim vectorization of var ..." or "Insufficient parallelism")
/// as MLIR warnings at their ops: they are about speed, not about whether
/// the kernel runs, so they do not stop the build.
void reportAutoSchedulerRemarks(const LoweredKernel &kernel,
                                const std::string &kernelName,
                                const std::string &autoscheduler,
                                mlir::Operation *fallback,
                                const std::vector<std::string> &remarks);

} // namespace fm

#endif // FM_CODEGEN_HALIDEDIAGNOSTICS_H
