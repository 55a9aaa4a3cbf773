//===- OutlineKernels.cpp - Fusion groups become kernels --------*- C++ -*-===//
//
// This file implements fm-outline-kernels. The fusion rule lives in one
// place, `joinsGroup`: a pointwise op joins the most recent group when it
// consumes a value of that group, so activations, bias additions, gradient
// masks and whole optimizer updates fuse with what feeds them. Every other
// op (matmul, reductions, softmax, losses) anchors a new group. Each group
// is moved into a private function marked `fm.kernel`; codegen turns each
// into one Halide pipeline.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::fm {
#define GEN_PASS_DEF_OUTLINEKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

using Group = SmallVector<Operation *>;

/// Ops that stay in the step (loads, stores) or are copied into every
/// kernel that uses them (constants, sizes).
bool staysOutside(Operation *op) {
  return isa<LoadOp, StoreOp, ConstantOp, SizeOp, func::ReturnOp>(op);
}

/// The fusion rules, in one place: does `op` join `group`, the most recent
/// group? Joining only the most recent group keeps groups in a
/// dependency-respecting order, so no cycle can form.
///  - a pointwise op joins a group that produces one of its operands
///    (activation after matmul, gradient masks, chains of arithmetic);
///  - a pointwise op joins a group of pointwise ops (optimizer updates of
///    all parameters become one kernel);
///  - an op joins a group made only of transposes that feed it alone, so a
///    matmul reads its transposed operand from inside its own pipeline.
bool joinsGroup(Operation *op, const Group &group,
                const llvm::DenseMap<Operation *, unsigned> &groupOf,
                unsigned groupIndex) {
  if (group.empty())
    return false;
  if (op->hasTrait<Pointwise>()) {
    bool consumesGroup = llvm::any_of(op->getOperands(), [&](Value v) {
      Operation *def = v.getDefiningOp();
      auto it = def ? groupOf.find(def) : groupOf.end();
      return it != groupOf.end() && it->second == groupIndex;
    });
    bool pointwiseGroup = llvm::all_of(
        group, [](Operation *g) { return g->hasTrait<Pointwise>(); });
    return consumesGroup || pointwiseGroup;
  }
  return llvm::all_of(group, [&](Operation *g) {
    return isa<TransposeOp>(g) &&
           llvm::all_of(g->getUsers(), [&](Operation *u) { return u == op; });
  });
}

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
    Block &body = step.getBody().front();
    // Stores go last: the values they write dominate the return, and no
    // kernel call may end up after a store that uses its result.
    for (auto store : llvm::to_vector(body.getOps<StoreOp>()))
      store->moveBefore(body.getTerminator());
    // With every store last, all loads of a symbol read the same value:
    // keep the first, so a kernel sees a parameter as one argument (the
    // optimizer's in-place update relies on it).
    llvm::DenseMap<Attribute, LoadOp> firstLoad;
    for (auto load : llvm::to_vector(body.getOps<LoadOp>())) {
      auto [it, inserted] = firstLoad.try_emplace(load.getParamAttr(), load);
      if (!inserted) {
        load.replaceAllUsesWith(it->second.getResult());
        load.erase();
      }
    }

    SmallVector<Group> groups;
    llvm::DenseMap<Operation *, unsigned> groupOf;
    for (Operation &op : body) {
      if (staysOutside(&op))
        continue;
      if (groups.empty() || !joinsGroup(&op, groups.back(), groupOf, groups.size() - 1))
        groups.emplace_back();
      groups.back().push_back(&op);
      groupOf[&op] = groups.size() - 1;
    }
    for (Group &group : groups)
      outlineGroup(step, group);

    copyUnsafeInPlaceStores(step);

    // Constants and sizes whose users all moved into kernels.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isOpTriviallyDead(&op))
        op.erase();
  }

  void outlineGroup(func::FuncOp step, Group &group) {
    llvm::SmallPtrSet<Operation *, 16> inGroup(group.begin(), group.end());
    llvm::SetVector<Value> inputs;
    auto addInput = [&](Value v) {
      Operation *def = v.getDefiningOp();
      if (def && inGroup.contains(def))
        return;
      if (def && isa<ConstantOp>(def))
        return; // cloned
      if (auto size = dyn_cast_or_null<SizeOp>(def)) {
        Operation *inner = size.getInput().getDefiningOp();
        if (!inner || !inGroup.contains(inner))
          inputs.insert(size.getInput());
        return;
      }
      inputs.insert(v);
    };
    for (Operation *op : group)
      for (Value v : op->getOperands())
        addInput(v);
    SmallVector<Value> outputs;
    for (Operation *op : group)
      for (Value r : op->getResults())
        if (llvm::any_of(r.getUsers(), [&](Operation *u) { return !inGroup.contains(u); }))
          outputs.push_back(r);

    MLIRContext *ctx = &getContext();
    auto module = step->getParentOfType<ModuleOp>();
    OpBuilder mb(ctx);
    mb.setInsertionPoint(step);
    std::string name = "k" + std::to_string(nextKernel++);
    auto type = FunctionType::get(ctx, ValueRange(inputs.getArrayRef()).getTypes(),
                                  ValueRange(outputs).getTypes());
    auto kernel = mb.create<func::FuncOp>(group.front()->getLoc(), name, type);
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
    std::function<void(Value)> materialize = [&](Value v) {
      if (map.contains(v))
        return;
      Operation *def = v.getDefiningOp();
      assert((def && isa<ConstantOp, SizeOp>(def)) && "value not available in kernel");
      for (Value operand : def->getOperands())
        materialize(operand);
      kb.clone(*def, map);
    };
    for (Operation *op : group) {
      for (Value v : op->getOperands())
        materialize(v);
      kb.clone(*op, map);
    }
    SmallVector<Value> returned;
    for (Value v : outputs)
      returned.push_back(map.lookup(v));
    kb.create<func::ReturnOp>(group.back()->getLoc(), returned);
    (void)module;

    OpBuilder sb(group.back());
    auto call = sb.create<func::CallOp>(group.back()->getLoc(), kernel,
                                        inputs.getArrayRef());
    for (auto [v, r] : llvm::zip(outputs, call.getResults()))
      v.replaceAllUsesWith(r);
    for (Operation *op : llvm::reverse(group))
      op->erase();
  }

  /// A stored value is written straight into its parameter's buffer by the
  /// kernel that computes it. That is only safe when the old value reaches
  /// no other output of that kernel (Halide computes outputs one after the
  /// other): SGD's momentum buffer read from a weight-decayed gradient is
  /// such a case. Those results go through a copy kernel instead.
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
            reachesOtherOutput(kernel, operand.getOperandNumber(), result))
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

  static bool reachesOtherOutput(func::FuncOp kernel, unsigned arg, unsigned result) {
    auto ret = cast<func::ReturnOp>(kernel.getBody().front().getTerminator());
    SmallVector<Value> work = {kernel.getArgument(arg)};
    llvm::DenseSet<Value> seen;
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!seen.insert(v).second)
        continue;
      for (OpOperand &use : v.getUses()) {
        if (use.getOwner() == ret.getOperation()) {
          if (use.getOperandNumber() != result)
            return true;
          continue;
        }
        for (Value r : use.getOwner()->getResults())
          work.push_back(r);
      }
    }
    return false;
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
