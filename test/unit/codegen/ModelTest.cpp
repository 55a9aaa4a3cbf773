//===- ModelTest.cpp - Codegen on the MLP the passes produce ----*- C++ -*-===//
//
// test/codegen/Inputs/mlp.mlir is examples/mlp.fm after the passes: the
// kernels and step functions codegen really receives. Every kernel must
// give the same results with the hand schedule as with all Funcs at root,
// and the runtime must accept the descriptor built from the steps.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "codegen/Descriptor.h"
#include "runtime/Descriptor.h"
#include "runtime/Error.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace fm;
using namespace fm::test;

static std::unique_ptr<ParsedModule> parseMlp() {
  auto text = llvm::MemoryBuffer::getFile(FM_TEST_SOURCE_DIR
                                          "/test/codegen/Inputs/mlp.mlir");
  if (!text)
    return nullptr;
  return parseModule((*text)->getBuffer().str());
}

TEST(ModelTest, EveryKernelMatchesRootSchedule) {
  auto parsed = parseMlp();
  ASSERT_TRUE(parsed);
  int kernels = 0;
  for (mlir::func::FuncOp func : parsed->module->getOps<mlir::func::FuncOp>()) {
    if (!func->hasAttr("fm.kernel"))
      continue;
    ++kernels;
    SCOPED_TRACE(func.getSymName().str());
    std::unique_ptr<JitKernel> hand = jitKernel(func, ScheduleKind::Hand);
    std::unique_ptr<JitKernel> root = jitKernel(func, ScheduleKind::Root);
    ASSERT_TRUE(hand && root);
    std::mt19937 rng(3);
    // Sums of 784 products in another order (and fused multiply-adds):
    // f32 rounding of about 1e-5 of the terms' magnitude.
    expectSameOutputs(*hand, *root, {1, 65}, rng, 1e-4, 1e-4);
  }
  EXPECT_GT(kernels, 10);
}

TEST(ModelTest, RuntimeAcceptsTheDescriptor) {
  auto parsed = parseMlp();
  ASSERT_TRUE(parsed);
  ModelPlan plan;
  ASSERT_TRUE(mlir::succeeded(planModel(*parsed->module, plan)));
  try {
    fm::Descriptor d = fm::parseDescriptor(plan.json, plan.kernels.size());
    EXPECT_EQ(d.model, "MLP");
    EXPECT_EQ(d.loss, "loss");
    EXPECT_EQ(d.metrics, std::vector<std::string>{"acc"});
    EXPECT_EQ(d.outputs, std::vector<std::string>{"probs"});
    // Six parameters, each with two Adam moments, initialised in order.
    EXPECT_EQ(d.getTensorsOfKind(fm::TensorKind::Param).size(), 6u);
    EXPECT_EQ(d.getTensorsOfKind(fm::TensorKind::State).size(), 12u);
    const fm::StepDesc &train = d.getStep(fm::StepKind::Train);
    ASSERT_TRUE(train.present);
    // The optimizer update writes every parameter and moment in place.
    const fm::KernelCall &update = train.calls.back();
    int weight = d.findTensor("dense.weight");
    EXPECT_EQ(update.args.back().tensor, weight);
  } catch (const fm::Error &e) {
    FAIL() << e.what();
  }
}
