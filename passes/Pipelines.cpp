//===- Pipelines.cpp - The fm compilation pipeline --------------*- C++ -*-===//
//
// The whole pipeline as one commented list (IREE's Passes.cpp, Halide's
// Lower.cpp): from the front end's model function to step functions that
// call outlined kernels.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::fm::buildFmPipelineUpTo(OpPassManager &pm, StringRef stop,
                                   bool fuse) {
  // predict / evaluate / train_step from the one model function.
  pm.addPass(createBuildStepsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (stop == "steps")
    return;
  // Backward graph of train_step; gradients handed to fm.apply_gradient.
  pm.addPass(createAutodiffPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (stop == "grad")
    return;
  // The optimizer's update, then a clean-up so that duplicated loads and
  // scalar factors are shared.
  pm.addPass(createOptimizerUpdatePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (stop == "optimized")
    return;
  // Fusion groups (fm.fused regions; the rules are in Fuse.cpp).
  if (fuse)
    pm.addPass(createFusePass());
  if (stop == "fused")
    return;
  // Each region becomes a kernel (one Halide pipeline each).
  pm.addPass(createOutlineKernelsPass());
}

void mlir::fm::buildFmTrainingPipeline(OpPassManager &pm) {
  buildFmPipelineUpTo(pm, "kernels");
}

void mlir::fm::registerFmPipelines() {
  PassPipelineRegistration<>(
      "fm-training-pipeline",
      "From the model function to step functions calling kernels",
      [](OpPassManager &pm) { buildFmTrainingPipeline(pm); });
}
