//===- FmFusionOps.cpp - Verifier of fusion regions -------------*- C++ -*-===//
//
// This file implements the verifier of fm.fused (FmFusionOps.td) and the
// in-place analysis of kernels that fm-outline-kernels and codegen's
// descriptor builder share.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

using namespace mlir;
using namespace mlir::fm;

LogicalResult FusedOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != 0)
    return emitOpError("expected a body without block arguments");
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("expected the body to end in fm.yield");
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ")
           << yield.getValues().size()
           << " values whose types differ from the op's results";
  return success();
}

bool mlir::fm::isInPlaceWriteSafe(func::FuncOp kernel, unsigned argIndex,
                                  unsigned resultIndex) {
  auto ret = cast<func::ReturnOp>(kernel.getBody().front().getTerminator());
  // Codegen makes a pointwise op's value that is returned once (and is not
  // a bool) the output Func itself, so what reads it in the kernel reads
  // the stored result back instead of recomputing it.
  auto isReadBack = [&](Value v) {
    Operation *def = v.getDefiningOp();
    return def && def->hasTrait<Pointwise>() &&
           !getElementTypeOrSelf(v.getType()).isInteger(1) &&
           llvm::count(ret.getOperands(), v) == 1;
  };
  Value stored = ret.getOperand(resultIndex);
  if (!isReadBack(stored))
    return false;
  auto storedReads = [&](Value output) {
    SmallVector<Value> work = {stored};
    llvm::DenseSet<Value> seen;
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (v == output)
        return true;
      if (Operation *def = v.getDefiningOp(); def && seen.insert(v).second)
        llvm::append_range(work, def->getOperands());
    }
    return false;
  };
  BlockArgument arg = kernel.getArgument(argIndex);
  auto argShape = llvm::cast<RankedTensorType>(arg.getType()).getShape();
  SmallVector<Value> work = {arg};
  llvm::DenseSet<Value> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    if (v != arg && isReadBack(v) && llvm::is_contained(ret.getOperands(), v)) {
      // The stored result itself, or another output made from the old
      // value: harmless when the stored result reads it, since Halide
      // then computes it first.
      if (v != stored && !storedReads(v))
        return false;
      continue;
    }
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (user == ret.getOperation())
        return false; // an output that is not read back holds the old value
      // Element by element, so each element is read before it is written.
      if (!user->hasTrait<Pointwise>())
        return false;
      for (Value r : user->getResults()) {
        if (llvm::cast<RankedTensorType>(r.getType()).getShape() != argShape)
          return false;
        work.push_back(r);
      }
    }
  }
  return true;
}
