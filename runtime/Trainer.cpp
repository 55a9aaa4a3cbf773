//===- Trainer.cpp - The training loop --------------------------*- C++ -*-===//
//
// This file implements fm::Trainer. Determinism is the design constraint:
// every random choice (batch order, augmentation) comes from an fm::Rng
// whose seed is derived from the run's seed and the epoch, not from a
// generator carried across epochs. So a run resumed from the checkpoint of
// epoch k makes exactly the choices the uninterrupted run made.
//
//===----------------------------------------------------------------------===//
#include "runtime/Trainer.h"
#include "runtime/TrainerSupport.h"

#include "runtime/Checkpoint.h"
#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>

using namespace fm;
using namespace fm::trainer_detail;

//===----------------------------------------------------------------------===//
// Metrics
//===----------------------------------------------------------------------===//

/// Sums of per-batch results weighted by batch size.
namespace {
struct Accumulator {
  std::vector<double> sums;
  int64_t samples = 0;
  void add(const std::vector<std::pair<std::string, double>> &results,
           int64_t batch) {
    sums.resize(results.size());
    for (size_t i = 0; i < results.size(); ++i)
      sums[i] += results[i].second * static_cast<double>(batch);
    samples += batch;
  }
  Metrics finish(const Model &model) const {
    Metrics m;
    m.samples = samples;
    const Descriptor &d = model.getDescriptor();
    m.values.emplace_back(d.loss, samples ? sums.at(0) / samples : 0.0);
    for (size_t i = 0; i < d.metrics.size(); ++i)
      m.values.emplace_back(d.metrics[i],
                            samples ? sums.at(i + 1) / samples : 0.0);
    return m;
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// Set-up
//===----------------------------------------------------------------------===//

Trainer::Trainer(Model &model, const Dataset &data, TrainOptions opts)
    : model(model), data(data), options(std::move(opts)),
      settings(model.getDescriptor().train) {
  if (options.epochs)
    settings.epochs = *options.epochs;
  if (options.batch)
    settings.batch = *options.batch;
  if (options.seed)
    settings.seed = *options.seed;
  if (options.validation)
    settings.validation = *options.validation;
  if (options.lr)
    settings.lr = *options.lr;
  if (options.scale)
    settings.scale = *options.scale;
  if (options.earlyStop)
    settings.earlyStop = *options.earlyStop;
  if (options.checkpointDir)
    settings.checkpoint = *options.checkpointDir;
  else if (settings.checkpoint.empty())
    settings.checkpoint = "checkpoints/" + model.getName();
  if (settings.epochs < 0)
    throw Error("epochs must be non-negative but got " +
                std::to_string(settings.epochs));
  if (settings.batch < 1)
    throw Error("batch must be positive but got " +
                std::to_string(settings.batch));
  if (!(settings.validation >= 0 && settings.validation < 1))
    throw Error("validation must be a fraction in [0, 1) but got " +
                formatNumber(settings.validation, "%g"));
  if (!(settings.lr > 0) || !std::isfinite(settings.lr))
    throw Error("learning rate must be positive but got " +
                formatNumber(settings.lr, "%g"));
  if (settings.earlyStop < 0)
    throw Error("early_stop must be non-negative but got " +
                std::to_string(settings.earlyStop));
  if (options.limit < 0)
    throw Error("limit must be non-negative but got " +
                std::to_string(options.limit));
  if (options.stopAfter < 0)
    throw Error("stop-after must be non-negative but got " +
                std::to_string(options.stopAfter));
  if (options.numThreads)
    model.setNumThreads(options.numThreads);
  int64_t available = data.train.count;
  if (options.limit > 0)
    available = std::min(available, options.limit);
  validationCount =
      static_cast<int64_t>(std::floor(available * settings.validation));
  trainCount = available - validationCount;
  // Last: the loader keeps a reference to the final settings.
  loader.emplace(model, data, settings);
}

SplitRange Trainer::getSplit(const std::string &name) const {
  SplitRange r;
  r.name = name;
  if (name == "train") {
    r.split = &data.train;
    r.count = trainCount;
  } else if (name == "validation") {
    if (validationCount == 0)
      throw Error("there is no validation split: train.validation is " +
                      formatNumber(settings.validation, "%g") +
                      " (set it, or --validation F)",
                  FM_STATUS_FAILED_PRECONDITION);
    r.split = &data.train;
    r.first = trainCount;
    r.count = validationCount;
  } else if (name == "test") {
    r.split = &data.test;
    r.count = data.test.count;
  } else {
    throw Error("unknown split '" + name +
                "'; expected train, validation or test");
  }
  return r;
}

std::string Trainer::resolveResumePath(const std::string &path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec))
    return path;
  std::string last = path + "/last.safetensors";
  if (!std::filesystem::exists(last, ec))
    throw Error("no checkpoint to resume from in folder '" + path +
                    "' (expected " + last + ")",
                FM_STATUS_NOT_FOUND);
  return last;
}

Trainer::~Trainer() {
  if (logFile)
    std::fclose(logFile);
}

void Trainer::loadBatch(const Split &split, const int64_t *indices,
                        int64_t count, bool augment, uint64_t augmentSeed) {
  loader->load(split, indices, count, augment, augmentSeed);
}

//===----------------------------------------------------------------------===//
// Evaluation and schedule
//===----------------------------------------------------------------------===//

Metrics Trainer::evaluate(const Split &split, int64_t first, int64_t count,
                          int64_t batch) {
  if (first < 0 || count < 0 || first + count > split.count)
    throw Error("evaluation range is outside the split",
                FM_STATUS_OUT_OF_RANGE);
  if (batch < 1)
    batch = settings.batch;
  std::vector<int64_t> indices(
      static_cast<size_t>(std::min(batch, std::max<int64_t>(count, 1))));
  Accumulator acc;
  for (int64_t start = 0; start < count; start += batch) {
    int64_t size = std::min(batch, count - start);
    for (int64_t k = 0; k < size; ++k)
      indices[k] = first + start + k;
    loadBatch(split, indices.data(), size, false, 0);
    model.run(StepKind::Evaluate, size);
    acc.add(model.getResults(), size);
  }
  return acc.finish(model);
}

double Trainer::getLearningRate(int64_t epoch, int64_t step,
                                int64_t batchesPerEpoch) const {
  const LrSchedule &s = settings.schedule;
  double base = settings.lr;
  double t = epoch + static_cast<double>(step) / batchesPerEpoch; // in epochs
  double lr = base;
  switch (s.kind) {
  case LrSchedule::Kind::Constant:
    break;
  case LrSchedule::Kind::Step:
    lr = base * std::pow(s.gamma, std::floor(epoch / s.every));
    break;
  case LrSchedule::Kind::Cosine: {
    double span = settings.epochs - s.warmup;
    double p = span > 0 ? std::clamp((t - s.warmup) / span, 0.0, 1.0) : 1.0;
    lr = s.min + (base - s.min) * 0.5 * (1 + std::cos(M_PI * p));
    break;
  }
  }
  // Linear warm-up from (1 / warm-up steps) of the scheduled rate.
  double warmupSteps = s.warmup * batchesPerEpoch;
  double done = static_cast<double>(epoch * batchesPerEpoch + step + 1);
  if (warmupSteps > 0 && done < warmupSteps)
    lr *= done / warmupSteps;
  return lr;
}

//===----------------------------------------------------------------------===//
// The loop
//===----------------------------------------------------------------------===//

void Trainer::emit(const std::string &line) {
  if (options.progress)
    options.progress(line);
  else
    std::cout << line << std::endl;
}

void Trainer::warn(const std::string &line) {
  if (options.progress)
    options.progress("warning: " + line);
  else
    std::cerr << "warning: " << line << std::endl;
}

void Trainer::log(const std::string &jsonLine) {
  if (!logFile)
    return;
  if (std::fputs((jsonLine + "\n").c_str(), logFile) < 0 ||
      std::fflush(logFile) != 0)
    throw Error("cannot write log '" + options.logPath +
                    "': " + std::strerror(errno),
                FM_STATUS_UNAVAILABLE);
}

namespace {

/// The folder of a file path ("." for a bare name).
std::filesystem::path folderOf(const std::string &path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

bool isRegularFile(const std::string &path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

} // namespace

TrainReport Trainer::run() {
  TrainReport report;
  const Descriptor &d = model.getDescriptor();
  int64_t batch = settings.batch;
  int64_t valCount = validationCount;
  if (trainCount < 1)
    throw Error("no training samples left after holding out validation",
                FM_STATUS_FAILED_PRECONDITION);
  // Early stopping keeps the best epoch's parameters for the test.
  bool keepBest = settings.earlyStop > 0 && valCount > 0;
  if (settings.earlyStop > 0 && valCount == 0)
    warn("early_stop watches the validation loss but there is no "
         "validation split (train.validation is 0); it is ignored");
  std::string checkpointDir = settings.checkpoint;

  // Resume or start fresh.
  int64_t startEpoch = 0, badEpochs = 0, bestEpoch = 0;
  double best = std::numeric_limits<double>::infinity();
  uint64_t seed = settings.seed;
  GapState gap;
  Snapshot bestState;
  std::string resumePath, resumeBest;
  if (!options.resumePath.empty()) {
    resumePath = resolveResumePath(options.resumePath);
    Metadata meta = loadCheckpoint(model, resumePath);
    Progress resumed = Progress::read(meta, resumePath, !options.seed);
    startEpoch = resumed.epoch;
    badEpochs = resumed.badEpochs;
    if (!options.seed)
      seed = resumed.seed;
    best = resumed.best;
    bestEpoch = resumed.bestEpoch;
    gap = resumed.gap;
    // A different batch or data slice is allowed but is not a
    // continuation of the same run: say so.
    auto same = [&](const char *key, int64_t now, const char *what) {
      std::optional<int64_t> then = getMetadataInt(meta, key);
      if (then && *then != now)
        warn("resuming with " + std::to_string(now) + " " + what +
             " but checkpoint '" + resumePath + "' was trained with " +
             std::to_string(*then) +
             "; the result will differ from an uninterrupted run");
    };
    same("batch", batch, "as batch size");
    same("train_samples", trainCount, "training samples");
    same("validation_samples", valCount, "validation samples");
    const std::string *rng = findMetadata(meta, "rng");
    if (rng && *rng != Rng(Rng::deriveSeed(seed, 2 * startEpoch)).getState())
      warn("checkpoint '" + resumePath +
           "' was written with another data order (rng); the result will "
           "differ from an uninterrupted run");
    // The best epoch's checkpoint sits next to the last one.
    std::string bestFile = (folderOf(resumePath) / "best.safetensors").string();
    if (bestEpoch > 0 && isRegularFile(bestFile) &&
        getMetadataInt(readSafetensors(bestFile).metadata, "epoch") ==
            bestEpoch)
      resumeBest = bestFile;
    if (keepBest && bestEpoch > 0) {
      if (bestEpoch == startEpoch) {
        bestState.take(model);
      } else if (!resumeBest.empty()) {
        loadCheckpoint(model, resumeBest);
        bestState.take(model);
        loadCheckpoint(model, resumePath);
      } else {
        warn("cannot find the checkpoint of the best epoch (" +
             std::to_string(bestEpoch) + ") next to '" + resumePath +
             "'; the test evaluation may use later parameters");
      }
    }
  } else if (options.seed) {
    model.initialize(seed);
  }
  model.reserveBatch(batch);

  if (!options.logPath.empty()) {
    logFile = std::fopen(options.logPath.c_str(),
                         options.resumePath.empty() ? "w" : "a");
    if (!logFile)
      throw Error("cannot open log '" + options.logPath +
                      "': " + std::strerror(errno),
                  FM_STATUS_UNAVAILABLE);
  }
  if (!checkpointDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(checkpointDir, ec);
    if (ec)
      throw Error("cannot create checkpoint folder '" + checkpointDir +
                      "': " + ec.message(),
                  FM_STATUS_UNAVAILABLE);
    // Resuming into another folder: carry the best checkpoint over, so
    // the new folder is complete.
    if (!resumeBest.empty() &&
        !std::filesystem::equivalent(checkpointDir, folderOf(resumeBest), ec)) {
      std::filesystem::copy_file(
          resumeBest, checkpointDir + "/best.safetensors",
          std::filesystem::copy_options::overwrite_existing, ec);
      if (ec)
        throw Error("cannot copy '" + resumeBest + "' into '" + checkpointDir +
                        "': " + ec.message(),
                    FM_STATUS_UNAVAILABLE);
    }
  }
  json::Value start = json::Value::object();
  start.set("event", "start");
  start.set("model", d.model);
  start.set("seed", json::Value(static_cast<long long>(seed)));
  start.set("batch", json::Value(batch));
  start.set("epochs", json::Value(settings.epochs));
  start.set("train_samples", json::Value(trainCount));
  start.set("validation_samples", json::Value(valCount));
  start.set("start_epoch", json::Value(startEpoch));
  if (!resumePath.empty())
    start.set("resumed_from", resumePath);
  log(json::write(start));

  if (keepBest && startEpoch > 0 && badEpochs >= settings.earlyStop &&
      startEpoch < settings.epochs) {
    report.stoppedEarly = true;
    emit("early stop: validation loss has not improved for " +
         std::to_string(badEpochs) + " epochs (as of the checkpoint)");
  }

  int64_t batchesPerEpoch = (trainCount + batch - 1) / batch;
  std::vector<int64_t> order(static_cast<size_t>(trainCount));
  int64_t epochsRun = 0, lastEpoch = startEpoch;
  using Clock = std::chrono::steady_clock;
  for (int64_t epoch = startEpoch;
       epoch < settings.epochs && !report.stoppedEarly; ++epoch) {
    auto epochStart = Clock::now();
    for (int64_t i = 0; i < trainCount; ++i)
      order[i] = i;
    Rng shuffle(Rng::deriveSeed(seed, 2 * epoch));
    shuffle.shuffle(order);
    Accumulator acc;
    double lr = settings.lr;
    for (int64_t b = 0; b < batchesPerEpoch; ++b) {
      int64_t first = b * batch, size = std::min(batch, trainCount - first);
      uint64_t augmentSeed =
          Rng::deriveSeed(Rng::deriveSeed(seed, 2 * epoch + 1), b);
      loadBatch(data.train, order.data() + first, size, true, augmentSeed);
      lr = getLearningRate(epoch, b, batchesPerEpoch);
      model.run(StepKind::Train, size, static_cast<float>(lr));
      double loss = model.getResults().at(0).second;
      if (!std::isfinite(loss))
        throw Error("loss is " + formatNumber(loss, "%g") + " at epoch " +
                        std::to_string(epoch + 1) + ", step " +
                        std::to_string(model.getStepCount()) +
                        "; training diverged (lower the learning rate?)",
                    FM_STATUS_OUT_OF_RANGE);
      acc.add(model.getResults(), size);
    }
    double trainSeconds =
        std::chrono::duration<double>(Clock::now() - epochStart).count();
    EpochRecord record;
    record.epoch = epoch + 1;
    record.lr = lr;
    record.train = acc.finish(model);
    if (valCount > 0)
      record.validation = evaluate(data.train, trainCount, valCount, batch);
    record.seconds =
        std::chrono::duration<double>(Clock::now() - epochStart).count();
    record.imagesPerSecond = trainSeconds > 0 ? trainCount / trainSeconds : 0;

    // Overfitting made visible: validation loss rising while training
    // loss falls, or a positive gap between them growing, epoch after
    // epoch.
    if (valCount > 0) {
      double trainLoss = record.train.values[0].second;
      double valLoss = record.validation.values[0].second;
      gap.observe(trainLoss, valLoss, record);
    }

    emit(formatEpochLine(record, settings.epochs, valCount > 0));

    // Best is judged on validation loss, or on training loss without it.
    double monitored = valCount > 0 ? record.validation.values[0].second
                                    : record.train.values[0].second;
    bool improved = monitored < best;
    if (improved) {
      best = monitored;
      bestEpoch = epoch + 1;
      badEpochs = 0;
      if (keepBest)
        bestState.take(model);
    } else {
      ++badEpochs;
    }

    log(json::write(getEpochJson(record, model.getStepCount(), bestEpoch,
                                 valCount > 0)));

    if (!checkpointDir.empty()) {
      // Everything a resumed run needs to make the same choices; nothing
      // that differs between an interrupted and an uninterrupted run.
      Progress now{epoch + 1, badEpochs, bestEpoch, best, seed, gap};
      Metadata meta = now.write(batch, trainCount, valCount);
      if (improved)
        saveCheckpoint(model, checkpointDir + "/best.safetensors", meta);
      saveCheckpoint(model, checkpointDir + "/last.safetensors", meta);
    }
    report.epochs.push_back(std::move(record));
    lastEpoch = epoch + 1;
    ++epochsRun;
    if (settings.earlyStop > 0 && valCount > 0 &&
        badEpochs >= settings.earlyStop) {
      report.stoppedEarly = true;
      emit("early stop: validation loss has not improved for " +
           std::to_string(badEpochs) + " epochs");
      break;
    }
    if (options.stopAfter > 0 && epochsRun >= options.stopAfter &&
        epoch + 1 < settings.epochs) {
      report.interrupted = true;
      emit("stopped after " + std::to_string(epochsRun) + " of " +
           std::to_string(settings.epochs - startEpoch) +
           " epochs as asked; continue with --resume " +
           (checkpointDir.empty() ? std::string("CHECKPOINT") : checkpointDir));
      break;
    }
  }
  report.bestEpoch = bestEpoch;
  if (report.interrupted)
    return report; // the test split is for the end of the whole run

  if (keepBest && bestState.valid && bestEpoch != lastEpoch) {
    bestState.restore(model);
    report.restoredBest = true;
    emit("restored epoch " + std::to_string(bestEpoch) + " (best val loss " +
         formatNumber(best) + ") for the test split");
  }
  if (data.test.count > 0) {
    report.test = evaluate(data.test, 0, data.test.count, batch);
    emit("test  " + report.test.format() + "  (" +
         std::to_string(report.test.samples) + " samples)");
    json::Value rec = json::Value::object();
    rec.set("event", "test");
    json::Value metrics = getMetricsJson(report.test);
    for (const auto &m : metrics.getObject())
      rec.set(m.first, m.second);
    rec.set("epoch", json::Value(report.restoredBest ? bestEpoch : lastEpoch));
    rec.set("restored_best", json::Value(report.restoredBest));
    log(json::write(rec));
  }
  return report;
}
