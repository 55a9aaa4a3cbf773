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

#include "runtime/Checkpoint.h"
#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>

using namespace fm;

//===----------------------------------------------------------------------===//
// Metrics
//===----------------------------------------------------------------------===//

double Metrics::get(const std::string &name) const {
  for (const auto &v : values)
    if (v.first == name)
      return v.second;
  throw Error("no metric '" + name + "'", FM_STATUS_NOT_FOUND);
}

static std::string formatNumber(double v, const char *format = "%.4f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string Metrics::format() const {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? " " : "") + (i == 0 ? std::string("loss") : values[i].first) +
         " " + formatNumber(values[i].second);
  return s;
}

static json::Value toJson(const Metrics &m) {
  json::Value v = json::Value::object();
  for (size_t i = 0; i < m.values.size(); ++i)
    v.set(i == 0 ? "loss" : m.values[i].first, json::Value(m.values[i].second));
  v.set("samples", json::Value(m.samples));
  return v;
}

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
  if (options.numThreads)
    model.setNumThreads(options.numThreads);
  // Last: the loader keeps a reference to the final settings.
  loader.emplace(model, data, settings);
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

void Trainer::log(const std::string &jsonLine) {
  if (!logFile)
    return;
  if (std::fputs((jsonLine + "\n").c_str(), logFile) < 0 ||
      std::fflush(logFile) != 0)
    throw Error("cannot write log '" + options.logPath +
                    "': " + std::strerror(errno),
                FM_STATUS_UNAVAILABLE);
}

static int64_t parseMetadataInt(const Metadata &m, const char *key,
                                const std::string &path) {
  for (const auto &kv : m)
    if (kv.first == key) {
      char *end = nullptr;
      long long v = std::strtoll(kv.second.c_str(), &end, 10);
      if (!kv.second.empty() && *end == '\0' && v >= 0)
        return v;
      break;
    }
  throw Error("checkpoint '" + path + "' has no valid '" + key +
                  "' metadata; cannot resume from it",
              FM_STATUS_DATA_LOSS);
}

TrainReport Trainer::run() {
  TrainReport report;
  const Descriptor &d = model.getDescriptor();
  int64_t batch = settings.batch;
  int64_t available = data.train.count;
  if (options.limit > 0)
    available = std::min(available, options.limit);
  int64_t valCount =
      static_cast<int64_t>(std::floor(available * settings.validation));
  int64_t trainCount = available - valCount;
  if (trainCount < 1)
    throw Error("no training samples left after holding out validation",
                FM_STATUS_FAILED_PRECONDITION);

  // Resume or start fresh.
  int64_t startEpoch = 0, badEpochs = 0;
  double best = std::numeric_limits<double>::infinity();
  uint64_t seed = settings.seed;
  if (!options.resumePath.empty()) {
    Metadata meta = loadCheckpoint(model, options.resumePath);
    startEpoch = parseMetadataInt(meta, "epoch", options.resumePath);
    badEpochs = parseMetadataInt(meta, "bad_epochs", options.resumePath);
    if (!options.seed)
      seed = static_cast<uint64_t>(
          parseMetadataInt(meta, "seed", options.resumePath));
    for (const auto &kv : meta)
      if (kv.first == "best_loss")
        best = std::strtod(kv.second.c_str(), nullptr);
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
  std::string checkpointDir = settings.checkpoint;
  if (!checkpointDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(checkpointDir, ec);
    if (ec)
      throw Error("cannot create checkpoint folder '" + checkpointDir +
                      "': " + ec.message(),
                  FM_STATUS_UNAVAILABLE);
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
  log(json::write(start));

  int64_t batchesPerEpoch = (trainCount + batch - 1) / batch;
  std::vector<int64_t> order(static_cast<size_t>(trainCount));
  using Clock = std::chrono::steady_clock;
  for (int64_t epoch = startEpoch; epoch < settings.epochs; ++epoch) {
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

    std::string line = "epoch " + std::to_string(epoch + 1) + "/" +
                       std::to_string(settings.epochs) + "  train " +
                       record.train.format();
    if (valCount > 0)
      line += "  val " + record.validation.format();
    line += "  " + formatNumber(record.imagesPerSecond, "%.0f") + " img/s  " +
            formatNumber(record.seconds, "%.1f") + " s";
    emit(line);
    json::Value rec = json::Value::object();
    rec.set("event", "epoch");
    rec.set("epoch", json::Value(record.epoch));
    rec.set("step", json::Value(model.getStepCount()));
    rec.set("lr", json::Value(lr));
    rec.set("train", toJson(record.train));
    if (valCount > 0)
      rec.set("val", toJson(record.validation));
    rec.set("images_per_s", json::Value(record.imagesPerSecond));
    rec.set("seconds", json::Value(record.seconds));
    log(json::write(rec));

    // Best is judged on validation loss, or on training loss without it.
    double monitored = valCount > 0 ? record.validation.values[0].second
                                    : record.train.values[0].second;
    bool improved = monitored < best;
    if (improved) {
      best = monitored;
      badEpochs = 0;
    } else {
      ++badEpochs;
    }
    if (!checkpointDir.empty()) {
      Metadata meta = {
          {"epoch", std::to_string(epoch + 1)},
          {"seed", std::to_string(seed)},
          {"rng", Rng(Rng::deriveSeed(seed, 2 * (epoch + 1))).getState()},
          {"best_loss", formatNumber(best, "%.17g")},
          {"bad_epochs", std::to_string(badEpochs)}};
      if (improved)
        saveCheckpoint(model, checkpointDir + "/best.safetensors", meta);
      saveCheckpoint(model, checkpointDir + "/last.safetensors", meta);
    }
    report.epochs.push_back(std::move(record));
    if (settings.earlyStop > 0 && valCount > 0 &&
        badEpochs >= settings.earlyStop) {
      report.stoppedEarly = true;
      emit("early stop: validation loss has not improved for " +
           std::to_string(badEpochs) + " epochs");
      break;
    }
  }

  if (data.test.count > 0) {
    report.test = evaluate(data.test, 0, data.test.count, batch);
    emit("test  " + report.test.format() + "  (" +
         std::to_string(report.test.samples) + " samples)");
    json::Value rec = json::Value::object();
    rec.set("event", "test");
    json::Value metrics = toJson(report.test);
    for (const auto &m : metrics.getObject())
      rec.set(m.first, m.second);
    log(json::write(rec));
  }
  return report;
}
