//===- IdxDatasetTest.cpp - Tests of the IDX loader and data sets ---------===//
//
// Well-formed files (gzip and plain), every malformation the loader must
// name (magic, type byte, truncation, trailing bytes, label range, count
// mismatch), and the real Fashion-MNIST files when installed.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/IdxDataset.h"
#include "test/unit/runtime/TestSupport.h"

#include <sys/stat.h>

using namespace fm;
using namespace fm::test;

static std::vector<uint8_t> idxBytes(uint8_t type, std::vector<uint32_t> dims,
                                     const std::vector<uint8_t> &data) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8)
      b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

static std::vector<uint8_t> images(uint32_t n, uint32_t h, uint32_t w) {
  std::vector<uint8_t> data(n * h * w);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 7);
  return idxBytes(0x08, {n, h, w}, data);
}

static std::vector<uint8_t> labels(std::vector<uint8_t> values) {
  return idxBytes(0x08, {static_cast<uint32_t>(values.size())}, values);
}

TEST(IdxTest, ReadsPlainAndGzip) {
  TempDir tmp;
  writeBytes(tmp.file("plain"), images(3, 2, 4));
  writeGzip(tmp.file("packed.gz"), images(3, 2, 4));
  for (const char *name : {"plain", "packed.gz"}) {
    IdxArray a = readIdx(tmp.file(name));
    EXPECT_EQ(a.type, IdxArray::U8);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 4}));
    ASSERT_EQ(a.data.size(), 24u);
    EXPECT_EQ(a.get(5), 35);
  }
}

TEST(IdxTest, DecodesBigEndianTypes) {
  TempDir tmp;
  // i32 -2 and f32 1.5, big-endian.
  writeBytes(tmp.file("i32"), idxBytes(0x0C, {1}, {0xFF, 0xFF, 0xFF, 0xFE}));
  writeBytes(tmp.file("f32"), idxBytes(0x0D, {1}, {0x3F, 0xC0, 0x00, 0x00}));
  EXPECT_EQ(readIdx(tmp.file("i32")).get(0), -2);
  EXPECT_EQ(readIdx(tmp.file("f32")).get(0), 1.5);
}

TEST(IdxTest, RejectsMalformedFiles) {
  TempDir tmp;
  std::vector<uint8_t> good = images(2, 2, 2);

  std::vector<uint8_t> magic = good;
  magic[0] = 0x1f;
  writeBytes(tmp.file("magic"), magic);
  EXPECT_FM_ERROR(readIdx(tmp.file("magic")),
                  "bad magic: expected 00 00 but got 1f 00");
  EXPECT_FM_ERROR(readIdx(tmp.file("magic")), tmp.file("magic"));

  std::vector<uint8_t> type = good;
  type[2] = 0x07;
  writeBytes(tmp.file("type"), type);
  EXPECT_FM_ERROR(readIdx(tmp.file("type")), "unknown type byte 0x07");

  std::vector<uint8_t> truncated(good.begin(), good.end() - 3);
  writeBytes(tmp.file("truncated"), truncated);
  EXPECT_FM_ERROR(
      readIdx(tmp.file("truncated")),
      "truncated: dimensions [2, 2, 2] need 8 data bytes but the file has 5");

  std::vector<uint8_t> header(good.begin(), good.begin() + 9);
  writeBytes(tmp.file("header"), header);
  EXPECT_FM_ERROR(readIdx(tmp.file("header")), "truncated header");

  std::vector<uint8_t> trailing = good;
  trailing.push_back(0);
  writeBytes(tmp.file("trailing"), trailing);
  EXPECT_FM_ERROR(readIdx(tmp.file("trailing")), "1 unexpected bytes after");

  writeBytes(tmp.file("short"), {0, 0});
  EXPECT_FM_ERROR(readIdx(tmp.file("short")), "expected a 4-byte header");

  EXPECT_FM_ERROR(readIdx(tmp.file("missing")),
                  "cannot open '" + tmp.file("missing") + "'");
}

TEST(IdxTest, RejectsTruncatedGzip) {
  TempDir tmp;
  std::vector<uint8_t> big(20000);
  for (size_t i = 0; i < big.size(); ++i)
    big[i] =
        static_cast<uint8_t>((i * 2654435761u) >> 13); // poorly compressible
  writeGzip(tmp.file("full.gz"), idxBytes(0x08, {20000}, big));
  std::vector<uint8_t> gz = readBytes(tmp.file("full.gz"));
  gz.resize(gz.size() / 2);
  writeBytes(tmp.file("cut.gz"), gz);
  EXPECT_FM_ERROR(readIdx(tmp.file("cut.gz")),
                  "corrupt or truncated gzip data");
}

/// Writes train/test files for Dataset::idx.
static void writeSet(const TempDir &tmp, std::vector<uint8_t> trainLabels) {
  writeGzip(tmp.file("train-images-idx3-ubyte.gz"),
            images(static_cast<uint32_t>(trainLabels.size()), 2, 2));
  writeGzip(tmp.file("train-labels-idx1-ubyte.gz"), labels(trainLabels));
  writeBytes(tmp.file("t10k-images-idx3-ubyte"), images(2, 2, 2));
  writeBytes(tmp.file("t10k-labels-idx1-ubyte"), labels({1, 0}));
}

TEST(IdxDatasetTest, LoadsMnistLayoutFolder) {
  TempDir tmp;
  writeSet(tmp, {0, 1, 9, 3});
  Dataset d = Dataset::mnist(tmp.path());
  EXPECT_TRUE(d.isU8);
  EXPECT_EQ(d.numClasses, 10);
  EXPECT_EQ(d.train.count, 4);
  EXPECT_EQ(d.test.count, 2);
  EXPECT_EQ(d.train.sampleShape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(d.train.labels, (std::vector<int32_t>{0, 1, 9, 3}));
  EXPECT_EQ(d.train.u8.size(), 16u);
}

TEST(IdxDatasetTest, LabelOutOfRangeNamesFileAndSample) {
  TempDir tmp;
  writeSet(tmp, {0, 1, 2, 12});
  EXPECT_FM_ERROR(Dataset::mnist(tmp.path()),
                  tmp.file("train-labels-idx1-ubyte.gz") +
                      "': label 12 of sample 3 is outside [0, 10)");
}

TEST(IdxDatasetTest, InfersClassesWhenUnknown) {
  TempDir tmp;
  writeSet(tmp, {0, 1, 2, 12});
  Dataset d = Dataset::idx(tmp.file("train-images-idx3-ubyte.gz"),
                           tmp.file("train-labels-idx1-ubyte.gz"),
                           tmp.file("t10k-images-idx3-ubyte"),
                           tmp.file("t10k-labels-idx1-ubyte"));
  EXPECT_EQ(d.numClasses, 13);
}

TEST(IdxDatasetTest, CountMismatchIsAnError) {
  TempDir tmp;
  writeSet(tmp, {0, 1, 2});
  writeGzip(tmp.file("train-images-idx3-ubyte.gz"), images(5, 2, 2));
  EXPECT_FM_ERROR(Dataset::mnist(tmp.path()), "has 5 samples but");
}

TEST(IdxDatasetTest, MissingFolderFileIsNamed) {
  TempDir tmp;
  EXPECT_FM_ERROR(Dataset::mnist(tmp.path()),
                  "cannot find 'train-images-idx3-ubyte'");
  DataSpec spec;
  spec.kind = "imagenet";
  EXPECT_FM_ERROR(Dataset::fromSpec(spec),
                  "data kind 'imagenet' is not supported");
}

TEST(IdxDatasetTest, LoadsRealFashionMnist) {
  struct stat st;
  if (::stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
             &st) != 0)
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  Dataset d = Dataset::fashionMnist();
  EXPECT_EQ(d.name, "fashion_mnist");
  EXPECT_EQ(d.train.count, 60000);
  EXPECT_EQ(d.test.count, 10000);
  EXPECT_EQ(d.train.sampleShape, (std::vector<int64_t>{28, 28}));
  EXPECT_EQ(d.numClasses, 10);
}
