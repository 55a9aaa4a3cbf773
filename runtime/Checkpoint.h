//===- Checkpoint.h - safetensors checkpoints -------------------*- C++ -*-===//
//
// This file declares the safetensors reader and writer, and the functions
// that save and restore a model's param and state tensors with them. The
// format: an 8-byte little-endian header length, a JSON header mapping each
// tensor name to {"dtype", "shape", "data_offsets"} plus a "__metadata__"
// object of strings, then the raw little-endian data. PyTorch and the rest
// of the ecosystem read these files.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_CHECKPOINT_H
#define FM_RUNTIME_CHECKPOINT_H

#include "runtime/Descriptor.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fm {

class Model;

/// String metadata, in insertion order.
using Metadata = std::vector<std::pair<std::string, std::string>>;

/// A tensor to write: its bytes are read from `data` (dense row-major).
struct SafetensorsView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void *data = nullptr;
};

/// A whole file read into memory and validated.
struct SafetensorsFile {
  struct Entry {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    size_t begin = 0, end = 0; // into `data`
  };
  Metadata metadata;
  std::vector<Entry> entries; // header order
  std::vector<uint8_t> data;  // the byte buffer after the header

  const Entry *find(const std::string &name) const;
  const std::string *findMetadata(const std::string &key) const;
};

/// "F32" etc.; safetensors spells bool "BOOL".
const char *getSafetensorsDType(DType dtype);

/// Writes atomically: a temporary file in the same folder, flushed and
/// fsynced, then renamed over `path`. Throws fm::Error on any I/O failure.
void writeSafetensors(const std::string &path,
                      const std::vector<SafetensorsView> &tensors,
                      const Metadata &metadata);

/// Reads and validates: header length and JSON, dtypes, shapes, offsets
/// that tile the data exactly, file length. Errors name the file.
SafetensorsFile readSafetensors(const std::string &path);

/// Saves every param and state tensor plus metadata: "format"
/// ("fm-checkpoint"), "model", "step", "seed", and `extra` (e.g. epoch).
void saveCheckpoint(const Model &model, const std::string &path,
                    const Metadata &extra = {});

/// Validates the whole file against the model (model name, every param and
/// state present with the right dtype and shape, no unknown tensors) before
/// copying anything, then restores tensors and the step count. Returns the
/// metadata.
Metadata loadCheckpoint(Model &model, const std::string &path);

} // namespace fm

#endif // FM_RUNTIME_CHECKPOINT_H
