//===- IdxDataset.h - The IDX file format -----------------------*- C++ -*-===//
//
// This file declares the reader for IDX files (the MNIST format): two zero
// bytes, a type byte, a dimension count, big-endian u32 extents, then the
// big-endian data. Files may be gzip-compressed or plain; zlib reads both.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_DATA_IDXDATASET_H
#define FM_RUNTIME_DATA_IDXDATASET_H

#include "runtime/data/Dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fm {

/// A decoded IDX file.
struct IdxArray {
  enum Type : uint8_t {
    U8 = 0x08,
    I8 = 0x09,
    I16 = 0x0B,
    I32 = 0x0C,
    F32 = 0x0D,
    F64 = 0x0E
  };
  std::string path;
  Type type = U8;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data; // raw, still big-endian

  int64_t getElementCount() const;
  /// Element i as a double (decodes the big-endian value).
  double get(int64_t i) const;
};

/// Reads and checks one IDX file: magic, type byte, dimensions, exact
/// length (truncation and trailing bytes are errors). Errors name the file.
IdxArray readIdx(const std::string &path);

/// Converts an IDX images file into a split's features (u8 kept as bytes
/// when `asU8`, anything else converted to f32).
void setIdxFeatures(const IdxArray &images, bool asU8, Split &split);
/// Converts an IDX labels file (integer type, one dimension) into labels.
void setIdxLabels(const IdxArray &labels, Split &split);

} // namespace fm

#endif // FM_RUNTIME_DATA_IDXDATASET_H
