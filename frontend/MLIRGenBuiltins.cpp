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
using namespace fm::builtins;
using namespace mlir::fm;

namespace {

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

/// Reductions (`fm.reduce_sum`, `fm.reduce_max`, ...), with `axis`
/// (int or list; default all) and `keepdims`.
Builtin namedReduction(const char *opName) {
  return {{"x", "axis", "keepdims"}, 1, {{"keepdims", boolean(false)}},
          [=](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
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
              axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
            }
            auto &b = g.builder();
            return g.buildNamed(c.getLoc(), opName, x,
                                {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
                                 b.getNamedAttr("keepdims", b.getBoolAttr(*keep))});
          }};
}

/// `transpose(x, perm)`; negative axes count from the end.
Term lowerTranspose(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto perm = g.asIntList(a["perm"], "'perm'");
  if (!x || !perm)
    return Term::invalid();
  int64_t rank = MLIRGenImpl::tensorType(x).getRank();
  llvm::SmallVector<int64_t> axes;
  for (int64_t p : *perm) {
    auto ax = g.axis(a["perm"], p, rank);
    if (!ax)
      return Term::invalid();
    axes.push_back(*ax);
  }
  auto &b = g.builder();
  return g.build<TransposeOp>(c.getLoc(), x,
                              {b.getNamedAttr("perm", b.getDenseI64ArrayAttr(axes))});
}

/// `concat([a, b, ...], axis)`.
Term lowerConcat(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  const Term &list = a["tensors"];
  if (list.kind != Term::List || list.items.empty())
    return g.error(list.loc, "expected a list of tensors for 'concat'");
  llvm::SmallVector<mlir::Value> parts;
  for (const Term &t : list.items) {
    mlir::Value v = g.asTensor(t, g.f32(), "a concatenated value");
    if (!v)
      return Term::invalid();
    parts.push_back(v);
  }
  auto ax = g.asNumber(a["axis"], "'axis'", true);
  if (!ax)
    return Term::invalid();
  auto axis = g.axis(a["axis"], (int64_t)*ax, MLIRGenImpl::tensorType(parts[0]).getRank());
  if (!axis)
    return Term::invalid();
  auto &b = g.builder();
  return g.buildNamed(c.getLoc(), "fm.concat", parts,
                      {b.getNamedAttr("axis", b.getI64IntegerAttr(*axis))});
}

/// `slice(x, axis, start, end)`; negative positions count from the end.
Term lowerSlice(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto ax = g.asNumber(a["axis"], "'axis'", true);
  auto start = g.asNumber(a["start"], "'start'", true);
  auto end = g.asNumber(a["end"], "'end'", true);
  if (!x || !ax || !start || !end)
    return Term::invalid();
  auto xt = MLIRGenImpl::tensorType(x);
  auto axis = g.axis(a["axis"], (int64_t)*ax, xt.getRank());
  if (!axis)
    return Term::invalid();
  int64_t extent = xt.getDimSize(*axis), s = (int64_t)*start, e = (int64_t)*end;
  if (!mlir::ShapedType::isDynamic(extent)) {
    if (s < 0)
      s += extent;
    if (e < 0)
      e += extent;
  }
  auto &b = g.builder();
  return g.buildNamed(c.getLoc(), "fm.slice", x,
                      {b.getNamedAttr("axis", b.getI64IntegerAttr(*axis)),
                       b.getNamedAttr("start", b.getI64IntegerAttr(s)),
                       b.getNamedAttr("end", b.getI64IntegerAttr(e))});
}

/// `pad(x, [before, after], ...)`: the pairs pad the trailing axes in order
/// (one pair pads the last axis; two pad the last two, ...), with zeros.
Term lowerPad(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  if (!x)
    return Term::invalid();
  int64_t rank = MLIRGenImpl::tensorType(x).getRank();
  std::vector<std::vector<int64_t>> pairs;
  for (const char *k : {"p0", "p1", "p2", "p3"}) {
    if (!a.count(k))
      break;
    auto p = g.asIntList(a[k], "a padding pair");
    if (!p)
      return Term::invalid();
    if (p->size() != 2 || (*p)[0] < 0 || (*p)[1] < 0)
      return g.error(a[k].loc, "expected [before, after] with non-negative entries");
    pairs.push_back(*p);
  }
  if ((int64_t)pairs.size() > rank)
    return g.error(c.getLoc(), "expected at most " + std::to_string(rank) +
                                   " padding pairs for a tensor of rank " + std::to_string(rank));
  llvm::SmallVector<int64_t> before(rank, 0), after(rank, 0);
  for (size_t i = 0; i < pairs.size(); ++i) {
    before[rank - pairs.size() + i] = pairs[i][0];
    after[rank - pairs.size() + i] = pairs[i][1];
  }
  auto &b = g.builder();
  return g.buildNamed(c.getLoc(), "fm.pad", x,
                      {b.getNamedAttr("before", b.getDenseI64ArrayAttr(before)),
                       b.getNamedAttr("after", b.getDenseI64ArrayAttr(after))});
}

/// `broadcast_to(x, [d...])`.
Term lowerBroadcastTo(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto shape = g.asIntList(a["shape"], "'shape'");
  if (!x || !shape)
    return Term::invalid();
  auto xt = MLIRGenImpl::tensorType(x);
  auto type = mlir::RankedTensorType::get(*shape, xt.getElementType());
  auto joined = broadcastShapes(xt.getShape(), type.getShape());
  if (!joined || llvm::ArrayRef<int64_t>(*joined) != type.getShape())
    return g.error(c.getLoc(), "cannot broadcast " + formatShape(xt) + " to " + formatShape(type));
  return Term::tensor(g.builder().create<BroadcastToOp>(g.loc(c.getLoc()), type, x), c.getLoc());
}

/// `cast(x, "f32")`.
Term lowerCast(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto name = g.asString(a["dtype"], "'dtype'");
  if (!x || !name)
    return Term::invalid();
  auto &b = g.builder();
  mlir::Type elem = llvm::StringSwitch<mlir::Type>(*name)
                        .Case("f32", b.getF32Type())
                        .Case("f64", b.getF64Type())
                        .Case("i32", b.getI32Type())
                        .Case("i64", b.getI64Type())
                        .Case("u8", b.getIntegerType(8))
                        .Case("bool", b.getI1Type())
                        .Default(mlir::Type());
  if (!elem)
    return g.error(a["dtype"].loc, "expected a type f32, f64, i32, i64, u8 or bool but got \"" +
                                       *name + "\"");
  auto xt = MLIRGenImpl::tensorType(x);
  return Term::tensor(b.create<CastOp>(g.loc(c.getLoc()),
                                       mlir::RankedTensorType::get(xt.getShape(), elem), x),
                      c.getLoc());
}

/// `one_hot(ids, classes)`.
Term lowerOneHot(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value ids = g.asTensor(a["ids"], g.builder().getI32Type(), "argument 'ids'");
  auto classes = g.asNumber(a["classes"], "'classes'", true);
  if (!ids || !classes)
    return Term::invalid();
  auto &b = g.builder();
  return g.build<OneHotOp>(c.getLoc(), ids,
                           {b.getNamedAttr("classes", b.getI64IntegerAttr((int64_t)*classes))});
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
    t["sum"] = namedReduction("fm.reduce_sum");
    t["mean"] = namedReduction("fm.reduce_mean");
    // Losses and metrics.
    t["cross_entropy"] = binary<CrossEntropyOp>("logits", "labels");
    t["mse"] = binary<MseOp>("pred", "target");
    t["accuracy"] = binary<AccuracyOp>("logits", "labels");
    // Shapes, reductions, types.
    t["transpose"] = {{"x", "perm"}, 2, {}, lowerTranspose};
    t["concat"] = {{"tensors", "axis"}, 1, {{"axis", integer(0)}}, lowerConcat};
    t["slice"] = {{"x", "axis", "start", "end"}, 4, {}, lowerSlice};
    t["pad"] = {{"x", "p0", "p1", "p2", "p3"}, 2, {}, lowerPad};
    t["broadcast_to"] = {{"x", "shape"}, 2, {}, lowerBroadcastTo};
    t["max"] = namedReduction("fm.reduce_max");
    t["min"] = namedReduction("fm.reduce_min");
    t["argmax"] = {{"x", "axis"}, 1, {{"axis", integer(-1)}},
                   [](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
                     mlir::Value x = tensorArg(g, a, "x");
                     auto ax = g.asNumber(a["axis"], "'axis'", true);
                     if (!x || !ax)
                       return Term::invalid();
                     auto axis = g.axis(a["axis"], (int64_t)*ax, MLIRGenImpl::tensorType(x).getRank());
                     if (!axis)
                       return Term::invalid();
                     auto &b = g.builder();
                     return g.buildNamed(c.getLoc(), "fm.argmax", x,
                                         {b.getNamedAttr("axis", b.getI64IntegerAttr(*axis))});
                   }};
    t["cast"] = {{"x", "dtype"}, 2, {}, lowerCast};
    t["one_hot"] = {{"ids", "classes"}, 2, {}, lowerOneHot};
    addLayerBuiltins(t);
    return t;
  }();
  return table;
}
