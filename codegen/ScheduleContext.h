//===- ScheduleContext.h - What the family schedules share -----*- C++ -*-===//
//
// The hand scheduler (Schedules.cpp) hands each family's schedules
// (ConvSchedules.cpp, ReductionSchedules.cpp) the kernel, its target and
// the batch extent to size work for.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_SCHEDULECONTEXT_H
#define FM_CODEGEN_SCHEDULECONTEXT_H

#include "codegen/FmToHalide.h"

namespace fm {

/// Below this many elements a loop nest runs on one thread: a parallel
/// launch costs more than the work.
inline constexpr int64_t kParallelElements = 16 * 1024;

struct ScheduleContext {
  const LoweredKernel &kernel;
  Halide::Target target;
  /// The batch extent assumed when sizing tiles and parallel work.
  int batch;

  /// Lanes of a native vector of `t`'s width.
  int getVectorSize(Halide::Type t) const;
  /// Vector registers of the target (16 ymm on AVX2, 32 zmm on AVX-512).
  int getRegisters() const;
  /// An extent of a row-major shape, the batch estimate for -1.
  int64_t getExtent(int64_t d) const { return d < 0 ? batch : d; }
  /// The elements of a row-major shape, with the batch estimate.
  int64_t getElements(const std::vector<int64_t> &shape) const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= getExtent(d);
    return n;
  }
};

} // namespace fm

#endif // FM_CODEGEN_SCHEDULECONTEXT_H
