//===- MemoryPlanTest.cpp - The temps' memory planner -----------*- C++ -*-===//
//
// planMemory on small hand-made descriptors whose best layouts are known,
// and the Model's arena on the hand-written linear model: training with
// shared temps gives the same bits as with a buffer per temp. The planner
// on compiled models (the MLP and the CNN) is MemoryPlanModelsTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "MemoryPlanCheck.h"
#include "TestSupport.h"

#include "LinearKernels.h"
#include "runtime/Descriptor.h"
#include "runtime/MemoryPlan.h"
#include "runtime/Model.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace fm;
using namespace fm::test;

namespace {
/// A descriptor from terse parts: tensors as (name, kind, shape) and, per
/// step, calls as lists of tensor ids (kernel 0; the planner ignores which
/// kernel) and results.
struct Spec {
  struct Tensor {
    std::string name, kind, shape;
  };
  std::vector<Tensor> tensors;
  std::vector<std::vector<int>> train, predict;
  std::vector<std::pair<std::string, int>> trainResults, predictResults;
};
} // namespace

static std::string toJson(const Spec &s) {
  std::string j = R"({"format": "fm-model", "version": 1, "model": "P",
                      "tensors": [)";
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    const Spec::Tensor &t = s.tensors[i];
    j += std::string(i ? ", " : "") + R"({"name": ")" + t.name +
         R"(", "kind": ")" + t.kind + R"(", "dtype": "f32", "shape": [)" +
         t.shape + "]" +
         (t.kind == "param" ? R"(, "init": {"kind": "zeros", "args": []})"
                            : "") +
         "}";
  }
  auto step = [](const std::vector<std::vector<int>> &calls,
                 const std::vector<std::pair<std::string, int>> &results) {
    std::string j = R"({"calls": [)";
    for (size_t c = 0; c < calls.size(); ++c) {
      j += std::string(c ? ", " : "") + R"({"kernel": 0, "args": [)";
      for (size_t a = 0; a < calls[c].size(); ++a)
        j += std::string(a ? ", " : "") + R"({"tensor": )" +
             std::to_string(calls[c][a]) + "}";
      j += "]}";
    }
    j += R"(], "results": {)";
    for (size_t r = 0; r < results.size(); ++r)
      j += std::string(r ? ", " : "") + "\"" + results[r].first +
           "\": " + std::to_string(results[r].second);
    return j + "}}";
  };
  j += R"(], "steps": {)";
  bool hasTrain = !s.train.empty();
  if (hasTrain)
    j += R"("train_step": )" + step(s.train, s.trainResults);
  if (!s.predict.empty())
    j += std::string(hasTrain ? ", " : "") + R"("predict": )" +
         step(s.predict, s.predictResults);
  j += "}, ";
  j += hasTrain ? R"("loss": "loss", )" : "";
  j += R"("metrics": [], "outputs": [)";
  for (size_t r = 0; r < s.predictResults.size(); ++r)
    j += std::string(r ? ", " : "") + "\"" + s.predictResults[r].first + "\"";
  return j + R"(], "train": {"batch": 4}})";
}

static Descriptor parse(const Spec &s) { return parseDescriptor(toJson(s), 1); }

static size_t offsetOf(const MemoryPlan &plan, int id) {
  return plan.find(id)->offset;
}

TEST(MemoryPlanTest, ChainReusesEveryOtherBuffer) {
  // x -> a -> b -> c -> d: a kernel's input and output are both live in
  // its call, so a, b, c need two buffers and no more; the result d has
  // bytes of its own.
  Spec s;
  s.tensors = {{"x", "input", "-1, 16"}, {"a", "temp", "-1, 16"},
               {"b", "temp", "-1, 16"}, {"c", "temp", "-1, 16"},
               {"d", "temp", "-1, 16"}};
  s.predict = {{0, 1}, {1, 2}, {2, 3}, {3, 4}};
  s.predictResults = {{"out", 4}};
  Descriptor d = parse(s);
  MemoryPlan plan = planMemory(d, 4); // 4 * 16 * 4 = 256 bytes each
  EXPECT_EQ(plan.unplannedBytes, 4u * 256);
  EXPECT_EQ(plan.arenaBytes, 3u * 256);
  EXPECT_EQ(offsetOf(plan, 1), offsetOf(plan, 3));
  EXPECT_NE(offsetOf(plan, 1), offsetOf(plan, 2));
  EXPECT_FALSE(plan.find(4)->shared);
  EXPECT_EQ(checkPlanAgainstDescriptor(d, plan), "");
  // Live ranges: the writing call through the last reading call; the
  // result to the end of the step (index 4 = after the last call).
  const PlannedTensor *b = plan.find(2);
  ASSERT_EQ(b->live.size(), 1u);
  EXPECT_EQ(b->live[0].first, 1);
  EXPECT_EQ(b->live[0].last, 2);
  EXPECT_EQ(plan.find(4)->live[0].last, 4);
}

TEST(MemoryPlanTest, ResultsKeepTheirBytes) {
  // "loss" is written by the first call and read by nobody in the step,
  // but the runtime reads it afterwards: nothing may take its bytes.
  Spec s;
  s.tensors = {{"x", "input", "-1, 8"}, {"loss", "temp", ""},
               {"a", "temp", ""},       {"b", "temp", ""},
               {"c", "temp", ""}};
  s.train = {{0, 1}, {0, 2}, {2, 3}, {3, 4}};
  s.trainResults = {{"loss", 1}};
  Descriptor d = parse(s);
  MemoryPlan plan = planMemory(d, 4);
  for (int id : {2, 3, 4})
    EXPECT_NE(offsetOf(plan, id), offsetOf(plan, 1)) << id;
  EXPECT_EQ(plan.find(1)->live[0].last, 4); // to the end of the step
  EXPECT_FALSE(plan.find(1)->shared);
  EXPECT_EQ(checkPlanAgainstDescriptor(d, plan), "");
}

TEST(MemoryPlanTest, StepsShareTheArena) {
  // Steps never overlap: train's temps and predict's temps use the same
  // bytes; a temp used in both steps is live in each step separately.
  Spec s;
  s.tensors = {{"x", "input", "-1, 16"}, {"w", "param", "16"},
               {"t1", "temp", "-1, 16"}, {"loss", "temp", ""},
               {"p1", "temp", "-1, 16"}, {"both", "temp", "-1, 16"},
               {"out", "temp", "-1, 16"}};
  s.train = {{0, 1, 2}, {2, 5}, {5, 3}, {3, 1, 1}};
  s.trainResults = {{"loss", 3}};
  s.predict = {{0, 4}, {4, 5}, {5, 6}};
  s.predictResults = {{"out", 6}};
  Descriptor d = parse(s);
  MemoryPlan plan = planMemory(d, 4);
  ASSERT_EQ(plan.find(5)->live.size(), 2u);
  EXPECT_EQ(plan.find(5)->live[0].step, StepKind::Train);
  EXPECT_EQ(plan.find(5)->live[1].step, StepKind::Predict);
  EXPECT_EQ(offsetOf(plan, 2), offsetOf(plan, 4)); // t1 and p1
  // Shared: t1/p1 and both; then the results' own bytes.
  EXPECT_EQ(plan.arenaBytes, 2u * 256 + 64 + 256);
  EXPECT_EQ(checkPlanAgainstDescriptor(d, plan), "");
  // Params never enter the arena.
  EXPECT_EQ(plan.find(1), nullptr);
}

TEST(MemoryPlanTest, InPlaceAndUnusedTemps) {
  // A kernel that reads and writes `a` in place keeps it live across the
  // call; an unused temp gets bytes of its own.
  Spec s;
  s.tensors = {{"x", "input", "-1, 16"}, {"a", "temp", "-1, 16"},
               {"b", "temp", "-1, 16"},  {"unused", "temp", "-1, 16"},
               {"c", "temp", "-1, 16"}};
  s.predict = {{0, 1}, {1, 1}, {1, 2}, {2, 4}};
  s.predictResults = {{"out", 4}};
  Descriptor d = parse(s);
  MemoryPlan plan = planMemory(d, 4);
  EXPECT_EQ(plan.find(1)->live[0].last, 2);
  EXPECT_FALSE(plan.find(3)->shared);
  EXPECT_NE(offsetOf(plan, 1), offsetOf(plan, 2));
  EXPECT_EQ(plan.arenaBytes, 4u * 256); // a, b, then unused and c's own
  EXPECT_EQ(checkPlanAgainstDescriptor(d, plan), "");
}

TEST(MemoryPlanTest, BatchScalesAndWithoutReuseEveryTempIsItsOwn) {
  Spec s;
  s.tensors = {{"x", "input", "-1, 3"}, {"a", "temp", "-1, 3"},
               {"b", "temp", "-1, 3"},  {"c", "temp", "-1, 3"},
               {"s", "temp", "2"}};
  s.predict = {{0, 1}, {1, 2}, {2, 3}, {3, 4}};
  s.predictResults = {{"out", 4}};
  Descriptor d = parse(s);
  // 100 * 3 * 4 = 1200 bytes, rounded to 1216; the scalar pair to 64.
  MemoryPlan plan = planMemory(d, 100);
  EXPECT_EQ(plan.find(1)->bytes, 1216u);
  EXPECT_EQ(plan.find(4)->bytes, 64u);
  EXPECT_EQ(plan.unplannedBytes, 3u * 1216 + 64);
  EXPECT_EQ(plan.arenaBytes, 2u * 1216 + 64); // a and c share
  for (const PlannedTensor &p : plan.tensors)
    EXPECT_EQ(p.offset % kPlanAlignment, 0u);
  MemoryPlan own = planMemory(d, 100, /*reuse=*/false);
  EXPECT_EQ(own.arenaBytes, own.unplannedBytes);
  EXPECT_EQ(offsetOf(own, 2), 1216u);
  EXPECT_EQ(checkPlanAgainstDescriptor(d, own), "");
}

TEST(MemoryPlanTest, CheckerCatchesASharedLiveByte) {
  // The checker the model tests rely on must itself fail on a bad plan.
  Spec s;
  s.tensors = {{"x", "input", "-1, 16"}, {"a", "temp", "-1, 16"},
               {"b", "temp", "-1, 16"}};
  s.predict = {{0, 1}, {1, 2}};
  s.predictResults = {{"out", 2}};
  Descriptor d = parse(s);
  MemoryPlan plan = planMemory(d, 4);
  plan.tensors[1].offset = plan.tensors[0].offset + 64;
  EXPECT_NE(checkPlanAgainstDescriptor(d, plan), "");
}

//===----------------------------------------------------------------------===//
// The arena in the Model
//===----------------------------------------------------------------------===//

/// Trains the linear model a few steps at growing and shrinking batches
/// and returns every param and state byte plus the results and outputs.
static std::vector<uint8_t> trainLinear(bool planMemory) {
  LinearConfig c;
  std::string json = linearDescriptor(c);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model::Options options;
  options.maxBatch = 3;
  options.planMemory = planMemory;
  Model m(&desc, options);
  std::vector<uint8_t> out;
  uint32_t state = 7;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int64_t batch : {3, 9, 5, 9}) {
    std::vector<float> x(batch * 16);
    std::vector<int32_t> y(batch);
    for (float &v : x)
      v = static_cast<float>(next() >> 8) / (1 << 24);
    for (int32_t &v : y)
      v = static_cast<int32_t>(next() >> 28) % 4;
    m.writeTensor(m.getTensorId("x"), batch, x.data(), x.size() * 4);
    m.writeTensor(m.getTensorId("y"), batch, y.data(), y.size() * 4);
    m.run(StepKind::Train, batch, 0.1f);
    for (const auto &r : m.getResults()) {
      const uint8_t *p = reinterpret_cast<const uint8_t *>(&r.second);
      out.insert(out.end(), p, p + sizeof r.second);
    }
    m.run(StepKind::Predict, batch);
    std::vector<uint8_t> probs(batch * 4 * 4);
    m.readTensor(m.getOutputId("probs"), batch, probs.data(), probs.size());
    out.insert(out.end(), probs.begin(), probs.end());
  }
  for (int id = 0; id < m.getNumTensors(); ++id) {
    TensorKind kind = m.getTensorDesc(id).kind;
    if (kind != TensorKind::Param && kind != TensorKind::State)
      continue;
    const uint8_t *p = static_cast<const uint8_t *>(m.getData(id));
    out.insert(out.end(), p, p + m.getByteSize(id, 1));
  }
  EXPECT_EQ(m.getBatchCapacity(), 9);
  EXPECT_EQ(m.getMemoryPlan().batch, 9);
  EXPECT_EQ(checkPlanAgainstDescriptor(m.getDescriptor(), m.getMemoryPlan()),
            "");
  // Every temp points into one arena at its planned offset.
  const MemoryPlan &plan = m.getMemoryPlan();
  const uint8_t *base =
      static_cast<const uint8_t *>(m.getData(plan.tensors.front().id)) -
      plan.tensors.front().offset;
  for (const PlannedTensor &p : plan.tensors) {
    EXPECT_EQ(m.getData(p.id), base + p.offset);
    EXPECT_EQ(m.getCapacityBytes(p.id), p.bytes);
  }
  return out;
}

TEST(MemoryPlanTest, LinearModelTrainsToTheSameBitsWithAndWithoutReuse) {
  std::vector<uint8_t> planned = trainLinear(true);
  std::vector<uint8_t> reference = trainLinear(false);
  ASSERT_EQ(planned.size(), reference.size());
  EXPECT_TRUE(planned == reference);
}

TEST(MemoryPlanTest, ModelArenaIsSmallerThanTheTemps) {
  LinearConfig c;
  std::string json = linearDescriptor(c);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model::Options options;
  options.maxBatch = 64;
  Model planned(&desc, options);
  options.planMemory = false;
  Model reference(&desc, options);
  const MemoryPlan &p = planned.getMemoryPlan();
  EXPECT_LT(p.arenaBytes, p.unplannedBytes);
  EXPECT_EQ(reference.getMemoryPlan().arenaBytes, p.unplannedBytes);
}
