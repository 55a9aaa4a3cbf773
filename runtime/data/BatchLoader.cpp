//===- BatchLoader.cpp - Samples into a model's input tensors ---*- C++ -*-===//
//
// This file implements fm::BatchLoader. Every sample goes through one
// float scratch buffer: scale (u8 data only), augmentation, normalisation,
// then a cast to the input's dtype. Doing all of it in float keeps the
// result the same whatever the input dtype, and the scratch is allocated
// once, not per batch.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/BatchLoader.h"

#include "runtime/Error.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <cstring>

using namespace fm;

static bool isFloating(DType t) { return t == DType::F32 || t == DType::F64; }

BatchLoader::BatchLoader(Model &model, const Dataset &data,
                         const TrainSettings &settings)
    : model(model), data(data), settings(settings) {
  const Descriptor &d = model.getDescriptor();
  std::vector<int> inputs = d.getTensorsOfKind(TensorKind::Input);
  std::vector<int> labels = d.getTensorsOfKind(TensorKind::Label);
  if (inputs.size() != 1)
    throw Error("model '" + d.model + "' has " + std::to_string(inputs.size()) +
                    " inputs but a data set feeds exactly one",
                FM_STATUS_FAILED_PRECONDITION);
  if (labels.size() != 1)
    throw Error("model '" + d.model + "' has " + std::to_string(labels.size()) +
                    " labels but a data set feeds exactly one",
                FM_STATUS_FAILED_PRECONDITION);
  inputId = inputs[0];
  labelId = labels[0];
  checkShapes();
}

void BatchLoader::checkShapes() const {
  const TensorDesc &in = model.getTensorDesc(inputId);
  const TensorDesc &label = model.getTensorDesc(labelId);
  for (const TensorDesc *t : {&in, &label}) {
    bool ok = !t->shape.empty() && t->shape[0] == -1 &&
              std::count(t->shape.begin(), t->shape.end(), -1) == 1;
    if (!ok)
      throw Error(
          std::string(getTensorKindName(t->kind)) + " '" + t->name + "' is " +
              formatShape(t->dtype, t->shape) +
              "; a data set feeds tensors whose only batch extent is the first",
          FM_STATUS_FAILED_PRECONDITION);
  }
  int64_t sampleSize = data.train.getSampleSize();
  if (in.getSampleElementCount() != sampleSize)
    throw Error(
        "input '" + in.name + "' is " + formatShape(in.dtype, in.shape) + " (" +
            std::to_string(in.getSampleElementCount()) +
            " elements per sample) but data set '" + data.name +
            "' has samples of shape " + formatDims(data.train.sampleShape) +
            " (" + std::to_string(sampleSize) + " elements)",
        FM_STATUS_INVALID_ARGUMENT);
  if (label.getSampleElementCount() != 1)
    throw Error("label '" + label.name + "' is " +
                    formatShape(label.dtype, label.shape) + " but data set '" +
                    data.name + "' has one label per sample (use " +
                    getDTypeName(label.dtype) + "[N] or " +
                    getDTypeName(label.dtype) + "[N, 1])",
                FM_STATUS_INVALID_ARGUMENT);
  if (!isFloating(label.dtype) && !data.classLabels)
    throw Error(
        "label '" + label.name + "' is " +
            formatShape(label.dtype, label.shape) +
            " (class ids) but data set '" + data.name +
            "' has labels that are not class ids: " + data.labelProblem +
            "; declare the label f32 to train "
            "on float targets",
        FM_STATUS_INVALID_ARGUMENT);
  size_t channels = settings.normalizeMean.size();
  if (channels > 1 && (in.shape.size() < 2 || in.shape[1] != int64_t(channels)))
    throw Error("normalize has " + std::to_string(channels) +
                " channels but input '" + in.name + "' is " +
                formatShape(in.dtype, in.shape) + " (channels are axis 1)");
  if (channels && !isFloating(in.dtype))
    throw Error("normalize needs a floating input but '" + in.name + "' is " +
                formatShape(in.dtype, in.shape));
  if (!settings.augment.empty() && in.shape.size() < 3)
    throw Error("augmentation needs an input with two spatial axes but '" +
                in.name + "' is " + formatShape(in.dtype, in.shape));
}

void BatchLoader::augmentSample(float *sample, Rng &rng) {
  const std::vector<int64_t> &shape = model.getTensorDesc(inputId).shape;
  int64_t h = shape[shape.size() - 2], w = shape.back();
  int64_t planes = data.train.getSampleSize() / (h * w);
  for (const Augmentation &aug : settings.augment) {
    if (aug.kind == Augmentation::Kind::FlipHorizontal) {
      if (rng.uniform() < 0.5)
        continue;
      for (int64_t r = 0; r < planes * h; ++r)
        std::reverse(sample + r * w, sample + (r + 1) * w);
      continue;
    }
    // random_crop(pad): pad by zeros, crop back at a random offset.
    int64_t span = 2 * aug.pad + 1;
    int64_t dy = static_cast<int64_t>(rng.below(span)) - aug.pad;
    int64_t dx = static_cast<int64_t>(rng.below(span)) - aug.pad;
    cropScratch.assign(sample, sample + planes * h * w);
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          int64_t sy = y + dy, sx = x + dx;
          bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
          sample[(p * h + y) * w + x] =
              inside ? cropScratch[(p * h + sy) * w + sx] : 0.0f;
        }
  }
}

template <typename T>
static void storeSample(void *base, int64_t offset, const float *v, int64_t n) {
  T *out = static_cast<T *>(base) + offset;
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<T>(v[i]);
}

/// Stores sample `index`'s label: its float target into a floating label
/// when the data has targets, else its class id.
static void storeLabel(DType dtype, void *base, int64_t i, const Split &split,
                       int64_t index) {
  bool target = !split.targets.empty();
  int32_t label = split.labels[index];
  switch (dtype) {
  case DType::F32:
    static_cast<float *>(base)[i] =
        target ? split.targets[index] : static_cast<float>(label);
    break;
  case DType::F64:
    static_cast<double *>(base)[i] =
        target ? static_cast<double>(split.targets[index]) : label;
    break;
  case DType::I32:
    static_cast<int32_t *>(base)[i] = label;
    break;
  case DType::I64:
    static_cast<int64_t *>(base)[i] = label;
    break;
  case DType::U8:
  case DType::Bool:
    static_cast<uint8_t *>(base)[i] = static_cast<uint8_t>(label);
    break;
  }
}

void BatchLoader::load(const Split &split, const int64_t *indices,
                       int64_t count, bool augment, uint64_t augmentSeed) {
  const TensorDesc &in = model.getTensorDesc(inputId);
  const TensorDesc &label = model.getTensorDesc(labelId);
  model.reserveBatch(count);
  int64_t n = split.getSampleSize();
  sampleScratch.resize(static_cast<size_t>(n));
  float *sample = sampleScratch.data();
  bool floating = isFloating(in.dtype);
  float scale = floating ? static_cast<float>(settings.scale) : 1.0f;
  size_t channels = settings.normalizeMean.size();
  int64_t perChannel = channels > 1 ? n / static_cast<int64_t>(channels) : n;
  Rng rng(augmentSeed);
  void *inData = model.getData(inputId);
  void *labelData = model.getData(labelId);
  for (int64_t k = 0; k < count; ++k) {
    int64_t index = indices[k];
    if (data.isU8) {
      const uint8_t *src = split.u8.data() + index * n;
      for (int64_t i = 0; i < n; ++i)
        sample[i] = static_cast<float>(src[i]) * scale;
    } else {
      std::memcpy(sample, split.f32.data() + index * n, n * sizeof(float));
    }
    if (augment && !settings.augment.empty())
      augmentSample(sample, rng);
    for (size_t c = 0; c < channels; ++c) {
      float mean = static_cast<float>(settings.normalizeMean[c]);
      float invStd = static_cast<float>(1.0 / settings.normalizeStd[c]);
      for (int64_t i = c * perChannel; i < int64_t(c + 1) * perChannel; ++i)
        sample[i] = (sample[i] - mean) * invStd;
    }
    switch (in.dtype) {
    case DType::F32:
      std::memcpy(static_cast<float *>(inData) + k * n, sample, n * 4);
      break;
    case DType::F64:
      storeSample<double>(inData, k * n, sample, n);
      break;
    case DType::I32:
      storeSample<int32_t>(inData, k * n, sample, n);
      break;
    case DType::I64:
      storeSample<int64_t>(inData, k * n, sample, n);
      break;
    case DType::U8:
    case DType::Bool:
      storeSample<uint8_t>(inData, k * n, sample, n);
      break;
    }
    storeLabel(label.dtype, labelData, k, split, index);
  }
  model.markHostWritten(inputId);
  model.markHostWritten(labelId);
}
