//===- Fuse.cpp - Fusion groups become fm.fused regions ---------*- C++ -*-===//
//
// This file implements fm-fuse. The fusion rules live in one place,
// `joinsGroup`; `formFusionRegions` walks a step in order, puts each op in
// the most recent group or starts a new one, and wraps every group in an
// `fm.fused` region that fm-outline-kernels turns into one kernel.
//
// Groups only ever grow at the end of the step's order, so the regions
// come out in an order that respects every dependence and no cycle can
// form between kernels (XLA's and IREE's fusion passes need a cycle check
// because they merge arbitrary producers and consumers; we trade some
// fusion for never needing one).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::fm {
#define GEN_PASS_DEF_FUSEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

using Group = SmallVector<Operation *>;

/// Whether a value leaves the step (returned or stored): it must then be
/// computed by a kernel.
bool leavesStep(Operation *op) {
  return llvm::any_of(op->getUsers(), [](Operation *u) {
    return isa<func::ReturnOp, StoreOp>(u);
  });
}

/// Ops that are pure indexing and cost nothing to recompute, so they are
/// cloned into every group that reads them instead of being kernels:
///  - a reshape or broadcast of a value no kernel computes (a parameter,
///    an input, a constant): this is what lets a convolution's bias
///    (`conv + reshape(b)`) and activation fuse into the convolution;
///  - any broadcast: a kernel of its own would write the broadcast tensor
///    out in full, and could not even know the batch extent when it
///    broadcasts a batch-free value to a batch shape.
bool isClonedIntoConsumers(Operation *op) {
  if (!isa<ReshapeOp, BroadcastToOp>(op) || leavesStep(op))
    return false;
  if (isa<BroadcastToOp>(op))
    return true;
  Operation *def = op->getOperand(0).getDefiningOp();
  return !def || isa<LoadOp, ConstantOp>(def) || isClonedIntoConsumers(def);
}

/// Ops that are cloned into each region that uses them (constants, sizes,
/// views) or stay in the step (loads, stores, the return).
bool staysOutside(Operation *op) {
  return isa<LoadOp, StoreOp, ConstantOp, SizeOp, func::ReturnOp>(op) ||
         isClonedIntoConsumers(op);
}

bool isLayoutOp(Operation *op) { return isa<TransposeOp, ReshapeOp>(op); }

/// The fusion rules, in one place: does `op` join `group`, the most recent
/// group?
///  1. A pointwise op joins the most recent group when it reads a value
///     of that group (bias and activation after a matmul or convolution,
///     gradient masks after pooling's backward), when one of its users
///     does, directly or through a few pointwise ops (the mask `y > 0` of
///     relu's gradient, read by the select that reads the pooled
///     gradient; `sqrt(var + eps)`, read by the division of the batch-norm
///     gradient), or when the group is pointwise (the optimizer updates of
///     all parameters become one kernel).
///  2. A reduction joins the group that produces its operand: batch-norm
///     statistics (normalize) beside the convolution they describe, a
///     bias gradient beside the gradient mask it sums, so a separate
///     kernel does not re-read the tensor from memory.
///  3. A reshape joins the group that produces its operand (a bias
///     gradient reshaped to the bias's shape, pooled features flattened
///     for a dense layer): a reshape alone would be a kernel that copies.
///  4. Any op joins a group made only of layout ops (transposes, reshapes)
///     that feed it alone: a matmul or pooling reads its transposed or
///     reshaped operand from inside its own pipeline.
///  5. Pooling joins the group producing its operand when nothing else
///     reads that operand (inference: conv + bias + relu + pool is one
///     kernel that makes the activation an image at a time and never
///     writes it out). In training the backward pass reads the
///     activation, which must then be written anyway: no fusion.
bool joinsGroup(Operation *op, const Group &group,
                const llvm::DenseMap<Operation *, unsigned> &groupOf,
                unsigned groupIndex) {
  if (group.empty())
    return false;
  auto readsGroup = [&](Operation *reader) {
    return llvm::any_of(reader->getOperands(), [&](Value v) {
      Operation *def = v.getDefiningOp();
      auto it = def ? groupOf.find(def) : groupOf.end();
      return it != groupOf.end() && it->second == groupIndex;
    });
  };
  // Through a short chain of pointwise users: sqrt(var + eps) of a
  // normalisation's gradient is read by the division of the group's
  // values two ops later.
  std::function<bool(Operation *, int)> feedsGroup = [&](Operation *o,
                                                         int depth) {
    return llvm::any_of(o->getUsers(), [&](Operation *u) {
      return readsGroup(u) || (depth < 4 && u->hasTrait<Pointwise>() &&
                               feedsGroup(u, depth + 1));
    });
  };
  if (op->hasTrait<Pointwise>())
    return readsGroup(op) || feedsGroup(op, 0) ||
           llvm::all_of(group,
                        [](Operation *g) { return g->hasTrait<Pointwise>(); });
  if (isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, ReduceMinOp, NormalizeOp,
          ReshapeOp>(op) &&
      readsGroup(op))
    return true;
  if (isa<MaxPool2DOp, AvgPool2DOp>(op) && readsGroup(op)) {
    Operation *producer = op->getOperand(0).getDefiningOp();
    return producer && producer->hasOneUse() && !leavesStep(producer);
  }
  auto inGroup = [&](Operation *u) {
    auto it = groupOf.find(u);
    return it != groupOf.end() && it->second == groupIndex;
  };
  return llvm::all_of(group, [&](Operation *g) {
    return isLayoutOp(g) && llvm::all_of(g->getUsers(), [&](Operation *u) {
             return u == op || inGroup(u);
           });
  });
}

/// The op whose kind decides the kernel's schedule: the first one that is
/// neither pointwise nor a layout op, else the first op.
std::string getAnchorName(const Group &group) {
  Operation *anchor = group.front();
  bool allPointwise = true;
  for (Operation *op : group) {
    allPointwise &= op->hasTrait<Pointwise>();
    if (!op->hasTrait<Pointwise>() && !isLayoutOp(op)) {
      anchor = op;
      break;
    }
  }
  if (allPointwise)
    return "pointwise";
  return anchor->getName().stripDialect().str();
}

/// Moves `group` into a new fm.fused placed where its last op was.
void wrapGroup(const Group &group) {
  llvm::SmallPtrSet<Operation *, 16> inGroup(group.begin(), group.end());
  SmallVector<Value> results;
  for (Operation *op : group)
    for (Value r : op->getResults())
      if (llvm::any_of(r.getUsers(),
                       [&](Operation *u) { return !inGroup.contains(u); }))
        results.push_back(r);

  Operation *last = group.back();
  OpBuilder b(last);
  auto fused = b.create<FusedOp>(last->getLoc(),
                                 ValueRange(results).getTypes(),
                                 b.getStringAttr(getAnchorName(group)));
  Block *body = b.createBlock(&fused.getBody());
  b.setInsertionPointToEnd(body);

  // Constants, sizes, views and broadcasts are cloned in, so a region
  // reads only tensors some kernel computes (or parameters and inputs).
  IRMapping map;
  std::function<void(Value)> cloneIn = [&](Value v) {
    Operation *def = v.getDefiningOp();
    if (map.contains(v) || !def || inGroup.contains(def) ||
        !(isa<ConstantOp, SizeOp>(def) || isClonedIntoConsumers(def)))
      return;
    for (Value operand : def->getOperands())
      cloneIn(operand);
    b.clone(*def, map);
  };
  for (Operation *op : group) {
    for (Value v : op->getOperands())
      cloneIn(v);
    op->moveBefore(body, body->end());
    for (OpOperand &operand : op->getOpOperands())
      if (Value mapped = map.lookupOrNull(operand.get()))
        operand.set(mapped);
  }
  b.create<YieldOp>(last->getLoc(), results);

  for (auto [value, result] : llvm::zip(results, fused.getResults())) {
    value.replaceUsesWithIf(result, [&](OpOperand &use) {
      return !fused->isAncestor(use.getOwner());
    });
    // A size taken of a group value between the group's ops now precedes
    // the region that defines it.
    for (Operation *user : llvm::to_vector(result.getUsers()))
      if (user->getBlock() == fused->getBlock() && user->isBeforeInBlock(fused))
        user->moveAfter(fused);
  }
}

} // namespace

void mlir::fm::prepareStepForKernels(func::FuncOp step) {
  Block &body = step.getBody().front();
  // Stores go last: the values they write dominate the return, and no
  // kernel may end up after a store that uses its result.
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
}

void mlir::fm::formFusionRegions(func::FuncOp step, bool fuse) {
  prepareStepForKernels(step);
  Block &body = step.getBody().front();
  SmallVector<Group> groups;
  llvm::DenseMap<Operation *, unsigned> groupOf;
  for (Operation &op : body) {
    if (staysOutside(&op) || isa<FusedOp>(op))
      continue;
    if (!fuse || groups.empty() ||
        !joinsGroup(&op, groups.back(), groupOf, groups.size() - 1))
      groups.emplace_back();
    groups.back().push_back(&op);
    groupOf[&op] = groups.size() - 1;
  }
  for (const Group &group : groups)
    wrapGroup(group);
  // Constants, sizes, views and broadcasts whose users all moved into
  // regions.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (isOpTriviallyDead(&op))
      op.erase();
}

namespace {
struct FusePass : fm::impl::FusePassBase<FusePass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn->hasAttr("fm.step"))
        formFusionRegions(fn, /*fuse=*/true);
  }
};
} // namespace
