//===- FmConvOps.cpp - Convolution and pooling ops ---*- C++ -*-===//
//
// This file implements the shape rules, verifiers and gradients of the ops
// declared in FmConvOps.td.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::fm;
