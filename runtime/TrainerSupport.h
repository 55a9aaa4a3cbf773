//===- TrainerSupport.h - Checkpoint metadata and snapshots ---*- C++ -*-===//
//
// Private to Trainer.cpp: reading the training state a checkpoint's
// metadata records, and in-memory snapshots of a model's parameters and
// state (the best epoch, for early stopping).
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_TRAINERSUPPORT_H
#define FM_RUNTIME_TRAINERSUPPORT_H

#include "runtime/Checkpoint.h"
#include "runtime/Error.h"
#include "runtime/Model.h"

#include <cstdint>
#include <cstring>
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
