//===- OptimizerUpdate.cpp - Optimizer updates as fm ops --------*- C++ -*-===//
//
// This file implements fm-optimizer-update: each fm.apply_gradient becomes
// the update of SGD (momentum, Nesterov, weight decay) or Adam, written
// with pointwise fm ops so that fusion can make it one kernel per
// parameter. Formulas follow PyTorch's torch.optim, so that runs compare.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::fm {
#define GEN_PASS_DEF_OPTIMIZERUPDATEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

/// Optimizer settings with PyTorch's defaults.
struct OptimizerSpec {
  std::string kind = "adam";
  double lr = 1e-3, momentum = 0, weightDecay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double clipGradNorm = 0; // 0: no clipping
};

FailureOr<OptimizerSpec> readSpec(ModuleOp module) {
  OptimizerSpec spec;
  auto dict = module->getAttrOfType<DictionaryAttr>("fm.optimizer");
  if (!dict)
    return spec;
  auto num = [&](StringRef key, double &out) {
    if (auto a = dict.getAs<FloatAttr>(key))
      out = a.getValueAsDouble();
    else if (auto i = dict.getAs<IntegerAttr>(key))
      out = i.getInt();
  };
  if (auto k = dict.getAs<StringAttr>("kind"))
    spec.kind = k.str();
  num("lr", spec.lr);
  num("momentum", spec.momentum);
  num("weight_decay", spec.weightDecay);
  num("beta1", spec.beta1);
  num("beta2", spec.beta2);
  num("eps", spec.eps);
  if (auto n = dict.getAs<BoolAttr>("nesterov"))
    spec.nesterov = n.getValue();
  if (auto clip = module->getAttrOfType<FloatAttr>("fm.clip_grad_norm"))
    spec.clipGradNorm = clip.getValueAsDouble();
  if (spec.kind != "sgd" && spec.kind != "adam" && spec.kind != "adamw") {
    module.emitError("unknown optimizer '") << spec.kind << "'";
    return failure();
  }
  return spec;
}

/// Emits the update of one parameter at the builder's insertion point.
struct Updater {
  OpBuilder &b;
  ModuleOp module;
  SymbolTable &symbols;
  const OptimizerSpec &spec;
  Value lr, step; // scalar arguments, f32
  Location loc;

  Value cst(Type elem, double v) {
    auto t = RankedTensorType::get({}, elem);
    return b.create<ConstantOp>(loc, t,
                                DenseElementsAttr::get(t, FloatAttr::get(elem, v)));
  }
  Value asElem(Value scalar, Type elem) {
    auto t = RankedTensorType::get({}, elem);
    return scalar.getType() == t ? scalar : b.create<CastOp>(loc, t, scalar);
  }
  Value add(Value x, Value y) { return b.create<AddOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<SubOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<MulOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<DivOp>(loc, x, y); }

  /// A zero-initialised state tensor shaped like `param`, loaded.
  Value state(ParamOp param, StringRef what, StringAttr &name) {
    std::string symbol = ("optim." + what + "." + param.getSymName()).str();
    auto existing = symbols.lookup<ParamOp>(symbol);
    if (!existing) {
      OpBuilder mb(param);
      mb.setInsertionPointAfter(param);
      existing = mb.create<ParamOp>(param.getLoc(), symbol, param.getType(),
                                    "state", "zeros", mb.getF64ArrayAttr({}),
                                    IntegerAttr(), IntegerAttr());
      symbols.insert(existing);
    }
    name = existing.getSymNameAttr();
    return b.create<LoadOp>(loc, existing.getType(),
                            FlatSymbolRefAttr::get(name));
  }
  void store(Value v, StringAttr name) {
    b.create<StoreOp>(loc, v, FlatSymbolRefAttr::get(name));
  }

  void update(ParamOp param, Value grad) {
    Type elem = param.getTensorType().getElementType();
    Value p = b.create<LoadOp>(loc, param.getType(),
                               FlatSymbolRefAttr::get(param.getSymNameAttr()));
    Value g = grad;
    Value rate = asElem(lr, elem);
    bool decoupled = spec.kind == "adamw";
    if (spec.weightDecay != 0 && !decoupled)
      g = add(g, mul(cst(elem, spec.weightDecay), p));
    // AdamW (PyTorch): p *= 1 - lr * weight_decay, then the Adam step.
    if (spec.weightDecay != 0 && decoupled)
      p = sub(p, mul(mul(rate, cst(elem, spec.weightDecay)), p));
    Value newP;
    if (spec.kind == "sgd") {
      Value direction = g;
      if (spec.momentum != 0) {
        StringAttr bufName;
        Value buf = state(param, "momentum", bufName);
        // PyTorch: buf = momentum * buf + g (the first step also starts from 0).
        Value newBuf = add(mul(cst(elem, spec.momentum), buf), g);
        store(newBuf, bufName);
        direction = spec.nesterov ? add(g, mul(cst(elem, spec.momentum), newBuf))
                                  : newBuf;
      }
      newP = sub(p, mul(rate, direction));
    } else {
      StringAttr mName, vName;
      Value m = state(param, "adam_m", mName), v = state(param, "adam_v", vName);
      Value b1 = cst(elem, spec.beta1), b2 = cst(elem, spec.beta2);
      Value one = cst(elem, 1.0);
      Value newM = add(mul(b1, m), mul(sub(one, b1), g));
      Value newV = add(mul(b2, v), mul(sub(one, b2), mul(g, g)));
      store(newM, mName);
      store(newV, vName);
      Value t = asElem(step, elem);
      Value bc1 = sub(one, b.create<PowOp>(loc, b1, t));
      Value bc2 = sub(one, b.create<PowOp>(loc, b2, t));
      // PyTorch: p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
      Value denom = add(div(b.create<SqrtOp>(loc, newV), b.create<SqrtOp>(loc, bc2)),
                        cst(elem, spec.eps));
      newP = sub(p, mul(div(rate, bc1), div(newM, denom)));
    }
    store(newP, param.getSymNameAttr());
  }
};

/// PyTorch's clip_grad_norm_: every gradient is scaled by
/// min(1, limit / (‖all gradients‖₂ + 1e-6)).
void clipGradients(SmallVectorImpl<ApplyGradientOp> &applies, double limit) {
  OpBuilder b(applies.front());
  Location loc = applies.front().getLoc();
  // The norm is computed in the first gradient's float type (f64 models
  // clip in f64).
  Type f32 = cast<RankedTensorType>(applies.front().getGradient().getType())
                 .getElementType();
  auto scalar = RankedTensorType::get({}, f32);
  auto cst = [&](double v) -> Value {
    return b.create<ConstantOp>(loc, scalar,
                                DenseElementsAttr::get(scalar, FloatAttr::get(f32, v)));
  };
  auto asF32 = [&](Value v) -> Value {
    return v.getType() == scalar ? v : b.create<CastOp>(loc, scalar, v);
  };
  Value total;
  for (ApplyGradientOp apply : applies) {
    Value g = apply.getGradient();
    auto type = cast<RankedTensorType>(g.getType());
    SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    Value sq = b.create<MulOp>(loc, g, g);
    Value sum = b.create<ReduceSumOp>(loc, sq, b.getDenseI64ArrayAttr(all), b.getBoolAttr(false));
    sum = asF32(sum);
    total = total ? b.create<AddOp>(loc, total, sum) : sum;
  }
  Value norm = b.create<SqrtOp>(loc, total);
  Value coef = b.create<DivOp>(loc, cst(limit), b.create<AddOp>(loc, norm, cst(1e-6)));
  Value one = cst(1.0);
  Value below = b.create<CompareOp>(loc, b.getStringAttr("lt"), coef, one);
  Value factor = b.create<SelectOp>(loc, below, coef, one);
  for (ApplyGradientOp apply : applies) {
    Value g = apply.getGradient();
    auto type = cast<RankedTensorType>(g.getType());
    Value f = factor;
    if (type.getElementType() != f32)
      f = b.create<CastOp>(loc, RankedTensorType::get({}, type.getElementType()), factor);
    apply.getGradientMutable().assign(b.create<MulOp>(loc, g, f));
  }
}

struct OptimizerUpdatePass : fm::impl::OptimizerUpdatePassBase<OptimizerUpdatePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<OptimizerSpec> spec = readSpec(module);
    if (failed(spec))
      return signalPassFailure();
    SymbolTable symbols(module);
    MLIRContext *ctx = &getContext();
    for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>())) {
      auto applies = llvm::to_vector(fn.getOps<ApplyGradientOp>());
      if (applies.empty())
        continue;
      // The learning rate (after any schedule) and the 1-based step count
      // come from the runtime each step.
      auto scalar = RankedTensorType::get({}, Float32Type::get(ctx));
      // The front end may already take the step counter (dropout's seed).
      auto scalarArg = [&](StringRef name) -> Value {
        for (BlockArgument arg : fn.getArguments())
          if (auto a = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "fm.scalar"))
            if (a.getValue() == name)
              return arg;
        unsigned n = fn.getNumArguments();
        fn.insertArgument(n, scalar,
                          DictionaryAttr::get(ctx, {NamedAttribute(
                              StringAttr::get(ctx, "fm.scalar"), StringAttr::get(ctx, name))}),
                          fn.getLoc());
        return fn.getArgument(n);
      };
      Value lr = scalarArg("lr"), step = scalarArg("step");
      if (spec->clipGradNorm > 0)
        clipGradients(applies, spec->clipGradNorm);
      for (ApplyGradientOp apply : applies) {
        OpBuilder b(apply);
        auto param = symbols.lookup<ParamOp>(apply.getParam());
        Updater{b, module, symbols, *spec, lr, step, apply.getLoc()}.update(
            param, apply.getGradient());
        apply.erase();
      }
    }
  }
};

} // namespace
