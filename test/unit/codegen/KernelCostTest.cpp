//===- KernelCostTest.cpp - Flop counts of kernels and descriptors --------===//
//
// getKernelCost against the textbook formulas (matmul 2*M*K*P; a
// convolution and both its gradients 2*N*O*OH*OW*C/G*KH*KW), and the
// descriptor's "kernels" entries as the runtime parses them for the MLP
// that the passes produce.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "codegen/Descriptor.h"
#include "codegen/KernelCost.h"
#include "runtime/Descriptor.h"
#include "runtime/Error.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace fm;
using namespace fm::test;

TEST(KernelCostTest, ConvolutionsCountTheirMultiplyAdds) {
  // conv2 of the Fashion-MNIST CNN: [N, 32, 13, 13] * [64, 32, 3, 3] ->
  // [N, 64, 11, 11]; a strided, grouped one with a static batch.
  auto parsed = parseModule(R"(
    func.func @conv(%x: tensor<?x32x13x13xf32>, %w: tensor<64x32x3x3xf32>,
                    %g: tensor<?x64x11x11xf32>)
        -> (tensor<?x64x11x11xf32>, tensor<?x32x13x13xf32>, tensor<64x32x3x3xf32>)
        attributes {fm.kernel} {
      %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
          : tensor<?x32x13x13xf32>, tensor<64x32x3x3xf32> -> tensor<?x64x11x11xf32>
      %r = fm.relu %y : tensor<?x64x11x11xf32> -> tensor<?x64x11x11xf32>
      %dx = fm.conv2d_backward_data %g, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
          : tensor<?x64x11x11xf32>, tensor<64x32x3x3xf32> -> tensor<?x32x13x13xf32>
      %dw = fm.conv2d_backward_filter %x, %g {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
          : tensor<?x32x13x13xf32>, tensor<?x64x11x11xf32> -> tensor<64x32x3x3xf32>
      return %r, %dx, %dw : tensor<?x64x11x11xf32>, tensor<?x32x13x13xf32>, tensor<64x32x3x3xf32>
    }
    func.func @grouped(%x: tensor<2x6x9x8xf64>, %w: tensor<4x3x3x2xf64>) -> tensor<2x4x4x3xf64>
        attributes {fm.kernel} {
      %y = fm.conv2d %x, %w {strides = array<i64: 2, 3>, padding = array<i64: 1, 0, 2, 0>, dilation = array<i64: 2, 1>, groups = 2 : i64}
          : tensor<2x6x9x8xf64>, tensor<4x3x3x2xf64> -> tensor<2x4x4x3xf64>
      return %y : tensor<2x4x4x3xf64>
    })");
  ASSERT_TRUE(parsed);
  KernelCost conv = getKernelCost(parsed->lookup("conv"));
  EXPECT_TRUE(conv.known);
  const int64_t perConv = 2LL * 64 * 11 * 11 * 32 * 3 * 3;
  EXPECT_EQ(conv.perItem, 3 * perConv); // relu counts nothing
  EXPECT_EQ(conv.fixed, 0);
  EXPECT_EQ(getKernelOps(parsed->lookup("conv")),
            "conv2d+relu+conv2d_backward_data+conv2d_backward_filter");
  KernelCost grouped = getKernelCost(parsed->lookup("grouped"));
  EXPECT_EQ(grouped.perItem, 0);
  EXPECT_EQ(grouped.fixed, 2LL * 2 * 4 * 4 * 3 * (6 / 2) * 3 * 2);
}

TEST(KernelCostTest, MatMulIsAffineInTheBatchOrUnknown) {
  auto parsed = parseModule(R"(
    func.func @forward(%x: tensor<?x784xf32>, %w: tensor<784x256xf32>) -> tensor<?x256xf32>
        attributes {fm.kernel} {
      %y = fm.matmul %x, %w : tensor<?x784xf32>, tensor<784x256xf32> -> tensor<?x256xf32>
      return %y : tensor<?x256xf32>
    }
    func.func @weight_grad(%xt: tensor<784x?xf32>, %g: tensor<?x256xf32>,
                           %a: tensor<3x4xf32>, %b: tensor<4x5xf32>)
        -> (tensor<784x256xf32>, tensor<3x5xf32>) attributes {fm.kernel} {
      %dw = fm.matmul %xt, %g : tensor<784x?xf32>, tensor<?x256xf32> -> tensor<784x256xf32>
      %c = fm.matmul %a, %b : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
      return %dw, %c : tensor<784x256xf32>, tensor<3x5xf32>
    }
    func.func @gram(%x: tensor<?x8xf32>, %xt: tensor<8x?xf32>) -> tensor<?x?xf32>
        attributes {fm.kernel} {
      %y = fm.matmul %x, %xt : tensor<?x8xf32>, tensor<8x?xf32> -> tensor<?x?xf32>
      return %y : tensor<?x?xf32>
    })");
  ASSERT_TRUE(parsed);
  KernelCost forward = getKernelCost(parsed->lookup("forward"));
  EXPECT_EQ(forward.perItem, 2 * 784 * 256);
  EXPECT_EQ(forward.fixed, 0);
  KernelCost grad = getKernelCost(parsed->lookup("weight_grad"));
  EXPECT_EQ(grad.perItem, 2 * 784 * 256); // the batch is the inner extent
  EXPECT_EQ(grad.fixed, 2 * 3 * 4 * 5);
  EXPECT_FALSE(getKernelCost(parsed->lookup("gram")).known); // N^2
}

TEST(KernelCostTest, DescriptorCarriesFlopsOfTheMlp) {
  auto text = llvm::MemoryBuffer::getFile(FM_TEST_SOURCE_DIR
                                          "/test/codegen/Inputs/mlp.mlir");
  ASSERT_TRUE(text);
  auto parsed = parseModule((*text)->getBuffer().str());
  ASSERT_TRUE(parsed);
  ModelPlan plan;
  ASSERT_TRUE(mlir::succeeded(planModel(*parsed->module, plan)));
  fm::Descriptor d;
  try {
    d = fm::parseDescriptor(plan.json, plan.kernels.size());
  } catch (const fm::Error &e) {
    FAIL() << e.what();
  }
  ASSERT_EQ(d.kernels.size(), plan.kernels.size());
  for (size_t k = 0; k < plan.kernels.size(); ++k) {
    EXPECT_EQ(d.kernels[k].name, plan.kernels[k].getSymName().str());
    EXPECT_TRUE(d.kernels[k].hasFlops) << d.kernels[k].name;
    EXPECT_FALSE(d.kernels[k].ops.empty()) << d.kernels[k].name;
  }
  auto stepFlops = [&](fm::StepKind step, double &perItem, double &fixed) {
    perItem = fixed = 0;
    for (const fm::KernelCall &c : d.getStep(step).calls) {
      perItem += d.kernels[c.kernel].flopsPerItem;
      fixed += d.kernels[c.kernel].flopsFixed;
    }
  };
  // 784-256-128-10: the forward pass does 2 * (784*256 + 256*128 + 128*10)
  // flops per image; training adds every weight gradient (as much again)
  // and the input gradients of the last two layers (the first layer's
  // input is data and has none).
  const double forward = 2.0 * (784 * 256 + 256 * 128 + 128 * 10);
  double perItem, fixed;
  stepFlops(fm::StepKind::Predict, perItem, fixed);
  EXPECT_EQ(perItem, forward);
  EXPECT_EQ(fixed, 0);
  stepFlops(fm::StepKind::Train, perItem, fixed);
  EXPECT_EQ(perItem, 2 * forward + 2.0 * (256 * 128 + 128 * 10));
  EXPECT_EQ(fixed, 0);
}
