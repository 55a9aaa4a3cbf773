//===- FmGradients.cpp - Vector-Jacobian products of fm ops -----*- C++ -*-===//
//
// This file implements GradientOpInterface for every differentiable op: a
// small table of local rules, each built from other fm ops, so the autodiff
// pass stays a generic reverse walk (the idea of tinygrad's gradient table).
// Every rule returns one gradient per operand, shaped like the operand:
// broadcasting in the forward op is summed back by `sumToShape`.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::fm;

using Grads = SmallVector<Value>;

namespace {
/// Builds fm ops at one location; keeps the rules below one line each.
struct Rules {
  OpBuilder &b;
  Location loc;

  Value scalar(Type elem, double v) {
    auto type = RankedTensorType::get({}, elem);
    return b.create<ConstantOp>(
        loc, type, DenseElementsAttr::get(type, FloatAttr::get(elem, v)));
  }
  Value scalarLike(Value v, double c) { return scalar(elemOf(v), c); }
  static Type elemOf(Value v) {
    return llvm::cast<RankedTensorType>(v.getType()).getElementType();
  }
  Value add(Value x, Value y) { return b.create<AddOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<SubOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<MulOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<DivOp>(loc, x, y); }
  Value neg(Value x) { return b.create<NegOp>(loc, x); }
  Value transpose2d(Value x) {
    return b.create<TransposeOp>(loc, x, b.getDenseI64ArrayAttr({1, 0}));
  }
  Value reduceSum(Value x, ArrayRef<int64_t> axes, bool keepdims) {
    return b.create<ReduceSumOp>(loc, x, b.getDenseI64ArrayAttr(axes),
                                 b.getBoolAttr(keepdims));
  }
  Value size(Value x, ArrayRef<int64_t> axes) {
    return b.create<SizeOp>(loc, x, b.getDenseI64ArrayAttr(axes));
  }
  Value reshape(Value x, Type type) {
    if (x.getType() == type)
      return x;
    return b.create<ReshapeOp>(loc, type, x);
  }
  Value broadcastTo(Value x, Type type) {
    if (x.getType() == type)
      return x;
    return b.create<BroadcastToOp>(loc, type, x);
  }

  /// Sums `g` over the axes that broadcasting stretched, giving `target`'s shape.
  Value sumToShape(Value g, Value target) {
    auto gt = llvm::cast<RankedTensorType>(g.getType());
    auto tt = llvm::cast<RankedTensorType>(target.getType());
    if (!llvm::isa<FloatType>(tt.getElementType()))
      return {}; // integer operands get no gradient
    if (gt == tt)
      return g;
    int64_t lead = gt.getRank() - tt.getRank();
    SmallVector<int64_t> axes;
    for (int64_t i = 0; i < gt.getRank(); ++i)
      if (i < lead || (tt.getDimSize(i - lead) == 1 && gt.getDimSize(i) != 1))
        axes.push_back(i);
    if (axes.empty())
      return reshape(g, tt);
    // Dropping only leading axes needs no reshape afterwards.
    if (llvm::all_of(axes, [&](int64_t a) { return a < lead; }))
      return reduceSum(g, axes, /*keepdims=*/false);
    return reshape(reduceSum(g, axes, /*keepdims=*/true), tt);
  }

  /// The shape `x` reduced over `axes` has when the reduced axes are kept.
  static RankedTensorType keptShape(Value x, ArrayRef<int64_t> axes) {
    auto t = llvm::cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(t.getShape());
    for (int64_t a : axes)
      shape[a] = 1;
    return RankedTensorType::get(shape, t.getElementType());
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

Grads NegOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {Rules{b, getLoc()}.neg(g[0])};
}

Grads ReluOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  // relu(x) > 0 exactly where x > 0: reading the result means the
  // pre-activation need not be kept for the backward pass.
  Value zero = r.scalarLike(getInput(), 0.0);
  Value positive = b.create<CompareOp>(getLoc(), b.getStringAttr("gt"),
                                       getResult(), zero);
  return {b.create<SelectOp>(getLoc(), positive, g[0], zero)};
}

Grads SigmoidOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value y = getResult();
  return {r.mul(g[0], r.mul(y, r.sub(r.scalarLike(y, 1.0), y)))};
}

Grads TanhOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value y = getResult();
  return {r.mul(g[0], r.sub(r.scalarLike(y, 1.0), r.mul(y, y)))};
}

Grads ExpOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {Rules{b, getLoc()}.mul(g[0], getResult())};
}

Grads LogOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {Rules{b, getLoc()}.div(g[0], getInput())};
}

Grads SqrtOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  return {r.div(g[0], r.mul(r.scalarLike(getResult(), 2.0), getResult()))};
}

Grads AddOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  return {r.sumToShape(g[0], getLhs()), r.sumToShape(g[0], getRhs())};
}

Grads SubOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  return {r.sumToShape(g[0], getLhs()), r.sumToShape(r.neg(g[0]), getRhs())};
}

Grads MulOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  return {r.sumToShape(r.mul(g[0], getRhs()), getLhs()),
          r.sumToShape(r.mul(g[0], getLhs()), getRhs())};
}

Grads DivOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  // d(a/b)/db = -(a/b)/b
  return {r.sumToShape(r.div(g[0], getRhs()), getLhs()),
          r.sumToShape(r.neg(r.div(r.mul(g[0], getResult()), getRhs())),
                       getRhs())};
}

Grads PowOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value x = getLhs(), p = getRhs(), y = getResult();
  Value pm1 = r.sub(p, r.scalarLike(p, 1.0));
  Value dx = r.mul(g[0], r.mul(p, b.create<PowOp>(getLoc(), x, pm1)));
  Value dp = r.mul(g[0], r.mul(y, b.create<LogOp>(getLoc(), x)));
  return {r.sumToShape(dx, x), r.sumToShape(dp, p)};
}

Grads SelectOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value zero = r.scalarLike(g[0], 0.0);
  Value c = getCondition();
  return {Value(),
          r.sumToShape(b.create<SelectOp>(getLoc(), c, g[0], zero), getTrueValue()),
          r.sumToShape(b.create<SelectOp>(getLoc(), c, zero, g[0]), getFalseValue())};
}

Grads CastOp::buildGradient(OpBuilder &b, ValueRange g) {
  if (!llvm::isa<FloatType>(getInput().getType().getElementType()))
    return {Value()};
  return {b.create<CastOp>(getLoc(), getInput().getType(), g[0])};
}

//===----------------------------------------------------------------------===//
// Linear algebra and shapes
//===----------------------------------------------------------------------===//

Grads MatMulOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  return {b.create<MatMulOp>(getLoc(), g[0], r.transpose2d(getRhs())),
          b.create<MatMulOp>(getLoc(), r.transpose2d(getLhs()), g[0])};
}

Grads TransposeOp::buildGradient(OpBuilder &b, ValueRange g) {
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = i;
  return {b.create<TransposeOp>(getLoc(), g[0], b.getDenseI64ArrayAttr(inverse))};
}

Grads ReshapeOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {Rules{b, getLoc()}.reshape(g[0], getInput().getType())};
}

Grads BroadcastToOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {Rules{b, getLoc()}.sumToShape(g[0], getInput())};
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

Grads ReduceSumOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value kept = r.reshape(g[0], Rules::keptShape(getInput(), getAxes()));
  return {r.broadcastTo(kept, getInput().getType())};
}

Grads ReduceMeanOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value scaled = r.div(g[0], r.size(getInput(), getAxes()));
  Value kept = r.reshape(scaled, Rules::keptShape(getInput(), getAxes()));
  return {r.broadcastTo(kept, getInput().getType())};
}

//===----------------------------------------------------------------------===//
// Neural-network ops and losses
//===----------------------------------------------------------------------===//

Grads NormalizeOp::buildGradient(OpBuilder &b, ValueRange g) {
  // y = (x - m) * s with s = 1 / sqrt(v + eps): over the normalised axes,
  //   dx = s * (gy - mean(gy) - y * mean(gy * y))
  //      + gm / n + gv * 2 (x - m) / n.
  Rules r{b, getLoc()};
  Value x = getInput(), y = getResult();
  ArrayRef<int64_t> axes = getAxes();
  Value n = r.size(x, axes);
  auto meanOf = [&](Value v) {
    return r.div(r.reduceSum(v, axes, /*keepdims=*/true), n);
  };
  Value dx;
  auto accumulate = [&](Value term) { dx = dx ? r.add(dx, term) : term; };
  if (g[0]) {
    // Built in this order (the sums of gy first, 1 / sqrt last), so that
    // fusion puts the whole gradient in the kernel that computes gy.
    Value meanG = meanOf(g[0]);
    Value meanGY = meanOf(r.mul(g[0], y));
    Value centred = r.sub(r.sub(g[0], meanG), r.mul(y, meanGY));
    Value eps = r.scalarLike(x, getEps().convertToDouble());
    Value root = b.create<SqrtOp>(getLoc(), r.add(getVariance(), eps));
    accumulate(r.div(centred, root));
  }
  if (g[1])
    accumulate(r.broadcastTo(r.div(g[1], n), x.getType()));
  if (g[2])
    accumulate(r.mul(r.sub(x, getMean()),
                     r.div(r.mul(g[2], r.scalarLike(x, 2.0)), n)));
  return {dx};
}

Grads SoftmaxOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value y = getResult();
  int64_t axis = getAxis();
  Value dot = r.reduceSum(r.mul(g[0], y), {axis}, /*keepdims=*/true);
  return {r.mul(y, r.sub(g[0], dot))};
}

Grads LogSoftmaxOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  int64_t axis = getAxis();
  Value total = r.reduceSum(g[0], {axis}, /*keepdims=*/true);
  return {r.sub(g[0], r.mul(b.create<ExpOp>(getLoc(), getResult()), total))};
}

Grads CrossEntropyOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value logits = getLogits();
  auto type = llvm::cast<RankedTensorType>(logits.getType());
  Value p = b.create<SoftmaxOp>(getLoc(), logits, b.getI64IntegerAttr(1));
  Value hot = b.create<OneHotOp>(getLoc(), getLabels(),
                                 b.getI64IntegerAttr(type.getDimSize(1)));
  if (llvm::cast<RankedTensorType>(hot.getType()).getElementType() !=
      type.getElementType())
    hot = b.create<CastOp>(getLoc(), type, hot);
  Value perRow = r.div(g[0], r.size(logits, {0}));
  return {r.mul(r.sub(p, hot), perRow), Value()};
}

Grads MseOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  Value pred = getPrediction();
  int64_t rank = llvm::cast<RankedTensorType>(pred.getType()).getRank();
  SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  Value k = r.div(r.mul(r.scalarLike(pred, 2.0), g[0]), r.size(pred, all));
  Value dp = r.mul(r.sub(pred, getTarget()), k);
  return {dp, r.neg(dp)};
}
