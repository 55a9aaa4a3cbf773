//===- Descriptor.h - The model descriptor as C++ structs -------*- C++ -*-===//
//
// This file declares the parsed form of a model descriptor
// (docs/descriptor.md) and parseDescriptor, which validates it completely:
// after parsing, every tensor id, kernel index, dtype, init and result is
// known to be consistent, so the executor (Model.cpp) needs no checks of
// its own.
//
// Train-block keys beyond docs/descriptor.md that this runtime reads
// (LANGUAGE.md section 9 in JSON form; docs/runtime.md has the exact forms
// fmc emits):
//   "data":        {"kind": "cifar10", "dir": D} or {"kind": "csv",
//                  "train": P, "test": P, "label": "column"}
//   "normalize":   {"mean": [..], "std": [..]}  (or [mean, std]; numbers or
//                  per-channel arrays; channels are axis 1 of the input)
//   "augment":     [{"kind": "flip_horizontal"},
//                   {"kind": "random_crop", "pad": 4}]
//   "lr_schedule": {"kind": "constant" | "step" | "cosine", "every": E,
//                   "gamma": G, "min": M, "warmup": W}  (E, W in epochs)
//   "early_stop":  patience in epochs;  "checkpoint": directory
//   "clip_grad_norm": read but unused (compiled into the kernels)
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_DESCRIPTOR_H
#define FM_RUNTIME_DESCRIPTOR_H

#include "runtime/fm_runtime.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fm {

enum class DType { F32, F64, I32, I64, U8, Bool };
enum class TensorKind { Input, Label, Param, State, Temp };

/// "f32" -> DType::F32; throws fm::Error naming the spelling otherwise.
DType parseDType(const std::string &name);
const char *getDTypeName(DType dtype);
size_t getDTypeSize(DType dtype);
const char *getTensorKindName(TensorKind kind);
/// Formats a shape the way the language writes it: f32[N, 1, 28, 28].
std::string formatShape(DType dtype, const std::vector<int64_t> &shape);

/// How a param or state tensor gets its first value.
struct InitSpec {
  enum class Kind {
    Zeros,
    Ones,
    Constant,
    Normal,
    Uniform,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal
  };
  Kind kind = Kind::Zeros;
  std::vector<double> args; // [value], [std], [lo, hi] or nothing
  int64_t fanIn = 0, fanOut = 0;
};

struct TensorDesc {
  std::string name;
  TensorKind kind = TensorKind::Temp;
  DType dtype = DType::F32;
  std::vector<int64_t> shape; // row-major; -1 is the batch extent
  bool hasInit = false;
  InitSpec init;

  /// True if any extent is the batch extent.
  bool isBatched() const;
  /// Element count with every batch extent set to `batch`.
  int64_t getElementCount(int64_t batch) const;
  /// Elements per sample: the product of the non-batch extents.
  int64_t getSampleElementCount() const;
};

/// One argument of a kernel call: a tensor, or one of the step scalars.
struct CallArg {
  enum class Kind { Tensor, LearningRate, Step };
  Kind kind = Kind::Tensor;
  int tensor = -1;
};

struct KernelCall {
  int kernel = -1;
  std::vector<CallArg> args;
};

struct StepDesc {
  bool present = false;
  std::vector<KernelCall> calls;
  /// Result name -> tensor id, in descriptor order.
  std::vector<std::pair<std::string, int>> results;

  /// The tensor id of a result, or -1.
  int findResult(const std::string &name) const;
};

/// What the descriptor says of one kernel in the library's table (its
/// optional "kernels" array); only profilers read it.
struct KernelDesc {
  std::string name; // "" if the descriptor does not list kernels
  std::string ops;  // what it computes, "conv2d+add+relu"; may be ""
  bool hasFlops = false;
  /// Floating-point operations of one call: perItem * batch + fixed.
  double flopsPerItem = 0, flopsFixed = 0;

  double getFlops(int64_t batch) const {
    return flopsPerItem * static_cast<double>(batch) + flopsFixed;
  }
};

enum class StepKind { Train = 0, Evaluate = 1, Predict = 2 };
const char *getStepName(StepKind step);

struct DataSpec {
  std::string kind; // "" when the descriptor names no data
  std::string dir;  // mnist, cifar10
  std::string trainImages, trainLabels, testImages, testLabels; // idx
  std::string train, test, label = "label";                     // csv
};

struct Augmentation {
  enum class Kind { FlipHorizontal, RandomCrop };
  Kind kind = Kind::FlipHorizontal;
  int64_t pad = 0;
};

struct LrSchedule {
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;
  double every = 1, gamma = 0.1, min = 0, warmup = 0;
};

/// The train block as compiled, with LANGUAGE.md section 9's defaults.
struct TrainSettings {
  DataSpec data;
  double scale = 1.0 / 255.0;
  std::vector<double> normalizeMean, normalizeStd; // empty: none
  std::vector<Augmentation> augment;
  double validation = 0;
  std::string optimizer = "adam";
  double lr = 1e-3;
  LrSchedule schedule;
  double clipGradNorm = 0;
  int64_t batch = 32, epochs = 10;
  int64_t earlyStop = 0;  // 0: none
  std::string checkpoint; // "": checkpoints/MODEL
  uint64_t seed = 0;
};

struct Descriptor {
  std::string model;
  std::string source;
  std::vector<TensorDesc> tensors;
  std::vector<KernelDesc> kernels; // one per library kernel
  StepDesc steps[3];               // indexed by StepKind
  std::string loss;
  std::vector<std::string> metrics;
  std::vector<std::string> outputs;
  TrainSettings train;

  const StepDesc &getStep(StepKind step) const {
    return steps[static_cast<int>(step)];
  }
  /// The id of the tensor named `name`, or -1.
  int findTensor(const std::string &name) const;
  /// Ids of the tensors of one kind, in tensor order.
  std::vector<int> getTensorsOfKind(TensorKind kind) const;
};

namespace json {
class Value;
} // namespace json

/// Parses a train block (an object), applying LANGUAGE.md's defaults.
TrainSettings parseTrainSettings(const json::Value &train);

/// Parses and validates descriptor JSON against a library that has
/// `numKernels` kernels; throws fm::Error with a message that says which
/// tensor, step or key is wrong.
Descriptor parseDescriptor(const std::string &json, int numKernels);

} // namespace fm

#endif // FM_RUNTIME_DESCRIPTOR_H
