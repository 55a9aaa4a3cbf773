//===- Bench.h - fmrun bench: step throughput and kernel profile -*- C++ -*-===//
//
// This file declares runBench, the `fmrun bench` command: it times one
// step of a model on a fixed batch and, with --profile, breaks the step
// down by kernel; with --split, whole prediction passes over a split, the
// work an application does (docs/bench.md).
//
//===----------------------------------------------------------------------===//
#ifndef FM_TOOLS_FMRUN_BENCH_H
#define FM_TOOLS_FMRUN_BENCH_H

#include "runtime/Model.h"
#include "runtime/data/Dataset.h"

#include <cstdint>
#include <string>

namespace fm {

struct BenchOptions {
  StepKind step = StepKind::Train;
  int64_t batch = 0; // 0: the train block's batch
  int64_t steps = 20;
  /// Also run the steps again with kernel timing and print the table.
  bool profile = false;
  /// A measured SGEMM peak in GFLOP/s; > 0 adds a "% peak" column.
  double peakGflops = 0;
  /// Where to write the figures as JSON; "" for none.
  std::string jsonPath;
  /// For predict: time whole passes over this split ("test", ...) instead
  /// of one batch again and again: each batch loaded from the data set as
  /// training loads it, its outputs copied into host arrays. `steps`
  /// passes after a warm-up one; the fastest and the median are reported.
  std::string split;
};

/// Parses train, evaluate or predict (inference is predict); throws
/// fm::Error otherwise.
StepKind parseBenchStep(const std::string &name);

/// Runs the benchmark and prints its figures; throws fm::Error.
int runBench(Model &model, const Dataset &data, const BenchOptions &options);

} // namespace fm

#endif // FM_TOOLS_FMRUN_BENCH_H
