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

/// The whole training pipeline, from the front end's model function to
/// outlined kernels and step functions (see Pipelines.cpp).
void buildFmTrainingPipeline(OpPassManager &pm);

/// Stops of the pipeline, for `fmc --emit=`: up to and including the named
/// stage ("steps", "grad", "optimized", "kernels").
void buildFmPipelineUpTo(OpPassManager &pm, StringRef stop);

/// Registers `fm-training-pipeline` with the pass registry (for fm-opt).
void registerFmPipelines();

} // namespace mlir::fm

#endif // FM_PASSES_PASSES_H
