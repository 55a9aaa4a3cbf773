//===- Lowering.h - Shared state of the fm -> Halide lowering ---*- C++ -*-===//
//
// This file declares what the per-family lowering files (ops/*.cpp) share:
// the Tensor a lowered value becomes, the Lowering context that maps IR
// values to Tensors and defines Funcs, and the LoweringTable, keyed by op
// TypeID, that FmToHalide.cpp dispatches through. No code outside the
// table knows op names.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_OPS_LOWERING_H
#define FM_CODEGEN_OPS_LOWERING_H

#include "codegen/FmToHalide.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/TypeID.h"
#include "llvm/ADT/DenseMap.h"

#include <functional>

namespace fm::lowering {

/// A lowered tensor value: the Func computing it and its row-major shape.
struct Tensor {
  Halide::Func func;
  /// Element type inside the pipeline (bool is Halide's UInt(1)).
  Halide::Type type;
  /// Row-major static shape, -1 for the batch extent.
  std::vector<int64_t> shape;
  /// Row-major extents as expressions (constants or the batch extent).
  std::vector<Halide::Expr> extents;

  size_t rank() const { return shape.size(); }
  /// Reads the element at a row-major index (Halide calls are reversed).
  Halide::Expr at(const std::vector<Halide::Expr> &index) const;
};

/// Row-major index expressions.
using Index = std::vector<Halide::Expr>;
/// Computes an element from its row-major index.
using ElementFn = std::function<Halide::Expr(const Index &)>;

/// The lowering of one kernel in progress.
class Lowering {
public:
  Lowering(LoweredKernel &kernel, Halide::Expr batch)
      : kernel(kernel), batch(std::move(batch)) {}

  //===--- values ---------------------------------------------------------===//
  const Tensor &get(mlir::Value value) const;
  bool has(mlir::Value value) const { return values.count(value); }
  void set(mlir::Value value, Tensor tensor);

  //===--- types and shapes -----------------------------------------------===//
  /// The Halide type of an fm element type inside the pipeline.
  static Halide::Type getType(mlir::Type elementType);
  /// The element type and row-major static shape of a tensor value.
  static Halide::Type getElementType(mlir::Value value);
  static std::vector<int64_t> getShape(mlir::Value value);
  /// A static extent as a constant, -1 as the batch extent.
  Halide::Expr getExtent(int64_t dim) const;
  std::vector<Halide::Expr> getExtents(const std::vector<int64_t> &shape) const;
  /// The product of the extents of `axes` of `t`.
  static Halide::Expr getCount(const Tensor &t,
                               const std::vector<int64_t> &axes);
  Halide::Expr getBatch() const { return batch; }
  /// Lanes of a native vector of `t` on the kernel's target: for
  /// algorithms whose order of sums follows the vector width.
  int getVectorLanes(Halide::Type t) const;

  //===--- Funcs ----------------------------------------------------------===//
  /// `<mnemonic>_<position>[_<suffix>]`: the name of an op's Func.
  std::string getName(mlir::Operation *op,
                      const std::string &suffix = "") const;
  /// Fresh pure Vars for a Func of the given rank, row-major.
  static std::vector<Halide::Var> makeVars(size_t rank);
  static Index toIndex(const std::vector<Halide::Var> &vars);
  /// Reverses a row-major list into Halide's innermost-first argument order.
  template <typename T> static std::vector<T> reversed(std::vector<T> v) {
    return std::vector<T>(v.rbegin(), v.rend());
  }
  /// Defines `name(index) = fn(index)` over `shape`.
  Halide::Func definePure(const std::string &name,
                          const std::vector<int64_t> &shape,
                          const ElementFn &fn) const;
  /// Records a Func of the given row-major shape for scheduling.
  Stage &addStage(Halide::Func f, StageKind kind,
                  std::vector<Halide::Func> producers,
                  std::vector<int64_t> shape);
  /// Binds `result` to `f` and records `f` as a stage reading
  /// `producers` (by default the Funcs of the defining op's operands).
  Stage &bind(mlir::Value result, Halide::Func f, StageKind kind,
              std::vector<Halide::Func> producers = {});
  /// Shorthand: defines and binds a pointwise result of `op`.
  Stage &bindPointwise(mlir::Operation *op, const ElementFn &fn,
                       StageKind kind = StageKind::Pointwise);
  /// The producers of `op`: the Funcs of its tensor operands.
  std::vector<Halide::Func> getOperandFuncs(mlir::Operation *op) const;
  /// The op whose lowering adds the next stages (Stage::origin).
  void setOrigin(mlir::Operation *op) { origin = op; }

  //===--- element helpers ------------------------------------------------===//
  /// Reads `operand` at the index of a result of shape `resultShape`, with
  /// NumPy broadcasting (missing leading axes, extent-1 axes).
  static Halide::Expr readBroadcast(const Tensor &operand,
                                    const std::vector<int64_t> &resultShape,
                                    const Index &index);
  /// A constant of type `t` (bool for UInt(1)).
  static Halide::Expr constant(Halide::Type t, double value);
  /// Converts between element types; to bool means `!= 0`.
  static Halide::Expr convert(Halide::Expr e, Halide::Type to);

private:
  LoweredKernel &kernel;
  Halide::Expr batch;
  llvm::DenseMap<mlir::Value, Tensor> values;
  mlir::Operation *origin = nullptr;
};

/// Lowers one op; reports problems with op->emitOpError and fails.
using LowerFn = mlir::LogicalResult (*)(mlir::Operation *op, Lowering &ctx);

/// The lowering of each op kind, keyed by the op's TypeID.
class LoweringTable {
public:
  template <typename OpTy> void add(LowerFn fn) {
    table[mlir::TypeID::get<OpTy>()] = fn;
  }
  /// The lowering of `op`, or null if its kind has none.
  LowerFn lookup(mlir::Operation *op) const;
  /// The table with every family registered (built once).
  static const LoweringTable &get();

private:
  llvm::DenseMap<mlir::TypeID, LowerFn> table;
};

void registerElementwiseLowerings(LoweringTable &table);
void registerLinearAlgebraLowerings(LoweringTable &table);
void registerReductionLowerings(LoweringTable &table);
void registerNeuralNetLowerings(LoweringTable &table);
void registerShapeLowerings(LoweringTable &table);
void registerConvolutionLowerings(LoweringTable &table);
void registerTensorLowerings(LoweringTable &table);

} // namespace fm::lowering

#endif // FM_CODEGEN_OPS_LOWERING_H
