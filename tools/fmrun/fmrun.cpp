//===- fmrun.cpp - Train, evaluate or run a model from the command line ---===//
//
// This file implements fmrun, the runtime's C++ API on the command line:
//   fmrun train   MODEL [--epochs N --batch N --seed N --validation F --lr F
//                        --threads N --log FILE --checkpoint-dir DIR
//                        --limit N --resume FILE|DIR --stop-after N
//                        --early-stop N --scale F]
//   fmrun eval    MODEL [--checkpoint FILE --split S --batch N --threads N
//                        --validation F --limit N]
//   fmrun predict MODEL [--checkpoint FILE --out FILE.csv|FILE.npy
//                        --split S --count N --batch N --threads N
//                        --validation F --limit N]
//   fmrun bench   MODEL [--step train|evaluate|predict --batch N --steps N
//                        --threads N --profile --peak-gflops F --json FILE]
// MODEL is a lib<Name>.so model library or a .fm source (compiled through
// fmc --shared into a cache; see ModelLoader.h). Flags override the keys
// of the model's train block. S is train, validation or test (default).
// Exit status: 0 success, 1 runtime error, 2 usage error.
//
//===----------------------------------------------------------------------===//
#include "runtime/Checkpoint.h"
#include "runtime/Error.h"
#include "runtime/Model.h"
#include "runtime/Predictions.h"
#include "runtime/Trainer.h"
#include "runtime/data/Dataset.h"
#include "tools/fmrun/Bench.h"
#include "tools/fmrun/ModelLoader.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>

using namespace fm;

namespace {

/// A command-line mistake: reported with the usage hint, exit status 2.
struct UsageError : Error {
  using Error::Error;
};

const char *kUsage =
    "usage: fmrun train|eval|predict|bench MODEL [options]\n"
    "  MODEL                lib<Name>.so model library, or a .fm source\n"
    "train:   --epochs N --batch N --seed N --validation F --lr F --threads N\n"
    "         --log FILE --checkpoint-dir DIR --limit N --early-stop N\n"
    "         --scale F --resume FILE|DIR (DIR: DIR/last.safetensors)\n"
    "         --stop-after N (return after N epochs; continue with --resume)\n"
    "eval:    --checkpoint FILE --split train|validation|test --batch N\n"
    "         --threads N --validation F --limit N\n"
    "predict: --checkpoint FILE --out FILE.csv|FILE.npy --split S --count N\n"
    "         --batch N --threads N --validation F --limit N\n"
    "bench:   --step train|evaluate|predict --batch N --steps N --threads N\n"
    "         --profile (per-kernel table) --peak-gflops F --json FILE\n"
    "         --split test (predict: N whole passes over the split)\n"
    "compile (.fm only): --fmc PATH --target T --schedule S\n"
    "         --optimizer 'sgd(lr=0.1, momentum=0.9)' --data 'idx(...)'\n"
    "         --normalize '[0.29, 0.35]' --augment '[flip_horizontal]'\n"
    "         --lr-schedule 'cosine(min=1e-5)' --clip-grad-norm 1.0\n";

/// Which flags each command takes; every flag takes a value except the
/// switches.
const std::map<std::string, std::set<std::string>> kFlags = {
    {"train",
     {"epochs", "batch", "seed", "validation", "lr", "threads", "log",
      "checkpoint-dir", "limit", "resume", "stop-after", "early-stop",
      "scale"}},
    {"eval",
     {"checkpoint", "split", "batch", "threads", "validation", "limit"}},
    {"predict",
     {"checkpoint", "out", "split", "count", "batch", "threads", "validation",
      "limit"}},
    {"bench",
     {"step", "batch", "steps", "threads", "profile", "peak-gflops", "json",
      "split"}}};
const std::set<std::string> kSwitches = {"profile"};
const std::set<std::string> kCompileFlags = {"fmc", "target", "schedule"};
/// Train keys whose value is compiled into the library: overriding them
/// recompiles (through fmc --set), so they need a .fm source.
/// Train keys overridden through the compiler (fmc --set): those compiled
/// into the kernels, and the structured ones the descriptor carries.
/// Flags use dashes (--lr-schedule), keys underscores (lr_schedule).
const std::set<std::string> kCompiledTrainKeys = {
    "optimizer", "data",        "normalize",
    "augment",   "lr-schedule", "clip-grad-norm"};

struct Args {
  std::string command, model;
  std::map<std::string, std::string> flags;

  bool has(const std::string &f) const { return flags.count(f) != 0; }
  std::string get(const std::string &f) const {
    auto it = flags.find(f);
    return it == flags.end() ? "" : it->second;
  }
  int64_t getInt(const std::string &f, int64_t min) const {
    const std::string &v = flags.at(f);
    char *end = nullptr;
    errno = 0;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end || errno || x < min)
      throw UsageError("--" + f + " expects an integer >= " +
                       std::to_string(min) + " but got '" + v + "'");
    return x;
  }
  double getDouble(const std::string &f) const {
    const std::string &v = flags.at(f);
    char *end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || !std::isfinite(x))
      throw UsageError("--" + f + " expects a number but got '" + v + "'");
    return x;
  }
};

Args parseArgs(int argc, char **argv) {
  Args a;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (kSwitches.count(name)) {
      value = "1";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw UsageError("option '--" + name + "' needs a value");
    }
    if (a.flags.count(name))
      throw UsageError("option '--" + name + "' given twice");
    a.flags[name] = value;
  }
  if (positional.empty())
    throw UsageError("missing command (train, eval, predict or bench)");
  a.command = positional[0];
  if (!kFlags.count(a.command))
    throw UsageError("unknown command '" + a.command +
                     "'; expected train, eval, predict or bench");
  if (positional.size() != 2)
    throw UsageError(positional.size() < 2
                         ? "missing MODEL (a lib<Name>.so or a .fm file)"
                         : "unexpected argument '" + positional[2] + "'");
  a.model = positional[1];
  for (const auto &f : a.flags)
    if (!kFlags.at(a.command).count(f.first) && !kCompileFlags.count(f.first) &&
        !kCompiledTrainKeys.count(f.first))
      throw UsageError("unknown option '--" + f.first + "' for '" + a.command +
                       "'");
  // Check numbers now, before minutes of compiling or loading data.
  static const std::map<std::string, int64_t> intFlags = {
      {"epochs", 0},  {"batch", 1},      {"seed", 0},
      {"threads", 1}, {"limit", 1},      {"count", 1},
      {"steps", 1},   {"early-stop", 0}, {"stop-after", 1}};
  for (const auto &f : a.flags) {
    auto it = intFlags.find(f.first);
    if (it != intFlags.end())
      a.getInt(f.first, it->second);
    else if (f.first == "validation" || f.first == "lr" || f.first == "scale" ||
             f.first == "peak-gflops")
      a.getDouble(f.first);
  }
  if (a.has("split")) {
    const std::string &split = a.flags["split"];
    if (split != "train" && split != "validation" && split != "test")
      throw UsageError("--split expects train, validation or test but got '" +
                       split + "'");
  }
  if (a.has("step")) {
    try {
      parseBenchStep(a.flags["step"]);
    } catch (const Error &e) {
      throw UsageError(e.what());
    }
  }
  return a;
}

std::string defaultCheckpoint(const Model &model) {
  std::string dir = model.getDescriptor().train.checkpoint;
  if (dir.empty())
    dir = "checkpoints/" + model.getName();
  return dir + "/best.safetensors";
}

/// Loads --checkpoint, else the default best checkpoint if there is one.
void restore(Model &model, const Args &args) {
  std::string path = args.get("checkpoint");
  if (path.empty()) {
    struct stat st;
    path = defaultCheckpoint(model);
    if (::stat(path.c_str(), &st) != 0) {
      std::fprintf(stderr,
                   "fmrun: no checkpoint (looked for %s); using the initial "
                   "parameters\n",
                   path.c_str());
      return;
    }
  }
  loadCheckpoint(model, path);
  std::printf("checkpoint %s (step %lld)\n", path.c_str(),
              static_cast<long long>(model.getStepCount()));
}

/// The kernel variant running: "host", a target string, or "avx2 (of
/// avx512, avx2, sse41)" for a portable library.
std::string describeKernels(const Model &model) {
  const fm_model_desc_t *library = model.getLibraryDesc();
  std::string name = model.getVariantName();
  if (name.empty())
    return ""; // kernels that name no target (hand-written ones)
  if (library->num_variants < 2)
    return name;
  std::string all;
  for (int i = 0; i < library->num_variants; ++i)
    all += (i ? ", " : "") + std::string(library->variants[i].name);
  return name + " (of " + all + ")";
}

void printSummary(const Model &model, const Dataset &data) {
  const Descriptor &d = model.getDescriptor();
  int64_t params = 0;
  for (int id : d.getTensorsOfKind(TensorKind::Param))
    params += d.tensors[id].getElementCount(1);
  std::string kernels = describeKernels(model);
  if (!kernels.empty())
    kernels = "kernels " + kernels + "; ";
  std::printf(
      "model %s: %lld parameters; %sdata %s: %lld train, %lld test samples\n",
      d.model.c_str(), static_cast<long long>(params), kernels.c_str(),
      data.name.c_str(), static_cast<long long>(data.train.count),
      static_cast<long long>(data.test.count));
  std::fflush(stdout);
}

int runTrain(Model &model, const Dataset &data, const Args &args) {
  TrainOptions o;
  if (args.has("epochs"))
    o.epochs = args.getInt("epochs", 0);
  if (args.has("batch"))
    o.batch = args.getInt("batch", 1);
  if (args.has("seed"))
    o.seed = static_cast<uint64_t>(args.getInt("seed", 0));
  if (args.has("validation"))
    o.validation = args.getDouble("validation");
  if (args.has("lr"))
    o.lr = args.getDouble("lr");
  if (args.has("scale"))
    o.scale = args.getDouble("scale");
  if (args.has("early-stop"))
    o.earlyStop = args.getInt("early-stop", 0);
  if (args.has("limit"))
    o.limit = args.getInt("limit", 1);
  if (args.has("checkpoint-dir"))
    o.checkpointDir = args.get("checkpoint-dir");
  if (args.has("stop-after"))
    o.stopAfter = args.getInt("stop-after", 1);
  o.logPath = args.get("log");
  o.resumePath = args.get("resume");
  Trainer trainer(model, data, o);
  printSummary(model, data);
  trainer.run();
  if (!trainer.getSettings().checkpoint.empty())
    std::printf("checkpoints in %s\n",
                trainer.getSettings().checkpoint.c_str());
  return 0;
}

/// The options eval and predict share: which samples a split holds.
TrainOptions splitOptions(const Args &args) {
  TrainOptions o;
  if (args.has("validation"))
    o.validation = args.getDouble("validation");
  if (args.has("limit"))
    o.limit = args.getInt("limit", 1);
  if (args.has("batch"))
    o.batch = args.getInt("batch", 1);
  return o;
}

int runEval(Model &model, const Dataset &data, const Args &args) {
  restore(model, args);
  Trainer trainer(model, data, splitOptions(args));
  SplitRange range =
      trainer.getSplit(args.has("split") ? args.get("split") : "test");
  int64_t batch = trainer.getSettings().batch;
  Metrics m = trainer.evaluate(*range.split, range.first, range.count, batch);
  std::printf("%s  %s  (%lld samples)\n", range.name.c_str(),
              m.format().c_str(), static_cast<long long>(m.samples));
  // Per-class accuracy and the confusion matrix, from the first output.
  const Descriptor &d = model.getDescriptor();
  std::string whyNot;
  std::optional<ConfusionMatrix> confusion;
  if (d.outputs.empty() || !model.hasStep(StepKind::Predict)) {
    whyNot = "the model has no outputs";
  } else {
    std::vector<OutputArray> outs =
        predictSplit(trainer, model, range, batch, {d.outputs[0]});
    confusion = computeConfusion(model, data, outs[0], range, whyNot);
  }
  if (confusion)
    std::fputs(confusion->format(d.outputs[0]).c_str(), stdout);
  else
    std::printf("per-class accuracy and confusion matrix: not applicable "
                "(%s)\n",
                whyNot.c_str());
  return 0;
}

int runPredict(Model &model, const Dataset &data, const Args &args) {
  restore(model, args);
  const Descriptor &d = model.getDescriptor();
  if (d.outputs.empty())
    throw Error("model '" + d.model + "' has no outputs to predict",
                FM_STATUS_FAILED_PRECONDITION);
  Trainer trainer(model, data, splitOptions(args));
  SplitRange range =
      trainer.getSplit(args.has("split") ? args.get("split") : "test");
  bool toFile = args.has("out");
  int64_t count =
      args.has("count") ? args.getInt("count", 1) : (toFile ? range.count : 10);
  range.count = std::min(count, range.count);
  int64_t batch = trainer.getSettings().batch;
  if (toFile) {
    std::vector<OutputArray> outs = predictSplit(trainer, model, range, batch);
    std::vector<std::string> files = writePredictions(args.get("out"), outs);
    for (size_t i = 0; i < files.size(); ++i) {
      std::string what;
      for (size_t o = 0; o < outs.size(); ++o)
        if (files.size() == 1 || o == i) {
          std::vector<int64_t> shape = outs[o].shape;
          shape[0] = -1;
          what += std::string(what.empty() ? "" : ", ") + outs[o].name + " " +
                  formatShape(outs[o].dtype, shape);
        }
      std::printf("wrote %s: %lld %s samples; %s\n", files[i].c_str(),
                  static_cast<long long>(range.count), range.name.c_str(),
                  what.c_str());
    }
    return 0;
  }
  // Without --out: the first samples on the terminal, argmax against the
  // label.
  std::vector<OutputArray> outs =
      predictSplit(trainer, model, range, batch, {d.outputs[0]});
  const OutputArray &out = outs[0];
  int64_t per = out.getSampleElementCount();
  // Scores per class: show the argmax; anything else: the first value.
  bool argmax = data.classLabels && per >= 2;
  int64_t correct = 0;
  for (int64_t i = 0; i < range.count; ++i) {
    int64_t index = range.first + i;
    if (!argmax) {
      double label = range.split->targets.empty() ? range.split->labels[index]
                                                  : range.split->targets[index];
      std::printf("sample %lld: %s %.4f  label %g\n",
                  static_cast<long long>(index), out.name.c_str(),
                  out.get(i * per), label);
      continue;
    }
    int64_t best = 0;
    for (int64_t c = 1; c < per; ++c)
      if (out.get(i * per + c) > out.get(i * per + best))
        best = c;
    int32_t label = range.split->labels[index];
    correct += best == label;
    std::printf("sample %lld: %s %lld (%.4f)  label %d\n",
                static_cast<long long>(index), out.name.c_str(),
                static_cast<long long>(best), out.get(i * per + best), label);
  }
  if (argmax)
    std::printf("%lld of %lld predicted correctly\n",
                static_cast<long long>(correct),
                static_cast<long long>(range.count));
  return 0;
}

BenchOptions benchOptions(const Args &args) {
  BenchOptions o;
  if (args.has("step"))
    o.step = parseBenchStep(args.get("step"));
  if (args.has("batch"))
    o.batch = args.getInt("batch", 1);
  if (args.has("steps"))
    o.steps = args.getInt("steps", 1);
  o.profile = args.has("profile");
  if (args.has("peak-gflops"))
    o.peakGflops = args.getDouble("peak-gflops");
  o.jsonPath = args.get("json");
  o.split = args.get("split");
  return o;
}

} // namespace

int main(int argc, char **argv) {
  Args args;
  try {
    args = parseArgs(argc, argv);
    CompileOptions compile;
    compile.fmc = args.get("fmc");
    compile.target = args.get("target");
    compile.schedule = args.get("schedule");
    for (const std::string &key : kCompiledTrainKeys)
      if (args.has(key)) {
        if (args.model.size() < 3 ||
            args.model.compare(args.model.size() - 3, 3, ".fm") != 0)
          throw UsageError("--" + key +
                           " is compiled into the model library; "
                           "give the .fm source to override it");
        std::string trainKey = key;
        std::replace(trainKey.begin(), trainKey.end(), '-', '_');
        compile.trainKeys.push_back({trainKey, args.get(key)});
      }
    std::string library = resolveModelLibrary(args.model, compile);
    const fm_model_desc_t *desc = loadModelLibrary(library);
    Model::Options options;
    if (args.has("threads"))
      options.numThreads = static_cast<int>(args.getInt("threads", 1));
    if (args.has("batch"))
      options.maxBatch = args.getInt("batch", 1);
    Model model(desc, options);
    Dataset data = Dataset::fromSpec(model.getDescriptor().train.data);
    if (args.command == "train")
      return runTrain(model, data, args);
    if (args.command == "eval")
      return runEval(model, data, args);
    if (args.command == "predict")
      return runPredict(model, data, args);
    return runBench(model, data, benchOptions(args));
  } catch (const UsageError &e) {
    std::fprintf(stderr, "fmrun: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const Error &e) {
    std::fprintf(stderr, "fmrun: %s\n", e.what());
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "fmrun: internal error: %s\n", e.what());
    return 1;
  }
}
