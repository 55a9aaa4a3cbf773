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
class Operation;
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
  /// For reductions: how many of the input's innermost axes are all
  /// reduced (H and W of a per-channel sum over [N, C, H, W]: 2), whose
  /// RDom dimensions walk one contiguous run and may be fused into one;
  /// 1 where only the innermost one is known to be. 0: the innermost axis
  /// is kept, so the pure innermost dimension is unit-stride.
  int innermostReducedAxes = 0;
  bool reducesInnermost() const { return innermostReducedAxes > 0; }
  /// For reshapes: a run of innermost elements that is contiguous in both
  /// shapes (the gcd of their innermost extents); vectors that stay
  /// within such runs read densely. 0 if unknown.
  int64_t contiguousRun = 0;
  /// For ConvAcc and FilterAcc: channel groups. With more than one, the
  /// lanes of a vector of channels would read different input channels.
  int64_t groups = 1;
  /// The op this Func was lowered from (null for arguments and results):
  /// Halide's diagnostics about the Func are reported at its location.
  mlir::Operation *origin = nullptr;
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
  /// The target the algorithm was shaped for: the vector width fixes the
  /// lane count of partial sums that are part of the algorithm (a filter
  /// gradient's sums along x), so schedules for it find whole vectors.
  Halide::Target target;
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

/// Lowers one kernel function for `target`. Ops without a lowering and
/// malformed kernels are reported as MLIR diagnostics on the op; returns
/// failure then. `name` is the pipeline's C name (defaults to the symbol
/// name).
mlir::LogicalResult lowerKernel(mlir::func::FuncOp kernel, LoweredKernel &out,
                                const Halide::Target &target,
                                const std::string &name = "");

/// Lanes of a native vector of `t`'s width (f64: half the f32 lanes) on
/// `target`: 4, 8 or 16 f32 lanes for SSE4.1, AVX2, AVX-512.
int getVectorLanes(const Halide::Target &target, Halide::Type t);

} // namespace fm

#endif // FM_CODEGEN_FMTOHALIDE_H
