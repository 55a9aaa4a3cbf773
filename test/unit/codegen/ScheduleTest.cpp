//===- ScheduleTest.cpp - Hand schedules agree with all-root ones --------===//
//
// Schedules must not change results. Each kernel here mixes anchors the
// way fused groups do (matmul + bias + activation, a loss with its
// softmax, the backward matmuls with transposes, an optimizer update with
// several outputs, a batch-norm gradient whose sums over rows of 14 are
// fused into rows of 196, share one loop but for the one that reads
// another, and read a pooling gradient computed once) and runs with the
// hand schedule and with every Func at root, on random data, for batch
// extents 1, 3, 64 and 65.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "gtest/gtest.h"

using namespace fm;
using namespace fm::test;

static const char *kKernels = R"mlir(
func.func private @forward(%x: tensor<?x20xf32>, %w1: tensor<20x32xf32>, %b1: tensor<32xf32>,
                           %w2: tensor<32x10xf32>, %b2: tensor<10xf32>, %y: tensor<?xi32>)
    -> (tensor<f32>, tensor<f32>, tensor<?x10xf32>) attributes {fm.kernel} {
  %0 = fm.matmul %x, %w1 : tensor<?x20xf32>, tensor<20x32xf32> -> tensor<?x32xf32>
  %1 = fm.add %0, %b1 : tensor<?x32xf32>, tensor<32xf32> -> tensor<?x32xf32>
  %2 = fm.relu %1 : tensor<?x32xf32> -> tensor<?x32xf32>
  %3 = fm.matmul %2, %w2 : tensor<?x32xf32>, tensor<32x10xf32> -> tensor<?x10xf32>
  %4 = fm.add %3, %b2 : tensor<?x10xf32>, tensor<10xf32> -> tensor<?x10xf32>
  %5 = fm.cross_entropy %4, %y : tensor<?x10xf32>, tensor<?xi32> -> tensor<f32>
  %6 = fm.accuracy %4, %y : tensor<?x10xf32>, tensor<?xi32> -> tensor<f32>
  %7 = fm.softmax %4 {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?x10xf32>
  return %5, %6, %7 : tensor<f32>, tensor<f32>, tensor<?x10xf32>
}
func.func private @backward(%h: tensor<?x32xf32>, %z: tensor<?x10xf32>, %y: tensor<?xi32>,
                            %w2: tensor<32x10xf32>)
    -> (tensor<32x10xf32>, tensor<10xf32>, tensor<?x32xf32>) attributes {fm.kernel} {
  %p = fm.softmax %z {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?x10xf32>
  %hot = fm.one_hot %y {classes = 10 : i64} : tensor<?xi32> -> tensor<?x10xf32>
  %n = fm.size %z {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<f32>
  %d = fm.sub %p, %hot : tensor<?x10xf32>, tensor<?x10xf32> -> tensor<?x10xf32>
  %g = fm.div %d, %n : tensor<?x10xf32>, tensor<f32> -> tensor<?x10xf32>
  %ht = fm.transpose %h {perm = array<i64: 1, 0>} : tensor<?x32xf32> -> tensor<32x?xf32>
  %dw = fm.matmul %ht, %g : tensor<32x?xf32>, tensor<?x10xf32> -> tensor<32x10xf32>
  %db = fm.reduce_sum %g {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<10xf32>
  %wt = fm.transpose %w2 {perm = array<i64: 1, 0>} : tensor<32x10xf32> -> tensor<10x32xf32>
  %dh = fm.matmul %g, %wt : tensor<?x10xf32>, tensor<10x32xf32> -> tensor<?x32xf32>
  %zero = fm.constant dense<0.0> : tensor<f32>
  %mask = fm.compare "gt", %h, %zero : tensor<?x32xf32>, tensor<f32> -> tensor<?x32xi1>
  %dx = fm.select %mask, %dh, %zero : tensor<?x32xi1>, tensor<?x32xf32>, tensor<f32> -> tensor<?x32xf32>
  return %dw, %db, %dx : tensor<32x10xf32>, tensor<10xf32>, tensor<?x32xf32>
}
func.func private @adam(%p: tensor<64x48xf32>, %m: tensor<64x48xf32>, %v: tensor<64x48xf32>,
                        %g: tensor<64x48xf32>, %lr: tensor<f32> {fm.scalar}, %t: tensor<f32> {fm.scalar})
    -> (tensor<64x48xf32>, tensor<64x48xf32>, tensor<64x48xf32>) attributes {fm.kernel} {
  %b1 = fm.constant dense<0.9> : tensor<f32>
  %b2 = fm.constant dense<0.999> : tensor<f32>
  %one = fm.constant dense<1.0> : tensor<f32>
  %eps = fm.constant dense<1.0e-8> : tensor<f32>
  %c1 = fm.sub %one, %b1 : tensor<f32>, tensor<f32> -> tensor<f32>
  %c2 = fm.sub %one, %b2 : tensor<f32>, tensor<f32> -> tensor<f32>
  %m0 = fm.mul %m, %b1 : tensor<64x48xf32>, tensor<f32> -> tensor<64x48xf32>
  %m1 = fm.mul %g, %c1 : tensor<64x48xf32>, tensor<f32> -> tensor<64x48xf32>
  %mn = fm.add %m0, %m1 : tensor<64x48xf32>, tensor<64x48xf32> -> tensor<64x48xf32>
  %gg = fm.mul %g, %g : tensor<64x48xf32>, tensor<64x48xf32> -> tensor<64x48xf32>
  %v0 = fm.mul %v, %b2 : tensor<64x48xf32>, tensor<f32> -> tensor<64x48xf32>
  %v1 = fm.mul %gg, %c2 : tensor<64x48xf32>, tensor<f32> -> tensor<64x48xf32>
  %vn = fm.add %v0, %v1 : tensor<64x48xf32>, tensor<64x48xf32> -> tensor<64x48xf32>
  %bc1 = fm.pow %b1, %t : tensor<f32>, tensor<f32> -> tensor<f32>
  %bc2 = fm.pow %b2, %t : tensor<f32>, tensor<f32> -> tensor<f32>
  %k1 = fm.sub %one, %bc1 : tensor<f32>, tensor<f32> -> tensor<f32>
  %k2 = fm.sub %one, %bc2 : tensor<f32>, tensor<f32> -> tensor<f32>
  %mh = fm.div %mn, %k1 : tensor<64x48xf32>, tensor<f32> -> tensor<64x48xf32>
  %vh = fm.div %vn, %k2 : tensor<64x48xf32>, tensor<f32> -> tensor<64x48xf32>
  %sq = fm.sqrt %vh : tensor<64x48xf32> -> tensor<64x48xf32>
  %den = fm.add %sq, %eps : tensor<64x48xf32>, tensor<f32> -> tensor<64x48xf32>
  %st = fm.div %mh, %den : tensor<64x48xf32>, tensor<64x48xf32> -> tensor<64x48xf32>
  %up = fm.mul %st, %lr : tensor<64x48xf32>, tensor<f32> -> tensor<64x48xf32>
  %pn = fm.sub %p, %up : tensor<64x48xf32>, tensor<64x48xf32> -> tensor<64x48xf32>
  return %pn, %mn, %vn : tensor<64x48xf32>, tensor<64x48xf32>, tensor<64x48xf32>
}
func.func private @flatten_chain(%x: tensor<?x2x3x4xf32>, %w1: tensor<24x40xf32>, %w2: tensor<40x17xf32>)
    -> (tensor<?x17xf32>, tensor<40xf32>) attributes {fm.kernel} {
  %f = fm.reshape %x : tensor<?x2x3x4xf32> -> tensor<?x24xf32>
  %0 = fm.matmul %f, %w1 : tensor<?x24xf32>, tensor<24x40xf32> -> tensor<?x40xf32>
  %1 = fm.tanh %0 : tensor<?x40xf32> -> tensor<?x40xf32>
  %2 = fm.matmul %1, %w2 : tensor<?x40xf32>, tensor<40x17xf32> -> tensor<?x17xf32>
  %3 = fm.reduce_mean %1 {axes = array<i64: 0>} : tensor<?x40xf32> -> tensor<40xf32>
  return %2, %3 : tensor<?x17xf32>, tensor<40xf32>
}
func.func private @batch_norm_backward(%a: tensor<?x8x14x14xf32>, %gp: tensor<?x8x7x7xf32>,
                                       %y: tensor<?x8x14x14xf32>, %var: tensor<1x8x1x1xf32>)
    -> (tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<?x8x14x14xf32>) attributes {fm.kernel} {
  %p = fm.maxpool2d_backward %a, %gp {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<?x8x14x14xf32>, tensor<?x8x7x7xf32> -> tensor<?x8x14x14xf32>
  %zero = fm.constant dense<0.0> : tensor<f32>
  %mask = fm.compare "gt", %a, %zero : tensor<?x8x14x14xf32>, tensor<f32> -> tensor<?x8x14x14xi1>
  %g = fm.select %mask, %p, %zero : tensor<?x8x14x14xi1>, tensor<?x8x14x14xf32>, tensor<f32> -> tensor<?x8x14x14xf32>
  %s1 = fm.reduce_sum %g {axes = array<i64: 0, 2, 3>, keepdims = true} : tensor<?x8x14x14xf32> -> tensor<1x8x1x1xf32>
  %gy = fm.mul %g, %y : tensor<?x8x14x14xf32>, tensor<?x8x14x14xf32> -> tensor<?x8x14x14xf32>
  %s2 = fm.reduce_sum %gy {axes = array<i64: 0, 2, 3>, keepdims = true} : tensor<?x8x14x14xf32> -> tensor<1x8x1x1xf32>
  %n = fm.size %a {axes = array<i64: 0, 2, 3>} : tensor<?x8x14x14xf32> -> tensor<f32>
  %m1 = fm.div %s1, %n : tensor<1x8x1x1xf32>, tensor<f32> -> tensor<1x8x1x1xf32>
  %m2 = fm.div %s2, %n : tensor<1x8x1x1xf32>, tensor<f32> -> tensor<1x8x1x1xf32>
  %c = fm.sub %g, %m1 : tensor<?x8x14x14xf32>, tensor<1x8x1x1xf32> -> tensor<?x8x14x14xf32>
  %t = fm.mul %y, %m2 : tensor<?x8x14x14xf32>, tensor<1x8x1x1xf32> -> tensor<?x8x14x14xf32>
  %d = fm.sub %c, %t : tensor<?x8x14x14xf32>, tensor<?x8x14x14xf32> -> tensor<?x8x14x14xf32>
  %eps = fm.constant dense<1.0e-5> : tensor<f32>
  %ve = fm.add %var, %eps : tensor<1x8x1x1xf32>, tensor<f32> -> tensor<1x8x1x1xf32>
  %root = fm.sqrt %ve : tensor<1x8x1x1xf32> -> tensor<1x8x1x1xf32>
  %dx = fm.div %d, %root : tensor<?x8x14x14xf32>, tensor<1x8x1x1xf32> -> tensor<?x8x14x14xf32>
  // A sum of squares: a plain sum of dx cancels to about 0, and its
  // rounding would differ between loop orders.
  %dx2 = fm.mul %dx, %dx : tensor<?x8x14x14xf32>, tensor<?x8x14x14xf32> -> tensor<?x8x14x14xf32>
  %s3 = fm.reduce_sum %dx2 {axes = array<i64: 0, 2, 3>, keepdims = true} : tensor<?x8x14x14xf32> -> tensor<1x8x1x1xf32>
  return %s1, %s2, %s3, %dx : tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<?x8x14x14xf32>
}
)mlir";

class ScheduleTest : public ::testing::TestWithParam<const char *> {};

TEST_P(ScheduleTest, HandMatchesRoot) {
  auto parsed = parseModule(kKernels);
  ASSERT_TRUE(parsed);
  mlir::func::FuncOp func = parsed->lookup(GetParam());
  ASSERT_TRUE(func);
  std::unique_ptr<JitKernel> hand = jitKernel(func, ScheduleKind::Hand);
  std::unique_ptr<JitKernel> root = jitKernel(func, ScheduleKind::Root);
  ASSERT_TRUE(hand && root);
  std::mt19937 rng(7);
  expectSameOutputs(*hand, *root, {1, 3, 64, 65}, rng, 1e-5, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Kernels, ScheduleTest,
                         ::testing::Values("forward", "backward", "adam",
                                           "flatten_chain",
                                           "batch_norm_backward"));
