//===- ModelTest.cpp - Tests of the descriptor executor -------------------===//
//
// Buffer layout as kernels see it, memory reuse across batch sizes,
// deterministic initialisation of every init kind, kernel failures turned
// into errors through the Halide error handler, and the C API on top.
//
//===----------------------------------------------------------------------===//
#include "runtime/Model.h"
#include "runtime/fm_runtime.h"
#include "test/unit/runtime/LinearKernels.h"
#include "test/unit/runtime/TestSupport.h"

#include <cmath>
#include <cstring>
#include <numeric>

using namespace fm;
using namespace fm::test;

/// A descriptor whose predict step probes tensor 0 (of the given type).
static std::string probeDescriptor(const std::string &dtype,
                                   const std::string &shape) {
  return R"({"format": "fm-model", "version": 1, "model": "Probe", "tensors": [
      {"name": "t", "kind": "temp", "dtype": ")" +
         dtype + R"(", "shape": [)" + shape + R"(]}],
    "steps": {"predict": {"calls": [{"kernel": 7, "args": [{"tensor": 0}]}], "results": {}}},
    "outputs": [], "train": {"batch": 8}})";
}

TEST(ModelTest, BuffersAreInnermostFirstAndDense) {
  std::string json = probeDescriptor("f32", "-1, 3, 5");
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  const void *data = model.getData(0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 64, 0u);
  model.run(StepKind::Predict, 7);
  const fm_test_probe_t &p = fm_test_last_probe;
  ASSERT_EQ(p.dimensions, 3);
  EXPECT_EQ(p.extent[0], 5);
  EXPECT_EQ(p.stride[0], 1);
  EXPECT_EQ(p.extent[1], 3);
  EXPECT_EQ(p.stride[1], 5);
  EXPECT_EQ(p.extent[2], 7);
  EXPECT_EQ(p.stride[2], 15);
  EXPECT_EQ(p.min[0] + p.min[1] + p.min[2], 0);
  EXPECT_EQ(p.type_code, halide_type_float);
  EXPECT_EQ(p.type_bits, 32);
  // A smaller batch: the same memory, a smaller extent.
  model.run(StepKind::Predict, 2);
  EXPECT_EQ(fm_test_last_probe.extent[2], 2);
  EXPECT_EQ(model.getData(0), data);
  EXPECT_EQ(model.getBatchCapacity(), 8);
}

TEST(ModelTest, BatchInsideShapeGetsDenseStrides) {
  std::string json = probeDescriptor("i32", "3, -1");
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  model.run(StepKind::Predict, 4);
  EXPECT_EQ(fm_test_last_probe.extent[0], 4);
  EXPECT_EQ(fm_test_last_probe.stride[0], 1);
  EXPECT_EQ(fm_test_last_probe.extent[1], 3);
  EXPECT_EQ(fm_test_last_probe.stride[1], 4);
  EXPECT_EQ(fm_test_last_probe.type_code, halide_type_int);
  // Larger than the capacity: grows before the step, never inside it.
  model.run(StepKind::Predict, 20);
  EXPECT_EQ(fm_test_last_probe.stride[1], 20);
  EXPECT_EQ(model.getBatchCapacity(), 20);
}

TEST(ModelTest, ScalarsAndBoolsHaveTheDocumentedTypes) {
  std::string json = probeDescriptor("bool", "");
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  model.run(StepKind::Predict, 1);
  EXPECT_EQ(fm_test_last_probe.dimensions, 0);
  EXPECT_EQ(fm_test_last_probe.type_code, halide_type_uint);
  EXPECT_EQ(fm_test_last_probe.type_bits, 8);
}

TEST(ModelTest, KernelFailureCarriesHalideMessage) {
  std::string json =
      R"({"format": "fm-model", "version": 1, "model": "Fails", "tensors": [],
    "steps": {"predict": {"calls": [{"kernel": 6, "args": []}], "results": {}}}})";
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  EXPECT_FM_ERROR(
      model.run(StepKind::Predict, 1),
      "kernel 'fail' in step 'predict' failed with code -1: Input buffer x "
      "has extent 3 but the pipeline requires 4");
  EXPECT_FM_ERROR(model.run(StepKind::Train, 1),
                  "model 'Fails' has no train_step step");
}

TEST(ModelTest, SetsThreadsAndChecksAbi) {
  std::string json = probeDescriptor("f32", "2");
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model::Options options;
  options.numThreads = 3;
  Model model(&desc, options);
  EXPECT_EQ(fm_test_get_num_threads(), 3);
  desc.abi_version = 99;
  EXPECT_FM_ERROR(Model m(&desc),
                  "descriptor ABI version 99 but this runtime expects " +
                      std::to_string(FM_MODEL_DESC_ABI_VERSION));
  EXPECT_FM_ERROR(Model m(nullptr), "model descriptor is null");
}

static std::string initDescriptor() {
  auto p = [](const char *name, const char *dtype, const char *init) {
    return std::string(R"({"name": ")") + name +
           R"(", "kind": "param", "dtype": ")" + dtype +
           R"(", "shape": [100, 40], "init": )" + init + "}";
  };
  return std::string(
             R"({"format": "fm-model", "version": 1, "model": "Init", "tensors": [)") +
         p("zeros", "f32", R"({"kind": "zeros"})") + "," +
         p("ones", "f64", R"({"kind": "ones"})") + "," +
         p("constant", "i32", R"({"kind": "constant", "args": [3]})") + "," +
         p("normal", "f32", R"({"kind": "normal", "args": [0.5]})") + "," +
         p("uniform", "f64", R"({"kind": "uniform", "args": [-2, 3]})") + "," +
         p("glorot_uniform", "f32",
           R"({"kind": "glorot_uniform", "fan_in": 100, "fan_out": 40})") +
         "," +
         p("glorot_normal", "f32",
           R"({"kind": "glorot_normal", "fan_in": 100, "fan_out": 40})") +
         "," +
         p("he_uniform", "f32", R"({"kind": "he_uniform", "fan_in": 100})") +
         "," +
         p("he_normal", "f32", R"({"kind": "he_normal", "fan_in": 100})") +
         R"(], "steps": {}, "train": {"seed": 5}})";
}

template <typename T>
static std::vector<double> values(const Model &m, int id) {
  const T *p = static_cast<const T *>(m.getData(id));
  return std::vector<double>(p, p + 4000);
}

static void stats(const std::vector<double> &v, double &mean, double &sd,
                  double &lo, double &hi) {
  mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  double sq = 0;
  lo = hi = v[0];
  for (double x : v) {
    sq += (x - mean) * (x - mean);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  sd = std::sqrt(sq / v.size());
}

TEST(ModelTest, InitialisesEveryKindWithTheRightDistribution) {
  std::string json = initDescriptor();
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model m(&desc);
  EXPECT_EQ(m.getSeed(), 5u);
  double mean, sd, lo, hi;
  stats(values<float>(m, 0), mean, sd, lo, hi);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 0);
  stats(values<double>(m, 1), mean, sd, lo, hi);
  EXPECT_EQ(lo, 1);
  EXPECT_EQ(hi, 1);
  stats(values<int32_t>(m, 2), mean, sd, lo, hi);
  EXPECT_EQ(lo, 3);
  EXPECT_EQ(hi, 3);
  stats(values<float>(m, 3), mean, sd, lo, hi);
  EXPECT_NEAR(mean, 0, 0.03);
  EXPECT_NEAR(sd, 0.5, 0.02);
  stats(values<double>(m, 4), mean, sd, lo, hi);
  EXPECT_GE(lo, -2);
  EXPECT_LT(hi, 3);
  EXPECT_NEAR(mean, 0.5, 0.1);
  double gu = std::sqrt(6.0 / 140);
  stats(values<float>(m, 5), mean, sd, lo, hi);
  EXPECT_GE(lo, -gu);
  EXPECT_LE(hi, gu);
  EXPECT_NEAR(sd, gu / std::sqrt(3.0), 0.01);
  stats(values<float>(m, 6), mean, sd, lo, hi);
  EXPECT_NEAR(sd, std::sqrt(2.0 / 140), 0.006);
  double hu = std::sqrt(6.0 / 100);
  stats(values<float>(m, 7), mean, sd, lo, hi);
  EXPECT_GE(lo, -hu);
  EXPECT_LE(hi, hu);
  stats(values<float>(m, 8), mean, sd, lo, hi);
  EXPECT_NEAR(sd, std::sqrt(2.0 / 100), 0.006);
}

TEST(ModelTest, SameSeedSameBits) {
  std::string json = initDescriptor();
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model a(&desc), b(&desc);
  for (int id = 0; id < a.getNumTensors(); ++id)
    EXPECT_EQ(std::memcmp(a.getData(id), b.getData(id), a.getByteSize(id, 1)),
              0);
  b.initialize(6);
  EXPECT_NE(std::memcmp(a.getData(3), b.getData(3), a.getByteSize(3, 1)), 0);
  b.initialize(5);
  EXPECT_EQ(std::memcmp(a.getData(3), b.getData(3), a.getByteSize(3, 1)), 0);
  // Pinned bits: the generator is our own (splitmix64 + xoshiro256** +
  // Box-Muller) so these hold on every machine; a change here changes every
  // model's starting point and must be deliberate.
  const float *normal = static_cast<const float *>(a.getData(3));
  EXPECT_EQ(normal[0], -0x1.526c34p-2f);
  EXPECT_EQ(normal[1], -0x1.f96af2p-3f);
}

TEST(ModelTest, PredictsWithTheLinearModel) {
  LinearConfig c;
  std::string json = linearDescriptor(c);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model m(&desc);
  std::vector<float> x(3 * 16, 0.25f);
  int xId = m.getTensorId("x");
  m.writeTensor(xId, 3, x.data(), x.size() * 4);
  m.run(StepKind::Predict, 3);
  std::vector<float> probs(3 * 4);
  m.readTensor(m.getTensorId("probs"), 3, probs.data(), probs.size() * 4);
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(probs[i * 4] + probs[i * 4 + 1] + probs[i * 4 + 2] +
                    probs[i * 4 + 3],
                1, 1e-5);
  EXPECT_FM_ERROR(
      m.writeTensor(xId, 3, x.data(), 12),
      "tensor 'x' f32[N, 16] at batch 3 holds 192 bytes but got 12");
  EXPECT_FM_ERROR(m.getTensorId("nope"), "model 'Linear' has no tensor 'nope'");
}

TEST(CApiTest, ReportsErrorsAsStatus) {
  fm_model_t *model = nullptr;
  fm_status_t status = fm_model_create(nullptr, &model);
  ASSERT_FALSE(fm_status_is_ok(status));
  EXPECT_EQ(fm_status_code(status), FM_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(fm_status_message(status), "model descriptor is null");
  fm_status_free(status);
  EXPECT_EQ(model, nullptr);

  LinearConfig c;
  std::string json = linearDescriptor(c);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  ASSERT_TRUE(fm_status_is_ok(fm_model_create(&desc, &model)));
  EXPECT_STREQ(fm_model_name(model), "Linear");
  int32_t id = -1;
  ASSERT_TRUE(
      fm_status_is_ok(fm_model_find_tensor(model, "linear.weight", &id)));
  fm_tensor_info_t info;
  ASSERT_TRUE(fm_status_is_ok(fm_model_tensor_info(model, id, &info)));
  EXPECT_EQ(info.kind, FM_TENSOR_PARAM);
  EXPECT_EQ(info.rank, 2);
  EXPECT_EQ(info.shape[0], 16);

  std::vector<float> x(2 * 16, 1.0f);
  std::vector<int32_t> y = {1, 2};
  ASSERT_TRUE(fm_status_is_ok(
      fm_model_write_tensor(model, "x", 2, x.data(), x.size() * 4)));
  ASSERT_TRUE(
      fm_status_is_ok(fm_model_write_tensor(model, "y", 2, y.data(), 8)));
  ASSERT_TRUE(fm_status_is_ok(fm_model_run(model, FM_STEP_TRAIN, 2, 0.1f)));
  EXPECT_EQ(fm_model_step_count(model), 1);
  double loss = 0;
  ASSERT_TRUE(fm_status_is_ok(fm_model_result(model, "loss", &loss)));
  EXPECT_GT(loss, 0);
  status = fm_model_result(model, "f1", &loss);
  EXPECT_EQ(fm_status_code(status), FM_STATUS_NOT_FOUND);
  fm_status_free(status);
  ASSERT_TRUE(fm_status_is_ok(fm_model_run(model, FM_STEP_PREDICT, 2, 0)));
  std::vector<float> probs(2 * 4);
  ASSERT_TRUE(fm_status_is_ok(
      fm_model_read_output(model, "probs", 2, probs.data(), probs.size() * 4)));
  EXPECT_NEAR(probs[0] + probs[1] + probs[2] + probs[3], 1, 1e-5);
  status = fm_model_read_output(model, "logits", 2, probs.data(), 32);
  EXPECT_EQ(fm_status_code(status), FM_STATUS_NOT_FOUND);
  EXPECT_STREQ(fm_status_message(status),
               "model 'Linear' has no output 'logits'");
  fm_status_free(status);
  status = fm_model_load_checkpoint(model, "/nonexistent/x.safetensors");
  EXPECT_EQ(fm_status_code(status), FM_STATUS_NOT_FOUND);
  fm_status_free(status);
  fm_model_retain(model);
  fm_model_release(model);
  fm_model_release(model);
}
