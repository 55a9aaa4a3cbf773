//===- MemoryPlan.h - Liveness-based placement of temp tensors --*- C++ -*-===//
//
// This file declares planMemory, which places every `temp` tensor of a
// descriptor in one arena so that temps never live at the same time may
// share bytes. Params, state, inputs and labels persist across steps (or
// are fed from outside), so they are never planned into the arena.
//
// Liveness, per step: a temp is live from the first call that names it
// (codegen's temps are fresh call results, so that call writes it) through
// the last call that names it, both inclusive, so a kernel's inputs and
// outputs never share bytes. Steps never overlap, so each step is a
// separate stretch of one timeline and a temp of train_step may reuse the
// bytes of a temp of predict; a temp's contents do not outlive its step.
// Results are the exception: the runtime and its users read them after
// the step, even after other steps ran (fm_model_read_output: "of the last
// predict step"), so every result keeps bytes of its own. They are small:
// losses, metrics and outputs.
//
// Placement is greedy by size with best fit, like TFLite's and XLA's heap
// simulators: the largest tensor first, each at the smallest gap between
// already placed tensors it conflicts with that holds it.
//
// The planner needs only the parsed descriptor: no MLIR, LLVM or Halide,
// so the runtime and `fmc --emit=plan` share it.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_MEMORYPLAN_H
#define FM_RUNTIME_MEMORYPLAN_H

#include "runtime/Descriptor.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fm {

/// Every offset and size in a plan is a multiple of this (the runtime
/// allocates 64-byte aligned memory: a cache line, an AVX-512 vector).
constexpr size_t kPlanAlignment = 64;

/// Where one temp tensor is live: calls `first` .. `last` (inclusive) of
/// `step`; `last == calls.size()` means "after the last call" (a result).
struct LiveRange {
  StepKind step = StepKind::Train;
  int first = 0, last = 0;
};

struct PlannedTensor {
  int id = -1;      // descriptor tensor id
  size_t bytes = 0; // at the plan's batch, rounded up to kPlanAlignment
  size_t offset = 0;
  /// One range per step that uses the tensor, in StepKind order.
  std::vector<LiveRange> live;
  /// False for a temp kept out of reuse (a result of a step, or a temp no
  /// step uses): its bytes are its own.
  bool shared = true;
};

struct MemoryPlan {
  int64_t batch = 0;
  /// Every temp, in tensor order.
  std::vector<PlannedTensor> tensors;
  /// tensors[indexOf[id]] is tensor id's entry; -1 for a non-temp.
  std::vector<int> indexOf;
  /// Bytes of the arena: the end of the furthest tensor.
  size_t arenaBytes = 0;
  /// The sum of the temps' (rounded) sizes: the arena without reuse.
  size_t unplannedBytes = 0;

  const PlannedTensor *find(int id) const {
    return id >= 0 && id < static_cast<int>(indexOf.size()) && indexOf[id] >= 0
               ? &tensors[indexOf[id]]
               : nullptr;
  }
};

/// Plans the temps of `desc` for `batch` samples. With `reuse` false every
/// temp gets bytes of its own, laid out in tensor order (the reference the
/// runtime runs without planning). Throws fm::Error if a size overflows.
MemoryPlan planMemory(const Descriptor &desc, int64_t batch, bool reuse = true);

/// True if `a` and `b` are live at the same time in some step (or either
/// is kept out of reuse), i.e. they must not share bytes.
bool livesOverlap(const PlannedTensor &a, const PlannedTensor &b);

} // namespace fm

#endif // FM_RUNTIME_MEMORYPLAN_H
