//===- Schedules.h - CPU schedules of lowered fm kernels --------*- C++ -*-===//
//
// This file declares scheduleKernel, which decides how the Funcs of a
// LoweredKernel are computed: which are inlined, which get loop nests of
// their own, and how those are tiled, vectorised and parallelised. The
// algorithm (FmToHalide) never mentions any of this. Besides the hand
// schedule and the all-root reference, Halide 14's autoschedulers can be
// asked (AutoSchedule.cpp); docs/codegen.md compares them.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_SCHEDULES_H
#define FM_CODEGEN_SCHEDULES_H

#include "codegen/Targets.h"

#include "Halide.h"

#include <string>

namespace fm {

struct LoweredKernel;

enum class ScheduleKind {
  /// Hand-written per anchor kind (matmul, reduction, pointwise output).
  Hand,
  /// Every Func computed at root, serially: the reference that tests
  /// compare scheduled kernels against.
  Root,
  /// One of Halide's autoschedulers (ScheduleOptions::autoscheduler),
  /// loaded from its plugin on first use.
  Auto,
};

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::Hand;
  /// For Auto: Halide's name of the autoscheduler, "Adams2019",
  /// "Mullapudi2016" or "Li2018".
  std::string autoscheduler;
  /// The vector width and features come from here.
  Halide::Target target = getHostTarget();
  /// The batch extent assumed when sizing parallel work.
  int batchEstimate = 64;
  /// For Auto: the threads the kernels will run on (the autoscheduler's
  /// parallelism); 0 means one per hardware thread of this machine.
  int threads = 0;
};

/// Sets `options` from a schedule name as fmc's --schedule takes it:
/// hand, root, adams2019, mullapudi2016 or li2018. Returns false and sets
/// `error` for any other name.
bool parseScheduleName(const std::string &name, ScheduleOptions &options,
                       std::string &error);

/// Vector registers of `target` (16 ymm on AVX2, 32 zmm on AVX-512): the
/// budget of a register tile.
int getVectorRegisters(const Halide::Target &target);

/// Schedules every Func of `kernel`. Call it once per lowered kernel:
/// schedules are stored in the Funcs themselves.
void scheduleKernel(LoweredKernel &kernel, const ScheduleOptions &options = {});

} // namespace fm

#endif // FM_CODEGEN_SCHEDULES_H
