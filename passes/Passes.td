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

def OutlineKernelsPass : Pass<"fm-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Groups the ops of each step into kernels and outlines them";
  let description = [{
    Forms fusion groups (pointwise ops join the group of an operand's
    producer; everything else anchors a new group), then moves each group
    into a private `func.func` marked `fm.kernel` and calls it. Constants
    are cloned into the kernels that use them. Kernels with identical
    bodies are merged.
  }];
  let dependentDialects = ["mlir::fm::FmDialect", "mlir::func::FuncDialect"];
}

#endif // FM_PASSES_TD
