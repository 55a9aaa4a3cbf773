//===- CheckpointTest.cpp - Tests of safetensors checkpoints --------------===//
//
// Round trips (generic safetensors and whole models) and every corruption
// a loader must reject with a clear message before touching the model.
//
//===----------------------------------------------------------------------===//
#include "runtime/Checkpoint.h"
#include "runtime/Json.h"
#include "runtime/Model.h"
#include "test/unit/runtime/LinearKernels.h"
#include "test/unit/runtime/TestSupport.h"

#include <cstring>
#include <unistd.h>

using namespace fm;
using namespace fm::test;

TEST(SafetensorsTest, RoundTripsTensorsAndMetadata) {
  TempDir tmp;
  std::vector<float> a = {1.5f, -2, 3, 4, 5, 6};
  std::vector<int64_t> b = {-7, 1LL << 40};
  uint8_t c = 1;
  writeSafetensors(tmp.file("t.safetensors"),
                   {{"a", DType::F32, {2, 3}, a.data()},
                    {"b.long", DType::I64, {2}, b.data()},
                    {"flag", DType::Bool, {}, &c}},
                   {{"model", "M"}, {"epoch", "3"}});
  std::vector<uint8_t> bytes = readBytes(tmp.file("t.safetensors"));
  uint64_t headerLength = 0;
  std::memcpy(&headerLength, bytes.data(), 8);
  EXPECT_EQ((8 + headerLength) % 8, 0u) << "data must start 8-byte aligned";
  EXPECT_EQ(bytes.size(), 8 + headerLength + 24 + 16 + 1);

  SafetensorsFile f = readSafetensors(tmp.file("t.safetensors"));
  ASSERT_EQ(f.entries.size(), 3u);
  EXPECT_EQ(*f.findMetadata("epoch"), "3");
  const auto *ea = f.find("a");
  ASSERT_NE(ea, nullptr);
  EXPECT_EQ(ea->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(f.data.data() + ea->begin, a.data(), 24), 0);
  const auto *eb = f.find("b.long");
  EXPECT_EQ(eb->dtype, DType::I64);
  EXPECT_EQ(std::memcmp(f.data.data() + eb->begin, b.data(), 16), 0);
  EXPECT_EQ(f.find("flag")->dtype, DType::Bool);
  // The header is the standard format: readable as plain JSON.
  std::string header(bytes.begin() + 8, bytes.begin() + 8 + headerLength);
  json::Value h = json::parse(header);
  EXPECT_EQ(h.at("a", "").at("dtype", "").getString(), "F32");
  EXPECT_EQ(h.at("__metadata__", "").at("model", "").getString(), "M");
}

/// Writes a file with a hand-made header (and `data` bytes after it).
static void writeRaw(const std::string &path, const std::string &header,
                     size_t dataBytes, int64_t lengthOverride = -1) {
  std::vector<uint8_t> bytes(8 + header.size() + dataBytes, 0);
  uint64_t length = lengthOverride >= 0 ? lengthOverride : header.size();
  std::memcpy(bytes.data(), &length, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  writeBytes(path, bytes);
}

TEST(SafetensorsTest, RejectsCorruptFiles) {
  TempDir tmp;
  std::string p = tmp.file("bad.safetensors");
  writeBytes(p, {1, 2, 3});
  EXPECT_FM_ERROR(readSafetensors(p),
                  "expected at least 8 bytes but the file has 3");
  writeRaw(p, "{}", 0, 1000);
  EXPECT_FM_ERROR(readSafetensors(p), "header length 1000 exceeds the file");
  writeRaw(p, "{\"a\": ", 0);
  EXPECT_FM_ERROR(readSafetensors(p), "header: invalid json at byte 6");
  writeRaw(
      p, R"({"a": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}})", 2);
  EXPECT_FM_ERROR(readSafetensors(p), "tensor 'a': unsupported dtype 'F16'");
  writeRaw(
      p, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 4);
  EXPECT_FM_ERROR(readSafetensors(p),
                  "lie outside the 4 data bytes; truncated?");
  writeRaw(
      p, R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8);
  EXPECT_FM_ERROR(readSafetensors(p),
                  "expected 12 bytes for its shape but data_offsets span 8");
  writeRaw(
      p, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8);
  EXPECT_FM_ERROR(readSafetensors(p),
                  "tensor 'a' starts at byte 4 but the previous one ends at 0");
  writeRaw(
      p, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 6);
  EXPECT_FM_ERROR(readSafetensors(p),
                  "the tensors cover 4 data bytes but the file has 6");
  writeRaw(p, R"({"a": {"dtype": "F32", "shape": [1]}})", 4);
  EXPECT_FM_ERROR(readSafetensors(p), "missing key 'data_offsets'");
  writeRaw(p, R"({"__metadata__": {"epoch": 3}})", 0);
  EXPECT_FM_ERROR(readSafetensors(p), "__metadata__.epoch: expected a string");
  EXPECT_FM_ERROR(readSafetensors(tmp.file("none")), "cannot open");
}

class ModelCheckpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    json = linearDescriptor(LinearConfig());
    desc = fm_test_make_desc(json.c_str());
  }
  std::string json;
  fm_model_desc_t desc;
};

static bool sameParams(const Model &a, const Model &b) {
  for (int id = 0; id < a.getNumTensors(); ++id) {
    TensorKind k = a.getTensorDesc(id).kind;
    if ((k == TensorKind::Param || k == TensorKind::State) &&
        std::memcmp(a.getData(id), b.getData(id), a.getByteSize(id, 1)) != 0)
      return false;
  }
  return true;
}

TEST_F(ModelCheckpointTest, RoundTripsAModel) {
  TempDir tmp;
  Model a(&desc);
  // Make the state non-trivial: one train step moves params and momenta.
  std::vector<float> x(4 * 16, 0.5f);
  std::vector<int32_t> y = {0, 1, 2, 3};
  a.writeTensor(a.getTensorId("x"), 4, x.data(), x.size() * 4);
  a.writeTensor(a.getTensorId("y"), 4, y.data(), 16);
  a.run(StepKind::Train, 4, 0.1f);
  saveCheckpoint(a, tmp.file("a.safetensors"), {{"epoch", "1"}});

  Model::Options o;
  o.seed = 99;
  Model b(&desc, o);
  EXPECT_FALSE(sameParams(a, b));
  Metadata meta = loadCheckpoint(b, tmp.file("a.safetensors"));
  EXPECT_TRUE(sameParams(a, b));
  EXPECT_EQ(b.getStepCount(), 1);
  auto find = [&](const std::string &k) {
    for (auto &m : meta)
      if (m.first == k)
        return m.second;
    return std::string("?");
  };
  EXPECT_EQ(find("model"), "Linear");
  EXPECT_EQ(find("epoch"), "1");
  EXPECT_EQ(find("format"), "fm-checkpoint");
  EXPECT_EQ(find("seed"), "1");
  // No temporary file is left behind.
  EXPECT_TRUE(
      readBytes(tmp.file("a.safetensors.tmp." + std::to_string(::getpid())))
          .empty());
}

TEST_F(ModelCheckpointTest, RejectsMismatchesWithoutTouchingTheModel) {
  TempDir tmp;
  Model model(&desc);
  Model::Options o;
  o.seed = 7;
  Model reference(&desc, o);
  Model fresh(&desc, o);
  auto write = [&](std::vector<SafetensorsView> views,
                   Metadata meta = {{"model", "Linear"}}) {
    writeSafetensors(tmp.file("c.safetensors"), views, meta);
  };
  std::vector<float> w(16 * 4, 1), bias(4, 1), wm(16 * 4, 0), bm(4, 0);
  std::vector<double> wd(16 * 4, 1);
  SafetensorsView vw{"linear.weight", DType::F32, {16, 4}, w.data()};
  SafetensorsView vb{"linear.bias", DType::F32, {4}, bias.data()};
  SafetensorsView vwm{"linear.weight.momentum", DType::F32, {16, 4}, wm.data()};
  SafetensorsView vbm{"linear.bias.momentum", DType::F32, {4}, bm.data()};

  write({vw, vb, vwm});
  EXPECT_FM_ERROR(loadCheckpoint(fresh, tmp.file("c.safetensors")),
                  "has no tensor 'linear.bias.momentum'");
  write({{"linear.weight", DType::F32, {4, 16}, w.data()}, vb, vwm, vbm});
  EXPECT_FM_ERROR(
      loadCheckpoint(fresh, tmp.file("c.safetensors")),
      "tensor 'linear.weight' is f32[4, 16] but the model expects f32[16, 4]");
  write({{"linear.weight", DType::F64, {16, 4}, wd.data()}, vb, vwm, vbm});
  EXPECT_FM_ERROR(loadCheckpoint(fresh, tmp.file("c.safetensors")),
                  "is f64[16, 4] but the model expects f32[16, 4]");
  write({vw, vb, vwm, vbm, {"extra", DType::F32, {4}, bias.data()}});
  EXPECT_FM_ERROR(loadCheckpoint(fresh, tmp.file("c.safetensors")),
                  "has tensor 'extra' that model 'Linear' does not have");
  write({vw, vb, vwm, vbm}, {{"model", "Other"}});
  EXPECT_FM_ERROR(loadCheckpoint(fresh, tmp.file("c.safetensors")),
                  "is for model 'Other' but this is model 'Linear'");
  write({vw, vb, vwm, vbm}, {{"step", "many"}});
  EXPECT_FM_ERROR(
      loadCheckpoint(fresh, tmp.file("c.safetensors")),
      "metadata 'step': expected a non-negative integer but got 'many'");
  EXPECT_TRUE(sameParams(fresh, reference))
      << "a failed load changed the model";

  // Truncating a real checkpoint is caught.
  saveCheckpoint(model, tmp.file("real.safetensors"));
  std::vector<uint8_t> bytes = readBytes(tmp.file("real.safetensors"));
  bytes.resize(bytes.size() - 10);
  writeBytes(tmp.file("real.safetensors"), bytes);
  EXPECT_FM_ERROR(loadCheckpoint(fresh, tmp.file("real.safetensors")),
                  "truncated?");
  EXPECT_TRUE(sameParams(fresh, reference));
}
