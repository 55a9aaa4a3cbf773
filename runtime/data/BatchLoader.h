//===- BatchLoader.h - Samples into a model's input tensors -----*- C++ -*-===//
//
// This file declares fm::BatchLoader, which copies samples of a data set
// into a model's first input and its label tensor: u8 features are scaled
// by train.scale when the input is floating, then augmented (training
// only) and normalised per channel as the train block says; class ids (or
// float targets, for a floating label) are converted to the label's
// dtype. It checks once, up front, that the data fits the model, naming
// both shapes when it does not.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_DATA_BATCHLOADER_H
#define FM_RUNTIME_DATA_BATCHLOADER_H

#include "runtime/Model.h"
#include "runtime/data/Dataset.h"

#include <cstdint>
#include <vector>

namespace fm {

class Rng;

class BatchLoader {
public:
  /// Throws fm::Error if the model does not have exactly one input and one
  /// label whose per-sample sizes match the data.
  BatchLoader(Model &model, const Dataset &data, const TrainSettings &settings);

  /// Writes samples `indices[0..count)` of `split` as one batch; augments
  /// with a generator seeded by `augmentSeed` if `augment` is set.
  void load(const Split &split, const int64_t *indices, int64_t count,
            bool augment, uint64_t augmentSeed);

  int getInputId() const { return inputId; }
  int getLabelId() const { return labelId; }

private:
  void checkShapes() const;
  void augmentSample(float *sample, Rng &rng);

  Model &model;
  const Dataset &data;
  const TrainSettings &settings;
  int inputId = -1, labelId = -1;
  std::vector<float> sampleScratch, cropScratch;
};

} // namespace fm

#endif // FM_RUNTIME_DATA_BATCHLOADER_H
