//===- Dataset.h - In-memory data sets --------------------------*- C++ -*-===//
//
// This file declares fm::Dataset: a train and a test split held in memory,
// each a set of samples of one shape (features, u8 or f32) with one label
// per sample: a class id, or for CSV data a float target. Loaders for each
// on-disk format (IdxDataset.h, CifarDataset.cpp, CsvDataset.cpp) fill it;
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
  std::vector<int32_t> labels;      // one class id per sample (-1: none)
  /// The label as a float, per sample; only data with float labels (CSV)
  /// fills it. Empty: a floating label tensor takes `labels` converted.
  std::vector<float> targets;

  int64_t getSampleSize() const;
};

class Dataset {
public:
  std::string name; // for messages: "fashion_mnist", a folder, a path
  bool isU8 = true; // raw bytes (scaled by train.scale) or floats
  int32_t numClasses = 0;
  /// False when some label is not a class id (CSV targets such as 0.25);
  /// `labelProblem` then says where ("moons.csv:7: label 0.25 ..."), and
  /// only a floating label tensor can take the labels.
  bool classLabels = true;
  std::string labelProblem;
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
  /// The CIFAR-10 binary version in `dir` (or `dir`/cifar-10-batches-bin):
  /// data_batch_1.bin .. data_batch_5.bin and test_batch.bin, records of
  /// one label byte and 3072 bytes of R, G, B planes of 32x32. Features
  /// are u8 [3, 32, 32], labels 0..9.
  static Dataset cifar10(const std::string &dir);
  /// Two CSV files with a header row and the same columns: `label` is the
  /// label column, every other column a float feature (samples [columns]).
  /// Labels that are all non-negative integers are class ids; otherwise
  /// they are float targets (classLabels false).
  static Dataset csv(const std::string &train, const std::string &test,
                     const std::string &label = "label");
  /// The data set a descriptor's train.data names.
  static Dataset fromSpec(const DataSpec &spec);

  /// Checks that both splits agree and labels lie in range; loaders call it.
  void validate() const;
};

/// A human-readable shape: [28, 28].
std::string formatDims(const std::vector<int64_t> &dims);

} // namespace fm

#endif // FM_RUNTIME_DATA_DATASET_H
