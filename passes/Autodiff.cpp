//===- Autodiff.cpp - Reverse-mode differentiation --------------*- C++ -*-===//
//
// This file implements fm-autodiff: a generic reverse walk over a step
// function. It knows no op by name: each op builds its own vector-Jacobian
// product through GradientOpInterface (ir/FmGradients.cpp).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::fm {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

bool isFloatTensor(Value v) {
  auto t = llvm::dyn_cast<RankedTensorType>(v.getType());
  return t && llvm::isa<FloatType>(t.getElementType());
}

struct AutodiffPass : fm::impl::AutodiffPassBase<AutodiffPass> {
  void runOnOperation() override {
    SymbolTable symbols(getOperation());
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn->hasAttr("fm.differentiate") && failed(differentiate(fn, symbols)))
        return signalPassFailure();
  }

  LogicalResult differentiate(func::FuncOp fn, SymbolTable &symbols) {
    Block &body = fn.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    if (ret.getNumOperands() == 0 || !isFloatTensor(ret.getOperand(0)) ||
        cast<RankedTensorType>(ret.getOperand(0).getType()).getRank() != 0)
      return fn.emitError("expected the first result of '")
             << fn.getName() << "' to be the scalar floating-point loss";
    Value loss = ret.getOperand(0);

    // Forward pass: the values that depend on a trainable parameter. Only
    // they need gradients; inputs and labels are never differentiated.
    llvm::DenseSet<Value> active;
    for (Operation &op : body) {
      if (auto load = dyn_cast<LoadOp>(op)) {
        auto param = symbols.lookup<ParamOp>(load.getParam());
        if (param && param.isTrainable())
          active.insert(load.getResult());
        continue;
      }
      if (op.hasTrait<NoGradient>())
        continue;
      if (llvm::any_of(op.getOperands(), [&](Value v) { return active.contains(v); }))
        for (Value r : op.getResults())
          if (isFloatTensor(r))
            active.insert(r);
    }
    if (!active.contains(loss))
      return fn.emitError("the loss does not depend on any trainable parameter");

    // Backward pass, appended before the return in reverse program order.
    OpBuilder b(ret);
    llvm::DenseMap<Value, Value> grads;
    auto accumulate = [&](Value v, Value g, Location loc) {
      auto [it, inserted] = grads.try_emplace(v, g);
      if (!inserted)
        it->second = b.create<AddOp>(loc, it->second, g);
    };
    auto lossType = cast<RankedTensorType>(loss.getType());
    grads[loss] = b.create<ConstantOp>(
        loss.getLoc(), lossType,
        DenseElementsAttr::get(lossType, FloatAttr::get(lossType.getElementType(), 1.0)));

    llvm::MapVector<StringAttr, Value> paramGrads;
    SmallVector<Operation *> forward;
    for (Operation &op : body)
      if (&op != ret.getOperation())
        forward.push_back(&op);
    for (Operation *op : llvm::reverse(forward)) {
      SmallVector<Value> resultGrads;
      bool any = false;
      for (Value r : op->getResults()) {
        resultGrads.push_back(grads.lookup(r));
        any |= bool(resultGrads.back());
      }
      if (!any)
        continue;
      if (auto load = dyn_cast<LoadOp>(op)) {
        Value &g = paramGrads[load.getParamAttr().getAttr()];
        g = g ? b.create<AddOp>(load.getLoc(), g, resultGrads[0]) : resultGrads[0];
        continue;
      }
      auto iface = dyn_cast<GradientOpInterface>(op);
      if (!iface)
        return op->emitError("cannot differentiate '")
               << op->getName() << "': it has no gradient rule";
      SmallVector<Value> operandGrads = iface.buildGradient(b, resultGrads);
      if (operandGrads.size() != op->getNumOperands())
        return op->emitError("gradient rule returned ")
               << operandGrads.size() << " values for " << op->getNumOperands()
               << " operands";
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
        if (g && active.contains(operand)) {
          if (g.getType() != operand.getType())
            return op->emitError("gradient rule produced ")
                   << g.getType() << " for an operand of type "
                   << operand.getType();
          accumulate(operand, g, op->getLoc());
        }
    }

    for (auto [name, g] : paramGrads)
      b.create<ApplyGradientOp>(fn.getLoc(), FlatSymbolRefAttr::get(name), g);
    return success();
  }
};

} // namespace
