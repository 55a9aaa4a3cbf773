//===- TestLinearModel.cpp - A model library for fmrun tests --------------===//
//
// This file builds libTestLinear.so: the hand-written linear-softmax
// kernels (LinearKernels.c) behind the same entry point a generated model
// library exports, `fm_model_<Name>`, training on Fashion-MNIST. It lets
// the fmrun tests load a real model library without the compiler.
//
//===----------------------------------------------------------------------===//
#include "test/unit/runtime/LinearKernels.h"
#include "test/unit/runtime/TestSupport.h"

extern "C" const fm_model_desc_t *fm_model_TestLinear(void) {
  static const std::string json = [] {
    fm::test::LinearConfig c;
    c.model = "TestLinear";
    c.inputShape = {-1, 1, 28, 28};
    c.classes = 10;
    c.batch = 64;
    c.epochs = 1;
    c.lr = 0.01;
    c.validation = 0.1;
    return fm::test::linearDescriptor(c);
  }();
  static const fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  return &desc;
}
