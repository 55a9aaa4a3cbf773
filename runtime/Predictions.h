//===- Predictions.h - Outputs over a split, files, confusion ---*- C++ -*-===//
//
// This file declares what `fmrun predict` and `fmrun eval` build on: the
// predict step run over a whole range of a split with every output
// collected per sample; writing those outputs as CSV or NumPy .npy files;
// and a confusion matrix (with per-class accuracy) from the argmax of a
// classification model's first output against its class labels.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_PREDICTIONS_H
#define FM_RUNTIME_PREDICTIONS_H

#include "runtime/Trainer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fm {

/// One output of the predict step for many samples: dense row-major,
/// shape [samples, ...the output's per-sample extents].
struct OutputArray {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t getSampleCount() const { return shape.empty() ? 0 : shape[0]; }
  int64_t getSampleElementCount() const;
  /// Element i (row-major over the whole array) as a double.
  double get(int64_t i) const;
};

/// Runs the predict step over `range` in batches of `batch` and returns
/// the outputs named in `names` (all of the model's outputs if empty), in
/// the model's order. An output must have the batch extent first.
std::vector<OutputArray>
predictSplit(Trainer &trainer, Model &model, const SplitRange &range,
             int64_t batch, const std::vector<std::string> &names = {});

/// Writes outputs to `path` by its extension and returns the files written:
///  - `.csv`: one row per sample; a header naming each column `name` (a
///    per-sample scalar) or `name[i]`, `name[i][j]`, ... (row-major);
///    floats with enough digits to read back the same value.
///  - `.npy`: NumPy format 1.0, little-endian, C order. One output:
///    `path` itself. Several: one file per output, `STEM.OUTPUT.npy` next
///    to `path` (STEM is `path` without `.npy`).
std::vector<std::string> writePredictions(const std::string &path,
                                          const std::vector<OutputArray> &outs);
/// One array as a .npy file.
void writeNpy(const std::string &path, const OutputArray &array);

/// Counts of (true class, predicted class) pairs.
struct ConfusionMatrix {
  int64_t classes = 0;
  std::vector<int64_t> counts; // row-major [true][predicted]

  int64_t at(int64_t trueClass, int64_t predicted) const {
    return counts[trueClass * classes + predicted];
  }
  int64_t getRowTotal(int64_t trueClass) const;
  int64_t getTotal() const;
  int64_t getCorrect() const;
  /// Correct / samples of a true class; NaN when it has no samples.
  double getClassAccuracy(int64_t trueClass) const;
  /// The per-class accuracy table, then the matrix (rows: true class,
  /// columns: predicted class), as printed by `fmrun eval`.
  std::string format(const std::string &output) const;
};

/// The confusion matrix of `predictions` (the model's first output over
/// samples [first, first + count) of `split`): argmax over the last axis
/// against the class labels. Returns nullopt and sets `whyNot` when the
/// model is not a classifier in that sense (floating labels, one score
/// per sample, several predictions per sample).
std::optional<ConfusionMatrix> computeConfusion(const Model &model,
                                                const Dataset &data,
                                                const OutputArray &predictions,
                                                const SplitRange &range,
                                                std::string &whyNot);

} // namespace fm

#endif // FM_RUNTIME_PREDICTIONS_H
