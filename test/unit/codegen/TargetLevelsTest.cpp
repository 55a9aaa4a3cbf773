//===- TargetLevelsTest.cpp - Every kernel kind on every x86-64 level ----===//
//
// Schedules take their vector width, tiles and bounds from the target, so
// a kernel right on one CPU can be wrong on another: a filter gradient
// whose lane count assumed 8 float lanes was scheduled in 16-lane vectors
// on AVX-512, and Halide warned at compile time that the pipeline would
// fail its bounds assertion. Here a corpus of models that between them
// make every kind of stage (asserted) is compiled for each level of
// `fmc --target=portable`, 4, 8 and 16 float lanes:
//   - CompilesWithoutWarnings: every kernel, hand-scheduled for the level,
//     compiles to an object with no Halide warning at all. This needs no
//     such CPU: an AVX2 machine catches an AVX-512 bug here.
//   - MatchesReference: on every level this CPU can run (the runtime's own
//     check, which honours FM_MAX_CPU_ISA), each model's steps run fused
//     and hand-scheduled for the level and agree with the unfused, root
//     reference (ModelCheck.h). Levels the CPU lacks are skipped, and say
//     so.
//
//===----------------------------------------------------------------------===//
#include "ModelCheck.h"

#include "codegen/Targets.h"
#include "runtime/CpuFeatures.h"

#include "gtest/gtest.h"

#include <set>

using namespace fm;
using namespace fm::test;

namespace fm {
/// gtest prints a level by its name.
void PrintTo(const TargetVariant &level, std::ostream *os) {
  *os << level.name;
}
} // namespace fm

namespace {

struct CorpusModel {
  const char *name;
  std::string source;
  int batch;
  int classes;
};

/// The models: the examples, the layer that exposed the lane bug (a 1x1
/// convolution feeding a 3x3 one), and one of every other op family.
std::vector<CorpusModel> getCorpus() {
  const char *pointwiseThen3x3 = R"(
model Pointwise1x1 {
  input x: f32[N, 1, 28, 28]
  label y: i32[N]
  h = conv2d(x, 16, kernel=1) |> relu |> conv2d(8, kernel=3) |> relu
  logits = maxpool2d(h, 2) |> flatten |> dense(10)
  loss cross_entropy(logits, y)
  output probs = softmax(logits)
}
train Pointwise1x1 {
  data = fashion_mnist()
  optimizer = sgd(lr=0.1)
  batch = 5
}
)";
  const char *families = R"(
model Families {
  input x: f32[N, 4, 9, 9]
  input ids: i32[N]
  label y: i32[N]
  a = conv2d(x, 6, kernel=3, stride=2, padding=1, groups=2) |> leaky_relu(alpha=0.1)
  a = avgpool2d(a, 2) |> flatten
  d = conv2d(x, 4, kernel=3, groups=4, padding="same") |> gelu
  d = conv2d(d, 3, kernel=[1, 3], dilation=2) |> tanh |> flatten
  e = embedding(ids, 7, 5)
  z = concat([a, d, e], 1) |> dense(9) |> layer_norm |> sigmoid |> dropout(0.25)
  logits = dense(z, 4)
  loss cross_entropy(logits, y) + 0.01 * l2("*.weight")
  output top = argmax(logits)
  metric acc = accuracy(logits, y)
}
train Families {
  data = fashion_mnist()
  optimizer = sgd(lr=0.1)
  batch = 5
}
)";
  return {
      {"fashion_cnn", withSgd(readExample("fashion_cnn.fm")), 5, 10},
      {"fashion_cnn_bn", inF64(withSgd(readExample("fashion_cnn_bn.fm"))), 5,
       10},
      {"resnet_small", inF64(withSgd(readExample("resnet_small.fm"))), 3, 10},
      {"mlp", withSgd(readExample("mlp.fm")), 5, 10},
      {"pointwise_then_3x3", pointwiseThen3x3, 5, 10},
      {"families", families, 5, 4},
  };
}

class TargetLevels : public testing::TestWithParam<TargetVariant> {};

std::string levelName(const testing::TestParamInfo<TargetVariant> &info) {
  return info.param.name;
}

TEST_P(TargetLevels, CompilesWithoutWarnings) {
  const TargetVariant &level = GetParam();
  std::set<StageKind> kinds;
  int kernels = 0;
  for (const CorpusModel &model : getCorpus()) {
    SCOPED_TRACE(model.name);
    auto parsed = compileToKernels(model.source, /*fused=*/true);
    ASSERT_TRUE(parsed);
    for (auto fn : parsed->module->getOps<mlir::func::FuncOp>()) {
      if (!fn->hasAttr("fm.kernel"))
        continue;
      LoweredKernel kernel = expectCompilesWithoutWarnings(fn, level.target);
      for (const Stage &stage : kernel.stages)
        kinds.insert(stage.kind);
      ++kernels;
    }
  }
  // The corpus makes every kind of stage a schedule handles.
  for (StageKind kind :
       {StageKind::Pointwise, StageKind::Transpose, StageKind::Reshape,
        StageKind::MatMulAcc, StageKind::MatMul, StageKind::Reduction,
        StageKind::ConvPack, StageKind::ConvAcc, StageKind::Conv,
        StageKind::FilterAcc, StageKind::FilterSum, StageKind::Filter,
        StageKind::Window})
    EXPECT_TRUE(kinds.count(kind)) << "no stage of kind " << int(kind);
  std::cout << "[ levels   ] compiled " << kernels << " kernels for "
            << level.name << " (" << level.target.natural_vector_size<float>()
            << " float lanes): " << level.target.to_string() << "\n";
}

TEST_P(TargetLevels, MatchesReference) {
  const TargetVariant &level = GetParam();
  std::set<std::string> usable = getUsableCpuFeatures();
  std::string missing;
  for (const std::string &f : getCpuFeatureNames(level.target))
    if (!usable.count(f))
      missing += " " + f;
  if (!missing.empty())
    GTEST_SKIP() << "this CPU cannot run " << level.name << " code (lacks"
                 << missing << "); its kernels were only compiled";
  std::cout << "[ levels   ] running " << level.name
            << " kernels on this CPU\n";
  for (const CorpusModel &model : getCorpus()) {
    SCOPED_TRACE(model.name);
    auto fused = compile(model.source, true, level.target);
    auto reference = compile(model.source, false, getHostTarget());
    ASSERT_TRUE(fused && reference);
    checkSameSteps(*fused, *reference, model.batch, model.classes);
  }
}

INSTANTIATE_TEST_SUITE_P(X86, TargetLevels, testing::ValuesIn(getX86Levels()),
                         levelName);

} // namespace
