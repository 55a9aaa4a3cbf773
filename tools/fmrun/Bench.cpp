//===- Bench.cpp - fmrun bench: step throughput and kernel profile --------===//
//
// This file implements runBench. The throughput figure comes from an
// unprofiled loop, so that clock reads never touch it; --profile then runs
// the same number of steps again with per-call timing and prints where
// the time went, kernel by kernel, with GFLOP/s for the kernels whose
// descriptor entry gives flops (the contractions: matmul, convolutions).
//
//===----------------------------------------------------------------------===//
#include "tools/fmrun/Bench.h"

#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/Predictions.h"
#include "runtime/Trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

using namespace fm;

namespace {
/// One kernel's share of a step, summed over its call sites.
struct KernelRow {
  std::string name, ops;
  int64_t calls = 0;
  double seconds = 0, flops = 0;
  /// Per step: the sum over the kernel's call sites of each one's fastest
  /// call.
  double bestSeconds = 0;
  bool hasFlops = false;

  double getGflops() const {
    return hasFlops && flops > 0 && seconds > 0 ? flops / seconds / 1e9 : 0;
  }
};
} // namespace

StepKind fm::parseBenchStep(const std::string &name) {
  if (name == "train" || name == "train_step")
    return StepKind::Train;
  if (name == "evaluate" || name == "eval")
    return StepKind::Evaluate;
  if (name == "predict" || name == "inference")
    return StepKind::Predict;
  throw Error("--step expects train, evaluate or predict but got '" + name +
              "'");
}

/// Seconds for `steps` runs of `step`.
static double timeSteps(Model &model, StepKind step, int64_t batch,
                        int64_t steps, float lr) {
  auto start = std::chrono::steady_clock::now();
  for (int64_t s = 0; s < steps; ++s)
    model.run(step, batch, lr);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// The profile of `step` by kernel, slowest first.
static std::vector<KernelRow> getKernelRows(const Model::StepProfile &p,
                                            const Descriptor &desc) {
  std::map<int, size_t> rowOf;
  std::vector<KernelRow> rows;
  for (const Model::CallProfile &c : p.calls) {
    auto [it, added] = rowOf.try_emplace(c.kernel, rows.size());
    if (added) {
      rows.emplace_back();
      rows.back().name = c.name;
      rows.back().ops = desc.kernels[c.kernel].ops;
      rows.back().hasFlops = c.hasFlops;
    }
    KernelRow &row = rows[it->second];
    row.calls += c.calls;
    row.seconds += c.seconds;
    row.flops += c.flops;
    if (c.calls > 0)
      row.bestSeconds += c.bestSeconds;
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const KernelRow &a, const KernelRow &b) {
                     return a.seconds > b.seconds;
                   });
  return rows;
}

static void printProfile(const std::vector<KernelRow> &rows,
                         const Model::StepProfile &p, double peakGflops) {
  // Long op lists are cut: the name identifies the kernel, the ops only
  // remind the reader what it is.
  const size_t opsWidth = 36;
  size_t width = 8;
  for (const KernelRow &r : rows)
    width = std::max(width, r.name.size());
  auto cut = [&](const std::string &ops) {
    return ops.size() <= opsWidth ? ops : ops.substr(0, opsWidth - 3) + "...";
  };
  int w = static_cast<int>(width), ow = static_cast<int>(opsWidth);
  double runs = static_cast<double>(std::max<int64_t>(1, p.runs));
  std::printf("%-*s  %-*s %6s %9s %7s %9s%s\n", w, "kernel", ow, "ops", "calls",
              "ms/step", "% step", "GFLOP/s",
              peakGflops > 0 ? "   % peak" : "");
  double flops = 0, flopSeconds = 0;
  int64_t calls = 0;
  for (const KernelRow &r : rows) {
    std::printf("%-*s  %-*s %6.0f %9.3f %6.1f%%", w, r.name.c_str(), ow,
                cut(r.ops).c_str(), r.calls / runs, 1e3 * r.seconds / runs,
                p.seconds > 0 ? 100 * r.seconds / p.seconds : 0.0);
    if (double g = r.getGflops()) {
      std::printf(" %9.1f", g);
      if (peakGflops > 0)
        std::printf("   %5.1f%%", 100 * g / peakGflops);
      flops += r.flops;
      flopSeconds += r.seconds;
    } else {
      std::printf(" %9s", "-");
    }
    std::printf("\n");
    calls += r.calls;
  }
  std::printf("%-*s  %-*s %6.0f %9.3f %6.1f%%", w, "all", ow, "", calls / runs,
              1e3 * p.seconds / runs, 100.0);
  // GFLOP/s of the whole step: all the flops over all the time.
  if (flops > 0 && p.seconds > 0) {
    std::printf(" %9.1f", flops / p.seconds / 1e9);
    if (peakGflops > 0)
      std::printf("   %5.1f%%", 100 * flops / p.seconds / 1e9 / peakGflops);
  }
  std::printf("\n");
  if (flopSeconds > 0)
    std::printf("contraction kernels (with flops): %.1f%% of the step at "
                "%.1f GFLOP/s\n",
                100 * flopSeconds / p.seconds, flops / flopSeconds / 1e9);
}

static json::Value getProfileJson(const std::vector<KernelRow> &rows,
                                  const Model::StepProfile &p) {
  double runs = static_cast<double>(std::max<int64_t>(1, p.runs));
  json::Value profile = json::Value::object();
  profile.set("ms_per_step", 1e3 * p.seconds / runs);
  json::Value kernels = json::Value::array();
  for (const KernelRow &r : rows) {
    json::Value k = json::Value::object();
    k.set("name", r.name);
    k.set("ops", r.ops);
    k.set("calls_per_step", r.calls / runs);
    k.set("ms_per_step", 1e3 * r.seconds / runs);
    k.set("best_ms_per_step", 1e3 * r.bestSeconds);
    k.set("fraction", p.seconds > 0 ? r.seconds / p.seconds : 0.0);
    if (r.hasFlops) {
      k.set("flops_per_step", r.flops / runs);
      k.set("gflops", r.getGflops());
      if (r.bestSeconds > 0)
        k.set("best_gflops", r.flops / runs / r.bestSeconds / 1e9);
    }
    kernels.push(std::move(k));
  }
  profile.set("kernels", std::move(kernels));
  return profile;
}

/// The figures' JSON object, opened with what ran: the model and the
/// kernel variant.
static json::Value startResult(const Model &model, const char *step) {
  json::Value result = json::Value::object();
  result.set("model", model.getName());
  result.set("kernels", model.getVariantName());
  if (model.getVariantIndex() >= 0)
    result.set(
        "target",
        model.getLibraryDesc()->variants[model.getVariantIndex()].target);
  result.set("step", step);
  return result;
}

/// Writes `result` to --json, if given.
static void writeResult(const json::Value &result, const std::string &path) {
  if (path.empty())
    return;
  std::ofstream out(path);
  out << json::write(result) << "\n";
  if (!out)
    throw Error("cannot write " + path);
}

/// Passes of the predict step over a whole split (BenchOptions::split).
static int runSplitPasses(Model &model, const Dataset &data,
                          const BenchOptions &options) {
  Trainer trainer(model, data);
  SplitRange range = trainer.getSplit(options.split);
  int64_t batch =
      options.batch > 0 ? options.batch : trainer.getSettings().batch;
  predictSplit(trainer, model, range, batch); // warm-up
  std::vector<double> seconds;
  for (int64_t i = 0; i < options.steps; ++i) {
    auto start = std::chrono::steady_clock::now();
    std::vector<OutputArray> outs = predictSplit(trainer, model, range, batch);
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  double best = sorted.front(), median = sorted[sorted.size() / 2];
  double samples = static_cast<double>(range.count);
  std::printf("predict  %s split  %lld samples  batch %lld  fastest %.1f ms "
              "(%.0f img/s)  median %.1f ms (%.0f img/s) of %zu passes\n",
              range.name.c_str(), static_cast<long long>(range.count),
              static_cast<long long>(batch), 1e3 * best, samples / best,
              1e3 * median, samples / median, seconds.size());
  json::Value result = startResult(model, "predict");
  result.set("split", range.name);
  result.set("samples", range.count);
  result.set("batch", batch);
  result.set("img_per_s", samples / best);
  result.set("median_img_per_s", samples / median);
  json::Value passes = json::Value::array();
  for (double s : seconds)
    passes.push(s);
  result.set("pass_seconds", std::move(passes));
  writeResult(result, options.jsonPath);
  return 0;
}

int fm::runBench(Model &model, const Dataset &data,
                 const BenchOptions &options) {
  if (!options.split.empty()) {
    if (options.step != StepKind::Predict || options.profile)
      throw Error("--split times whole predict passes: it takes --step "
                  "predict and no --profile");
    return runSplitPasses(model, data, options);
  }
  StepKind step = options.step;
  if (!model.hasStep(step))
    throw Error("model '" + model.getName() + "' has no " + getStepName(step) +
                    " step",
                FM_STATUS_FAILED_PRECONDITION);
  Trainer trainer(model, data);
  int64_t batch =
      options.batch > 0 ? options.batch : trainer.getSettings().batch;
  batch = std::min(batch, data.train.count);
  std::vector<int64_t> indices(static_cast<size_t>(batch));
  for (int64_t i = 0; i < batch; ++i)
    indices[i] = i;
  trainer.loadBatch(data.train, indices.data(), batch, false, 0);
  float lr = static_cast<float>(trainer.getSettings().lr);
  model.setProfiling(false);
  model.run(step, batch, lr); // warm-up: thread pool, caches
  double seconds = timeSteps(model, step, batch, options.steps, lr);
  double msPerStep = 1e3 * seconds / options.steps;
  double imagesPerSecond = batch * options.steps / seconds;
  std::printf("%s  batch %lld  %.3f ms/step  %.0f img/s\n", getStepName(step),
              static_cast<long long>(batch), msPerStep, imagesPerSecond);

  json::Value result = startResult(model, getStepName(step));
  result.set("batch", batch);
  result.set("steps", options.steps);
  result.set("ms_per_step", msPerStep);
  result.set("img_per_s", imagesPerSecond);
  if (options.profile) {
    model.resetProfile();
    model.setProfiling(true);
    timeSteps(model, step, batch, options.steps, lr);
    model.setProfiling(false);
    Model::StepProfile p = model.getProfile(step);
    std::vector<KernelRow> rows = getKernelRows(p, model.getDescriptor());
    std::printf("\nprofile of %s, %lld runs (per step; slowest first):\n",
                getStepName(step), static_cast<long long>(p.runs));
    printProfile(rows, p, options.peakGflops);
    result.set("profile", getProfileJson(rows, p));
  }
  writeResult(result, options.jsonPath);
  return 0;
}
