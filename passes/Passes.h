//===- Passes.h - fm passes and pipelines -----------------------*- C++ -*-===//
#ifndef FM_PASSES_PASSES_H
#define FM_PASSES_PASSES_H

#include "ir/FmDialect.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::fm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Moves a step's stores last and keeps one load per parameter, the form
/// fusion and outlining rely on.
void prepareStepForKernels(func::FuncOp step);

/// Wraps the ops of `step` in fm.fused regions: fusion groups by the rules
/// of Fuse.cpp, or one op per region when `fuse` is false.
void formFusionRegions(func::FuncOp step, bool fuse);

/// The whole training pipeline, from the front end's model function to
/// outlined kernels and step functions (see Pipelines.cpp).
void buildFmTrainingPipeline(OpPassManager &pm);

/// Stops of the pipeline, for `fmc --emit=`: up to and including the named
/// stage ("steps", "grad", "optimized", "fused", "kernels"). Without
/// `fuse`, every op becomes a kernel of its own (the unfused reference).
void buildFmPipelineUpTo(OpPassManager &pm, StringRef stop, bool fuse = true);

/// Registers `fm-training-pipeline` with the pass registry (for fm-opt).
void registerFmPipelines();

} // namespace mlir::fm

#endif // FM_PASSES_PASSES_H
