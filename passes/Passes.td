//===- Passes.td - fm transformation passes ----------------*- tablegen -*-===//
//
// The pass catalogue. Pipelines.cpp strings them together in order.
//
//===----------------------------------------------------------------------===//
#ifndef FM_PASSES_TD
#define FM_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Step construction and differentiation
//===----------------------------------------------------------------------===//

def AutodiffPass : Pass<"fm-autodiff", "mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of the loss of each fm.differentiate function";
  let description = [{
    Walks each function marked `fm.differentiate` backwards from its first
    result (the scalar loss), asking every op on the path for its
    vector-Jacobian product (GradientOpInterface). Gradients of values used
    several times are summed; broadcasting is summed back by the rules.
    Ops with the NoGradient trait stop the walk; labels and inputs are not
    differentiated. For each trainable parameter the total gradient is
    handed to the optimizer:
    ```mlir
    fm.apply_gradient @dense.weight, %dw : tensor<784x10xf32>
    ```
  }];
  let dependentDialects = ["mlir::fm::FmDialect"];
}

def BuildStepsPass : Pass<"fm-build-steps", "mlir::ModuleOp"> {
  let summary = "Derives predict, evaluate and train_step from the model function";
  let description = [{
    The front end emits one function for the model, returning the loss,
    the outputs and the metrics. This pass clones it into `@predict`
    (inputs -> outputs), `@evaluate` (inputs, labels -> loss, metrics) and
    `@train_step` (the same, marked `fm.differentiate`), drops what each
    does not need, and checks that outputs never depend on labels.
    `fm.train_or_eval` picks its training value in `train_step` and its
    evaluation value elsewhere; stores (running statistics) stay in
    `train_step` only.
  }];
  let dependentDialects = ["mlir::fm::FmDialect"];
}

def OptimizerUpdatePass : Pass<"fm-optimizer-update", "mlir::ModuleOp"> {
  let summary = "Expands fm.apply_gradient into the optimizer's update";
  let description = [{
    Reads the module's `fm.optimizer` dictionary (kind = "sgd" with lr,
    momentum, nesterov, weight_decay; "adam" or "adamw" (decoupled decay)
    with lr, beta1, beta2, eps, weight_decay) and, if the module has
    `fm.clip_grad_norm`, first scales all gradients to that global norm
    (PyTorch's clip_grad_norm_); then it replaces each `fm.apply_gradient` with fm ops that
    update the parameter (and its state: momentum or Adam moments, created
    as `fm.param` of kind "state") and `fm.store` the results. The learning
    rate and the step count become scalar arguments `lr` and `step`.
    Weight decay follows θ ← θ − η∇L − ηλθ.
  }];
  let dependentDialects = ["mlir::fm::FmDialect"];
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def FusePass : Pass<"fm-fuse", "mlir::ModuleOp"> {
  let summary = "Groups the ops of each step into fm.fused regions (one per kernel)";
  let description = [{
    Walks each step in order and puts every op either in the most recent
    fusion group or in a new one; the rules live in `joinsGroup`
    (Fuse.cpp): pointwise ops join the group that produces an operand (or
    a group of pointwise ops), reductions join the group that produces
    their operand, and an op absorbs a group of layout ops (transposes,
    reshapes) that feed it alone. Reshapes and broadcasts of parameters,
    inputs and constants are views, cloned into each group that reads
    them, like constants and sizes. Each group becomes an `fm.fused` op:
    ```mlir
    %h = fm.fused "conv2d" -> tensor<?x32x26x26xf32> {
      ... fm.yield %r : tensor<?x32x26x26xf32>
    }
    ```
  }];
  let dependentDialects = ["mlir::fm::FmDialect"];
}

def OutlineKernelsPass : Pass<"fm-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Moves each fm.fused region into a kernel function and calls it";
  let description = [{
    Each `fm.fused` becomes a private `func.func` marked `fm.kernel`
    (named `k<i>_<anchor>`) and a call; ops outside any region become
    kernels of their own (without fm-fuse: the unfused reference). A
    stored result whose kernel also reads the old value into another
    output goes through a copy kernel. Kernels with identical bodies are
    merged.
  }];
  let dependentDialects = ["mlir::fm::FmDialect", "mlir::func::FuncDialect"];
}

#endif // FM_PASSES_TD
