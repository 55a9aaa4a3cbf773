//===- PredictionsTest.cpp - Outputs over a split, files, confusion -------===//
//
// predictSplit against single predict steps; the CSV and .npy writers,
// read back by NumPy itself (/usr/bin/python3) and compared value for
// value; the confusion matrix and when it does not apply.
//
//===----------------------------------------------------------------------===//
#include "runtime/Predictions.h"
#include "runtime/Rng.h"
#include "test/unit/runtime/LinearKernels.h"
#include "test/unit/runtime/TestSupport.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sys/wait.h>

using namespace fm;
using namespace fm::test;

namespace {

/// Runs a shell command; returns its exit status and output.
std::pair<int, std::string> shell(const std::string &command) {
  FILE *pipe = ::popen((command + " 2>&1").c_str(), "r");
  std::string out;
  if (!pipe)
    return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool haveNumpy() {
  return shell("/usr/bin/python3 -c 'import numpy'").first == 0;
}

template <typename T>
OutputArray array(const std::string &name, DType dtype,
                  std::vector<int64_t> shape, const std::vector<T> &values) {
  OutputArray a;
  a.name = name;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.bytes.resize(values.size() * sizeof(T));
  std::memcpy(a.bytes.data(), values.data(), a.bytes.size());
  return a;
}

Split samples(int64_t count, int classes) {
  Rng rng(9);
  Split s;
  s.count = count;
  s.sampleShape = {4};
  for (int64_t i = 0; i < count; ++i) {
    s.labels.push_back(static_cast<int32_t>(rng.below(classes)));
    for (int k = 0; k < 4; ++k)
      s.u8.push_back(static_cast<uint8_t>(rng.below(256)));
  }
  return s;
}

} // namespace

TEST(PredictionsTest, CsvHeaderNamesEveryColumn) {
  TempDir tmp;
  std::vector<OutputArray> outs = {
      array<float>("probs", DType::F32, {2, 2}, {0.25f, 0.75f, 1e-8f, 1}),
      array<int64_t>("id", DType::I64, {2}, {7, -3000000000LL}),
      array<double>("grid", DType::F64, {2, 1, 2}, {0.1, 2, 3, 4})};
  std::vector<std::string> files = writePredictions(tmp.file("out.csv"), outs);
  ASSERT_EQ(files, std::vector<std::string>({tmp.file("out.csv")}));
  std::ifstream in(tmp.file("out.csv"));
  std::string header, row1, row2, extra;
  std::getline(in, header);
  std::getline(in, row1);
  std::getline(in, row2);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(header, "probs[0],probs[1],id,grid[0][0],grid[0][1]");
  EXPECT_EQ(row1, "0.25,0.75,7,0.10000000000000001,2");
  EXPECT_EQ(row2, "9.99999994e-09,1,-3000000000,3,4");
  EXPECT_FM_ERROR(writePredictions(tmp.file("out.txt"), outs),
                  "expected a file name ending in .csv or .npy");
  EXPECT_FM_ERROR(writePredictions(tmp.file("no/such/dir/out.csv"), outs),
                  "cannot write '" + tmp.file("no/such/dir/out.csv") + "'");
}

TEST(PredictionsTest, NpyFilesAreWhatNumpyReads) {
  TempDir tmp;
  OutputArray probs =
      array<float>("probs", DType::F32, {3, 2}, {0.5f, 0.5f, 0.1f, 0.9f, 1, 0});
  writeNpy(tmp.file("p.npy"), probs);
  std::vector<uint8_t> bytes = readBytes(tmp.file("p.npy"));
  ASSERT_GT(bytes.size(), 10u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8),
            std::string("\x93NUMPY\x01\x00", 8));
  size_t headerLength = bytes[8] | bytes[9] << 8;
  EXPECT_EQ((10 + headerLength) % 64, 0u);
  EXPECT_EQ(bytes.size(), 10 + headerLength + 24);
  std::string header(bytes.begin() + 10, bytes.begin() + 10 + headerLength);
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': "
                         "(3, 2), }",
                         0),
            0u)
      << header;
  EXPECT_EQ(header.back(), '\n');

  // Several outputs: one file each, STEM.OUTPUT.npy.
  std::vector<OutputArray> outs = {
      probs, array<int32_t>("cls", DType::I32, {3}, {1, 0, -2}),
      array<uint8_t>("ok", DType::Bool, {3}, {1, 0, 1}),
      array<double>("v", DType::F64, {3, 1, 1}, {1.5, -2.25, 1e300})};
  std::vector<std::string> files = writePredictions(tmp.file("all.npy"), outs);
  EXPECT_EQ(files, std::vector<std::string>(
                       {tmp.file("all.probs.npy"), tmp.file("all.cls.npy"),
                        tmp.file("all.ok.npy"), tmp.file("all.v.npy")}));
  writePredictions(tmp.file("all.csv"), outs);
  if (!haveNumpy())
    GTEST_SKIP() << "numpy is not installed";
  // NumPy loads every file with the right dtype and shape, and the values
  // equal the CSV's columns.
  std::string check =
      "import numpy as np, sys\n"
      "d = sys.argv[1]\n"
      "p = np.load(d + '/all.probs.npy'); c = np.load(d + '/all.cls.npy')\n"
      "k = np.load(d + '/all.ok.npy'); v = np.load(d + '/all.v.npy')\n"
      "assert p.dtype == np.float32 and p.shape == (3, 2), (p.dtype, "
      "p.shape)\n"
      "assert c.dtype == np.int32 and c.shape == (3,)\n"
      "assert k.dtype == np.bool_ and list(k) == [True, False, True]\n"
      "assert v.dtype == np.float64 and v.shape == (3, 1, 1)\n"
      "t = np.loadtxt(d + '/all.csv', delimiter=',', skiprows=1)\n"
      "assert (t[:, 0:2].astype(np.float32) == p).all()\n"
      "assert (t[:, 2] == c).all() and (t[:, 3] == k).all()\n"
      "assert (t[:, 4] == v.reshape(3)).all()\n"
      "assert (np.load(d + '/p.npy') == p).all()\n"
      "print('numpy ok')\n";
  std::ofstream(tmp.file("check.py")) << check;
  auto [status, out] =
      shell("/usr/bin/python3 " + tmp.file("check.py") + " " + tmp.path());
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("numpy ok"), std::string::npos) << out;
}

TEST(PredictionsTest, PredictSplitMatchesSingleSteps) {
  LinearConfig c;
  c.inputShape = {-1, 4};
  c.classes = 3;
  c.batch = 4;
  std::string json = linearDescriptor(c);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  Dataset d;
  d.name = "s";
  d.numClasses = 3;
  d.train = samples(11, 3);
  d.test = samples(5, 3);
  d.validate();
  TrainOptions o;
  o.validation = 0.25; // 11 -> 9 train, 2 validation
  Trainer trainer(model, d, o);
  SplitRange val = trainer.getSplit("validation");
  ASSERT_EQ(val.first, 9);
  std::vector<OutputArray> outs = predictSplit(trainer, model, val, 4);
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].name, "probs");
  EXPECT_EQ(outs[0].shape, std::vector<int64_t>({2, 3}));
  // Sample 10 alone gives the same row.
  int64_t index = 10;
  trainer.loadBatch(d.train, &index, 1, false, 0);
  model.run(StepKind::Predict, 1);
  float row[3];
  model.readTensor(model.getOutputId("probs"), 1, row, sizeof row);
  for (int k = 0; k < 3; ++k)
    EXPECT_EQ(outs[0].get(3 + k), row[k]);
  // Every test sample over partial batches (4 + 1).
  SplitRange test = trainer.getSplit("test");
  EXPECT_EQ(predictSplit(trainer, model, test, 4)[0].getSampleCount(), 5);
  EXPECT_FM_ERROR(predictSplit(trainer, model, test, 4, {"logits"}),
                  "has no output 'logits'");
}

TEST(PredictionsTest, ConfusionMatrixAndWhenItDoesNotApply) {
  LinearConfig c;
  c.inputShape = {-1, 4};
  c.classes = 3;
  std::string json = linearDescriptor(c);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  Dataset d;
  d.numClasses = 3;
  d.train = samples(4, 3);
  d.test = d.train;
  d.test.labels = {0, 1, 2, 2};
  SplitRange range{"test", &d.test, 0, 4};
  // Predictions 0, 2, 2, 1 (logits: argmax works on any scale).
  OutputArray logits = array<float>("logits", DType::F32, {4, 3},
                                    {5, 1, 1, -1, -2, 3, 0, 0, 0.5f, 0, 9, 8});
  std::string why;
  std::optional<ConfusionMatrix> m =
      computeConfusion(model, d, logits, range, why);
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(m->classes, 3);
  EXPECT_EQ(m->counts, std::vector<int64_t>({1, 0, 0, 0, 0, 1, 0, 1, 1}));
  EXPECT_EQ(m->getCorrect(), 2);
  EXPECT_EQ(m->getClassAccuracy(2), 0.5);
  EXPECT_EQ(m->getClassAccuracy(1), 0);
  EXPECT_EQ(m->format("logits"),
            "per-class accuracy (argmax of output 'logits' over its last "
            "axis):\n"
            "  class  accuracy  correct / samples\n"
            "      0    1.0000        1 / 1\n"
            "      1    0.0000        0 / 1\n"
            "      2    0.5000        1 / 2\n"
            "    all    0.5000        2 / 4\n"
            "confusion matrix (rows: true class, columns: predicted class):\n"
            "  true\\pred 0 1 2\n"
            "          0 1 0 0\n"
            "          1 0 0 1\n"
            "          2 0 1 1\n");

  // One score per sample: argmax has nothing to choose from.
  OutputArray one = array<float>("p", DType::F32, {4, 1}, {0.1f, 1, 1, 1});
  EXPECT_FALSE(computeConfusion(model, d, one, range, why));
  EXPECT_EQ(why, "output 'p' is f32[N, 1]: argmax over the last axis needs "
                 "a score per class");
  // Floating labels: not class ids.
  c.binary = true;
  std::string binary = linearDescriptor(c);
  fm_model_desc_t binaryDesc = fm_test_make_desc(binary.c_str());
  Model bce(&binaryDesc);
  EXPECT_FALSE(computeConfusion(bce, d, logits, range, why));
  EXPECT_EQ(why, "label 'y' is f32[N, 1], not integer class ids");
}
