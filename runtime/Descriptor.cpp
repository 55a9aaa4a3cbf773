//===- Descriptor.cpp - Parse and validate a model descriptor ---*- C++ -*-===//
//
// This file implements parseDescriptor. Validation is exhaustive on
// purpose: a descriptor comes from another program (fmc), and a wrong id
// found here is a clear message instead of a kernel reading out of bounds.
// Messages name the tensor or step and say what was expected.
//
//===----------------------------------------------------------------------===//
#include "runtime/Descriptor.h"

#include "runtime/Error.h"
#include "runtime/Json.h"

#include <algorithm>
#include <cmath>
#include <set>

using namespace fm;
using json::Value;

//===----------------------------------------------------------------------===//
// Names of enums
//===----------------------------------------------------------------------===//

DType fm::parseDType(const std::string &name) {
  if (name == "f32")
    return DType::F32;
  if (name == "f64")
    return DType::F64;
  if (name == "i32")
    return DType::I32;
  if (name == "i64")
    return DType::I64;
  if (name == "u8")
    return DType::U8;
  if (name == "bool")
    return DType::Bool;
  throw Error("unknown dtype '" + name +
              "'; expected one of f32, f64, i32, i64, u8, bool");
}

const char *fm::getDTypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::U8:
    return "u8";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

size_t fm::getDTypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::U8:
  case DType::Bool:
    return 1;
  }
  return 1;
}

const char *fm::getTensorKindName(TensorKind kind) {
  switch (kind) {
  case TensorKind::Input:
    return "input";
  case TensorKind::Label:
    return "label";
  case TensorKind::Param:
    return "param";
  case TensorKind::State:
    return "state";
  case TensorKind::Temp:
    return "temp";
  }
  return "?";
}

const char *fm::getStepName(StepKind step) {
  switch (step) {
  case StepKind::Train:
    return "train_step";
  case StepKind::Evaluate:
    return "evaluate";
  case StepKind::Predict:
    return "predict";
  }
  return "?";
}

std::string fm::formatShape(DType dtype, const std::vector<int64_t> &shape) {
  std::string s = std::string(getDTypeName(dtype)) + "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += shape[i] < 0 ? "N" : std::to_string(shape[i]);
  }
  return s + "]";
}

//===----------------------------------------------------------------------===//
// Struct helpers
//===----------------------------------------------------------------------===//

bool TensorDesc::isBatched() const {
  return std::find(shape.begin(), shape.end(), -1) != shape.end();
}

int64_t TensorDesc::getElementCount(int64_t batch) const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d < 0 ? batch : d;
  return n;
}

int64_t TensorDesc::getSampleElementCount() const {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d >= 0)
      n *= d;
  return n;
}

int StepDesc::findResult(const std::string &name) const {
  for (const auto &r : results)
    if (r.first == name)
      return r.second;
  return -1;
}

int Descriptor::findTensor(const std::string &name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name)
      return static_cast<int>(i);
  return -1;
}

std::vector<int> Descriptor::getTensorsOfKind(TensorKind kind) const {
  std::vector<int> ids;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].kind == kind)
      ids.push_back(static_cast<int>(i));
  return ids;
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

static TensorKind parseTensorKind(const std::string &s,
                                  const std::string &what) {
  if (s == "input")
    return TensorKind::Input;
  if (s == "label")
    return TensorKind::Label;
  if (s == "param")
    return TensorKind::Param;
  if (s == "state")
    return TensorKind::State;
  if (s == "temp")
    return TensorKind::Temp;
  throw Error(what + ": unknown kind '" + s +
              "'; expected input, label, param, state or temp");
}

static InitSpec parseInit(const Value &v, const TensorDesc &t,
                          const std::string &what) {
  static const std::pair<const char *, InitSpec::Kind> kinds[] = {
      {"zeros", InitSpec::Kind::Zeros},
      {"ones", InitSpec::Kind::Ones},
      {"constant", InitSpec::Kind::Constant},
      {"normal", InitSpec::Kind::Normal},
      {"uniform", InitSpec::Kind::Uniform},
      {"glorot_uniform", InitSpec::Kind::GlorotUniform},
      {"glorot_normal", InitSpec::Kind::GlorotNormal},
      {"he_uniform", InitSpec::Kind::HeUniform},
      {"he_normal", InitSpec::Kind::HeNormal}};
  InitSpec init;
  const std::string &kind = v.at("kind", what).getString(what + ".kind");
  bool found = false;
  for (const auto &k : kinds)
    if (kind == k.first) {
      init.kind = k.second;
      found = true;
    }
  if (!found)
    throw Error(what + ": unknown init kind '" + kind + "'");
  if (const Value *args = v.find("args"))
    for (const Value &a : args->getArray(what + ".args"))
      init.args.push_back(a.getNumber(what + ".args"));
  if (const Value *f = v.find("fan_in"))
    init.fanIn = f->getInteger(what + ".fan_in");
  if (const Value *f = v.find("fan_out"))
    init.fanOut = f->getInteger(what + ".fan_out");

  size_t wantArgs = 0;
  bool random = true, needsFanOut = false;
  switch (init.kind) {
  case InitSpec::Kind::Zeros:
  case InitSpec::Kind::Ones:
    random = false;
    break;
  case InitSpec::Kind::Constant:
    wantArgs = 1;
    random = false;
    break;
  case InitSpec::Kind::Normal:
    wantArgs = 1;
    break;
  case InitSpec::Kind::Uniform:
    wantArgs = 2;
    break;
  case InitSpec::Kind::GlorotUniform:
  case InitSpec::Kind::GlorotNormal:
    needsFanOut = true;
    break;
  case InitSpec::Kind::HeUniform:
  case InitSpec::Kind::HeNormal:
    break;
  }
  if (init.args.size() != wantArgs)
    throw Error(what + ": init '" + kind + "' expects " +
                std::to_string(wantArgs) + " args but got " +
                std::to_string(init.args.size()));
  for (double a : init.args)
    if (!std::isfinite(a))
      throw Error(what + ": init args must be finite");
  bool variance = random && wantArgs == 0;
  if (variance && (init.fanIn <= 0 || (needsFanOut && init.fanOut <= 0)))
    throw Error(what + ": init '" + kind + "' needs positive fan_in" +
                (needsFanOut ? " and fan_out" : ""));
  if (init.kind == InitSpec::Kind::Uniform && init.args[0] > init.args[1])
    throw Error(what + ": uniform init expects lo <= hi");
  if (init.kind == InitSpec::Kind::Normal && init.args[0] < 0)
    throw Error(what + ": normal init expects std >= 0");
  if (random && t.dtype != DType::F32 && t.dtype != DType::F64)
    throw Error(what + ": random init '" + kind +
                "' needs a floating dtype but got " + getDTypeName(t.dtype));
  return init;
}

static TensorDesc parseTensor(const Value &v, size_t id) {
  std::string what = "tensor " + std::to_string(id);
  v.getObject(what);
  TensorDesc t;
  t.name = v.at("name", what).getString(what + ".name");
  if (t.name.empty())
    throw Error(what + ": name must not be empty");
  what += " ('" + t.name + "')";
  t.kind = parseTensorKind(v.at("kind", what).getString(what + ".kind"), what);
  try {
    t.dtype = parseDType(v.at("dtype", what).getString(what + ".dtype"));
  } catch (const Error &e) {
    rethrowWithContext(e, what);
  }
  for (const Value &d : v.at("shape", what).getArray(what + ".shape")) {
    int64_t extent = d.getInteger(what + ".shape");
    if (extent == 0 || extent < -1)
      throw Error(what +
                  ": extents must be positive or -1 (the batch) but got " +
                  std::to_string(extent));
    if (extent > (int64_t(1) << 31) - 1)
      throw Error(what + ": extent " + std::to_string(extent) +
                  " does not fit a Halide buffer");
    t.shape.push_back(extent);
  }
  bool persistent = t.kind == TensorKind::Param || t.kind == TensorKind::State;
  if (persistent && t.isBatched())
    throw Error(what + ": a " + getTensorKindName(t.kind) +
                " tensor cannot have a batch extent");
  if (const Value *init = v.find("init")) {
    if (!persistent)
      throw Error(what + ": only param and state tensors have an init");
    t.init = parseInit(*init, t, what + ".init");
    t.hasInit = true;
  } else if (persistent) {
    throw Error(what + ": a " + std::string(getTensorKindName(t.kind)) +
                " tensor needs an init");
  }
  return t;
}

//===----------------------------------------------------------------------===//
// Steps
//===----------------------------------------------------------------------===//

static StepDesc parseStep(const Value &v, StepKind kind, const Descriptor &d,
                          int numKernels) {
  std::string what = std::string("step '") + getStepName(kind) + "'";
  StepDesc step;
  step.present = true;
  int numTensors = static_cast<int>(d.tensors.size());
  auto checkTensor = [&](const Value &idValue, const std::string &where) {
    int64_t id = idValue.getInteger(where);
    if (id < 0 || id >= numTensors)
      throw Error(where + ": tensor id " + std::to_string(id) +
                  " out of range; the descriptor has " +
                  std::to_string(numTensors) + " tensors");
    return static_cast<int>(id);
  };

  const auto &calls = v.at("calls", what).getArray(what + ".calls");
  for (size_t c = 0; c < calls.size(); ++c) {
    std::string where = what + " call " + std::to_string(c);
    KernelCall call;
    int64_t kernel = calls[c].at("kernel", where).getInteger(where + ".kernel");
    if (kernel < 0 || kernel >= numKernels)
      throw Error(where + ": unknown kernel index " + std::to_string(kernel) +
                  "; the library has " + std::to_string(numKernels) +
                  " kernels");
    call.kernel = static_cast<int>(kernel);
    const auto &args = calls[c].at("args", where).getArray(where + ".args");
    for (size_t a = 0; a < args.size(); ++a) {
      std::string argWhere = where + " arg " + std::to_string(a);
      CallArg arg;
      const Value *tensor = args[a].find("tensor");
      const Value *scalar = args[a].find("scalar");
      if ((tensor != nullptr) == (scalar != nullptr))
        throw Error(argWhere +
                    ": expected exactly one of 'tensor' or 'scalar'");
      if (tensor) {
        arg.tensor = checkTensor(*tensor, argWhere);
        TensorKind tk = d.tensors[arg.tensor].kind;
        if (kind == StepKind::Predict && tk == TensorKind::Label)
          throw Error(argWhere + ": predict cannot read label tensor '" +
                      d.tensors[arg.tensor].name + "'");
      } else {
        const std::string &name = scalar->getString(argWhere + ".scalar");
        if (name == "lr")
          arg.kind = CallArg::Kind::LearningRate;
        else if (name == "step")
          arg.kind = CallArg::Kind::Step;
        else
          throw Error(argWhere + ": unknown scalar '" + name +
                      "'; expected 'lr' or 'step'");
        if (kind != StepKind::Train)
          throw Error(argWhere + ": only train_step takes scalars");
      }
      call.args.push_back(arg);
    }
    step.calls.push_back(std::move(call));
  }

  for (const auto &r : v.at("results", what).getObject(what + ".results"))
    step.results.emplace_back(
        r.first, checkTensor(r.second, what + " result '" + r.first + "'"));
  return step;
}

/// Train and evaluate report the loss and every metric as scalars; predict
/// reports every output.
static void checkResults(const Descriptor &d, StepKind kind) {
  const StepDesc &step = d.getStep(kind);
  if (!step.present)
    return;
  std::string what = std::string("step '") + getStepName(kind) + "'";
  std::vector<std::string> wanted;
  if (kind == StepKind::Predict) {
    wanted = d.outputs;
  } else {
    if (d.loss.empty())
      throw Error("descriptor: 'loss' must name the loss result");
    wanted.push_back(d.loss);
    wanted.insert(wanted.end(), d.metrics.begin(), d.metrics.end());
  }
  for (const std::string &name : wanted) {
    int id = step.findResult(name);
    if (id < 0)
      throw Error(what + ": missing result '" + name + "'");
    const TensorDesc &t = d.tensors[id];
    if (kind != StepKind::Predict &&
        (t.isBatched() || t.getElementCount(1) != 1 ||
         (t.dtype != DType::F32 && t.dtype != DType::F64)))
      throw Error(what + ": result '" + name +
                  "' must be an f32 or f64 scalar but tensor '" + t.name +
                  "' is " + formatShape(t.dtype, t.shape));
  }
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

/// The optional "kernels" array: one entry per library kernel, in table
/// order. Older descriptors have none; every kernel then has no flops.
static std::vector<KernelDesc> parseKernels(const Value &top, int numKernels) {
  std::vector<KernelDesc> kernels(static_cast<size_t>(numKernels));
  const Value *list = top.find("kernels");
  if (!list)
    return kernels;
  const auto &items = list->getArray("kernels");
  if (items.size() != kernels.size())
    throw Error("kernels: the descriptor lists " +
                std::to_string(items.size()) + " kernels but the library has " +
                std::to_string(numKernels));
  for (size_t k = 0; k < items.size(); ++k) {
    std::string where = "kernel " + std::to_string(k);
    items[k].getObject(where);
    if (const Value *name = items[k].find("name"))
      kernels[k].name = name->getString(where + ".name");
    if (const Value *ops = items[k].find("ops"))
      kernels[k].ops = ops->getString(where + ".ops");
    const Value *flops = items[k].find("flops");
    if (!flops)
      continue;
    const auto &pair = flops->getArray(where + ".flops");
    if (pair.size() != 2)
      throw Error(where + ": expected \"flops\": [per_item, fixed]");
    kernels[k].flopsPerItem = pair[0].getNumber(where + ".flops");
    kernels[k].flopsFixed = pair[1].getNumber(where + ".flops");
    if (kernels[k].flopsPerItem < 0 || kernels[k].flopsFixed < 0)
      throw Error(where + ": flops must not be negative");
    kernels[k].hasFlops = true;
  }
  return kernels;
}

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

static std::vector<std::string> parseNames(const Value &top, const char *key) {
  std::vector<std::string> names;
  if (const Value *v = top.find(key))
    for (const Value &n : v->getArray(key))
      names.push_back(n.getString(key));
  return names;
}

Descriptor fm::parseDescriptor(const std::string &text, int numKernels) {
  Value top;
  try {
    top = json::parse(text);
  } catch (const Error &e) {
    rethrowWithContext(e, "descriptor");
  }
  top.getObject("descriptor");
  const Value *format = top.find("format");
  if (!format || !format->isString() || format->getString() != "fm-model")
    throw Error("descriptor: expected \"format\": \"fm-model\"");
  int64_t version = top.at("version", "descriptor").getInteger("version");
  if (version != 1)
    throw Error("descriptor: expected version 1 but got " +
                    std::to_string(version),
                FM_STATUS_UNIMPLEMENTED);

  Descriptor d;
  d.model = top.at("model", "descriptor").getString("model");
  if (d.model.empty())
    throw Error("descriptor: model name must not be empty");
  if (const Value *s = top.find("source"))
    d.source = s->getString("source");

  const auto &tensors = top.at("tensors", "descriptor").getArray("tensors");
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    d.tensors.push_back(parseTensor(tensors[i], i));
    const TensorDesc &t = d.tensors.back();
    // Checkpoints and the API find tensors by name; temps are never
    // looked up by name, so codegen may repeat theirs.
    if (t.kind != TensorKind::Temp && !names.insert(t.name).second)
      throw Error("tensor " + std::to_string(i) + ": duplicate name '" +
                  t.name + "'");
  }

  if (const Value *l = top.find("loss"))
    d.loss = l->getString("loss");
  d.metrics = parseNames(top, "metrics");
  d.outputs = parseNames(top, "outputs");
  if (d.metrics.size() + 1 > FM_MAX_METRICS)
    throw Error("descriptor: at most " + std::to_string(FM_MAX_METRICS - 1) +
                " metrics are supported");

  d.kernels = parseKernels(top, numKernels);
  const Value &steps = top.at("steps", "descriptor");
  for (const auto &s : steps.getObject("steps")) {
    StepKind kind;
    if (s.first == "train_step")
      kind = StepKind::Train;
    else if (s.first == "evaluate")
      kind = StepKind::Evaluate;
    else if (s.first == "predict")
      kind = StepKind::Predict;
    else
      throw Error("steps: unknown step '" + s.first +
                  "'; expected train_step, evaluate or predict");
    d.steps[static_cast<int>(kind)] = parseStep(s.second, kind, d, numKernels);
  }
  for (StepKind kind : {StepKind::Train, StepKind::Evaluate, StepKind::Predict})
    checkResults(d, kind);

  if (const Value *train = top.find("train"))
    d.train = parseTrainSettings(*train);
  return d;
}
