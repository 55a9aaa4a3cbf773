//===- NeuralNet.cpp - Lowering of fm neural-network ops --------*- C++ -*-===//
//
// This file implements softmax, log_softmax, one_hot and the losses and
// metrics (cross_entropy, accuracy, mse). All exponentials are taken of
// `x - max(x)` along the normalised axis, so no logit can overflow them;
// accuracy's arg-max keeps the first maximum of a row (strict `>`).
// Integer labels are clamped to [0, C) before they index a row: a bad
// label gives a wrong value instead of an out-of-bounds read.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

#include "ir/FmDialect.h"

using namespace ::fm::lowering;
using namespace mlir;
using namespace mlir::fm;
using ::fm::StageKind;
using Halide::Expr;

/// `index` with `e` inserted as axis `axis`.
static Index insertAxis(Index index, size_t axis, Expr e) {
  index.insert(index.begin() + axis, e);
  return index;
}

/// `index` without axis `axis`.
static Index dropAxis(Index index, size_t axis) {
  index.erase(index.begin() + axis);
  return index;
}

/// The Funcs of a numerically stable log-sum-exp along one axis of `x`.
struct LogSumExp {
  Tensor max; ///< max along the axis (axis dropped)
  Tensor exp; ///< exp(x - max), shaped like x
  Tensor sum; ///< sum of exp along the axis (axis dropped)
};

static LogSumExp defineLogSumExp(Lowering &ctx, const Tensor &x, size_t axis,
                                 const std::string &name) {
  std::vector<int64_t> rowShape = x.shape;
  rowShape.erase(rowShape.begin() + axis);
  std::vector<Halide::Var> vars = Lowering::makeVars(rowShape.size());
  std::vector<Halide::Var> args = Lowering::reversed(vars);
  Index row = Lowering::toIndex(vars);
  auto tensor = [&](Halide::Func f, const std::vector<int64_t> &shape) {
    return Tensor{f, x.type, shape, ctx.getExtents(shape)};
  };

  Halide::RDom r(0, x.extents[axis], name + "_max_r");
  Halide::Func max(name + "_max");
  max(args) = x.type.min(); // -inf
  max(args) = Halide::max(max(args), x.at(insertAxis(row, axis, r)));
  bool innermost = axis + 1 == x.rank();
  ctx.addStage(max, StageKind::Reduction, {x.func}, rowShape)
      .innermostReducedAxes = innermost;
  LogSumExp lse{tensor(max, rowShape), {}, {}};

  Halide::Func exp =
      ctx.definePure(name + "_exp", x.shape, [&](const Index &i) {
        return Halide::exp(x.at(i) - lse.max.at(dropAxis(i, axis)));
      });
  ctx.addStage(exp, StageKind::Pointwise, {x.func, max}, x.shape);
  lse.exp = tensor(exp, x.shape);

  Halide::RDom s(0, x.extents[axis], name + "_sum_r");
  Halide::Func sum(name + "_sum");
  sum(args) = Lowering::constant(x.type, 0);
  sum(args) += lse.exp.at(insertAxis(row, axis, s));
  ctx.addStage(sum, StageKind::Reduction, {exp}, rowShape)
      .innermostReducedAxes = innermost;
  lse.sum = tensor(sum, rowShape);
  return lse;
}

//===----------------------------------------------------------------------===//
// SoftmaxOp, LogSoftmaxOp, OneHotOp
//===----------------------------------------------------------------------===//

static LogicalResult lowerSoftmax(Operation *op, Lowering &ctx, bool log) {
  Tensor x = ctx.get(op->getOperand(0));
  size_t axis = op->getAttrOfType<IntegerAttr>("axis").getInt();
  LogSumExp lse = defineLogSumExp(ctx, x, axis, ctx.getName(op));
  Halide::Func f =
      ctx.definePure(ctx.getName(op), x.shape, [&](const Index &i) {
        Index row = dropAxis(i, axis);
        if (log)
          return x.at(i) - lse.max.at(row) - Halide::log(lse.sum.at(row));
        return lse.exp.at(i) / lse.sum.at(row);
      });
  ctx.bind(op->getResult(0), f, StageKind::Pointwise,
           {x.func, lse.max.func, lse.exp.func, lse.sum.func});
  return success();
}

static LogicalResult lowerOneHot(Operation *op, Lowering &ctx) {
  Tensor labels = ctx.get(op->getOperand(0));
  ctx.bindPointwise(op, [&](const Index &i) {
    Index at(i.begin(), i.end() - 1);
    Expr hit =
        Halide::cast<int64_t>(labels.at(at)) == Halide::cast<int64_t>(i.back());
    return Halide::select(hit, 1, 0);
  });
  return success();
}

//===----------------------------------------------------------------------===//
// CrossEntropyOp, AccuracyOp, MseOp
//===----------------------------------------------------------------------===//

/// Defines `name() = sum over n of perRow(n) / count` as a stage pair: a
/// serial total (reduction) and the division (the op's result).
static void bindMean(Operation *op, Lowering &ctx, const Tensor &terms) {
  Halide::Type type = Lowering::getElementType(op->getResult(0));
  std::string name = ctx.getName(op);
  Halide::Region region;
  for (size_t a = terms.rank(); a-- > 0;)
    region.emplace_back(0, terms.extents[a]);
  Halide::Func total(name + "_total");
  total() = Lowering::constant(type, 0);
  if (terms.rank() == 0) {
    total() += terms.at({});
  } else {
    Halide::RDom r(region, name + "_r");
    Index at;
    for (size_t a = 0; a < terms.rank(); ++a)
      at.push_back(r[terms.rank() - 1 - a]);
    total() += terms.at(at);
  }
  ctx.addStage(total, StageKind::Reduction, {terms.func}, {})
      .innermostReducedAxes = 1;
  std::vector<int64_t> all;
  for (size_t a = 0; a < terms.rank(); ++a)
    all.push_back(a);
  Expr count = Lowering::convert(Lowering::getCount(terms, all), type);
  Halide::Func mean(name);
  mean() = total() / count;
  ctx.bind(op->getResult(0), mean, StageKind::Pointwise, {total});
}

/// The label of row n as an index into that row, clamped to [0, C).
static Expr labelIndex(const Tensor &labels, Expr n, Expr classes) {
  return Halide::clamp(Halide::cast<int32_t>(labels.at({n})), 0, classes - 1);
}

static LogicalResult lowerCrossEntropy(Operation *op, Lowering &ctx) {
  Tensor logits = ctx.get(op->getOperand(0));
  Tensor labels = ctx.get(op->getOperand(1));
  std::string name = ctx.getName(op);
  LogSumExp lse = defineLogSumExp(ctx, logits, 1, name);
  std::vector<int64_t> rows = {logits.shape[0]};
  Expr classes = logits.extents[1];
  // -log softmax(x)[label] = log(sum exp(x - max)) + max - x[label]
  Halide::Func loss = ctx.definePure(name + "_row", rows, [&](const Index &i) {
    Expr n = i[0];
    return Halide::log(lse.sum.at({n})) + lse.max.at({n}) -
           logits.at({n, labelIndex(labels, n, classes)});
  });
  ctx.addStage(loss, StageKind::Pointwise,
               {logits.func, labels.func, lse.max.func, lse.sum.func}, rows);
  bindMean(op, ctx, Tensor{loss, logits.type, rows, ctx.getExtents(rows)});
  return success();
}

static LogicalResult lowerAccuracy(Operation *op, Lowering &ctx) {
  Tensor logits = ctx.get(op->getOperand(0));
  Tensor labels = ctx.get(op->getOperand(1));
  std::string name = ctx.getName(op);
  Halide::Type type = Lowering::getElementType(op->getResult(0));
  std::vector<int64_t> rows = {logits.shape[0]};

  // argmax(n) = (index, value) of the first maximum of row n.
  Halide::Var n("i0");
  Halide::RDom c(0, logits.extents[1], name + "_argmax_r");
  Halide::Func argmax(name + "_argmax");
  argmax(n) = Halide::Tuple(0, logits.type.min());
  Expr value = logits.at({n, c});
  argmax(n) = Halide::tuple_select(value > argmax(n)[1],
                                   Halide::Tuple(Expr(c), value), argmax(n));
  ctx.addStage(argmax, StageKind::Reduction, {logits.func}, rows)
      .innermostReducedAxes = 1;

  Halide::Func hit = ctx.definePure(name + "_hit", rows, [&](const Index &i) {
    Expr match = Halide::cast<int64_t>(argmax(i[0])[0]) ==
                 Halide::cast<int64_t>(labels.at({i[0]}));
    return Halide::select(match, Lowering::constant(type, 1),
                          Lowering::constant(type, 0));
  });
  ctx.addStage(hit, StageKind::Pointwise, {argmax, labels.func}, rows);
  bindMean(op, ctx, Tensor{hit, type, rows, ctx.getExtents(rows)});
  return success();
}

static LogicalResult lowerMse(Operation *op, Lowering &ctx) {
  Tensor p = ctx.get(op->getOperand(0));
  Tensor t = ctx.get(op->getOperand(1));
  Halide::Func sq =
      ctx.definePure(ctx.getName(op, "sq"), p.shape, [&](const Index &i) {
        Expr d = p.at(i) - t.at(i);
        return d * d;
      });
  ctx.addStage(sq, StageKind::Pointwise, {p.func, t.func}, p.shape);
  bindMean(op, ctx, Tensor{sq, p.type, p.shape, p.extents});
  return success();
}

void ::fm::lowering::registerNeuralNetLowerings(LoweringTable &table) {
  table.add<SoftmaxOp>([](Operation *op, Lowering &ctx) {
    return lowerSoftmax(op, ctx, false);
  });
  table.add<LogSoftmaxOp>(
      [](Operation *op, Lowering &ctx) { return lowerSoftmax(op, ctx, true); });
  table.add<OneHotOp>(lowerOneHot);
  table.add<CrossEntropyOp>(lowerCrossEntropy);
  table.add<AccuracyOp>(lowerAccuracy);
  table.add<MseOp>(lowerMse);
}
