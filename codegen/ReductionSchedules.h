//===- ReductionSchedules.h - Schedules of reductions ----------*- C++ -*-===//
//
// This file declares the hand schedules of Reduction stages (lowered by
// ops/Reductions.cpp and the losses of ops/NeuralNet.cpp). Schedules.cpp's
// hand scheduler calls them for every materialised reduction.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_REDUCTIONSCHEDULES_H
#define FM_CODEGEN_REDUCTIONSCHEDULES_H

#include "codegen/ScheduleContext.h"

#include <optional>

namespace fm::reduce {

/// A sum split over one of its kept axes in parallel.
struct ParallelSum {
  const Stage *stage;
  Halide::Var var; ///< the kept axis split over threads
  bool lanes;      ///< summed in vector partial sums (rfactor)
};

/// Schedules a Reduction stage at root; says how, if it runs in parallel
/// over a kept axis that sibling sums may share (fuseSiblingSums).
std::optional<ParallelSum> scheduleReduction(const ScheduleContext &ctx,
                                             const Stage &stage);

/// Sums over the same domain, parallel over the same kept axis, that do
/// not read one another walk their inputs in one loop over that axis.
void fuseSiblingSums(const ScheduleContext &ctx,
                     const std::vector<ParallelSum> &sums);

} // namespace fm::reduce

#endif // FM_CODEGEN_REDUCTIONSCHEDULES_H
