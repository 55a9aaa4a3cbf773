//===- Reductions.cpp - Lowering of fm reductions ---------------*- C++ -*-===//
//
// This file implements reduce_sum and reduce_mean: one Func with an update
// over an RDom spanning the reduced axes, innermost axis first so the
// inner loop walks memory with unit stride. The mean divides that sum by
// the reduced element count in a pointwise Func of its own.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

#include "ir/FmDialect.h"

using namespace ::fm::lowering;
using namespace mlir;
using namespace mlir::fm;
using ::fm::StageKind;
using Halide::Expr;

/// Defines `name(kept) = sum over axes of x`, shaped like `resultShape`
/// (reduced axes dropped, or kept with extent 1 when `keepdims`).
static Halide::Func defineSum(const Tensor &x, std::vector<int64_t> axes,
                              bool keepdims,
                              const std::vector<int64_t> &resultShape,
                              const std::string &name) {
  llvm::sort(axes);
  Halide::Region region;
  for (auto it = axes.rbegin(); it != axes.rend(); ++it)
    region.emplace_back(0, x.extents[*it]);
  Halide::RDom r(region, name + "_r");

  std::vector<Halide::Var> vars = Lowering::makeVars(resultShape.size());
  Index at;
  size_t kept = 0;
  for (size_t a = 0; a < x.rank(); ++a) {
    auto pos = llvm::find(axes, static_cast<int64_t>(a));
    if (pos != axes.end()) {
      // RDom dimension 0 is the last reduced axis.
      at.push_back(r[axes.end() - pos - 1]);
      if (keepdims)
        ++kept;
    } else {
      at.push_back(vars[kept++]);
    }
  }
  Halide::Func sum(name);
  std::vector<Halide::Var> args = Lowering::reversed(vars);
  sum(args) = Lowering::constant(x.type, 0);
  sum(args) += x.at(at);
  return sum;
}

static LogicalResult lowerReduce(Operation *op, Lowering &ctx, bool mean) {
  Tensor x = ctx.get(op->getOperand(0));
  Value result = op->getResult(0);
  std::vector<int64_t> shape = Lowering::getShape(result);
  ArrayRef<int64_t> axesRef = op->getAttrOfType<DenseI64ArrayAttr>("axes");
  std::vector<int64_t> axes(axesRef.begin(), axesRef.end());
  bool keepdims = false;
  if (auto attr = op->getAttrOfType<BoolAttr>("keepdims"))
    keepdims = attr.getValue();
  bool innermost = llvm::is_contained(axes, int64_t(x.rank()) - 1);
  if (axes.empty()) { // nothing to reduce: a copy
    ctx.bindPointwise(op, [&](const Index &i) { return x.at(i); });
    return success();
  }
  if (!mean) {
    ctx.bind(result, defineSum(x, axes, keepdims, shape, ctx.getName(op)),
             StageKind::Reduction)
        .reducesInnermost = innermost;
    return success();
  }
  Halide::Func sum =
      defineSum(x, axes, keepdims, shape, ctx.getName(op, "sum"));
  ctx.addStage(sum, StageKind::Reduction, {x.func}, shape).reducesInnermost =
      innermost;
  Expr count = Lowering::getCount(x, axes);
  Tensor s{sum, x.type, shape, ctx.getExtents(shape)};
  Halide::Func f = ctx.definePure(ctx.getName(op), shape, [&](const Index &i) {
    return s.at(i) / Lowering::convert(count, x.type);
  });
  ctx.bind(result, f, StageKind::Pointwise, {sum});
  return success();
}

void ::fm::lowering::registerReductionLowerings(LoweringTable &table) {
  table.add<ReduceSumOp>(
      [](Operation *op, Lowering &ctx) { return lowerReduce(op, ctx, false); });
  table.add<ReduceMeanOp>(
      [](Operation *op, Lowering &ctx) { return lowerReduce(op, ctx, true); });
}
