//===- MemoryPlanModelsTest.cpp - Plans of compiled models ------*- C++ -*-===//
//
// Compiles examples/mlp.fm, fashion_cnn.fm and fashion_cnn_bn.fm with fmc
// (cached in the build folder, as fmrun caches them) and checks the memory
// plans of their real descriptors pair by pair, that sharing saves memory,
// and that training with shared temps gives the same bits as with a buffer
// per temp (batch norm's running statistics and dropout included). A separate
// executable from RuntimeTests, which must not need the compiler.
//
//===----------------------------------------------------------------------===//
#include "MemoryPlanCheck.h"

#include "runtime/Model.h"
#include "tools/fmrun/ModelLoader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

using namespace fm;
using namespace fm::test;

/// The library of examples/NAME, compiled once per test binary.
static const fm_model_desc_t *getExample(const std::string &name) {
  static std::map<std::string, const fm_model_desc_t *> loaded;
  if (const fm_model_desc_t *d = loaded[name])
    return d;
  ::setenv("XDG_CACHE_HOME", FM_TEST_CACHE_DIR, 1);
  CompileOptions options;
  options.fmc = FMC_PATH;
  options.verbose = false;
  std::string path = resolveModelLibrary(
      std::string(FM_SOURCE_DIR_FOR_TESTS "/examples/") + name, options);
  return loaded[name] = loadModelLibrary(path);
}

static Descriptor getDescriptor(const std::string &name) {
  const fm_model_desc_t *lib = getExample(name);
  return parseDescriptor(lib->json, lib->num_kernels);
}

static void checkPlans(const std::string &name) {
  Descriptor d = getDescriptor(name);
  for (int64_t batch : {1, 7, 64, 256}) {
    SCOPED_TRACE(name + " at batch " + std::to_string(batch));
    MemoryPlan plan = planMemory(d, batch);
    EXPECT_EQ(checkPlanAgainstDescriptor(d, plan), "");
    EXPECT_LT(plan.arenaBytes, plan.unplannedBytes);
    MemoryPlan own = planMemory(d, batch, /*reuse=*/false);
    EXPECT_EQ(checkPlanAgainstDescriptor(d, own), "");
    EXPECT_EQ(own.arenaBytes, plan.unplannedBytes);
    if (batch == 64)
      std::printf("%s at batch 64: arena %zu bytes, temps %zu bytes (%.1f%%)\n",
                  name.c_str(), plan.arenaBytes, plan.unplannedBytes,
                  100.0 * plan.arenaBytes / plan.unplannedBytes);
  }
}

TEST(MemoryPlanModelsTest, MlpPlansKeepLiveTempsApart) { checkPlans("mlp.fm"); }

TEST(MemoryPlanModelsTest, CnnPlansKeepLiveTempsApart) {
  checkPlans("fashion_cnn.fm");
  // The CNN's activations dominate its temps: the arena must be well under
  // their sum (without reuse it is the sum). 32% before inference kernels
  // fused pooling into the convolution, 55% since: the predict and
  // evaluate steps' full-size activations are no longer temps at all,
  // and the arena, sized by train_step, is unchanged at 12.9 MB.
  Descriptor d = getDescriptor("fashion_cnn.fm");
  MemoryPlan plan = planMemory(d, 64);
  EXPECT_LT(plan.arenaBytes * 10, plan.unplannedBytes * 6);
}

/// Trains, evaluates and predicts with a compiled model on fixed
/// pseudo-random data at growing and shrinking batches; returns the
/// results, outputs and every param and state byte.
static std::vector<uint8_t> runModel(const std::string &name, bool planMemory) {
  Model::Options options;
  options.maxBatch = 16; // grows below: the arena is re-planned
  options.planMemory = planMemory;
  options.numThreads = 2;
  Model m(getExample(name), options);
  const Descriptor &d = m.getDescriptor();
  int x = d.getTensorsOfKind(TensorKind::Input).front();
  int y = d.getTensorsOfKind(TensorKind::Label).front();
  std::vector<uint8_t> out;
  auto append = [&](const void *p, size_t n) {
    const uint8_t *b = static_cast<const uint8_t *>(p);
    out.insert(out.end(), b, b + n);
  };
  uint32_t state = 11;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int64_t batch : {16, 40, 9, 40}) {
    std::vector<float> xs(m.getByteSize(x, batch) / 4);
    std::vector<int32_t> ys(batch);
    for (float &v : xs)
      v = static_cast<float>(next() >> 8) / (1 << 24);
    for (int32_t &v : ys)
      v = static_cast<int32_t>((next() >> 16) % 10);
    m.writeTensor(x, batch, xs.data(), xs.size() * 4);
    m.writeTensor(y, batch, ys.data(), ys.size() * 4);
    for (int s = 0; s < 2; ++s) {
      m.run(StepKind::Train, batch, 1e-3f);
      for (const auto &r : m.getResults())
        append(&r.second, sizeof r.second);
    }
    m.run(StepKind::Evaluate, batch);
    for (const auto &r : m.getResults())
      append(&r.second, sizeof r.second);
    m.run(StepKind::Predict, batch);
    for (const std::string &o : d.outputs) {
      int id = m.getOutputId(o);
      std::vector<uint8_t> bytes(m.getByteSize(id, batch));
      m.readTensor(id, batch, bytes.data(), bytes.size());
      out.insert(out.end(), bytes.begin(), bytes.end());
    }
  }
  for (int id = 0; id < m.getNumTensors(); ++id) {
    TensorKind kind = m.getTensorDesc(id).kind;
    if (kind == TensorKind::Param || kind == TensorKind::State)
      append(m.getData(id), m.getByteSize(id, 1));
  }
  EXPECT_EQ(m.getMemoryPlan().batch, 40);
  EXPECT_EQ(checkPlanAgainstDescriptor(d, m.getMemoryPlan()), "");
  return out;
}

TEST(MemoryPlanModelsTest, WarmStepsTakeNoMemoryFromTheSystem) {
  // Halide's kernels take scratch on every call (packs, argmax maps,
  // per-image tiles); the library's allocator (fm_kernel_alloc.h) reuses
  // it, so steps at a batch already run take nothing from the system.
  // One thread: with more, how many blocks of a size are live at once
  // depends on timing, so the cache fills over a few steps instead of one.
  for (const char *name : {"fashion_cnn.fm", "fashion_cnn_bn.fm", "mlp.fm"}) {
    SCOPED_TRACE(name);
    Model::Options options;
    options.maxBatch = 32;
    options.numThreads = 1;
    Model m(getExample(name), options);
    const Descriptor &d = m.getDescriptor();
    int x = d.getTensorsOfKind(TensorKind::Input).front();
    int y = d.getTensorsOfKind(TensorKind::Label).front();
    std::vector<float> xs(m.getByteSize(x, 32) / 4, 0.5f);
    std::vector<int32_t> ys(32, 3);
    m.writeTensor(x, 32, xs.data(), xs.size() * 4);
    m.writeTensor(y, 32, ys.data(), ys.size() * 4);
    auto round = [&] {
      m.run(StepKind::Train, 32, 1e-3f);
      m.run(StepKind::Evaluate, 32);
      m.run(StepKind::Predict, 32);
    };
    uint64_t before = m.getKernelSystemAllocations();
    round();
    uint64_t warm = m.getKernelSystemAllocations();
    if (std::string(name) != "mlp.fm") // the CNNs' kernels do take scratch
      EXPECT_GT(warm, before);
    for (int i = 0; i < 3; ++i)
      round();
    EXPECT_EQ(m.getKernelSystemAllocations(), warm);
  }
}

TEST(MemoryPlanModelsTest, CnnTrainsToTheSameBitsWithAndWithoutReuse) {
  std::vector<uint8_t> planned = runModel("fashion_cnn.fm", true);
  std::vector<uint8_t> reference = runModel("fashion_cnn.fm", false);
  ASSERT_EQ(planned.size(), reference.size());
  EXPECT_TRUE(planned == reference);
}

TEST(MemoryPlanModelsTest, BatchNormCnnTrainsToTheSameBitsWithAndWithoutReuse) {
  checkPlans("fashion_cnn_bn.fm");
  std::vector<uint8_t> planned = runModel("fashion_cnn_bn.fm", true);
  std::vector<uint8_t> reference = runModel("fashion_cnn_bn.fm", false);
  ASSERT_EQ(planned.size(), reference.size());
  EXPECT_TRUE(planned == reference);
}

TEST(MemoryPlanModelsTest, MlpTrainsToTheSameBitsWithAndWithoutReuse) {
  std::vector<uint8_t> planned = runModel("mlp.fm", true);
  std::vector<uint8_t> reference = runModel("mlp.fm", false);
  ASSERT_EQ(planned.size(), reference.size());
  EXPECT_TRUE(planned == reference);
}
