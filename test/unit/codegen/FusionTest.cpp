//===- FusionTest.cpp - Fused + scheduled vs unfused + root -----*- C++ -*-===//
//
// Compiles whole models twice from .fm source: fused (fm-fuse) with hand
// schedules, and unfused (every op a kernel of its own) with every Func at
// root, the plainest program Halide can make of the algorithm. Both run
// every step on the same parameters and data through the JIT; losses,
// metrics, outputs and every parameter's change after one SGD step (the
// gradient times the learning rate) must agree within 1e-5, norm-wise
// relative. The examples are checked, and a fuzz test draws random
// convolutional and dense architectures and batch sizes.
//
//===----------------------------------------------------------------------===//
#include "ModelCheck.h"

#include "gtest/gtest.h"

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

using namespace fm;
using namespace fm::test;

namespace {

/// Runs `steps` training steps, each reading the parameters and state the
/// previous one stored (the in-place updates of the optimizer kernels),
/// and returns the final values of everything stored.
std::map<std::string, Host> train(Compiled &c, Inputs &inputs, int steps) {
  std::map<std::string, Host> last;
  for (int s = 0; s < steps; ++s)
    for (auto &[key, value] : runStep(c, "train_step", inputs))
      if (key.rfind("store ", 0) == 0)
        last[key] = inputs.values[key.substr(6)] = value;
  return last;
}

class InPlaceUpdates : public testing::TestWithParam<const char *> {};

TEST_P(InPlaceUpdates, MatchUnfused) {
  // A fused update writes parameters and optimizer state in place in one
  // kernel (Adam's new parameter reads the new moments back; SGD with
  // momentum and coupled weight decay reads the old parameter into the
  // momentum, so the parameter goes through a copy); unfused, every op is
  // a kernel writing a fresh buffer.
  std::string source = R"(
model Net {
  input x: f32[N, 12]
  label y: i32[N]
  h = dense(x, 16) |> relu
  logits = dense(h, 3)
  loss cross_entropy(logits, y)
}
train Net {
  data = fashion_mnist()
  optimizer = OPTIMIZER
  batch = 8
  epochs = 1
}
)";
  source.replace(source.find("OPTIMIZER"), 9, GetParam());
  Halide::Target host = getHostTarget();
  auto fused = compile(source, true, host);
  auto unfused = compile(source, false, host);
  ASSERT_TRUE(fused && unfused);
  Inputs a, b;
  a.batch = b.batch = 8;
  a.classes = b.classes = 3;
  std::map<std::string, Host> expected = train(*unfused, a, 3);
  // The same draws: parameters and data are drawn on first use, in order.
  std::map<std::string, Host> actual = train(*fused, b, 3);
  ASSERT_EQ(actual.size(), expected.size());
  EXPECT_GE(expected.size(), 8u); // 4 parameters and their state
  Inputs initial;
  initial.batch = 8;
  initial.classes = 3;
  runStep(*unfused, "train_step", initial); // the initial values
  for (auto &[key, e] : expected) {
    SCOPED_TRACE(key);
    Host da = actual.at(key), de = e;
    const Host &before = initial.values.at(key.substr(6));
    for (int64_t i = 0; i < e.size(); ++i) {
      da[i] -= before[i];
      de[i] -= before[i];
    }
    EXPECT_LT(relativeError(da, de), 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, InPlaceUpdates,
    testing::Values("adam(lr=0.01, weight_decay=0.01)",
                    "sgd(lr=0.1, momentum=0.9, weight_decay=0.01)"));

TEST(FusionTest, ExamplesFusedMatchUnfused) {
  for (const char *name : {"fashion_cnn.fm", "fashion_cnn_bn.fm"}) {
    SCOPED_TRACE(name);
    std::string source = withSgd(readExample(name));
    if (std::string(name) == "fashion_cnn_bn.fm")
      source = inF64(source);
    auto [fused, unfused] =
        checkFusedMatchesUnfused(source, 5, 10, getHostTarget());
    // Fusion did happen: far fewer kernels than ops.
    EXPECT_GT(fused, 10);
    EXPECT_LT(2 * fused, unfused);
  }
}

/// A random model: a few convolution blocks (random filters, kernel,
/// stride, padding, groups, bias, activation, pooling; batch norm in f64),
/// then dense layers, on a random image size and batch.
std::string randomModel(std::mt19937 &rng, int &batch) {
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  int channels = pick(1, 3), size = pick(6, 12);
  batch = std::vector<int>{1, 3, 8, 17}[pick(0, 3)];
  // Batch norm's gradient subtracts means over a small batch; in f32 the
  // cancellation alone leaves ~1e-5 of rounding, whatever the schedule.
  bool batchNorm = pick(0, 2) == 0;
  std::ostringstream m;
  m << "model Fuzz {\n  input x: " << (batchNorm ? "f64" : "f32") << "[N, "
    << channels << ", " << size << ", " << size
    << "]\n  label y: i32[N]\n  h = x\n";
  const char *activations[] = {"relu", "tanh", "sigmoid", "gelu"};
  for (int block = pick(1, 2); block > 0; --block) {
    int groups = channels % 2 == 0 && pick(0, 2) == 0 ? 2 : 1;
    int filters = groups * pick(1, 4);
    int kernel = std::min(pick(1, 3), size);
    int stride = pick(1, 3) == 1 ? 2 : 1;
    bool same = pick(0, 1) && stride == 1;
    bool bias = pick(0, 2) != 0;
    m << "  h = conv2d(h, " << filters << ", kernel=" << kernel
      << ", stride=" << stride << (same ? ", padding=\"same\"" : "")
      << ", groups=" << groups << ", bias=" << (bias ? "true" : "false")
      << ")\n";
    size = same ? size : (size - kernel) / stride + 1;
    channels = filters;
    if (batchNorm)
      m << "  h = batch_norm(h)\n";
    m << "  h = " << activations[pick(0, 3)] << "(h)\n";
    if (size >= 4 && pick(0, 1)) {
      m << "  h = " << (pick(0, 1) ? "maxpool2d" : "avgpool2d") << "(h, 2)\n";
      size /= 2;
    }
  }
  m << "  h = flatten(h) |> dense(" << pick(3, 12) << ") |> relu\n"
    << "  logits = dense(h, 4)\n"
    << "  loss cross_entropy(logits, y)\n"
    << "  output probs = softmax(logits)\n"
    << "  metric acc = accuracy(logits, y)\n}\n"
    << "train Fuzz {\n  data = fashion_mnist()\n"
    << "  optimizer = sgd(lr=0.1, momentum=0.9)\n  batch = " << batch
    << "\n  epochs = 1\n}\n";
  return m.str();
}

TEST(FusionTest, FuzzRandomModelsFusedMatchUnfused) {
  std::mt19937 rng(2026);
  for (int i = 0; i < 5; ++i) {
    int batch = 1;
    std::string source = randomModel(rng, batch);
    SCOPED_TRACE("model " + std::to_string(i) + ", batch " +
                 std::to_string(batch) + ":\n" + source);
    checkFusedMatchesUnfused(source, batch, 4, getHostTarget());
  }
}

} // namespace
