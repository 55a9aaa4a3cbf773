//===- TestMoonsModel.cpp - A binary model library for fmrun tests --------===//
//
// This file builds libTestMoons.so: the hand-written linear kernels as a
// binary classifier (one logit, label f32[N, 1], sigmoid binary
// cross-entropy, output probs = sigmoid(logit)) whose train block reads
// the shipped two-moons CSV files. It lets the fmrun tests run CSV data,
// a floating [N, 1] label and one-column outputs without the compiler.
//
//===----------------------------------------------------------------------===//
#include "test/unit/runtime/LinearKernels.h"
#include "test/unit/runtime/TestSupport.h"

extern "C" const fm_model_desc_t *fm_model_TestMoons(void) {
  static const std::string json = [] {
    fm::test::LinearConfig c;
    c.model = "TestMoons";
    c.inputShape = {-1, 2};
    c.binary = true;
    c.batch = 32;
    c.epochs = 4;
    c.lr = 0.1;
    c.validation = 0.1;
    std::string dir = FM_SOURCE_DIR_FOR_TESTS "/examples/data/";
    c.data = "{\"kind\": \"csv\", \"train\": \"" + dir +
             "moons_train.csv\", \"test\": \"" + dir +
             "moons_test.csv\", \"label\": \"label\"}";
    return fm::test::linearDescriptor(c);
  }();
  static const fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  return &desc;
}
