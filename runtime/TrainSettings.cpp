//===- TrainSettings.cpp - Parse a descriptor's train block -----*- C++ -*-===//
//
// This file implements parseTrainSettings: the train block of a descriptor
// (LANGUAGE.md section 9 as compiled by fmc) with the language's defaults
// for every key it leaves out. Keys this runtime does not know are
// ignored, so fmc may add keys before the runtime uses them.
//
//===----------------------------------------------------------------------===//
#include "runtime/Descriptor.h"

#include "runtime/Error.h"
#include "runtime/Json.h"

#include <cmath>

using namespace fm;
using json::Value;

//===----------------------------------------------------------------------===//
// Train settings
//===----------------------------------------------------------------------===//

static std::vector<double> parseNumberOrList(const Value &v,
                                             const std::string &what) {
  std::vector<double> out;
  if (v.isNumber())
    out.push_back(v.getNumber(what));
  else
    for (const Value &e : v.getArray(what))
      out.push_back(e.getNumber(what));
  return out;
}

static void parseData(const Value &v, DataSpec &data) {
  std::string what = "train.data";
  data.kind = v.at("kind", what).getString(what + ".kind");
  auto str = [&](const char *key, std::string &out) {
    out = v.at(key, what).getString(what + "." + key);
  };
  if (data.kind == "fashion_mnist") {
  } else if (data.kind == "mnist" || data.kind == "cifar10") {
    str("dir", data.dir);
  } else if (data.kind == "idx") {
    str("train_images", data.trainImages);
    str("train_labels", data.trainLabels);
    str("test_images", data.testImages);
    str("test_labels", data.testLabels);
  } else if (data.kind == "csv") {
    str("train", data.train);
    str("test", data.test);
    if (const Value *label = v.find("label"))
      data.label = label->getString(what + ".label");
    if (data.label.empty())
      throw Error(what + ".label: expected the name of the label column");
  } else {
    throw Error(what + ": unknown data kind '" + data.kind + "'");
  }
}

TrainSettings fm::parseTrainSettings(const Value &v) {
  std::string what = "train";
  v.getObject(what);
  TrainSettings t;
  auto number = [&](const char *key, double &out) {
    if (const Value *x = v.find(key))
      out = x->getNumber(what + "." + key);
  };
  auto integer = [&](const char *key, int64_t &out, int64_t min) {
    if (const Value *x = v.find(key)) {
      out = x->getInteger(what + "." + key);
      if (out < min)
        throw Error(what + "." + key + ": expected at least " +
                    std::to_string(min) + " but got " + std::to_string(out));
    }
  };
  if (const Value *data = v.find("data"))
    parseData(*data, t.data);
  number("scale", t.scale);
  number("validation", t.validation);
  if (!(t.validation >= 0 && t.validation < 1))
    throw Error("train.validation: expected a fraction in [0, 1)");
  number("clip_grad_norm", t.clipGradNorm);
  integer("batch", t.batch, 1);
  integer("epochs", t.epochs, 0);
  integer("early_stop", t.earlyStop, 0);
  if (const Value *x = v.find("seed"))
    t.seed = static_cast<uint64_t>(x->getInteger("train.seed"));
  if (const Value *x = v.find("checkpoint"))
    t.checkpoint = x->getString("train.checkpoint");
  if (const Value *o = v.find("optimizer")) {
    t.optimizer =
        o->at("kind", "train.optimizer").getString("train.optimizer.kind");
    if (const Value *lr = o->find("lr"))
      t.lr = lr->getNumber("train.optimizer.lr");
  }
  if (!(t.lr > 0) || !std::isfinite(t.lr))
    throw Error("train.optimizer.lr: expected a positive learning rate");
  if (const Value *n = v.find("normalize")) {
    const Value *mean = n->find("mean"), *std = n->find("std");
    if (n->isArray() && n->size() == 2) {
      mean = &n->getArray()[0];
      std = &n->getArray()[1];
    }
    if (!mean || !std)
      throw Error("train.normalize: expected {\"mean\": .., \"std\": ..} or "
                  "[mean, std]");
    t.normalizeMean = parseNumberOrList(*mean, "train.normalize.mean");
    t.normalizeStd = parseNumberOrList(*std, "train.normalize.std");
    if (t.normalizeMean.size() != t.normalizeStd.size() ||
        t.normalizeMean.empty())
      throw Error(
          "train.normalize: mean and std need the same, non-zero length");
    for (double s : t.normalizeStd)
      if (!(s > 0))
        throw Error("train.normalize.std: expected positive values");
  }
  if (const Value *a = v.find("augment")) {
    for (const Value &e : a->getArray("train.augment")) {
      Augmentation aug;
      const std::string &kind =
          e.at("kind", "train.augment").getString("train.augment.kind");
      if (kind == "flip_horizontal") {
        aug.kind = Augmentation::Kind::FlipHorizontal;
      } else if (kind == "random_crop") {
        aug.kind = Augmentation::Kind::RandomCrop;
        aug.pad = e.at("pad", "train.augment").getInteger("train.augment.pad");
        if (aug.pad < 0)
          throw Error("train.augment.pad: expected a non-negative padding");
      } else {
        throw Error("train.augment: unknown augmentation '" + kind + "'");
      }
      t.augment.push_back(aug);
    }
  }
  if (const Value *s = v.find("lr_schedule")) {
    std::string w = "train.lr_schedule";
    const std::string &kind = s->at("kind", w).getString(w + ".kind");
    if (kind == "constant")
      t.schedule.kind = LrSchedule::Kind::Constant;
    else if (kind == "step")
      t.schedule.kind = LrSchedule::Kind::Step;
    else if (kind == "cosine")
      t.schedule.kind = LrSchedule::Kind::Cosine;
    else
      throw Error(w + ": unknown schedule '" + kind + "'");
    if (t.schedule.kind == LrSchedule::Kind::Step)
      for (const char *key : {"every", "gamma"})
        if (!s->find(key))
          throw Error(w + ": step needs '" + key + "' (step(every, gamma))");
    if (const Value *x = s->find("every"))
      t.schedule.every = x->getNumber(w + ".every");
    if (const Value *x = s->find("gamma"))
      t.schedule.gamma = x->getNumber(w + ".gamma");
    if (const Value *x = s->find("min"))
      t.schedule.min = x->getNumber(w + ".min");
    if (const Value *x = s->find("warmup"))
      t.schedule.warmup = x->getNumber(w + ".warmup");
    if (!(t.schedule.every > 0) || !(t.schedule.warmup >= 0) ||
        !(t.schedule.gamma > 0) || !(t.schedule.min >= 0))
      throw Error(w + ": expected every > 0, gamma > 0, min >= 0 and "
                      "warmup >= 0");
  }
  return t;
}
