//===- Trainer.h - The training loop ----------------------------*- C++ -*-===//
//
// This file declares fm::Trainer: it trains an fm::Model on an fm::Dataset
// following the model's train block (LANGUAGE.md section 9), with
// command-line style overrides. Per epoch: a seeded shuffle, batches
// (the last one partial, never dropped), the learning-rate schedule,
// validation on the held-out tail of the training split, one progress
// line (flagging a widening train/validation gap), an optional JSON-lines
// record and checkpoints (last, and best by validation loss). Then, after
// restoring the best epoch when early_stop is set, one test-set
// evaluation.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_TRAINER_H
#define FM_RUNTIME_TRAINER_H

#include "runtime/Model.h"
#include "runtime/data/BatchLoader.h"
#include "runtime/data/Dataset.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fm {

/// Loss and metrics averaged over samples (each batch weighted by its
/// size), loss first.
struct Metrics {
  std::vector<std::pair<std::string, double>> values;
  int64_t samples = 0;

  double get(const std::string &name) const;
  /// "loss 0.4123 acc 0.8512"
  std::string format() const;
};

/// Overrides of the train block; unset fields keep the descriptor's value.
struct TrainOptions {
  std::optional<int64_t> epochs, batch;
  std::optional<uint64_t> seed; // also re-initialises the model
  std::optional<double> validation, lr, scale;
  std::optional<int64_t> earlyStop; // 0: none
  int numThreads = 0;               // 0: keep the model's setting
  int64_t limit = 0;   // >0: only the first `limit` training samples
  std::string logPath; // JSON lines; "": none
  std::optional<std::string> checkpointDir; // "": none
  /// Checkpoint to continue from: a file, or a checkpoint folder (its
  /// last.safetensors). Continues bit for bit: params, optimizer state,
  /// step, epoch, data order, early-stop and overfitting counters.
  std::string resumePath;
  /// >0: stop after this many epochs of this call, as if interrupted: the
  /// schedule still spans `epochs`, the checkpoint is written, the test
  /// split is not evaluated. A later call with resumePath continues.
  int64_t stopAfter = 0;
  /// Receives each progress line; unset prints to stdout.
  std::function<void(const std::string &)> progress;
};

struct EpochRecord {
  int64_t epoch = 0;
  Metrics train, validation; // validation.samples == 0 without validation
  double lr = 0;
  double imagesPerSecond = 0, seconds = 0;
  /// Validation loss minus training loss (0 without validation).
  double gap = 0;
  /// Consecutive epochs (this one included) in which the validation loss
  /// rose while the training loss fell, and in which a positive gap grew.
  int64_t risingEpochs = 0, wideningEpochs = 0;
  /// The progress line's flags: risingEpochs >= 2, wideningEpochs >= 3.
  bool overfitting = false, gapWidening = false;
};

struct TrainReport {
  std::vector<EpochRecord> epochs; // epochs run by this call
  Metrics test;                    // test.samples == 0 if not evaluated
  bool stoppedEarly = false;
  bool interrupted = false; // TrainOptions::stopAfter ended the call
  /// The epoch with the best monitored loss (validation, else training).
  int64_t bestEpoch = 0;
  /// The model was put back to bestEpoch before the test evaluation
  /// (early_stop with validation).
  bool restoredBest = false;
};

/// A range of samples of one split: what `--split` names.
struct SplitRange {
  std::string name; // "train", "validation" or "test"
  const Split *split = nullptr;
  int64_t first = 0, count = 0;
};

class Trainer {
public:
  Trainer(Model &model, const Dataset &data, TrainOptions options = {});
  ~Trainer();
  Trainer(const Trainer &) = delete;
  Trainer &operator=(const Trainer &) = delete;

  /// The train block with the overrides applied.
  const TrainSettings &getSettings() const { return settings; }

  /// Runs the whole loop and the final test evaluation.
  TrainReport run();

  /// Training samples after --limit and without the validation tail.
  int64_t getTrainCount() const { return trainCount; }
  /// The held-out tail of the training split (train.validation).
  int64_t getValidationCount() const { return validationCount; }
  /// "train" (the samples trained on), "validation" or "test"; throws
  /// fm::Error for another name or an empty validation split.
  SplitRange getSplit(const std::string &name) const;

  /// Evaluates samples [first, first + count) of a split.
  Metrics evaluate(const Split &split, int64_t first, int64_t count,
                   int64_t batch);

  /// The learning rate of optimizer step `step` (0-based) in epoch `epoch`
  /// (0-based) with `batchesPerEpoch` steps per epoch.
  double getLearningRate(int64_t epoch, int64_t step,
                         int64_t batchesPerEpoch) const;

  /// Copies samples `indices` of `split` into the model's first input and
  /// label (converting dtypes, scaling, normalising, augmenting if asked).
  void loadBatch(const Split &split, const int64_t *indices, int64_t count,
                 bool augment, uint64_t augmentSeed);

  /// The checkpoint a resume path names: `path` itself, or
  /// `path`/last.safetensors when `path` is a folder.
  static std::string resolveResumePath(const std::string &path);

private:
  void emit(const std::string &line);
  void warn(const std::string &line);
  void log(const std::string &jsonLine);

  Model &model;
  const Dataset &data;
  TrainOptions options;
  TrainSettings settings; // the descriptor's, with overrides applied
  std::optional<BatchLoader> loader;
  std::FILE *logFile = nullptr;
  int64_t trainCount = 0, validationCount = 0;
};

} // namespace fm

#endif // FM_RUNTIME_TRAINER_H
