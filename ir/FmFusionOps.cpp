//===- FmFusionOps.cpp - Verifier of fusion regions -------------*- C++ -*-===//
//
// This file implements the verifier of fm.fused (FmFusionOps.td).
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
