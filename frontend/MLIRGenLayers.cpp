//===- MLIRGenLayers.cpp - Layers and composite built-ins -------*- C++ -*-===//
//
// This file implements the built-ins of LANGUAGE.md §8 that create
// parameters (conv2d, batch_norm, layer_norm, embedding) or are composed
// of other fm ops (GELU, leaky ReLU, binary cross-entropy, l2, ...), so
// that their gradients come from the ops' own rules. Training-only
// behaviour (dropout, batch statistics) goes through fm.train_or_eval.
//
//===----------------------------------------------------------------------===//
#include "frontend/MLIRGenImpl.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/GlobPattern.h"

#include <cmath>

using namespace fm;
using namespace fm::builtins;
using namespace mlir::fm;

namespace {

using Attrs = llvm::SmallVector<mlir::NamedAttribute>;

/// An int or [a, b] for 2-D options (kernel, stride, dilation).
std::optional<std::array<int64_t, 2>> pair(MLIRGenImpl &g, const Term &t,
                                           const char *what, int64_t min) {
  auto list = g.asIntList(t, what);
  if (!list)
    return std::nullopt;
  if (list->size() == 1)
    list->push_back(list->front());
  if (list->size() != 2) {
    g.error(t.loc, std::string("expected an integer or [h, w] for ") + what);
    return std::nullopt;
  }
  for (int64_t v : *list)
    if (v < min) {
      g.error(t.loc, std::string("expected ") + what + " of at least " +
                         std::to_string(min) + " but got " + std::to_string(v));
      return std::nullopt;
    }
  return std::array<int64_t, 2>{(*list)[0], (*list)[1]};
}

/// A rank-4 floating-point NCHW input, else an error.
mlir::Value nchw(MLIRGenImpl &g, BoundArgs &a, const CallExprAST &c) {
  mlir::Value x = tensorArg(g, a, "x");
  if (!x)
    return {};
  auto t = MLIRGenImpl::tensorType(x);
  if (t.getRank() != 4 || !llvm::isa<mlir::FloatType>(t.getElementType())) {
    g.error(c.getLoc(), "expected a floating-point input of shape [N, C, H, W] for '" +
                            c.getCallee() + "' but got " + formatShape(t));
    return {};
  }
  return x;
}

/// Padding as [top, left, bottom, right]: "valid", "same" (output extent
/// ceil(in / stride), the extra row or column at the bottom/right), an int,
/// or [h, w].
std::optional<std::array<int64_t, 4>>
padding(MLIRGenImpl &g, const Term &t, mlir::RankedTensorType x,
        std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
        std::array<int64_t, 2> dilation) {
  if (t.kind == Term::String) {
    if (t.text == "valid")
      return std::array<int64_t, 4>{0, 0, 0, 0};
    if (t.text != "same") {
      g.error(t.loc, "expected padding \"valid\", \"same\", an integer or [h, w] but got \"" +
                         t.text + "\"");
      return std::nullopt;
    }
    std::array<int64_t, 4> p;
    for (int i = 0; i < 2; ++i) {
      int64_t in = x.getDimSize(2 + i);
      int64_t out = (in + stride[i] - 1) / stride[i];
      int64_t total = std::max<int64_t>((out - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 - in, 0);
      p[i] = total / 2;
      p[2 + i] = total - total / 2;
    }
    return p;
  }
  auto hw = pair(g, t, "padding", 0);
  if (!hw)
    return std::nullopt;
  return std::array<int64_t, 4>{(*hw)[0], (*hw)[1], (*hw)[0], (*hw)[1]};
}

/// The attributes shared by conv2d and pooling.
Attrs windowAttrs(MLIRGenImpl &g, std::array<int64_t, 2> stride,
                  std::array<int64_t, 4> pad) {
  auto &b = g.builder();
  return {b.getNamedAttr("strides", b.getDenseI64ArrayAttr({stride[0], stride[1]})),
          b.getNamedAttr("padding", b.getDenseI64ArrayAttr({pad[0], pad[1], pad[2], pad[3]}))};
}

/// conv2d and conv2d_raw: the convolution proper (no bias).
Term convolve(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a, mlir::Value x,
              mlir::Value w) {
  auto kernelShape = MLIRGenImpl::tensorType(w).getShape();
  auto stride = pair(g, a["stride"], "'stride'", 1);
  auto dilation = pair(g, a["dilation"], "'dilation'", 1);
  auto groups = g.asNumber(a["groups"], "'groups'", /*integer=*/true);
  if (!stride || !dilation || !groups)
    return Term::invalid();
  auto pad = padding(g, a["padding"], MLIRGenImpl::tensorType(x),
                     {kernelShape[2], kernelShape[3]}, *stride, *dilation);
  if (!pad)
    return Term::invalid();
  auto &b = g.builder();
  Attrs attrs = windowAttrs(g, *stride, *pad);
  attrs.push_back(b.getNamedAttr("dilation", b.getDenseI64ArrayAttr({(*dilation)[0], (*dilation)[1]})));
  attrs.push_back(b.getNamedAttr("groups", b.getI64IntegerAttr((int64_t)*groups)));
  return g.buildNamed(c.getLoc(), "fm.conv2d", {x, w}, attrs);
}

/// `conv2d(x, filters, kernel, stride=1, padding="valid", dilation=1,
/// groups=1, bias=true, init="he_uniform", name="")`.
Term lowerConv2d(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = nchw(g, a, c);
  auto filters = g.asNumber(a["filters"], "'filters'", true);
  auto kernel = pair(g, a["kernel"], "'kernel'", 1);
  auto groups = g.asNumber(a["groups"], "'groups'", true);
  auto bias = g.asBool(a["bias"], "'bias'");
  auto init = g.asString(a["init"], "'init'");
  auto name = g.asString(a["name"], "'name'");
  if (!x || !filters || !kernel || !groups || !bias || !init || !name)
    return Term::invalid();
  auto xt = MLIRGenImpl::tensorType(x);
  int64_t f = (int64_t)*filters, gr = (int64_t)*groups, ch = xt.getDimSize(1);
  if (f <= 0 || gr <= 0)
    return g.error(c.getLoc(), "expected positive filters and groups");
  if (ch % gr || f % gr)
    return g.error(a["groups"].loc, "expected groups dividing both the input channels (" +
                                        std::to_string(ch) + ") and the filters (" +
                                        std::to_string(f) + ") but got " + std::to_string(gr));
  std::string layer = g.layerName("conv2d", *name);
  mlir::Type elem = xt.getElementType();
  mlir::Value w = g.createParam(c.getLoc(), layer, "weight",
                                mlir::RankedTensorType::get({f, ch / gr, (*kernel)[0], (*kernel)[1]}, elem),
                                *init, {});
  if (!w)
    return Term::invalid();
  Term y = convolve(g, c, a, x, w);
  if (!y.ok() || !*bias)
    return y;
  mlir::Value bv = g.createParam(c.getLoc(), layer, "bias",
                                 mlir::RankedTensorType::get({f}, elem), "zeros", {});
  Ops o{g, c.getLoc()};
  return Term::tensor(o.add(y.value, o.reshape(bv, {f, 1, 1})), c.getLoc());
}

Term lowerConv2dRaw(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = nchw(g, a, c), w = tensorArg(g, a, "w");
  if (!x || !w)
    return Term::invalid();
  if (MLIRGenImpl::tensorType(w).getRank() != 4)
    return g.error(a["w"].loc, "expected weights of shape [O, C/groups, KH, KW] but got " +
                                   formatShape(MLIRGenImpl::tensorType(w)));
  return convolve(g, c, a, x, w);
}

/// maxpool2d / avgpool2d `(x, size, stride=size, padding=0)`.
Builtin pooling(const char *opName) {
  return {{"x", "size", "stride", "padding"}, 2, {{"padding", integer(0)}},
          [=](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
            mlir::Value x = nchw(g, a, c);
            auto size = pair(g, a["size"], "'size'", 1);
            if (!x || !size)
              return Term::invalid();
            auto stride = a.count("stride") ? pair(g, a["stride"], "'stride'", 1) : size;
            auto pad = pair(g, a["padding"], "'padding'", 0);
            if (!stride || !pad)
              return Term::invalid();
            auto &b = g.builder();
            Attrs attrs = windowAttrs(g, *stride, {(*pad)[0], (*pad)[1], (*pad)[0], (*pad)[1]});
            attrs.push_back(b.getNamedAttr("kernel", b.getDenseI64ArrayAttr({(*size)[0], (*size)[1]})));
            return g.buildNamed(c.getLoc(), opName, x, attrs);
          }};
}

/// The statistics and normalisation of batch_norm and layer_norm, one op
/// whose gradient is the closed form (ir/FmGradients.cpp).
NormalizeOp normalize(MLIRGenImpl &g, const Location &where, mlir::Value x,
                      llvm::ArrayRef<int64_t> axes, double eps) {
  auto &b = g.builder();
  return b.create<NormalizeOp>(g.loc(where), x, b.getDenseI64ArrayAttr(axes),
                               b.getF64FloatAttr(eps));
}

/// `batch_norm(x, momentum=0.9, eps=1e-5, name="")` over all axes but 1:
/// batch statistics in training (running statistics updated with the
/// unbiased variance, as PyTorch does), running statistics in evaluation.
Term lowerBatchNorm(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto momentum = g.asNumber(a["momentum"], "'momentum'");
  auto eps = g.asNumber(a["eps"], "'eps'");
  auto name = g.asString(a["name"], "'name'");
  if (!x || !momentum || !eps || !name)
    return Term::invalid();
  auto xt = MLIRGenImpl::tensorType(x);
  if (xt.getRank() < 2 || xt.isDynamicDim(1) || !llvm::isa<mlir::FloatType>(xt.getElementType()))
    return g.error(c.getLoc(), "expected a floating-point input of shape [N, C, ...] for "
                               "'batch_norm' but got " + formatShape(xt));
  if (*momentum < 0 || *momentum >= 1 || *eps <= 0)
    return g.error(c.getLoc(), "expected momentum in [0, 1) and eps above 0");
  int64_t ch = xt.getDimSize(1);
  llvm::SmallVector<int64_t> axes, kept(xt.getRank(), 1);
  for (int64_t i = 0; i < xt.getRank(); ++i)
    if (i != 1)
      axes.push_back(i);
  kept[1] = ch;
  std::string layer = g.layerName("batch_norm", *name), meanSym, varSym;
  mlir::Type elem = xt.getElementType();
  auto vec = mlir::RankedTensorType::get({ch}, elem);
  mlir::Value scale = g.createParam(c.getLoc(), layer, "scale", vec, "ones", {});
  mlir::Value shift = g.createParam(c.getLoc(), layer, "shift", vec, "zeros", {});
  mlir::Value runMean = g.createParam(c.getLoc(), layer, "running_mean", vec, "zeros", {}, "state", &meanSym);
  mlir::Value runVar = g.createParam(c.getLoc(), layer, "running_var", vec, "ones", {}, "state", &varSym);
  if (!scale || !shift || !runMean || !runVar)
    return Term::invalid();
  Ops o{g, c.getLoc()};
  mlir::Value epsV = o.scalar(elem, *eps);
  NormalizeOp stats = normalize(g, c.getLoc(), x, axes, *eps);
  mlir::Value mean = stats.getMean(), var = stats.getVariance();
  mlir::Value train = stats.getResult();
  mlir::Value eval = o.div(o.sub(x, o.reshape(runMean, kept)),
                           o.op<SqrtOp>(o.add(o.reshape(runVar, kept), epsV)));
  if (!train || !eval)
    return Term::invalid();
  mlir::Value normed = g.builder().create<TrainOrEvalOp>(g.loc(c.getLoc()), xt, train, eval);
  mlir::Value y = o.add(o.mul(normed, o.reshape(scale, kept)), o.reshape(shift, kept));
  if (!y)
    return Term::invalid();
  // Running statistics: momentum keeps that much of the old value.
  Location where = c.getLoc();
  double keep = *momentum;
  g.deferStateUpdate([&g, where, x, axes, mean, var, runMean, runVar, ch, elem, keep,
                      meanSym, varSym] {
    Ops o{g, where};
    auto &b = g.builder();
    mlir::Value count = o.op<SizeOp>(x, {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes))});
    mlir::Value one = o.scalar(elem, 1.0), m = o.scalar(elem, keep);
    mlir::Value unbiased = o.mul(o.reshape(var, {ch}), o.div(count, o.sub(count, one)));
    mlir::Value newMean = o.add(o.mul(m, runMean), o.mul(o.sub(one, m), o.reshape(mean, {ch})));
    mlir::Value newVar = o.add(o.mul(m, runVar), o.mul(o.sub(one, m), unbiased));
    g.storeState(where, newMean, meanSym);
    g.storeState(where, newVar, varSym);
  });
  return Term::tensor(y, c.getLoc());
}

/// `layer_norm(x, eps=1e-5, name="")` over the last axis.
Term lowerLayerNorm(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto eps = g.asNumber(a["eps"], "'eps'");
  auto name = g.asString(a["name"], "'name'");
  if (!x || !eps || !name)
    return Term::invalid();
  auto xt = MLIRGenImpl::tensorType(x);
  if (xt.getRank() < 1 || xt.isDynamicDim(xt.getRank() - 1) ||
      !llvm::isa<mlir::FloatType>(xt.getElementType()))
    return g.error(c.getLoc(), "expected a floating-point input with a fixed last axis "
                               "for 'layer_norm' but got " + formatShape(xt));
  int64_t d = xt.getDimSize(xt.getRank() - 1), last = xt.getRank() - 1;
  std::string layer = g.layerName("layer_norm", *name);
  auto vec = mlir::RankedTensorType::get({d}, xt.getElementType());
  mlir::Value w = g.createParam(c.getLoc(), layer, "weight", vec, "ones", {});
  mlir::Value bias = g.createParam(c.getLoc(), layer, "bias", vec, "zeros", {});
  Ops o{g, c.getLoc()};
  mlir::Value normed = normalize(g, c.getLoc(), x, {last}, *eps).getResult();
  return Term::tensor(o.add(o.mul(normed, w), bias), c.getLoc());
}

/// `embedding(ids, vocab, dim, name="")`: rows of a [vocab, dim] table.
Term lowerEmbedding(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value ids = g.asTensor(a["ids"], g.builder().getI32Type(), "argument 'ids'");
  auto vocab = g.asNumber(a["vocab"], "'vocab'", true);
  auto dim = g.asNumber(a["dim"], "'dim'", true);
  auto name = g.asString(a["name"], "'name'");
  if (!ids || !vocab || !dim || !name)
    return Term::invalid();
  if (!llvm::isa<mlir::IntegerType>(Ops::elemOf(ids)) || Ops::elemOf(ids).isInteger(1))
    return g.error(a["ids"].loc, "expected integer ids for 'embedding'");
  if (*vocab <= 0 || *dim <= 0)
    return g.error(c.getLoc(), "expected positive vocab and dim");
  std::string layer = g.layerName("embedding", *name);
  mlir::Value table = g.createParam(
      c.getLoc(), layer, "weight",
      mlir::RankedTensorType::get({(int64_t)*vocab, (int64_t)*dim}, g.f32()), "normal", {1.0});
  if (!table)
    return Term::invalid();
  return g.buildNamed(c.getLoc(), "fm.gather", {table, ids});
}

/// `dropout(x, rate)`: a seeded mask in training, the identity otherwise.
Term lowerDropout(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  mlir::Value x = tensorArg(g, a, "x");
  auto rate = g.asNumber(a["rate"], "'rate'");
  if (!x || !rate)
    return Term::invalid();
  if (*rate < 0 || *rate >= 1)
    return g.error(a["rate"].loc, "expected a dropout rate in [0, 1) but got " +
                                      llvm::formatv("{0}", *rate).str());
  if (*rate == 0)
    return Term::tensor(x, c.getLoc());
  auto &b = g.builder();
  // Each dropout call draws its own mask: the salt is its ordinal.
  std::string layer = g.layerName("dropout", "");
  int64_t salt = layer == "dropout" ? 0 : std::stoll(layer.substr(8));
  Term dropped = g.buildNamed(c.getLoc(), "fm.dropout", {x, g.stepScalar(c.getLoc())},
                              {b.getNamedAttr("rate", b.getF64FloatAttr(*rate)),
                               b.getNamedAttr("salt", b.getI64IntegerAttr(salt))});
  if (!dropped.ok())
    return dropped;
  return Term::tensor(b.create<TrainOrEvalOp>(g.loc(c.getLoc()), x.getType(), dropped.value, x),
                      c.getLoc());
}

/// Elementwise compositions with one input.
Builtin composed(std::function<mlir::Value(Ops &, mlir::Value, BoundArgs &)> fn,
                 std::vector<std::string> params = {"x"}, unsigned required = 1,
                 std::map<std::string, Term> defaults = {}) {
  return {params, required, defaults,
          [fn](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
            mlir::Value x = tensorArg(g, a, "x");
            if (!x)
              return Term::invalid();
            Ops o{g, c.getLoc()};
            mlir::Value y = fn(o, x, a);
            return y ? Term::tensor(y, c.getLoc()) : Term::invalid();
          }};
}

mlir::Value absOf(Ops &o, mlir::Value x) {
  return o.select(o.cmp("ge", x, o.scalarLike(x, 0)), x, o.op<NegOp>(x));
}

/// Two tensor operands whose element types are unified (numbers adopt the
/// other operand's type).
std::pair<mlir::Value, mlir::Value> operands(MLIRGenImpl &g, BoundArgs &a,
                                             const char *l, const char *r) {
  mlir::Type elem = g.f32();
  if (a[l].kind == Term::Tensor)
    elem = Ops::elemOf(a[l].value);
  else if (a[r].kind == Term::Tensor)
    elem = Ops::elemOf(a[r].value);
  return {g.asTensor(a[l], elem, std::string("argument '") + l + "'"),
          g.asTensor(a[r], elem, std::string("argument '") + r + "'")};
}

Builtin twoOperands(const char *l, const char *r,
                    std::function<mlir::Value(Ops &, mlir::Value, mlir::Value)> fn) {
  return {{l, r}, 2, {}, [=](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
            auto [x, y] = operands(g, a, l, r);
            if (!x || !y)
              return Term::invalid();
            Ops o{g, c.getLoc()};
            mlir::Value z = fn(o, x, y);
            return z ? Term::tensor(z, c.getLoc()) : Term::invalid();
          }};
}

/// `l2(params="all")`: the sum of squares of the trainable parameters whose
/// names match (`"all"`, a pattern like `"*.weight"`, or a list of them).
Term lowerL2(MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
  std::vector<std::string> patterns;
  const Term &p = a["params"];
  if (p.kind == Term::List) {
    for (const Term &e : p.items) {
      auto s = g.asString(e, "'params'");
      if (!s)
        return Term::invalid();
      patterns.push_back(*s);
    }
  } else if (auto s = g.asString(p, "'params'")) {
    patterns.push_back(*s == "all" ? "*" : *s);
  } else {
    return Term::invalid();
  }
  Ops o{g, c.getLoc()};
  mlir::Value total;
  for (const std::string &pattern : patterns) {
    auto glob = llvm::GlobPattern::create(pattern);
    if (!glob)
      return g.error(p.loc, "bad parameter pattern '" + pattern + "'");
    for (ParamOp param : g.getParams()) {
      if (!glob->match(param.getSymName()))
        continue;
      mlir::Value v = g.builder().create<LoadOp>(
          g.loc(c.getLoc()), param.getType(),
          mlir::FlatSymbolRefAttr::get(param.getSymNameAttr()));
      mlir::Value sq = o.castTo(o.reduce(false, o.mul(v, v), Ops::allAxes(v), false), g.f32());
      total = total ? o.add(total, sq) : sq;
    }
  }
  if (!total)
    return g.error(c.getLoc(), "no trainable parameter defined so far matches 'params'");
  return Term::tensor(total, c.getLoc());
}

} // namespace

void fm::addLayerBuiltins(llvm::StringMap<Builtin> &t) {
  // Layers.
  t["conv2d"] = {{"x", "filters", "kernel", "stride", "padding", "dilation", "groups",
                  "bias", "init", "name"}, 3,
                 {{"stride", integer(1)}, {"padding", str("valid")}, {"dilation", integer(1)},
                  {"groups", integer(1)}, {"bias", boolean(true)}, {"init", str("he_uniform")},
                  {"name", str("")}},
                 lowerConv2d};
  t["conv2d_raw"] = {{"x", "w", "stride", "padding", "dilation", "groups"}, 2,
                     {{"stride", integer(1)}, {"padding", integer(0)},
                      {"dilation", integer(1)}, {"groups", integer(1)}},
                     lowerConv2dRaw};
  t["batch_norm"] = {{"x", "momentum", "eps", "name"}, 1,
                     {{"momentum", number(0.9)}, {"eps", number(1e-5)}, {"name", str("")}},
                     lowerBatchNorm};
  t["layer_norm"] = {{"x", "eps", "name"}, 1, {{"eps", number(1e-5)}, {"name", str("")}},
                     lowerLayerNorm};
  t["embedding"] = {{"ids", "vocab", "dim", "name"}, 3, {{"name", str("")}}, lowerEmbedding};
  t["dropout"] = {{"x", "rate"}, 2, {}, lowerDropout};
  // Pooling.
  t["maxpool2d"] = pooling("fm.maxpool2d");
  t["avgpool2d"] = pooling("fm.avgpool2d");
  t["global_avgpool"] = {{"x"}, 1, {}, [](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
                           mlir::Value x = nchw(g, a, c);
                           Ops o{g, c.getLoc()};
                           mlir::Value y = x ? o.reduce(true, x, {2, 3}, false) : x;
                           return y ? Term::tensor(y, c.getLoc()) : Term::invalid();
                         }};
  // Elementwise compositions.
  t["leaky_relu"] = composed(
      [](Ops &o, mlir::Value x, BoundArgs &a) -> mlir::Value {
        auto alpha = o.g.asNumber(a["alpha"], "'alpha'");
        if (!alpha)
          return {};
        return o.select(o.cmp("gt", x, o.scalarLike(x, 0)), x, o.mul(o.scalarLike(x, *alpha), x));
      },
      {"x", "alpha"}, 1, {{"alpha", number(0.01)}});
  t["gelu"] = composed([](Ops &o, mlir::Value x, BoundArgs &) {
    // Exact GELU (PyTorch's default): x * Φ(x) = 0.5 x (1 + erf(x / √2)).
    mlir::Value e = o.named("fm.erf", o.mul(x, o.scalarLike(x, M_SQRT1_2)));
    return o.mul(o.mul(o.scalarLike(x, 0.5), x), o.add(o.scalarLike(x, 1.0), e));
  });
  t["rsqrt"] = composed([](Ops &o, mlir::Value x, BoundArgs &) {
    return o.div(o.scalarLike(x, 1.0), o.op<SqrtOp>(x));
  });
  t["abs"] = composed([](Ops &o, mlir::Value x, BoundArgs &) { return absOf(o, x); });
  t["square"] = composed([](Ops &o, mlir::Value x, BoundArgs &) { return o.mul(x, x); });
  t["sign"] = composed([](Ops &o, mlir::Value x, BoundArgs &) {
    mlir::Value zero = o.scalarLike(x, 0);
    return o.select(o.cmp("gt", x, zero), o.scalarLike(x, 1),
                    o.select(o.cmp("lt", x, zero), o.scalarLike(x, -1), zero));
  });
  t["maximum"] = twoOperands("a", "b", [](Ops &o, mlir::Value a, mlir::Value b) {
    return o.select(o.cmp("ge", a, b), a, b);
  });
  t["minimum"] = twoOperands("a", "b", [](Ops &o, mlir::Value a, mlir::Value b) {
    return o.select(o.cmp("le", a, b), a, b);
  });
  t["pow"] = twoOperands("x", "p", [](Ops &o, mlir::Value x, mlir::Value p) {
    return o.op<PowOp>({x, p});
  });
  t["clip"] = {{"x", "lo", "hi"}, 3, {}, [](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
                 mlir::Value x = tensorArg(g, a, "x");
                 if (!x)
                   return Term::invalid();
                 mlir::Type elem = Ops::elemOf(x);
                 mlir::Value lo = g.asTensor(a["lo"], elem, "argument 'lo'");
                 mlir::Value hi = g.asTensor(a["hi"], elem, "argument 'hi'");
                 Ops o{g, c.getLoc()};
                 mlir::Value y = o.select(o.cmp("ge", x, lo), x, lo);
                 y = o.select(o.cmp("le", y, hi), y, hi);
                 return y ? Term::tensor(y, c.getLoc()) : Term::invalid();
               }};
  t["where"] = {{"cond", "a", "b"}, 3, {}, [](MLIRGenImpl &g, const CallExprAST &c, BoundArgs &a) {
                  mlir::Value cond = g.asTensor(a["cond"], g.builder().getI1Type(), "argument 'cond'");
                  auto [x, y] = operands(g, a, "a", "b");
                  if (!cond || !x || !y)
                    return Term::invalid();
                  return g.build<SelectOp>(c.getLoc(), {cond, x, y});
                }};
  // Losses and metrics built from other ops.
  t["binary_cross_entropy"] = twoOperands("logits", "targets", [](Ops &o, mlir::Value l, mlir::Value t) {
    // Stable from logits: max(l, 0) - l t + log(1 + exp(-|l|)).
    mlir::Value soft = o.op<LogOp>(o.add(o.scalarLike(l, 1.0), o.op<ExpOp>(o.op<NegOp>(absOf(o, l)))));
    mlir::Value per = o.add(o.sub(o.op<ReluOp>(l), o.mul(l, t)), soft);
    return per ? o.reduce(true, per, Ops::allAxes(per), false) : per;
  });
  t["l1"] = twoOperands("pred", "target", [](Ops &o, mlir::Value p, mlir::Value t) {
    mlir::Value d = absOf(o, o.sub(p, t));
    return d ? o.reduce(true, d, Ops::allAxes(d), false) : d;
  });
  t["binary_accuracy"] = twoOperands("logits", "targets", [](Ops &o, mlir::Value l, mlir::Value t) {
    mlir::Type elem = Ops::elemOf(l);
    mlir::Value predicted = o.castTo(o.cmp("gt", l, o.scalarLike(l, 0)), elem);
    mlir::Value truth = o.castTo(o.cmp("gt", t, o.scalarLike(t, 0.5)), elem);
    mlir::Value hit = o.castTo(o.cmp("eq", predicted, truth), elem);
    return hit ? o.reduce(true, hit, Ops::allAxes(hit), false) : hit;
  });
  t["l2"] = {{"params"}, 0, {{"params", str("all")}}, lowerL2};
}
