//===- TrainerSupport.cpp - Metrics, progress and checkpoint state -------===//
//
// This file implements what Trainer.cpp reports and records beside the
// loop itself: metrics as text and JSON, the overfitting flags, the
// progress line and log event of an epoch, and the run's progress in a
// checkpoint's metadata (written and read back in one place, so a resumed
// run makes the choices the uninterrupted one made).
//
//===----------------------------------------------------------------------===//
#include "runtime/TrainerSupport.h"

#include "runtime/Rng.h"

#include <cmath>
#include <cstdio>

using namespace fm;
using namespace fm::trainer_detail;

double Metrics::get(const std::string &name) const {
  for (const auto &v : values)
    if (v.first == name)
      return v.second;
  throw Error("no metric '" + name + "'", FM_STATUS_NOT_FOUND);
}

std::string fm::trainer_detail::formatNumber(double v, const char *format) {
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

json::Value fm::trainer_detail::getMetricsJson(const Metrics &m) {
  json::Value v = json::Value::object();
  for (size_t i = 0; i < m.values.size(); ++i)
    v.set(i == 0 ? "loss" : m.values[i].first, json::Value(m.values[i].second));
  v.set("samples", json::Value(m.samples));
  return v;
}

void GapState::observe(double trainLoss, double valLoss, EpochRecord &record) {
  record.gap = valLoss - trainLoss;
  if (!std::isnan(prevVal)) {
    bool isRising = valLoss > prevVal && trainLoss < prevTrain;
    rising = isRising ? rising + 1 : 0;
    bool isWidening = record.gap > 0 && record.gap > prevVal - prevTrain;
    widening = isWidening ? widening + 1 : 0;
  }
  prevTrain = trainLoss;
  prevVal = valLoss;
  record.risingEpochs = rising;
  record.wideningEpochs = widening;
  record.overfitting = rising >= 2;
  record.gapWidening = widening >= 3;
}

Metadata Progress::write(int64_t batch, int64_t trainCount,
                         int64_t valCount) const {
  Metadata meta = {
      {"epoch", std::to_string(epoch)},
      {"seed", std::to_string(seed)},
      {"rng", Rng(Rng::deriveSeed(seed, 2 * epoch)).getState()},
      {"best_loss", formatNumber(best, "%.17g")},
      {"best_epoch", std::to_string(bestEpoch)},
      {"bad_epochs", std::to_string(badEpochs)},
      {"batch", std::to_string(batch)},
      {"train_samples", std::to_string(trainCount)},
      {"validation_samples", std::to_string(valCount)}};
  if (valCount > 0) {
    meta.push_back({"train_loss", formatNumber(gap.prevTrain, "%.17g")});
    meta.push_back({"val_loss", formatNumber(gap.prevVal, "%.17g")});
    meta.push_back({"rising_epochs", std::to_string(gap.rising)});
    meta.push_back({"widening_epochs", std::to_string(gap.widening)});
  }
  return meta;
}

Progress Progress::read(const Metadata &meta, const std::string &path,
                        bool needSeed) {
  Progress p;
  p.epoch = parseMetadataInt(meta, "epoch", path);
  p.badEpochs = parseMetadataInt(meta, "bad_epochs", path);
  if (needSeed)
    p.seed = static_cast<uint64_t>(parseMetadataInt(meta, "seed", path));
  if (std::optional<double> b = getMetadataDouble(meta, "best_loss"))
    p.best = *b;
  p.bestEpoch = getMetadataInt(meta, "best_epoch").value_or(0);
  p.gap.prevTrain =
      getMetadataDouble(meta, "train_loss").value_or(p.gap.prevTrain);
  p.gap.prevVal = getMetadataDouble(meta, "val_loss").value_or(p.gap.prevVal);
  p.gap.rising = getMetadataInt(meta, "rising_epochs").value_or(0);
  p.gap.widening = getMetadataInt(meta, "widening_epochs").value_or(0);
  return p;
}

std::string fm::trainer_detail::formatEpochLine(const EpochRecord &record,
                                                int64_t epochs,
                                                bool validation) {
  std::string line = "epoch " + std::to_string(record.epoch) + "/" +
                     std::to_string(epochs) + "  train " +
                     record.train.format();
  if (validation)
    line += "  val " + record.validation.format() + "  gap " +
            formatNumber(record.gap, "%+.4f");
  line += "  " + formatNumber(record.imagesPerSecond, "%.0f") + " img/s  " +
          formatNumber(record.seconds, "%.1f") + " s";
  if (record.overfitting)
    line += "  << overfitting: val loss rose " +
            std::to_string(record.risingEpochs) +
            " epochs in a row while train loss fell";
  else if (record.gapWidening)
    line += "  << train/val gap widening " +
            std::to_string(record.wideningEpochs) + " epochs in a row";
  return line;
}

json::Value fm::trainer_detail::getEpochJson(const EpochRecord &record,
                                             int64_t step, int64_t bestEpoch,
                                             bool validation) {
  json::Value rec = json::Value::object();
  rec.set("event", "epoch");
  rec.set("epoch", json::Value(record.epoch));
  rec.set("step", json::Value(step));
  rec.set("lr", json::Value(record.lr));
  rec.set("train", getMetricsJson(record.train));
  if (validation) {
    rec.set("val", getMetricsJson(record.validation));
    rec.set("gap", json::Value(record.gap));
    rec.set("overfitting", json::Value(record.overfitting));
    rec.set("gap_widening", json::Value(record.gapWidening));
  }
  rec.set("best_epoch", json::Value(bestEpoch));
  rec.set("images_per_s", json::Value(record.imagesPerSecond));
  rec.set("seconds", json::Value(record.seconds));
  return rec;
}
