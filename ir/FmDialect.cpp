//===- FmDialect.cpp - The fm dialect ---------------------------*- C++ -*-===//
//
// This file implements dialect registration and constant materialisation.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

using namespace mlir;
using namespace mlir::fm;

#include "ir/FmOpsDialect.cpp.inc"
#include "ir/FmInterfaces.cpp.inc"

void FmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/FmOps.cpp.inc"
      >();
}

Operation *FmDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                          Type type, Location loc) {
  auto elements = llvm::dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}
