//===- AutoScheduleTest.cpp - Halide's autoschedulers on fm kernels ------===//
//
// Every autoscheduler fmc offers must schedule (and so load its plugin),
// compile and run the kernel shapes fm produces, with the results of the
// all-root reference: a fused matmul + bias + relu, a convolution fused
// with its bias, relu and pooling, and reductions (a loss over a softmax,
// a bias gradient). Unknown names are clear errors, in parseScheduleName
// and at the Halide end.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "codegen/AutoSchedule.h"

#include "gtest/gtest.h"

#include <tuple>

using namespace fm;
using namespace fm::test;

static const char *kKernels = R"mlir(
func.func private @dense(%x: tensor<?x40xf32>, %w: tensor<40x24xf32>, %b: tensor<24xf32>)
    -> tensor<?x24xf32> attributes {fm.kernel} {
  %0 = fm.matmul %x, %w : tensor<?x40xf32>, tensor<40x24xf32> -> tensor<?x24xf32>
  %1 = fm.add %0, %b : tensor<?x24xf32>, tensor<24xf32> -> tensor<?x24xf32>
  %2 = fm.relu %1 : tensor<?x24xf32> -> tensor<?x24xf32>
  return %2 : tensor<?x24xf32>
}
func.func private @conv(%x: tensor<?x3x12x12xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8x1x1xf32>)
    -> tensor<?x8x5x5xf32> attributes {fm.kernel} {
  %c = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x3x12x12xf32>, tensor<8x3x3x3xf32> -> tensor<?x8x10x10xf32>
  %s = fm.add %c, %b : tensor<?x8x10x10xf32>, tensor<8x1x1xf32> -> tensor<?x8x10x10xf32>
  %a = fm.relu %s : tensor<?x8x10x10xf32> -> tensor<?x8x10x10xf32>
  %p = fm.maxpool2d %a {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<?x8x10x10xf32> -> tensor<?x8x5x5xf32>
  return %p : tensor<?x8x5x5xf32>
}
func.func private @reduce(%z: tensor<?x10xf32>, %y: tensor<?xi32>, %lr: tensor<f32> {fm.scalar})
    -> (tensor<f32>, tensor<10xf32>) attributes {fm.kernel} {
  %loss = fm.cross_entropy %z, %y : tensor<?x10xf32>, tensor<?xi32> -> tensor<f32>
  %p = fm.softmax %z {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?x10xf32>
  %g = fm.mul %p, %lr : tensor<?x10xf32>, tensor<f32> -> tensor<?x10xf32>
  %db = fm.reduce_sum %g {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<10xf32>
  return %loss, %db : tensor<f32>, tensor<10xf32>
}
)mlir";

/// True if any Func of `kernel` was given a loop directive (a split, or a
/// loop that is not serial): the autoscheduler's schedule reached the
/// kernel's Funcs rather than a copy of them.
static bool hasLoopDirectives(const LoweredKernel &kernel) {
  auto directed = [](const Halide::Internal::StageSchedule &schedule) {
    if (!schedule.splits().empty())
      return true;
    for (const Halide::Internal::Dim &dim : schedule.dims())
      if (dim.for_type != Halide::Internal::ForType::Serial)
        return true;
    return false;
  };
  for (const Stage &stage : kernel.stages) {
    if (stage.kind == StageKind::Input)
      continue;
    Halide::Internal::Function f = stage.func.function();
    if (directed(f.definition().schedule()))
      return true;
    for (const Halide::Internal::Definition &update : f.updates())
      if (directed(update.schedule()))
        return true;
  }
  return false;
}

using Case = std::tuple<const char * /*schedule*/, const char * /*kernel*/>;
class AutoScheduleTest : public ::testing::TestWithParam<Case> {};

TEST_P(AutoScheduleTest, MatchesRoot) {
  auto [name, kernelName] = GetParam();
  auto parsed = parseModule(kKernels);
  ASSERT_TRUE(parsed);
  mlir::func::FuncOp func = parsed->lookup(kernelName);
  ASSERT_TRUE(func);
  ScheduleOptions options;
  std::string error;
  ASSERT_TRUE(parseScheduleName(name, options, error)) << error;
  ASSERT_EQ(options.kind, ScheduleKind::Auto);
  std::unique_ptr<JitKernel> scheduled = JitKernel::create(func, options, error);
  ASSERT_TRUE(scheduled) << error;
  EXPECT_TRUE(hasLoopDirectives(scheduled->getKernel()));
  std::unique_ptr<JitKernel> root = jitKernel(func, ScheduleKind::Root);
  ASSERT_TRUE(root);
  std::mt19937 rng(11);
  // 64 is the estimate the schedule was made for; the others take tails.
  expectSameOutputs(*scheduled, *root, {1, 5, 64, 65}, rng, 1e-4, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    Schedulers, AutoScheduleTest,
    ::testing::Combine(::testing::Values("adams2019", "mullapudi2016",
                                         "li2018"),
                       ::testing::Values("dense", "conv", "reduce")),
    [](const ::testing::TestParamInfo<Case> &info) {
      return std::string(std::get<0>(info.param)) + "_" +
             std::get<1>(info.param);
    });

TEST(AutoScheduleNames, UnknownNameIsAnError) {
  ScheduleOptions options;
  std::string error;
  EXPECT_FALSE(parseScheduleName("adams", options, error));
  EXPECT_EQ(error, "unknown schedule 'adams'; expected hand, root, "
                   "adams2019, mullapudi2016 or li2018");
  // Halide's own names are not fmc's spelling.
  EXPECT_FALSE(parseScheduleName("Adams2019", options, error));
  EXPECT_TRUE(parseScheduleName("root", options, error));
  EXPECT_EQ(options.kind, ScheduleKind::Root);
}

TEST(AutoScheduleNames, UnknownAutoschedulerIsAnError) {
  auto parsed = parseModule(kKernels);
  ASSERT_TRUE(parsed);
  ScheduleOptions options;
  options.kind = ScheduleKind::Auto;
  options.autoscheduler = "Nonesuch2030";
  std::string error;
  EXPECT_FALSE(JitKernel::create(parsed->lookup("dense"), options, error));
  EXPECT_NE(error.find("unknown autoscheduler 'Nonesuch2030'"),
            std::string::npos)
      << error;
}

TEST(AutoScheduleNames, LastLevelCacheIsPlausible) {
  uint64_t bytes = getLastLevelCacheBytes();
  EXPECT_GE(bytes, 256u << 10);
  EXPECT_LE(bytes, 4ull << 30);
}
