//===- Schedules.h - CPU schedules of lowered fm kernels --------*- C++ -*-===//
//
// This file declares scheduleKernel, which decides how the Funcs of a
// LoweredKernel are computed: which are inlined, which get loop nests of
// their own, and how those are tiled, vectorised and parallelised. The
// algorithm (FmToHalide) never mentions any of this.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_SCHEDULES_H
#define FM_CODEGEN_SCHEDULES_H

#include "Halide.h"

namespace fm {

struct LoweredKernel;

enum class ScheduleKind {
  /// Hand-written per anchor kind (matmul, reduction, pointwise output).
  Hand,
  /// Every Func computed at root, serially: the reference that tests
  /// compare scheduled kernels against.
  Root,
};

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::Hand;
  /// The vector width and features come from here.
  Halide::Target target = Halide::get_host_target();
  /// The batch extent assumed when sizing parallel work.
  int batchEstimate = 64;
};

/// Schedules every Func of `kernel`. Call it once per lowered kernel:
/// schedules are stored in the Funcs themselves.
void scheduleKernel(LoweredKernel &kernel, const ScheduleOptions &options = {});

} // namespace fm

#endif // FM_CODEGEN_SCHEDULES_H
