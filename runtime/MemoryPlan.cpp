//===- MemoryPlan.cpp - Placing temps in one arena --------------*- C++ -*-===//
//
// This file implements planMemory: live ranges from the descriptor's call
// lists, then greedy-by-size, best-fit placement in one arena.
//
//===----------------------------------------------------------------------===//
#include "runtime/MemoryPlan.h"

#include "runtime/Error.h"

#include <algorithm>
#include <limits>

using namespace fm;

/// Bytes of `t` at `batch`, rounded up to kPlanAlignment.
static size_t getPlannedBytes(const TensorDesc &t, int64_t batch) {
  size_t elements = 1;
  for (int64_t d : t.shape) {
    size_t extent = static_cast<size_t>(d < 0 ? batch : d);
    if (__builtin_mul_overflow(elements, extent, &elements))
      elements = std::numeric_limits<size_t>::max();
  }
  size_t bytes;
  if (__builtin_mul_overflow(elements, getDTypeSize(t.dtype), &bytes) ||
      bytes > std::numeric_limits<size_t>::max() / 2)
    throw Error("tensor '" + t.name + "' at batch " + std::to_string(batch) +
                    " is too large to allocate",
                FM_STATUS_OUT_OF_RANGE);
  return (bytes + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
}

bool fm::livesOverlap(const PlannedTensor &a, const PlannedTensor &b) {
  if (!a.shared || !b.shared)
    return true;
  for (const LiveRange &x : a.live)
    for (const LiveRange &y : b.live)
      if (x.step == y.step && x.first <= y.last && y.first <= x.last)
        return true;
  return false;
}

/// Fills every temp's live ranges: per step, the first through the last
/// call naming it, extended past the last call for a result.
static void computeLiveness(const Descriptor &desc, MemoryPlan &plan) {
  for (StepKind kind :
       {StepKind::Train, StepKind::Evaluate, StepKind::Predict}) {
    const StepDesc &step = desc.getStep(kind);
    if (!step.present)
      continue;
    std::vector<LiveRange> ranges(plan.tensors.size());
    std::vector<bool> used(plan.tensors.size(), false);
    auto touch = [&](int id, int position) {
      int index = plan.indexOf[id];
      if (index < 0)
        return;
      if (!used[index]) {
        used[index] = true;
        ranges[index] = {kind, position, position};
      }
      ranges[index].last = std::max(ranges[index].last, position);
    };
    int numCalls = static_cast<int>(step.calls.size());
    for (int c = 0; c < numCalls; ++c)
      for (const CallArg &arg : step.calls[c].args)
        if (arg.kind == CallArg::Kind::Tensor)
          touch(arg.tensor, c);
    // Results are read after the last call: live to the end of the step.
    for (const auto &result : step.results)
      touch(result.second, numCalls);
    for (size_t i = 0; i < ranges.size(); ++i)
      if (used[i])
        plan.tensors[i].live.push_back(ranges[i]);
  }
}

/// Places `t` at the lowest-waste gap among the placed tensors it
/// conflicts with (best fit), else after the last of them.
static size_t findOffset(const PlannedTensor &t,
                         const std::vector<const PlannedTensor *> &placed) {
  std::vector<std::pair<size_t, size_t>> busy; // [offset, end)
  for (const PlannedTensor *p : placed)
    if (p->bytes > 0 && livesOverlap(t, *p))
      busy.emplace_back(p->offset, p->offset + p->bytes);
  std::sort(busy.begin(), busy.end());
  size_t cursor = 0, best = 0;
  size_t bestGap = std::numeric_limits<size_t>::max();
  for (const auto &[begin, end] : busy) {
    if (begin > cursor) {
      size_t gap = begin - cursor;
      if (gap >= t.bytes && gap < bestGap) {
        best = cursor;
        bestGap = gap;
      }
    }
    cursor = std::max(cursor, end);
  }
  return bestGap != std::numeric_limits<size_t>::max() ? best : cursor;
}

MemoryPlan fm::planMemory(const Descriptor &desc, int64_t batch, bool reuse) {
  if (batch < 1)
    throw Error("batch must be positive but got " + std::to_string(batch));
  MemoryPlan plan;
  plan.batch = batch;
  plan.indexOf.assign(desc.tensors.size(), -1);
  for (size_t id = 0; id < desc.tensors.size(); ++id) {
    const TensorDesc &t = desc.tensors[id];
    if (t.kind != TensorKind::Temp)
      continue;
    plan.indexOf[id] = static_cast<int>(plan.tensors.size());
    PlannedTensor p;
    p.id = static_cast<int>(id);
    p.bytes = getPlannedBytes(t, batch);
    plan.tensors.push_back(p);
    plan.unplannedBytes += p.bytes;
  }
  computeLiveness(desc, plan);

  // Results are read after their step, through the API possibly after
  // other steps ran ("the output of the last predict step"): they keep
  // bytes of their own, which costs little (losses, metrics, outputs). So
  // does a temp no step names, reachable only through the tensor API.
  std::vector<bool> isResult(desc.tensors.size(), false);
  for (const StepDesc &step : desc.steps)
    if (step.present)
      for (const auto &result : step.results)
        isResult[result.second] = true;
  std::vector<PlannedTensor *> order;
  for (PlannedTensor &p : plan.tensors) {
    p.shared = reuse && !p.live.empty() && !isResult[p.id];
    if (p.shared)
      order.push_back(&p);
  }
  // Largest first: big tensors fix the arena's size, small ones fill gaps.
  // Ties by first use keep the layout stable and close to step order.
  auto firstUse = [](const PlannedTensor *p) {
    return std::make_pair(static_cast<int>(p->live.front().step),
                          p->live.front().first);
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](const PlannedTensor *a, const PlannedTensor *b) {
                     if (a->bytes != b->bytes)
                       return a->bytes > b->bytes;
                     return firstUse(a) < firstUse(b);
                   });
  std::vector<const PlannedTensor *> placed;
  for (PlannedTensor *p : order) {
    p->offset = findOffset(*p, placed);
    placed.push_back(p);
    plan.arenaBytes = std::max(plan.arenaBytes, p->offset + p->bytes);
  }
  // Unshared temps (all of them without reuse) follow, in tensor order.
  for (PlannedTensor &p : plan.tensors)
    if (!p.shared) {
      p.offset = plan.arenaBytes;
      plan.arenaBytes += p.bytes;
    }
  return plan;
}
