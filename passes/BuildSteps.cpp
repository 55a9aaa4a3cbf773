//===- BuildSteps.cpp - predict / evaluate / train_step ---------*- C++ -*-===//
//
// This file implements fm-build-steps: the model function the front end
// emits becomes the three step functions the runtime calls.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::fm {
#define GEN_PASS_DEF_BUILDSTEPSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

/// Erases ops whose results are unused and that have no side effects.
void eraseDeadOps(func::FuncOp fn) {
  Block &body = fn.getBody().front();
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isOpTriviallyDead(&op)) {
        op.erase();
        changed = true;
      }
  }
}

struct BuildStepsPass : fm::impl::BuildStepsPassBase<BuildStepsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp model;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("fm.model_fn"))
        model = fn;
    if (!model) {
      module.emitError("expected a function marked fm.model_fn");
      return signalPassFailure();
    }
    if (failed(buildStep(model, "predict", {"output"}, /*keepLabels=*/false)) ||
        failed(buildStep(model, "evaluate", {"loss", "metric"}, true)) ||
        failed(buildStep(model, "train_step", {"loss", "metric"}, true)))
      return signalPassFailure();
    model.erase();
  }

  /// Clones `model` into a step that returns the results of the given roles
  /// (in role order, then source order) and takes labels only if asked.
  LogicalResult buildStep(func::FuncOp model, StringRef name,
                          ArrayRef<StringRef> roles, bool keepLabels) {
    func::FuncOp step = model.clone();
    step.setName(name);
    step->removeAttr("fm.model_fn");
    step->setAttr("fm.step", StringAttr::get(&getContext(), name));
    if (name == "train_step")
      step->setAttr("fm.differentiate", UnitAttr::get(&getContext()));
    OpBuilder(model).insert(step);

    auto ret = cast<func::ReturnOp>(step.getBody().front().getTerminator());
    SmallVector<Value> results;
    SmallVector<DictionaryAttr> resultAttrs;
    for (StringRef role : roles)
      for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
        auto r = step.getResultAttrOfType<StringAttr>(i, "fm.role");
        if (r && r.getValue() == role) {
          results.push_back(ret.getOperand(i));
          resultAttrs.push_back(step.getResultAttrDict(i));
        }
      }
    OpBuilder b(ret);
    b.create<func::ReturnOp>(ret.getLoc(), results);
    ret.erase();
    step.setType(FunctionType::get(&getContext(),
                                   step.getFunctionType().getInputs(),
                                   ValueRange(results).getTypes()));
    step.setAllResultAttrs(resultAttrs);
    // Training-only behaviour: dropout and batch statistics in train_step,
    // identity and running statistics (which only training updates) else.
    bool training = name == "train_step";
    step.walk([&](TrainOrEvalOp op) {
      op.replaceAllUsesWith(training ? op.getTrainValue() : op.getEvalValue());
      op.erase();
    });
    if (!training)
      step.walk([](StoreOp store) { store.erase(); });
    eraseDeadOps(step);

    // The step counter (dropout's seed) is fed to train_step only.
    if (!training) {
      llvm::BitVector unusedScalars(step.getNumArguments());
      for (BlockArgument arg : step.getArguments())
        if (step.getArgAttr(arg.getArgNumber(), "fm.scalar") && arg.use_empty())
          unusedScalars.set(arg.getArgNumber());
      step.eraseArguments(unusedScalars);
    }
    if (keepLabels)
      return success();
    llvm::BitVector labels(step.getNumArguments());
    for (BlockArgument arg : step.getArguments()) {
      auto label = step.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "fm.label");
      if (!label)
        continue;
      if (!arg.use_empty()) {
        InFlightDiagnostic d = emitError(arg.getUses().begin()->getOwner()->getLoc())
                               << "outputs must not depend on label '"
                               << label.getValue() << "'";
        d.attachNote(model.getLoc()) << "outputs are computed without labels in predict";
        return failure();
      }
      labels.set(arg.getArgNumber());
    }
    step.eraseArguments(labels);
    return success();
  }
};

} // namespace
