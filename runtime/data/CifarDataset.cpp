//===- CifarDataset.cpp - The CIFAR-10 binary format ------------*- C++ -*-===//
//
// This file implements Dataset::cifar10: the "binary version" of CIFAR-10
// (https://www.cs.toronto.edu/~kriz/cifar.html). Each of data_batch_1.bin
// .. data_batch_5.bin (training) and test_batch.bin (test) is a sequence
// of 3073-byte records: one label byte (0..9), then 1024 red, 1024 green
// and 1024 blue bytes of a 32x32 image, row-major. So a record is already
// a u8 [3, 32, 32] sample in NCHW order. The files have no header, so the
// checks are a whole number of records and labels in range.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/Dataset.h"

#include "runtime/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

using namespace fm;

namespace {
constexpr int64_t kImageBytes = 3 * 32 * 32;
constexpr int64_t kRecordBytes = 1 + kImageBytes;

bool isFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<uint8_t> readFile(const std::string &path) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw Error("cannot open '" + path + "': " + std::strerror(errno),
                errno == ENOENT ? FM_STATUS_NOT_FOUND : FM_STATUS_UNAVAILABLE);
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed)
    throw Error("cannot read '" + path + "'", FM_STATUS_UNAVAILABLE);
  return bytes;
}

/// Appends the records of one batch file to `split`.
void appendBatch(const std::string &path, Split &split) {
  std::vector<uint8_t> bytes = readFile(path);
  int64_t size = static_cast<int64_t>(bytes.size());
  if (size == 0)
    throw Error("'" + path + "' is empty; expected CIFAR-10 records of " +
                    std::to_string(kRecordBytes) + " bytes",
                FM_STATUS_DATA_LOSS);
  if (size % kRecordBytes != 0)
    throw Error("'" + path + "' is truncated: record " +
                    std::to_string(size / kRecordBytes) + " has " +
                    std::to_string(size % kRecordBytes) + " of its " +
                    std::to_string(kRecordBytes) + " bytes (1 label byte + " +
                    std::to_string(kImageBytes) +
                    " pixel bytes; the file has " + std::to_string(size) +
                    " bytes)",
                FM_STATUS_DATA_LOSS);
  int64_t records = size / kRecordBytes;
  split.u8.reserve(split.u8.size() + records * kImageBytes);
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t *record = bytes.data() + r * kRecordBytes;
    if (record[0] > 9)
      throw Error("'" + path + "': record " + std::to_string(r) +
                      " (byte offset " + std::to_string(r * kRecordBytes) +
                      ") has label " + std::to_string(record[0]) +
                      "; CIFAR-10 labels are 0..9",
                  FM_STATUS_OUT_OF_RANGE);
    split.labels.push_back(record[0]);
    split.u8.insert(split.u8.end(), record + 1, record + kRecordBytes);
  }
  split.count += records;
}
} // namespace

Dataset Dataset::cifar10(const std::string &dir) {
  if (dir.empty())
    throw Error("cifar10(dir): no folder given", FM_STATUS_INVALID_ARGUMENT);
  // The archive unpacks into cifar-10-batches-bin/; accept its parent too.
  std::string base = dir;
  if (!isFile(base + "/data_batch_1.bin") &&
      isFile(base + "/cifar-10-batches-bin/data_batch_1.bin"))
    base += "/cifar-10-batches-bin";
  std::vector<std::string> trainFiles;
  for (int i = 1; i <= 5; ++i)
    trainFiles.push_back(base + "/data_batch_" + std::to_string(i) + ".bin");
  std::string testFile = base + "/test_batch.bin";
  // Check every name first, so a wrong folder is one clear message.
  for (const std::string &f : trainFiles)
    if (!isFile(f))
      throw Error("cannot find '" + f +
                      "': cifar10(dir) expects the CIFAR-10 binary version "
                      "in dir: data_batch_1.bin .. data_batch_5.bin and "
                      "test_batch.bin",
                  FM_STATUS_NOT_FOUND);
  if (!isFile(testFile))
    throw Error("cannot find '" + testFile +
                    "': cifar10(dir) expects the CIFAR-10 binary version in "
                    "dir: data_batch_1.bin .. data_batch_5.bin and "
                    "test_batch.bin",
                FM_STATUS_NOT_FOUND);
  Dataset d;
  d.name = dir;
  d.isU8 = true;
  d.numClasses = 10;
  for (Split *s : {&d.train, &d.test})
    s->sampleShape = {3, 32, 32};
  for (const std::string &f : trainFiles)
    appendBatch(f, d.train);
  appendBatch(testFile, d.test);
  d.validate();
  return d;
}
