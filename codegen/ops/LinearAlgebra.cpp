//===- LinearAlgebra.cpp - Lowering of fm.matmul ----------------*- C++ -*-===//
//
// This file implements the lowering of matmul as two Funcs: an
// accumulator `matmul_N_acc` (a reduction over k) and the result
// `matmul_N` that reads it. The split is what lets the schedule keep a
// small tile of the accumulator in registers while the result is tiled,
// parallelised, or fused into its pointwise consumers (Halide's
// apps/linear_algebra does the same).
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

#include "ir/FmDialect.h"

using namespace ::fm::lowering;
using namespace mlir;
using namespace mlir::fm;
using ::fm::StageKind;
using Halide::Expr;

static LogicalResult lowerMatMul(Operation *op, Lowering &ctx) {
  Tensor a = ctx.get(op->getOperand(0));
  Tensor b = ctx.get(op->getOperand(1));
  Value result = op->getResult(0);
  Halide::Type type = Lowering::getElementType(result);
  std::string name = ctx.getName(op);

  // Row-major [i, j] = sum_k a[i, k] * b[k, j]; Halide order is (j, i).
  std::vector<Halide::Var> vars = Lowering::makeVars(2);
  Halide::Var i = vars[0], j = vars[1];
  Halide::RDom k(0, a.extents[1], name + "_k");
  Halide::Func acc(name + "_acc");
  acc(j, i) = Lowering::constant(type, 0);
  // Reads are clamped to the operands' extents so that a schedule may
  // compute whole register tiles past the edges (the extra rows and
  // columns are never stored); where a tile is provably inside, the
  // simplifier removes the clamp.
  Expr rows = a.extents[0], cols = b.extents[1];
  acc(j, i) +=
      a.at({Halide::min(i, rows - 1), k}) * b.at({k, Halide::min(j, cols - 1)});
  ctx.addStage(acc, StageKind::MatMulAcc, ctx.getOperandFuncs(op),
               Lowering::getShape(result));

  Halide::Func mm(name);
  mm(j, i) = acc(j, i);
  ctx.bind(result, mm, StageKind::MatMul, {acc});
  return success();
}

void ::fm::lowering::registerLinearAlgebraLowerings(LoweringTable &table) {
  table.add<MatMulOp>(lowerMatMul);
}
