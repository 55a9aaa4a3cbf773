//===- FmToHalide.h - One fm kernel -> one Halide pipeline ------*- C++ -*-===//
//
// This file declares lowerKernel, which turns one outlined kernel
// (`func.func private @kN ... attributes {fm.kernel}`, a body of fm ops)
// into Halide Funcs: the algorithm only. How the Funcs are computed is
// decided separately by Schedules.h (Halide's algorithm/schedule split).
//
// Conventions of the generated pipeline (docs/codegen.md):
//  - tensor arguments are ImageParams named after the IR value (`arg0`),
//    with Halide's innermost-first dimension order: Halide dim 0 is the
//    tensor's last axis. Bool tensors cross the boundary as uint8 buffers.
//  - `fm.scalar` arguments are Param<float> (the descriptor passes float*)
//    converted to the kernel's float type inside.
//  - every op becomes a Func named after it (`matmul_3`, helpers
//    `softmax_5_max`, ...); every returned value is one output Func, and
//    the argv order is: arguments in order, then outputs in order.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_FMTOHALIDE_H
#define FM_CODEGEN_FMTOHALIDE_H

#include "mlir/Support/LogicalResult.h"

#include "Halide.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace fm {

/// What a Func computes, as far as scheduling cares. Anchors (MatMul,
/// Reduction) get a loop nest of their own; everything else is inlined
/// into its consumers unless it is an output or feeds a matmul.
enum class StageKind {
  Input,     ///< reads a kernel argument (wrapper over an ImageParam/Param)
  Constant,  ///< a constant tensor
  Pointwise, ///< elementwise, broadcasts, reshapes, scalars from extents
  Transpose, ///< a permutation of axes (strided reads)
  Reshape,   ///< the same elements under another shape
  MatMulAcc, ///< the accumulating reduction of a matmul
  MatMul,    ///< the pure result of a matmul, reading its accumulator
  Reduction, ///< any other Func with an update definition (sums, max, argmax)
  // Convolution and pooling (ops/Convolution.cpp, ConvSchedules.cpp).
  ConvPack,  ///< an operand of a ConvAcc/FilterAcc, padded or reordered:
             ///< defined everywhere (zero outside), so tiles may overrun
  ConvAcc,   ///< conv2d / backward-data accumulator (channel, x, y, n),
             ///< a reduction over (channel', kw, kh) with static extents;
             ///< producers: the activation's pack, then the filter's
  Conv,      ///< the pure NCHW result (x, y, channel, n) of a ConvAcc
  FilterAcc, ///< backward-filter partial sums (o, kw, kh, c, batch chunk)
  FilterSum, ///< the sum over chunks of a FilterAcc (o, kw, kh, c)
  Filter,    ///< the pure OIHW result (kw, kh, c, o) of a FilterSum
  Window,    ///< pooling and its gradients: pure, windows of static size
};

/// One Func of a lowered kernel: its role and the Funcs it reads.
struct Stage {
  Halide::Func func;
  StageKind kind;
  std::vector<Halide::Func> producers;
  /// Row-major shape of the Func; -1 is the batch extent.
  std::vector<int64_t> shape;
  /// For reductions: true if the reduced axes include the input's
  /// innermost one, so the pure innermost dimension is not unit-stride.
  bool reducesInnermost = false;
  /// For reshapes: a run of innermost elements that is contiguous in both
  /// shapes (the gcd of their innermost extents); vectors that stay
  /// within such runs read densely. 0 if unknown.
  int64_t contiguousRun = 0;
  /// For ConvAcc and FilterAcc: channel groups. With more than one, the
  /// lanes of a vector of channels would read different input channels.
  int64_t groups = 1;
};

/// One argument of a kernel, in argv order.
struct KernelArg {
  std::string name;
  bool isScalar = false;
  Halide::ImageParam image;    ///< tensor arguments
  Halide::Param<float> scalar; ///< `fm.scalar` arguments
  Halide::Type type;           ///< element type of the buffer (uint8 for bool)
  std::vector<int64_t> shape;  ///< row-major; -1 is the batch extent
};

/// One result of a kernel, in argv order after the arguments.
struct KernelOutput {
  Halide::Func func;
  Halide::Type type;          ///< element type of the buffer (uint8 for bool)
  std::vector<int64_t> shape; ///< row-major; -1 is the batch extent
};

/// A kernel as Halide Funcs, before scheduling.
struct LoweredKernel {
  std::string name;
  std::vector<KernelArg> args;
  std::vector<KernelOutput> outputs;
  /// Every Func defined, producers before consumers.
  std::vector<Stage> stages;

  /// The pipeline's inputs in argv order (outputs follow them in argv).
  std::vector<Halide::Argument> getArguments() const;
  /// A pipeline over all outputs.
  Halide::Pipeline getPipeline() const;
  /// The stage of `f`, or null.
  const Stage *findStage(const Halide::Func &f) const;
  /// True if `f` is one of the outputs.
  bool isOutput(const Halide::Func &f) const;
};

/// Lowers one kernel function. Ops without a lowering and malformed
/// kernels are reported as MLIR diagnostics on the op; returns failure
/// then. `name` is the pipeline's C name (defaults to the symbol name).
mlir::LogicalResult lowerKernel(mlir::func::FuncOp kernel, LoweredKernel &out,
                                const std::string &name = "");

} // namespace fm

#endif // FM_CODEGEN_FMTOHALIDE_H
