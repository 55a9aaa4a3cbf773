//===- MLIRGenBuiltins.cpp - The built-in operations ------------*- C++ -*-===//
//
// This file implements the table of built-in operations of LANGUAGE.md §8:
// each entry is a signature (positional parameters, how many are required,
// defaults) and a lowering that builds fm ops. Argument binding, unknown
// keywords and missing arguments are handled once, in MLIRGen::genCall.
//
//===----------------------------------------------------------------------===//
#include "frontend/MLIRGenImpl.h"

using namespace fm;
using namespace mlir::fm;

namespace {

Term str(const char *s) {
  Term t;
  t.kind = Term::String;
  t.text = s;
  return t;
}
Term boolean(bool v) {
  Term t;
  t.kind = Term::Bool;
  t.flag = v;
  return t;
}
Term integer(int64_t v) { return Term::num(v, true, Location()); }

/// The tensor argument `name` (numbers become f32 scalars).
mlir::Value tensorArg(MLIRGenImpl &g, BoundArgs &a, const char *name) {
  return g.asTensor(a[name], g.f32(), std::string("argument '") + name + "'");
}

template <typename OpTy>
Builtin unary() {
  return {{"x"}, 1, {}, [](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
            mlir::Value x = tensorArg(g, a, "x");
            return x ? g.build<OpTy>(c.getLoc(), x) : Term::invalid();
          }};
}

template <typename OpTy>
Builtin binary(const char *lhs, const char *rhs) {
  return {{lhs, rhs}, 2, {}, [=](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
            mlir::Value x = tensorArg(g, a, lhs), y = tensorArg(g, a, rhs);
            return x && y ? g.build<OpTy>(c.getLoc(), {x, y}) : Term::invalid();
          }};
}

template <typename OpTy>
Builtin withAxis() {
  return {{"x", "axis"}, 1, {{"axis", integer(-1)}},
          [](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
            mlir::Value x = tensorArg(g, a, "x");
            auto ax = g.asNumber(a["axis"], "'axis'", /*integer=*/true);
            if (!x || !ax)
              return Term::invalid();
            auto axis = g.axis(a["axis"], (int64_t)*ax, MLIRGenImpl::tensorType(x).getRank());
            if (!axis)
              return Term::invalid();
            auto &b = g.builder();
            return g.build<OpTy>(c.getLoc(), x,
                                 {b.getNamedAttr("axis", b.getI64IntegerAttr(*axis))});
          }};
}

template <typename OpTy>
Builtin reduction() {
  return {{"x", "axis", "keepdims"}, 1, {{"keepdims", boolean(false)}},
          [](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
            mlir::Value x = tensorArg(g, a, "x");
            auto keep = g.asBool(a["keepdims"], "'keepdims'");
            if (!x || !keep)
              return Term::invalid();
            int64_t rank = MLIRGenImpl::tensorType(x).getRank();
            llvm::SmallVector<int64_t> axes;
            if (a.count("axis")) {
              auto list = g.asIntList(a["axis"], "'axis'");
              if (!list)
                return Term::invalid();
              for (int64_t v : *list) {
                auto ax = g.axis(a["axis"], v, rank);
                if (!ax)
                  return Term::invalid();
                axes.push_back(*ax);
              }
              llvm::sort(axes);
            } else {
              for (int64_t i = 0; i < rank; ++i)
                axes.push_back(i);
            }
            auto &b = g.builder();
            return g.build<OpTy>(c.getLoc(), x,
                                 {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
                                  b.getNamedAttr("keepdims", b.getBoolAttr(*keep))});
          }};
}

/// `dense(x, units, bias=true, init="glorot_uniform", name="")`: x @ W + b.
Term lowerDense(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto units = g.asNumber(a["units"], "'units'", /*integer=*/true);
  auto bias = g.asBool(a["bias"], "'bias'");
  auto init = g.asString(a["init"], "'init'");
  auto name = g.asString(a["name"], "'name'");
  if (!x || !units || !bias || !init || !name)
    return Term::invalid();
  auto xt = MLIRGenImpl::tensorType(x);
  if (xt.getRank() != 2 || !llvm::isa<mlir::FloatType>(xt.getElementType()))
    return g.error(c.getLoc(), "expected a floating-point input of shape [N, K] "
                               "for 'dense' but got " + formatShape(xt) +
                               "; flatten it first");
  if (*units <= 0)
    return g.error(a["units"].loc, "expected a positive number of units but got " +
                                       std::to_string((int64_t)*units));
  int64_t k = xt.getDimSize(1), u = (int64_t)*units;
  std::string layer = g.layerName("dense", *name);
  mlir::Type elem = xt.getElementType();
  mlir::Value w = g.createParam(c.getLoc(), layer, "weight",
                                mlir::RankedTensorType::get({k, u}, elem), *init, {});
  if (!w)
    return Term::invalid();
  Term y = g.build<MatMulOp>(c.getLoc(), {x, w});
  if (!y.ok() || !*bias)
    return y;
  mlir::Value bv = g.createParam(c.getLoc(), layer, "bias",
                                 mlir::RankedTensorType::get({u}, elem), "zeros", {});
  return bv ? g.build<AddOp>(c.getLoc(), {y.value, bv}) : Term::invalid();
}

/// `reshape(x, [d...])`: one -1 is inferred; the batch stays leading.
Term lowerReshape(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto dims = g.asIntList(a["shape"], "'shape'");
  if (!x || !dims)
    return Term::invalid();
  auto xt = MLIRGenImpl::tensorType(x);
  int64_t known = 1, inferAt = -1;
  bool batch = false;
  for (auto [i, d] : llvm::enumerate(*dims)) {
    if (mlir::ShapedType::isDynamic(d)) {
      batch = true;
    } else if (d == -1) {
      if (inferAt >= 0)
        return g.error(a["shape"].loc, "expected at most one -1 in a shape");
      inferAt = i;
    } else if (d <= 0) {
      return g.error(a["shape"].loc, "expected positive extents but got " +
                                         std::to_string(d));
    } else {
      known *= d;
    }
  }
  int64_t total = 1;
  for (int64_t d : xt.getShape())
    if (!mlir::ShapedType::isDynamic(d))
      total *= d;
  llvm::SmallVector<int64_t> shape(dims->begin(), dims->end());
  if (inferAt >= 0) {
    if (xt.getNumDynamicDims() && !batch && inferAt == 0 && known == total)
      shape[0] = mlir::ShapedType::kDynamic; // -1 stands for the batch
    else if (total % known == 0)
      shape[inferAt] = total / known;
  }
  auto type = mlir::RankedTensorType::get(shape, xt.getElementType());
  bool countsMatch = (inferAt < 0 || shape[inferAt] != -1);
  int64_t outKnown = 1;
  for (int64_t d : shape)
    if (!mlir::ShapedType::isDynamic(d))
      outKnown *= d;
  if (!countsMatch || outKnown != total ||
      type.getNumDynamicDims() != xt.getNumDynamicDims() ||
      (type.getNumDynamicDims() && !type.isDynamicDim(0)))
    return g.error(c.getLoc(), "cannot reshape " + formatShape(xt) + " to " +
                                   formatShape(type));
  return Term::tensor(g.builder().create<ReshapeOp>(g.loc(c.getLoc()), type, x),
                      c.getLoc());
}

/// `flatten(x)`: keeps axis 0, merges the rest.
Term lowerFlatten(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  if (!x)
    return Term::invalid();
  auto xt = MLIRGenImpl::tensorType(x);
  if (xt.getRank() < 1)
    return g.error(c.getLoc(), "expected a tensor of rank 1 or more for 'flatten' "
                               "but got a scalar");
  int64_t rest = 1;
  for (int64_t d : xt.getShape().drop_front())
    rest *= d;
  auto type = mlir::RankedTensorType::get({xt.getDimSize(0), rest}, xt.getElementType());
  return Term::tensor(g.builder().create<ReshapeOp>(g.loc(c.getLoc()), type, x),
                      c.getLoc());
}

} // namespace

const llvm::StringMap<Builtin> &fm::getBuiltins() {
  static const llvm::StringMap<Builtin> table = [] {
    llvm::StringMap<Builtin> t;
    // Layers.
    t["dense"] = {{"x", "units", "bias", "init", "name"}, 2,
                  {{"bias", boolean(true)}, {"init", str("glorot_uniform")},
                   {"name", str("")}},
                  lowerDense};
    // Elementwise.
    t["relu"] = unary<ReluOp>();
    t["sigmoid"] = unary<SigmoidOp>();
    t["tanh"] = unary<TanhOp>();
    t["exp"] = unary<ExpOp>();
    t["log"] = unary<LogOp>();
    t["sqrt"] = unary<SqrtOp>();
    t["neg"] = unary<NegOp>();
    // Linear algebra, neural, shape.
    t["matmul"] = binary<MatMulOp>("a", "b");
    t["softmax"] = withAxis<SoftmaxOp>();
    t["log_softmax"] = withAxis<LogSoftmaxOp>();
    t["reshape"] = {{"x", "shape"}, 2, {}, lowerReshape};
    t["flatten"] = {{"x"}, 1, {}, lowerFlatten};
    // Reductions.
    t["sum"] = reduction<ReduceSumOp>();
    t["mean"] = reduction<ReduceMeanOp>();
    // Losses and metrics.
    t["cross_entropy"] = binary<CrossEntropyOp>("logits", "labels");
    t["mse"] = binary<MseOp>("pred", "target");
    t["accuracy"] = binary<AccuracyOp>("logits", "labels");
    return t;
  }();
  return table;
}
