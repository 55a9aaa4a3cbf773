//===- DataFormatsTest.cpp - Tests of the CSV and CIFAR-10 loaders --------===//
//
// CSV: headers, quoting, CRLF, class ids against float targets, every
// error naming file:line, and labels fed to i32[N] and f32[N, 1] label
// tensors; the shipped two-moons files train the linear model (softmax
// over two classes, and sigmoid binary cross-entropy with f32[N, 1]
// labels). CIFAR-10: small files generated in the real binary format
// (there is no CIFAR data on the build machine): layout, errors, and a
// training run with augmentation.
//
//===----------------------------------------------------------------------===//
#include "runtime/Rng.h"
#include "runtime/Trainer.h"
#include "runtime/data/Dataset.h"
#include "test/unit/runtime/LinearKernels.h"
#include "test/unit/runtime/TestSupport.h"

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace fm;
using namespace fm::test;

#ifndef FM_SOURCE_DIR_FOR_TESTS
#error "FM_SOURCE_DIR_FOR_TESTS must name the source tree"
#endif

namespace {
void writeText(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string moons(const char *split) {
  return std::string(FM_SOURCE_DIR_FOR_TESTS) + "/examples/data/moons_" +
         split + ".csv";
}

TrainOptions quiet(const TempDir &tmp) {
  TrainOptions o;
  o.progress = [](const std::string &) {};
  o.checkpointDir = tmp.file("ckpt");
  return o;
}
} // namespace

//===----------------------------------------------------------------------===//
// CSV
//===----------------------------------------------------------------------===//

TEST(CsvTest, ReadsFeaturesAndClassLabels) {
  TempDir tmp;
  // BOM, CRLF, spaces, a quoted header, a blank line, columns in another
  // order in the test file.
  writeText(tmp.file("train.csv"), "\xEF\xBB\xBF"
                                   "a, \"b\" ,label\r\n"
                                   "1.5, -2,1\r\n"
                                   "\r\n"
                                   " 3e-1 ,4,0\r\n"
                                   "0,.5,2\r\n");
  writeText(tmp.file("test.csv"), "label,b,a\n1,7,8\n");
  Dataset d = Dataset::csv(tmp.file("train.csv"), tmp.file("test.csv"));
  EXPECT_FALSE(d.isU8);
  EXPECT_TRUE(d.classLabels);
  EXPECT_EQ(d.numClasses, 3);
  EXPECT_EQ(d.train.count, 3);
  EXPECT_EQ(d.train.sampleShape, std::vector<int64_t>({2}));
  EXPECT_EQ(d.train.f32, std::vector<float>({1.5f, -2, 0.3f, 4, 0, 0.5f}));
  EXPECT_EQ(d.train.labels, std::vector<int32_t>({1, 0, 2}));
  EXPECT_EQ(d.train.targets, std::vector<float>({1, 0, 2}));
  // Test features follow the training file's column order (a, b).
  EXPECT_EQ(d.test.f32, std::vector<float>({8, 7}));
  EXPECT_EQ(d.test.labels, std::vector<int32_t>({1}));
}

TEST(CsvTest, FloatTargetsAreNotClassIds) {
  TempDir tmp;
  writeText(tmp.file("train.csv"), "x,y\n1,0.25\n2,1\n");
  writeText(tmp.file("test.csv"), "x,y\n3,-1\n");
  Dataset d = Dataset::csv(tmp.file("train.csv"), tmp.file("test.csv"), "y");
  EXPECT_FALSE(d.classLabels);
  EXPECT_EQ(d.labelProblem,
            tmp.file("train.csv") +
                ":2: label 0.25 is not a class id (a non-negative integer)");
  EXPECT_EQ(d.train.targets, std::vector<float>({0.25f, 1}));
  EXPECT_EQ(d.test.targets, std::vector<float>({-1}));
}

TEST(CsvTest, ErrorsNameFileAndLine) {
  TempDir tmp;
  std::string train = tmp.file("train.csv"), test = tmp.file("test.csv");
  writeText(test, "a,b,label\n1,2,0\n");
  auto expectError = [&](const std::string &text, const std::string &what,
                         const std::string &label = "label") {
    writeText(train, text);
    EXPECT_FM_ERROR(Dataset::csv(train, test, label), what);
  };
  expectError("a,b,label\n1,2,0\n1,x2,1\n",
              train + ":3: column 'b': expected a number but got 'x2'");
  expectError("a,b,label\n1,2,0\n1,,1\n",
              train + ":3: column 'b': expected a number but got ''");
  expectError("a,b,label\n1,2,0\n1,2,nan\n",
              train + ":3: column 'label': expected a number but got 'nan'");
  expectError("a,b,label\n1,2,0\n\n1,2\n",
              train + ":4: expected 3 fields (a, b, label) but the row has 2");
  expectError("a,b,label\n1,2,0,9\n",
              train + ":2: expected 3 fields (a, b, label) but the row has 4");
  expectError("a,b,class\n1,2,0\n",
              train + ":1: no label column 'label' in the header (columns: "
                      "a, b, class)");
  expectError("a,a,label\n1,2,0\n",
              train + ":1: column 'a' appears twice in the header");
  expectError("label\n1\n", train + ":1: no feature columns");
  expectError("", train + ":1: the file is empty; expected a header row");
  expectError("a,b,label\n", train + ": no rows after the header");
  expectError("a,\"b,label\n1,2,0\n", train + ":1: unterminated quoted field");
  writeText(train, "a,b,label\n1,2,0\n");
  EXPECT_FM_ERROR(Dataset::csv(tmp.file("nope.csv"), test),
                  "cannot open '" + tmp.file("nope.csv") + "'");
  writeText(test, "a,c,label\n1,2,0\n");
  EXPECT_FM_ERROR(Dataset::csv(train, test),
                  test + ":1: feature columns (a, c) differ from the "
                         "training file's (a, b)");
}

TEST(CsvTest, TheShippedMoonsFiles) {
  Dataset d = Dataset::csv(moons("train"), moons("test"), "label");
  EXPECT_EQ(d.train.count, 2000);
  EXPECT_EQ(d.test.count, 500);
  EXPECT_EQ(d.train.sampleShape, std::vector<int64_t>({2}));
  EXPECT_TRUE(d.classLabels);
  EXPECT_EQ(d.numClasses, 2);
  int64_t ones = 0;
  for (int32_t l : d.train.labels)
    ones += l;
  EXPECT_EQ(ones, 1000);
  // The descriptor's spelling reaches the same loader.
  DataSpec spec;
  spec.kind = "csv";
  spec.train = moons("train");
  spec.test = moons("test");
  EXPECT_EQ(Dataset::fromSpec(spec).test.f32, d.test.f32);
}

TEST(CsvTest, LabelsFeedIntegerAndFloatLabelTensors) {
  TempDir tmp;
  writeText(tmp.file("train.csv"), "x1,x2,label\n0.5,1,1\n-1,2,0\n");
  writeText(tmp.file("test.csv"), "x1,x2,label\n0,0,1\n");
  Dataset d = Dataset::csv(tmp.file("train.csv"), tmp.file("test.csv"));
  int64_t indices[2] = {1, 0};
  for (bool binary : {false, true}) {
    LinearConfig c;
    c.inputShape = {-1, 2};
    c.classes = 2;
    c.binary = binary; // label f32[N, 1] instead of i32[N]
    std::string json = linearDescriptor(c);
    fm_model_desc_t desc = fm_test_make_desc(json.c_str());
    Model model(&desc);
    Trainer trainer(model, d, quiet(tmp));
    trainer.loadBatch(d.train, indices, 2, false, 0);
    const float *x = static_cast<const float *>(model.getData(0));
    // CSV features are floats: no `scale`, even though it is 1/255 here.
    EXPECT_EQ(std::vector<float>(x, x + 4),
              std::vector<float>({-1, 2, 0.5f, 1}));
    if (binary) {
      EXPECT_EQ(formatShape(model.getTensorDesc(1).dtype,
                            model.getTensorDesc(1).shape),
                "f32[N, 1]");
      const float *y = static_cast<const float *>(model.getData(1));
      EXPECT_EQ(std::vector<float>(y, y + 2), std::vector<float>({0, 1}));
    } else {
      const int32_t *y = static_cast<const int32_t *>(model.getData(1));
      EXPECT_EQ(std::vector<int32_t>(y, y + 2), std::vector<int32_t>({0, 1}));
    }
  }
  // Float targets feed f32[N, 1] but not class ids.
  writeText(tmp.file("train.csv"), "x1,x2,label\n0.5,1,0.75\n-1,2,0\n");
  Dataset targets = Dataset::csv(tmp.file("train.csv"), tmp.file("test.csv"));
  LinearConfig c;
  c.inputShape = {-1, 2};
  c.binary = true;
  std::string json = linearDescriptor(c);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  Trainer trainer(model, targets, quiet(tmp));
  trainer.loadBatch(targets.train, indices, 2, false, 0);
  const float *y = static_cast<const float *>(model.getData(1));
  EXPECT_EQ(std::vector<float>(y, y + 2), std::vector<float>({0, 0.75f}));
  c.binary = false;
  json = linearDescriptor(c);
  desc = fm_test_make_desc(json.c_str());
  Model classes(&desc);
  EXPECT_FM_ERROR(
      Trainer(classes, targets, quiet(tmp)),
      "label 'y' is i32[N] (class ids) but data set '" + tmp.file("train.csv") +
          "' has labels that are not class ids: " + tmp.file("train.csv") +
          ":2: label 0.75");
}

TEST(CsvTest, MoonsTrainAsSoftmaxAndAsBinaryCrossEntropy) {
  // A linear classifier separates the two moons to about 86%: well above
  // chance, well below what a hidden layer reaches.
  Dataset d = Dataset::csv(moons("train"), moons("test"));
  for (bool binary : {false, true}) {
    TempDir tmp;
    LinearConfig c;
    c.inputShape = {-1, 2};
    c.classes = 2;
    c.binary = binary;
    c.batch = 32;
    c.epochs = 5;
    c.validation = 0.1;
    std::string json = linearDescriptor(c);
    fm_model_desc_t desc = fm_test_make_desc(json.c_str());
    Model model(&desc);
    TrainReport r = Trainer(model, d, quiet(tmp)).run();
    EXPECT_EQ(r.test.samples, 500);
    EXPECT_GT(r.test.get("acc"), 0.8) << (binary ? "binary" : "softmax");
    EXPECT_LT(r.epochs.back().train.get("loss"),
              r.epochs.front().train.get("loss"));
  }
}

//===----------------------------------------------------------------------===//
// CIFAR-10
//===----------------------------------------------------------------------===//

namespace {
/// One record: label, then R, G, B planes; pixel (c, y, x) of record
/// `seed` is a value that tells all four apart.
std::vector<uint8_t> record(uint8_t label, int seed) {
  std::vector<uint8_t> r = {label};
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 1024; ++p)
      r.push_back(static_cast<uint8_t>((seed * 7 + c * 50 + p) % 256));
  return r;
}

/// data_batch_1..5.bin with `perBatch` records each, test_batch.bin with 3.
void writeCifar(const std::string &dir, int perBatch) {
  std::filesystem::create_directories(dir);
  int seed = 0;
  for (int b = 1; b <= 5; ++b) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < perBatch; ++i, ++seed) {
      std::vector<uint8_t> r = record(static_cast<uint8_t>(seed % 10), seed);
      bytes.insert(bytes.end(), r.begin(), r.end());
    }
    writeBytes(dir + "/data_batch_" + std::to_string(b) + ".bin", bytes);
  }
  std::vector<uint8_t> test;
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> r = record(static_cast<uint8_t>(9 - i), 100 + i);
    test.insert(test.end(), r.begin(), r.end());
  }
  writeBytes(dir + "/test_batch.bin", test);
}
} // namespace

TEST(CifarTest, ReadsTheBinaryFormat) {
  TempDir tmp;
  writeCifar(tmp.path(), 4);
  Dataset d = Dataset::cifar10(tmp.path());
  EXPECT_TRUE(d.isU8);
  EXPECT_EQ(d.numClasses, 10);
  EXPECT_EQ(d.train.count, 20);
  EXPECT_EQ(d.test.count, 3);
  EXPECT_EQ(d.train.sampleShape, std::vector<int64_t>({3, 32, 32}));
  // Batches in order 1..5, records in file order.
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(d.train.labels[i], i % 10);
  EXPECT_EQ(d.test.labels, std::vector<int32_t>({9, 8, 7}));
  // Record 6, green plane (channel 1), row 2, column 3.
  std::vector<uint8_t> r = record(6, 6);
  EXPECT_EQ(d.train.u8[6 * 3072 + 1 * 1024 + 2 * 32 + 3],
            r[1 + 1 * 1024 + 2 * 32 + 3]);
  // The archive's own folder name is found from its parent.
  writeCifar(tmp.file("cifar-10-batches-bin"), 1);
  DataSpec spec;
  spec.kind = "cifar10";
  spec.dir = tmp.path() + "/sub";
  std::filesystem::create_directories(spec.dir);
  writeCifar(spec.dir + "/cifar-10-batches-bin", 2);
  EXPECT_EQ(Dataset::fromSpec(spec).train.count, 10);
}

TEST(CifarTest, ClearErrors) {
  TempDir tmp;
  EXPECT_FM_ERROR(Dataset::cifar10(tmp.path()),
                  "cannot find '" + tmp.file("data_batch_1.bin") +
                      "': cifar10(dir) expects the CIFAR-10 binary version");
  writeCifar(tmp.path(), 2);
  std::filesystem::remove(tmp.file("test_batch.bin"));
  EXPECT_FM_ERROR(Dataset::cifar10(tmp.path()),
                  "cannot find '" + tmp.file("test_batch.bin") + "'");
  writeCifar(tmp.path(), 2);
  std::vector<uint8_t> bytes = readBytes(tmp.file("data_batch_3.bin"));
  bytes.resize(bytes.size() - 100);
  writeBytes(tmp.file("data_batch_3.bin"), bytes);
  EXPECT_FM_ERROR(Dataset::cifar10(tmp.path()),
                  "'" + tmp.file("data_batch_3.bin") +
                      "' is truncated: record 1 has 2973 of its 3073 bytes");
  writeCifar(tmp.path(), 2);
  bytes = readBytes(tmp.file("data_batch_2.bin"));
  bytes[3073] = 10; // record 1's label
  writeBytes(tmp.file("data_batch_2.bin"), bytes);
  EXPECT_FM_ERROR(Dataset::cifar10(tmp.path()),
                  "'" + tmp.file("data_batch_2.bin") +
                      "': record 1 (byte offset 3073) has label 10; "
                      "CIFAR-10 labels are 0..9");
  writeCifar(tmp.path(), 2);
  writeBytes(tmp.file("data_batch_5.bin"), {});
  EXPECT_FM_ERROR(Dataset::cifar10(tmp.path()),
                  "'" + tmp.file("data_batch_5.bin") + "' is empty");
}

TEST(CifarTest, TrainsWithAugmentationAndNormalisation) {
  // Class c images are bright in channel c % 3 and dark elsewhere: an
  // easy, flip- and crop-invariant problem in the real layout.
  TempDir tmp;
  Rng rng(5);
  auto batch = [&](int count, const std::string &path) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < count; ++i) {
      uint8_t label = static_cast<uint8_t>(rng.below(3));
      bytes.push_back(label);
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 1024; ++p)
          bytes.push_back(static_cast<uint8_t>(c == label ? 150 + rng.below(100)
                                                          : rng.below(80)));
    }
    writeBytes(path, bytes);
  };
  for (int b = 1; b <= 5; ++b)
    batch(40, tmp.file("data_batch_" + std::to_string(b) + ".bin"));
  batch(60, tmp.file("test_batch.bin"));
  Dataset d = Dataset::cifar10(tmp.path());
  LinearConfig c;
  c.inputShape = {-1, 3, 32, 32};
  c.classes = 10;
  c.epochs = 3;
  c.lr = 0.01;
  c.validation = 0.1;
  c.extraTrain =
      R"(, "normalize": {"mean": [0.4, 0.4, 0.4], "std": [0.3, 0.3, 0.3]},
      "augment": [{"kind": "flip_horizontal"}, {"kind": "random_crop", "pad": 4}])";
  std::string json = linearDescriptor(c);
  fm_model_desc_t desc = fm_test_make_desc(json.c_str());
  Model model(&desc);
  TrainReport r = Trainer(model, d, quiet(tmp)).run();
  EXPECT_EQ(r.epochs[0].train.samples, 180);
  EXPECT_GT(r.test.get("acc"), 0.9);
}
