//===- Dataset.h - In-memory data sets --------------------------*- C++ -*-===//
//
// This file declares fm::Dataset: a train and a test split held in memory,
// each a set of samples of one shape (features, u8 or f32) with one class
// id per sample. Loaders for each on-disk format (IdxDataset.h) fill it;
// the Trainer turns samples into batches for a model's first input.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_DATA_DATASET_H
#define FM_RUNTIME_DATA_DATASET_H

#include "runtime/Descriptor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fm {

/// One split: `count` samples of `sampleShape`, stored contiguously.
struct Split {
  int64_t count = 0;
  std::vector<int64_t> sampleShape; // e.g. [28, 28]
  std::vector<uint8_t> u8;          // features when Dataset::isU8
  std::vector<float> f32;           // features otherwise
  std::vector<int32_t> labels;      // one class id per sample

  int64_t getSampleSize() const;
};

class Dataset {
public:
  std::string name; // for messages: "fashion_mnist", a folder, a path
  bool isU8 = true; // raw bytes (scaled by train.scale) or floats
  int32_t numClasses = 0;
  Split train, test;

  /// Debian's dataset-fashion-mnist files (gzip IDX) under `dir`.
  static Dataset
  fashionMnist(const std::string &dir = "/usr/share/datasets/fashion-mnist");
  /// The four MNIST-layout IDX files in `dir`, gzipped or not.
  static Dataset mnist(const std::string &dir);
  /// Four IDX files; labels must lie in [0, numClasses) if numClasses > 0,
  /// else numClasses becomes the largest label plus one.
  static Dataset idx(const std::string &trainImages,
                     const std::string &trainLabels,
                     const std::string &testImages,
                     const std::string &testLabels, int32_t numClasses = 0);
  /// The data set a descriptor's train.data names.
  static Dataset fromSpec(const DataSpec &spec);

  /// Checks that both splits agree and labels lie in range; loaders call it.
  void validate() const;
};

/// A human-readable shape: [28, 28].
std::string formatDims(const std::vector<int64_t> &dims);

} // namespace fm

#endif // FM_RUNTIME_DATA_DATASET_H
