//===- Dataset.cpp - In-memory data sets ------------------------*- C++ -*-===//
//
// This file implements the parts of fm::Dataset that do not depend on a
// file format: consistency checks and choosing a loader from a
// descriptor's train.data.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/Dataset.h"

#include "runtime/Error.h"

using namespace fm;

std::string fm::formatDims(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

int64_t Split::getSampleSize() const {
  int64_t n = 1;
  for (int64_t d : sampleShape)
    n *= d;
  return n;
}

void Dataset::validate() const {
  if (train.count <= 0)
    throw Error("data set '" + name + "' has no training samples",
                FM_STATUS_DATA_LOSS);
  if (train.sampleShape != test.sampleShape && test.count > 0)
    throw Error("data set '" + name + "': training samples are " +
                    formatDims(train.sampleShape) + " but test samples are " +
                    formatDims(test.sampleShape),
                FM_STATUS_DATA_LOSS);
  for (const Split *s : {&train, &test}) {
    size_t features = static_cast<size_t>(s->count * s->getSampleSize());
    if ((isU8 ? s->u8.size() : s->f32.size()) != features ||
        s->labels.size() != static_cast<size_t>(s->count))
      throw Error("data set '" + name +
                      "' is inconsistent: sizes do not match "
                      "the sample count",
                  FM_STATUS_INTERNAL);
    if (!s->targets.empty() &&
        s->targets.size() != static_cast<size_t>(s->count))
      throw Error("data set '" + name +
                      "' is inconsistent: targets do not match the sample "
                      "count",
                  FM_STATUS_INTERNAL);
    if (!classLabels)
      continue;
    for (int32_t l : s->labels)
      if (l < 0 || (numClasses > 0 && l >= numClasses))
        throw Error("data set '" + name + "': label " + std::to_string(l) +
                        " is outside [0, " + std::to_string(numClasses) + ")",
                    FM_STATUS_OUT_OF_RANGE);
  }
}

Dataset Dataset::fromSpec(const DataSpec &spec) {
  if (spec.kind.empty())
    throw Error("the model's train block names no data (train.data)",
                FM_STATUS_FAILED_PRECONDITION);
  if (spec.kind == "fashion_mnist")
    return fashionMnist();
  if (spec.kind == "mnist")
    return mnist(spec.dir);
  if (spec.kind == "idx")
    return idx(spec.trainImages, spec.trainLabels, spec.testImages,
               spec.testLabels);
  if (spec.kind == "cifar10")
    return cifar10(spec.dir);
  if (spec.kind == "csv")
    return csv(spec.train, spec.test, spec.label);
  throw Error("data kind '" + spec.kind +
                  "' is not supported by this runtime yet",
              FM_STATUS_UNIMPLEMENTED);
}
