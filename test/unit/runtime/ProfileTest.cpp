//===- ProfileTest.cpp - Per-kernel timing and descriptor flops -----------===//
//
// Model's profile mode on the hand-written linear model: every call site
// counted, times that add up to the step and fit inside the wall time,
// flops from the descriptor's "kernels" entries at each run's batch, and
// nothing recorded while profiling is off. Also the "kernels" entries'
// parsing: optional, and checked when present.
//
//===----------------------------------------------------------------------===//
#include "runtime/Descriptor.h"
#include "runtime/Model.h"
#include "test/unit/runtime/LinearKernels.h"
#include "test/unit/runtime/TestSupport.h"

#include <chrono>

using namespace fm;
using namespace fm::test;

/// The linear model's descriptor with a "kernels" array: `entries` for the
/// first kernels, bare names for the rest.
static std::string withKernels(const std::vector<std::string> &entries,
                               int count = FM_TEST_NUM_KERNELS) {
  std::string list;
  for (int k = 0; k < count; ++k)
    list += std::string(k ? ", " : "") +
            (k < static_cast<int>(entries.size())
                 ? entries[k]
                 : "{\"name\": \"k" + std::to_string(k) + "\"}");
  std::string json = linearDescriptor(LinearConfig());
  return "{\"kernels\": [" + list + "], " + json.substr(json.find('{') + 1);
}

// x[N, 16] @ W[16, 4]: 2 * 16 * 4 flops per sample, forward and backward;
// the update's figure is arbitrary, to check the fixed term.
static const std::vector<std::string> kLinearFlops = {
    R"({"name": "forward", "ops": "matmul+add", "flops": [128, 0]})", R"({"name": "loss_grad"})",
    R"({"name": "loss"})", R"({"name": "backward", "flops": [128, 0]})",
    R"({"name": "sgd", "flops": [0, 3]})"};

TEST(ProfileTest, CountsCallsAndTimesAddUp) {
  std::string json = withKernels(kLinearFlops);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  EXPECT_FALSE(model.isProfiling());
  model.run(StepKind::Train, 16, 0.1f);
  EXPECT_EQ(model.getProfile(StepKind::Train).runs, 0); // off: nothing

  model.setProfiling(true);
  auto start = std::chrono::steady_clock::now();
  for (int64_t batch : {16, 8, 16})
    model.run(StepKind::Train, batch, 0.1f);
  double wall = std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  model.setProfiling(false);
  model.run(StepKind::Train, 16, 0.1f); // off again: not counted

  Model::StepProfile p = model.getProfile(StepKind::Train);
  EXPECT_EQ(p.runs, 3);
  ASSERT_EQ(p.calls.size(), model.getDescriptor().getStep(StepKind::Train)
                                .calls.size());
  double sum = 0;
  for (const Model::CallProfile &c : p.calls) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.calls, 3);
    EXPECT_GE(c.seconds, 0);
    // The fastest call is one of the three: at most their mean.
    EXPECT_GE(c.bestSeconds, 0);
    EXPECT_LE(c.bestSeconds, c.seconds / 3 + 1e-12);
    sum += c.seconds;
  }
  EXPECT_NEAR(sum, p.seconds, 1e-9);
  EXPECT_LE(p.seconds, wall);

  // Call sites in step order: forward, loss gradient, backward, and the
  // update once per parameter (two sites of one kernel).
  ASSERT_EQ(p.calls.size(), 5u);
  EXPECT_EQ(p.calls[0].kernel, FM_TEST_LINEAR_FORWARD);
  EXPECT_EQ(p.calls[0].name, "linear_forward");
  EXPECT_TRUE(p.calls[0].hasFlops);
  EXPECT_EQ(p.calls[0].flops, 128.0 * (16 + 8 + 16));
  EXPECT_FALSE(p.calls[1].hasFlops);
  EXPECT_EQ(p.calls[1].flops, 0);
  EXPECT_EQ(p.calls[2].flops, 128.0 * 40);
  EXPECT_EQ(p.calls[3].kernel, p.calls[4].kernel);
  EXPECT_EQ(p.calls[3].flops, 3.0 * 3);

  model.resetProfile();
  EXPECT_EQ(model.getProfile(StepKind::Train).runs, 0);
  EXPECT_TRUE(model.getProfile(StepKind::Train).calls.empty());
}

TEST(ProfileTest, OptionTurnsProfilingOnPerStep) {
  std::string json = linearDescriptor(LinearConfig());
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model::Options options;
  options.profile = true;
  Model model(&desc, options);
  EXPECT_TRUE(model.isProfiling());
  model.run(StepKind::Predict, 4);
  model.run(StepKind::Predict, 4);
  Model::StepProfile p = model.getProfile(StepKind::Predict);
  EXPECT_EQ(p.runs, 2);
  for (const Model::CallProfile &c : p.calls) {
    EXPECT_EQ(c.calls, 2);
    EXPECT_FALSE(c.hasFlops); // a descriptor without "kernels"
  }
  EXPECT_EQ(model.getProfile(StepKind::Train).runs, 0);
}

TEST(ProfileTest, KernelsEntriesAreOptionalAndChecked) {
  Descriptor old = parseDescriptor(linearDescriptor(LinearConfig()),
                                   FM_TEST_NUM_KERNELS);
  ASSERT_EQ(old.kernels.size(), size_t(FM_TEST_NUM_KERNELS));
  EXPECT_FALSE(old.kernels[0].hasFlops);
  EXPECT_EQ(old.kernels[0].getFlops(64), 0);

  Descriptor d = parseDescriptor(withKernels(kLinearFlops), FM_TEST_NUM_KERNELS);
  EXPECT_EQ(d.kernels[0].name, "forward");
  EXPECT_EQ(d.kernels[0].ops, "matmul+add");
  EXPECT_TRUE(d.kernels[0].hasFlops);
  EXPECT_EQ(d.kernels[0].getFlops(64), 128.0 * 64);
  EXPECT_EQ(d.kernels[4].getFlops(64), 3.0);
  EXPECT_FALSE(d.kernels[5].hasFlops);

  EXPECT_FM_ERROR(parseDescriptor(withKernels({}, 2), FM_TEST_NUM_KERNELS),
                  "lists 2 kernels but the library has 11");
  EXPECT_FM_ERROR(parseDescriptor(withKernels({R"({"flops": [1]})"}),
                                  FM_TEST_NUM_KERNELS),
                  "kernel 0: expected \"flops\": [per_item, fixed]");
  EXPECT_FM_ERROR(parseDescriptor(withKernels({R"({"flops": [-1, 0]})"}),
                                  FM_TEST_NUM_KERNELS),
                  "flops must not be negative");
}
