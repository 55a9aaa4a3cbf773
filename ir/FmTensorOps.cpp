//===- FmTensorOps.cpp - Tensor manipulation, reductions and other ops ---*- C++ -*-===//
//
// This file implements the shape rules, verifiers and gradients of the ops
// declared in FmTensorOps.td.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::fm;
