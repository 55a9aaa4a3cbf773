//===- KernelCost.h - The arithmetic work of a kernel -----------*- C++ -*-===//
//
// This file declares getKernelCost, which counts the floating-point
// operations of one fm.kernel function as an affine function of the batch
// extent N: flops = perItem * N + fixed. The compiler knows what each op
// computes and the runtime does not, so the count travels in the
// descriptor ("kernels", docs/descriptor.md) for profilers to turn kernel
// times into GFLOP/s.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_KERNELCOST_H
#define FM_CODEGEN_KERNELCOST_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdint>
#include <string>

namespace fm {

struct KernelCost {
  /// Flops per batch item and per call: flops = perItem * N + fixed.
  int64_t perItem = 0, fixed = 0;
  /// False if some term is not affine in N (an [N, K] @ [K, N] product).
  bool known = true;
};

/// Counts the multiply-adds of the contractions in `kernel` (matmul,
/// conv2d and its two gradients) as two flops each. Elementwise ops,
/// reductions and data movement count zero: they are bound by memory
/// traffic, so their GFLOP/s would mean nothing.
KernelCost getKernelCost(mlir::func::FuncOp kernel);

/// What `kernel` computes, for people reading a profile: the names of its
/// ops without the dialect prefix, each once, in order, joined by '+'
/// ("conv2d+reshape+add+relu").
std::string getKernelOps(mlir::func::FuncOp kernel);

} // namespace fm

#endif // FM_CODEGEN_KERNELCOST_H
