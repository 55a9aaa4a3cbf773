//===- IdxDataset.cpp - The IDX file format and IDX data sets ---*- C++ -*-===//
//
// This file implements the IDX reader and the data sets built from IDX
// files: Fashion-MNIST, MNIST and four explicit paths. zlib's gzread reads
// gzip and plain files alike; it also reports a truncated gzip stream,
// which we turn into an error rather than a silently short data set.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/IdxDataset.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <zlib.h>

using namespace fm;

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

static size_t getIdxTypeSize(uint8_t type) {
  switch (type) {
  case IdxArray::U8:
  case IdxArray::I8:
    return 1;
  case IdxArray::I16:
    return 2;
  case IdxArray::I32:
  case IdxArray::F32:
    return 4;
  case IdxArray::F64:
    return 8;
  }
  return 0;
}

int64_t IdxArray::getElementCount() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

double IdxArray::get(int64_t i) const {
  size_t size = getIdxTypeSize(type);
  const uint8_t *p = data.data() + i * size;
  uint64_t bits = 0;
  for (size_t b = 0; b < size; ++b)
    bits = bits << 8 | p[b];
  switch (type) {
  case U8:
    return static_cast<double>(p[0]);
  case I8:
    return static_cast<double>(static_cast<int8_t>(p[0]));
  case I16:
    return static_cast<double>(static_cast<int16_t>(bits));
  case I32:
    return static_cast<double>(static_cast<int32_t>(bits));
  case F32: {
    uint32_t b32 = static_cast<uint32_t>(bits);
    float f;
    std::memcpy(&f, &b32, 4);
    return f;
  }
  case F64: {
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  }
  return 0;
}

static std::vector<uint8_t> readMaybeGzip(const std::string &path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    throw Error("cannot open '" + path +
                    "': " + (errno ? std::strerror(errno) : "out of memory"),
                errno == ENOENT ? FM_STATUS_NOT_FOUND : FM_STATUS_UNAVAILABLE);
  gzbuffer(file, 1 << 17);
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(1 << 20);
  while (true) {
    int n = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0)
      break;
    bytes.insert(bytes.end(), chunk.data(), chunk.data() + n);
    if (n < static_cast<int>(chunk.size()))
      break;
  }
  int code = Z_OK;
  const char *message = gzerror(file, &code);
  std::string why = message ? message : "";
  gzclose(file);
  if (code != Z_OK && code != Z_STREAM_END)
    throw Error("cannot read '" + path + "': corrupt or truncated gzip data (" +
                    why + ")",
                FM_STATUS_DATA_LOSS);
  return bytes;
}

IdxArray fm::readIdx(const std::string &path) {
  std::vector<uint8_t> bytes = readMaybeGzip(path);
  auto bad = [&](const std::string &why) {
    return Error("'" + path + "' is not a valid IDX file: " + why,
                 FM_STATUS_DATA_LOSS);
  };
  if (bytes.size() < 4)
    throw bad("expected a 4-byte header but the file has " +
              std::to_string(bytes.size()) + " bytes");
  if (bytes[0] != 0 || bytes[1] != 0) {
    char got[16];
    std::snprintf(got, sizeof got, "%02x %02x", bytes[0], bytes[1]);
    throw bad(std::string("bad magic: expected 00 00 but got ") + got);
  }
  IdxArray array;
  array.path = path;
  uint8_t type = bytes[2];
  if (getIdxTypeSize(type) == 0) {
    char got[8];
    std::snprintf(got, sizeof got, "0x%02x", type);
    throw bad(std::string("unknown type byte ") + got +
              "; expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e");
  }
  array.type = static_cast<IdxArray::Type>(type);
  size_t rank = bytes[3];
  if (rank == 0)
    throw bad("expected at least one dimension");
  size_t headerSize = 4 + 4 * rank;
  if (bytes.size() < headerSize)
    throw bad("truncated header: " + std::to_string(rank) +
              " dimensions need " + std::to_string(headerSize) +
              " bytes but the file has " + std::to_string(bytes.size()));
  uint64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    const uint8_t *p = bytes.data() + 4 + 4 * d;
    uint64_t extent = uint64_t(p[0]) << 24 | uint64_t(p[1]) << 16 |
                      uint64_t(p[2]) << 8 | uint64_t(p[3]);
    count *= extent;
    if (count > (uint64_t(1) << 40))
      throw bad("dimensions describe more than 2^40 elements");
    array.dims.push_back(static_cast<int64_t>(extent));
  }
  uint64_t want = count * getIdxTypeSize(type);
  uint64_t have = bytes.size() - headerSize;
  if (have < want)
    throw bad("truncated: dimensions " + formatDims(array.dims) + " need " +
              std::to_string(want) + " data bytes but the file has " +
              std::to_string(have));
  if (have > want)
    throw bad(std::to_string(have - want) + " unexpected bytes after the " +
              std::to_string(want) + " data bytes of dimensions " +
              formatDims(array.dims));
  array.data.assign(bytes.begin() + headerSize, bytes.end());
  return array;
}

void fm::setIdxFeatures(const IdxArray &images, bool asU8, Split &split) {
  split.count = images.dims[0];
  split.sampleShape.assign(images.dims.begin() + 1, images.dims.end());
  if (asU8 && images.type == IdxArray::U8) {
    split.u8 = images.data;
    return;
  }
  int64_t n = images.getElementCount();
  split.f32.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    split.f32[i] = static_cast<float>(images.get(i));
}

void fm::setIdxLabels(const IdxArray &labels, Split &split) {
  if (labels.dims.size() != 1)
    throw Error("'" + labels.path +
                    "': expected one dimension of labels but got " +
                    formatDims(labels.dims),
                FM_STATUS_DATA_LOSS);
  if (labels.type == IdxArray::F32 || labels.type == IdxArray::F64)
    throw Error(
        "'" + labels.path +
            "': expected integer class labels but the file holds floats",
        FM_STATUS_DATA_LOSS);
  split.labels.resize(static_cast<size_t>(labels.dims[0]));
  for (int64_t i = 0; i < labels.dims[0]; ++i)
    split.labels[i] = static_cast<int32_t>(labels.get(i));
}

//===----------------------------------------------------------------------===//
// Data sets
//===----------------------------------------------------------------------===//

static void loadSplit(const std::string &imagesPath,
                      const std::string &labelsPath, bool &isU8,
                      int32_t numClasses, Split &split) {
  IdxArray images = readIdx(imagesPath);
  IdxArray labels = readIdx(labelsPath);
  if (images.dims[0] != labels.dims[0])
    throw Error("'" + imagesPath + "' has " + std::to_string(images.dims[0]) +
                    " samples but '" + labelsPath + "' has " +
                    std::to_string(labels.dims[0]) + " labels",
                FM_STATUS_DATA_LOSS);
  isU8 = isU8 && images.type == IdxArray::U8;
  setIdxFeatures(images, isU8, split);
  setIdxLabels(labels, split);
  for (size_t i = 0; i < split.labels.size(); ++i) {
    int32_t label = split.labels[i];
    if (label < 0 || (numClasses > 0 && label >= numClasses))
      throw Error("'" + labelsPath + "': label " + std::to_string(label) +
                      " of sample " + std::to_string(i) + " is outside [0, " +
                      (numClasses > 0 ? std::to_string(numClasses) : "inf") +
                      ")",
                  FM_STATUS_OUT_OF_RANGE);
  }
}

Dataset Dataset::idx(const std::string &trainImages,
                     const std::string &trainLabels,
                     const std::string &testImages,
                     const std::string &testLabels, int32_t numClasses) {
  Dataset d;
  d.name = trainImages;
  bool trainU8 = true, testU8 = true;
  loadSplit(trainImages, trainLabels, trainU8, numClasses, d.train);
  loadSplit(testImages, testLabels, testU8, numClasses, d.test);
  if (trainU8 != testU8) {
    // One split is bytes and the other is not: hold both as floats.
    for (Split *s : {&d.train, &d.test})
      if (!s->u8.empty()) {
        s->f32.assign(s->u8.begin(), s->u8.end());
        s->u8.clear();
      }
  }
  d.isU8 = trainU8 && testU8;
  d.numClasses = numClasses;
  if (numClasses <= 0) {
    int32_t max = -1;
    for (const Split *s : {&d.train, &d.test})
      for (int32_t l : s->labels)
        max = std::max(max, l);
    d.numClasses = max + 1;
  }
  d.validate();
  return d;
}

static bool fileExists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// Finds `stem` in `dir` under the spellings MNIST mirrors use:
/// "train-images-idx3-ubyte", ".gz" appended, or "train-images.idx3-ubyte".
static std::string findIdxFile(const std::string &dir,
                               const std::string &stem) {
  std::string dotted = stem;
  size_t dash = dotted.rfind("-idx");
  if (dash != std::string::npos)
    dotted[dash] = '.';
  for (const std::string &name : {stem + ".gz", stem, dotted + ".gz", dotted}) {
    std::string path = dir + "/" + name;
    if (fileExists(path))
      return path;
  }
  throw Error("cannot find '" + stem + "' (or '" + stem + ".gz') in '" + dir +
                  "'",
              FM_STATUS_NOT_FOUND);
}

Dataset Dataset::mnist(const std::string &dir) {
  // One at a time, so the first missing file is the one reported.
  std::string trainImages = findIdxFile(dir, "train-images-idx3-ubyte");
  std::string trainLabels = findIdxFile(dir, "train-labels-idx1-ubyte");
  std::string testImages = findIdxFile(dir, "t10k-images-idx3-ubyte");
  std::string testLabels = findIdxFile(dir, "t10k-labels-idx1-ubyte");
  Dataset d = idx(trainImages, trainLabels, testImages, testLabels, 10);
  d.name = dir;
  return d;
}

Dataset Dataset::fashionMnist(const std::string &dir) {
  Dataset d;
  try {
    d = mnist(dir);
  } catch (const Error &e) {
    if (e.getCode() == FM_STATUS_NOT_FOUND)
      rethrowWithContext(
          e, "fashion_mnist (install Debian's dataset-fashion-mnist)");
    throw;
  }
  d.name = "fashion_mnist";
  return d;
}
