//===- OutlineKernels.cpp - Fusion regions become kernels -------*- C++ -*-===//
//
// This file implements fm-outline-kernels: each fm.fused region (formed by
// fm-fuse, Fuse.cpp) moves into a private function marked `fm.kernel`,
// called from the step; codegen turns each into one Halide pipeline. Ops
// outside any region become kernels of their own, so running this pass
// without fm-fuse gives the unfused reference the tests compare against.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::fm {
#define GEN_PASS_DEF_OUTLINEKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

struct OutlineKernelsPass : fm::impl::OutlineKernelsPassBase<OutlineKernelsPass> {
  unsigned nextKernel = 0;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (fn->hasAttr("fm.step"))
        outlineStep(fn);
    deduplicateKernels(module);
  }

  void outlineStep(func::FuncOp step) {
    // Loose ops (no fm-fuse before us) become one-op regions.
    formFusionRegions(step, /*fuse=*/false);
    for (auto fused : llvm::to_vector(step.getOps<FusedOp>()))
      outlineRegion(step, fused);
    copyUnsafeInPlaceStores(step);
  }

  void outlineRegion(func::FuncOp step, FusedOp fused) {
    llvm::SetVector<Value> inputs;
    getUsedValuesDefinedAbove(fused.getBody(), inputs);

    MLIRContext *ctx = &getContext();
    OpBuilder mb(step);
    std::string name = "k" + std::to_string(nextKernel++) + "_" +
                       fused.getAnchor().str();
    auto type = FunctionType::get(ctx, ValueRange(inputs.getArrayRef()).getTypes(),
                                  fused.getResultTypes());
    auto kernel = mb.create<func::FuncOp>(fused.getLoc(), name, type);
    kernel.setPrivate();
    kernel->setAttr("fm.kernel", UnitAttr::get(ctx));
    for (auto [i, v] : llvm::enumerate(inputs))
      if (auto arg = dyn_cast<BlockArgument>(v))
        if (auto s = step.getArgAttr(arg.getArgNumber(), "fm.scalar"))
          kernel.setArgAttr(i, "fm.scalar", s);

    Block *entry = kernel.addEntryBlock();
    OpBuilder kb = OpBuilder::atBlockEnd(entry);
    IRMapping map;
    for (auto [v, arg] : llvm::zip(inputs, entry->getArguments()))
      map.map(v, arg);
    Block &body = fused.getBody().front();
    for (Operation &op : body.without_terminator())
      kb.clone(op, map);
    SmallVector<Value> returned;
    for (Value v : body.getTerminator()->getOperands())
      returned.push_back(map.lookup(v));
    kb.create<func::ReturnOp>(fused.getLoc(), returned);

    OpBuilder sb(fused);
    auto call = sb.create<func::CallOp>(fused.getLoc(), kernel,
                                        inputs.getArrayRef());
    fused->replaceAllUsesWith(call.getResults());
    fused->erase();
  }

  /// A stored value is written straight into its parameter's buffer by the
  /// kernel that computes it. Where that could clobber a value the kernel
  /// still reads (mlir::fm::isInPlaceWriteSafe: Halide computes outputs
  /// one after the other), the result goes through a copy kernel instead.
  void copyUnsafeInPlaceStores(func::FuncOp step) {
    for (auto store : llvm::to_vector(step.getOps<StoreOp>())) {
      auto call = store.getValue().getDefiningOp<func::CallOp>();
      if (!call)
        continue;
      auto kernel = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
          step, call.getCalleeAttr());
      unsigned result = cast<OpResult>(store.getValue()).getResultNumber();
      bool unsafe = false;
      for (OpOperand &operand : call->getOpOperands()) {
        auto load = operand.get().getDefiningOp<LoadOp>();
        if (load && load.getParamAttr() == store.getParamAttr() &&
            !isInPlaceWriteSafe(kernel, operand.getOperandNumber(), result))
          unsafe = true;
      }
      if (!unsafe)
        continue;
      OpBuilder b(store);
      auto copy = b.create<func::CallOp>(store.getLoc(), getCopyKernel(step, store.getValue().getType()),
                                         ValueRange{store.getValue()});
      store.getValueMutable().assign(copy.getResult(0));
    }
  }

  func::FuncOp getCopyKernel(func::FuncOp step, Type type) {
    auto module = step->getParentOfType<ModuleOp>();
    std::string name = "k" + std::to_string(nextKernel++) + "_copy";
    OpBuilder mb(step);
    auto fn = mb.create<func::FuncOp>(step.getLoc(), name,
                                      FunctionType::get(&getContext(), {type}, {type}));
    fn.setPrivate();
    fn->setAttr("fm.kernel", UnitAttr::get(&getContext()));
    Block *entry = fn.addEntryBlock();
    OpBuilder kb = OpBuilder::atBlockEnd(entry);
    // x + 0: a pointwise read, so the copy has a Func of its own.
    auto t = cast<RankedTensorType>(type);
    auto scalar = RankedTensorType::get({}, t.getElementType());
    Value zero = kb.create<ConstantOp>(step.getLoc(), scalar,
        DenseElementsAttr::get(scalar, kb.getZeroAttr(t.getElementType())));
    Value copy = kb.create<AddOp>(step.getLoc(), entry->getArgument(0), zero);
    kb.create<func::ReturnOp>(step.getLoc(), copy);
    (void)module;
    return fn;
  }

  /// Kernels with identical bodies become one (e.g. the same update for
  /// parameters of one shape).
  void deduplicateKernels(ModuleOp module) {
    llvm::StringMap<func::FuncOp> seen;
    llvm::DenseMap<StringAttr, StringAttr> replacement;
    for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (!fn->hasAttr("fm.kernel"))
        continue;
      // The kernel printed under a neutral name is its identity.
      std::string key;
      llvm::raw_string_ostream os(key);
      func::FuncOp copy = fn.clone();
      copy.setName("kernel");
      copy->print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
      copy.erase();
      auto [it, inserted] = seen.try_emplace(os.str(), fn);
      if (!inserted) {
        replacement[fn.getSymNameAttr()] = it->second.getSymNameAttr();
        fn.erase();
      }
    }
    module.walk([&](func::CallOp call) {
      if (auto r = replacement.lookup(call.getCalleeAttr().getAttr()))
        call.setCalleeAttr(FlatSymbolRefAttr::get(r));
    });
  }
};

} // namespace
