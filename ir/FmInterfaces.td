//===- FmInterfaces.td - fm op interfaces ------------------*- tablegen -*-===//
//
// The gradient interface: every differentiable op builds its own
// vector-Jacobian product from other fm ops, so the autodiff pass is a
// generic reverse walk that knows no op by name.
//
//===----------------------------------------------------------------------===//
#ifndef FM_INTERFACES_TD
#define FM_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Fm_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mlir::fm";
  let description = [{
    An op that can propagate gradients. `buildGradient` receives the
    gradient of the loss with respect to each result (null where a result
    does not reach the loss) and returns the gradient with respect to each
    operand, in operand order, shaped like the operand (null where the
    operand gets none, e.g. integer labels).
  }];
  let methods = [
    InterfaceMethod<
      "Builds the vector-Jacobian product at the builder's insertion point.",
      "::llvm::SmallVector<::mlir::Value>", "buildGradient",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGradients)>
  ];
}

// Ops whose outputs carry no gradient (comparisons, argmax, metrics):
// autodiff stops there instead of reporting an op it cannot differentiate.
def Fm_NoGradient : NativeOpTrait<"NoGradient"> {
  let cppNamespace = "::mlir::fm";
}

// Ops computed independently per output element from the matching
// (broadcast) elements of their operands: fusion may inline them.
def Fm_Pointwise : NativeOpTrait<"Pointwise"> {
  let cppNamespace = "::mlir::fm";
}

#endif // FM_INTERFACES_TD
