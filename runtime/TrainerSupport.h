//===- TrainerSupport.h - Checkpoint metadata and snapshots ---*- C++ -*-===//
//
// Private to Trainer.cpp: the training state a checkpoint's metadata
// records (TrainerSupport.cpp), the overfitting flags, the progress line
// and log events, and in-memory snapshots of a model's parameters and
// state (the best epoch, for early stopping).
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_TRAINERSUPPORT_H
#define FM_RUNTIME_TRAINERSUPPORT_H

#include "runtime/Checkpoint.h"
#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/Model.h"
#include "runtime/Trainer.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace fm::trainer_detail {

inline const std::string *findMetadata(const Metadata &m, const char *key) {
  for (const auto &kv : m)
    if (kv.first == key)
      return &kv.second;
  return nullptr;
}

inline std::optional<int64_t> getMetadataInt(const Metadata &m, const char *key) {
  const std::string *v = findMetadata(m, key);
  if (!v)
    return std::nullopt;
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno || x < 0)
    return std::nullopt;
  return x;
}

inline int64_t parseMetadataInt(const Metadata &m, const char *key,
                         const std::string &path) {
  if (std::optional<int64_t> v = getMetadataInt(m, key))
    return *v;
  throw Error("checkpoint '" + path + "' has no valid '" + key +
                  "' metadata; cannot resume from it",
              FM_STATUS_DATA_LOSS);
}

inline std::optional<double> getMetadataDouble(const Metadata &m, const char *key) {
  const std::string *v = findMetadata(m, key);
  if (!v)
    return std::nullopt;
  char *end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0')
    return std::nullopt;
  return x;
}

/// `v` printed with a printf `format`.
std::string formatNumber(double v, const char *format = "%.4f");

/// {"loss": ..., metric: ..., "samples": n}: the log's form of metrics.
json::Value getMetricsJson(const Metrics &m);

/// What the overfitting flag looks at, carried across epochs (and in
/// checkpoints, so a resumed run flags the same epochs).
struct GapState {
  double prevTrain = std::numeric_limits<double>::quiet_NaN();
  double prevVal = std::numeric_limits<double>::quiet_NaN();
  int64_t rising = 0, widening = 0;

  /// Takes an epoch's losses; sets the record's gap, its counts of epochs
  /// in a row with validation loss rising while training loss fell and
  /// with a positive gap growing, and the flags they raise (2 and 3).
  void observe(double trainLoss, double valLoss, EpochRecord &record);
};

/// Where a run stands after an epoch: everything a resumed run needs to
/// make the same choices, written into each checkpoint's metadata (and
/// nothing that differs between an interrupted and an uninterrupted run).
struct Progress {
  int64_t epoch = 0; ///< epochs done
  int64_t badEpochs = 0;
  int64_t bestEpoch = 0;
  double best = std::numeric_limits<double>::infinity();
  uint64_t seed = 0;
  GapState gap;

  /// The metadata of a checkpoint (with the run's batch and split sizes,
  /// which a resume compares with its own).
  Metadata write(int64_t batch, int64_t trainCount, int64_t valCount) const;
  /// Reads what write() wrote; a missing or malformed epoch or bad_epochs
  /// (or seed, when `needSeed`: no seed was given to override it) is an
  /// error naming `path`.
  static Progress read(const Metadata &meta, const std::string &path,
                       bool needSeed);
};

/// The progress line of an epoch, with the overfitting flags.
std::string formatEpochLine(const EpochRecord &record, int64_t epochs,
                            bool validation);

/// The log's "epoch" event.
json::Value getEpochJson(const EpochRecord &record, int64_t step,
                         int64_t bestEpoch, bool validation);

/// The params, state and step count of a model, to put back later (the
/// best epoch, for early stopping). Plain copies: no file round trip.
struct Snapshot {
  std::vector<std::vector<uint8_t>> tensors;
  int64_t step = 0;
  bool valid = false;

  void take(const Model &model) {
    tensors.assign(model.getNumTensors(), {});
    for (int id = 0; id < model.getNumTensors(); ++id) {
      TensorKind k = model.getTensorDesc(id).kind;
      if (k != TensorKind::Param && k != TensorKind::State)
        continue;
      model.checkHostReadable(id);
      const uint8_t *p = static_cast<const uint8_t *>(model.getData(id));
      tensors[id].assign(p, p + model.getByteSize(id, 1));
    }
    step = model.getStepCount();
    valid = true;
  }
  void restore(Model &model) const {
    for (int id = 0; id < model.getNumTensors(); ++id) {
      if (tensors[id].empty())
        continue;
      std::memcpy(model.getData(id), tensors[id].data(), tensors[id].size());
      model.markHostWritten(id);
    }
    model.setStepCount(step);
  }
};

} // namespace fm::trainer_detail

#endif // FM_RUNTIME_TRAINERSUPPORT_H
