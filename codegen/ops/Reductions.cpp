//===- Reductions.cpp - Lowering of fm reductions ---------------*- C++ -*-===//
//
// This file implements reduce_sum, reduce_mean and normalize: one Func
// with an update over an RDom spanning the reduced axes, innermost axis
// first so the inner loop walks memory with unit stride. The mean divides
// that sum by the reduced element count in a pointwise Func of its own.
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

/// Records `sum`, a reduction of `x` over `axes`, for scheduling (bound
/// to `result` if given).
static void addSumStage(Lowering &ctx, Halide::Func sum, const Tensor &x,
                        const std::vector<int64_t> &axes,
                        const std::vector<int64_t> &shape,
                        mlir::Value result = {}) {
  ::fm::Stage &stage = result ? ctx.bind(result, sum, StageKind::Reduction)
                              : ctx.addStage(sum, StageKind::Reduction,
                                             {x.func}, shape);
  int64_t rank = static_cast<int64_t>(x.rank());
  while (stage.innermostReducedAxes < rank &&
         llvm::is_contained(axes, rank - 1 - stage.innermostReducedAxes))
    ++stage.innermostReducedAxes;
}

/// Binds `result` to the mean of `x` over `axes`: a sum stage `<name>_sum`
/// and its division by the element count, `<name>`.
static Tensor bindMean(Lowering &ctx, mlir::Value result, const Tensor &x,
                       const std::vector<int64_t> &axes, bool keepdims,
                       const std::string &name) {
  std::vector<int64_t> shape = Lowering::getShape(result);
  Halide::Func sum = defineSum(x, axes, keepdims, shape, name + "_sum");
  addSumStage(ctx, sum, x, axes, shape);
  Tensor total{sum, x.type, shape, ctx.getExtents(shape)};
  Expr count = Lowering::convert(Lowering::getCount(x, axes), x.type);
  ctx.bind(result, ctx.definePure(name, shape, [&](const Index &i) {
    return total.at(i) / count;
  }), StageKind::Pointwise, {sum});
  return ctx.get(result);
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
  if (axes.empty()) { // nothing to reduce: a copy
    ctx.bindPointwise(op, [&](const Index &i) { return x.at(i); });
    return success();
  }
  if (mean)
    bindMean(ctx, result, x, axes, keepdims, ctx.getName(op));
  else
    addSumStage(ctx, defineSum(x, axes, keepdims, shape, ctx.getName(op)), x,
                axes, shape, result);
  return success();
}

/// normalize: the mean, then the variance as the mean of the squares of
/// x - mean (two-pass variance); the result reads both, broadcast over
/// the normalised axes.
static LogicalResult lowerNormalize(Operation *op, Lowering &ctx) {
  auto norm = llvm::cast<NormalizeOp>(op);
  Tensor x = ctx.get(norm.getInput());
  std::vector<int64_t> axes(norm.getAxes().begin(), norm.getAxes().end());
  Tensor mean =
      bindMean(ctx, norm.getMean(), x, axes, true, ctx.getName(op, "mean"));
  auto centred = [&](const Index &i) {
    return x.at(i) - Lowering::readBroadcast(mean, x.shape, i);
  };
  Halide::Func sq =
      ctx.definePure(ctx.getName(op, "sq"), x.shape, [&](const Index &i) {
        return centred(i) * centred(i);
      });
  ctx.addStage(sq, StageKind::Pointwise, {x.func, mean.func}, x.shape);
  Tensor var = bindMean(ctx, norm.getVariance(),
                        Tensor{sq, x.type, x.shape, x.extents}, axes, true,
                        ctx.getName(op, "variance"));
  Expr eps = Lowering::constant(x.type, norm.getEps().convertToDouble());
  ctx.bind(norm.getResult(),
           ctx.definePure(ctx.getName(op), x.shape,
                          [&](const Index &i) {
                            return centred(i) /
                                   Halide::sqrt(Lowering::readBroadcast(
                                                    var, x.shape, i) +
                                                eps);
                          }),
           StageKind::Pointwise, {x.func, mean.func, var.func});
  return success();
}

void ::fm::lowering::registerReductionLowerings(LoweringTable &table) {
  table.add<NormalizeOp>(lowerNormalize);
  table.add<ReduceSumOp>(
      [](Operation *op, Lowering &ctx) { return lowerReduce(op, ctx, false); });
  table.add<ReduceMeanOp>(
      [](Operation *op, Lowering &ctx) { return lowerReduce(op, ctx, true); });
}
