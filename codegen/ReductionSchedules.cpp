//===- ReductionSchedules.cpp - Schedules of reductions --------*- C++ -*-===//
//
// This file implements the hand schedules of Reduction stages, always at
// root:
//  - reduced outer axes (a bias gradient sums columns of rows): vectorised
//    over the innermost kept axis, the reduced axes walked around it;
//  - a large result: parallel over its outermost kept axis;
//  - a small result of a large input (a conv bias gradient, [C] from
//    [N, C, H, W]; batch-norm statistics): parallel over its widest kept
//    axis; when the rows are reduced too, each task sums them in a vector
//    of partial sums (rfactor, inside the task so they stay in
//    registers), the innermost reduced axes that walk one contiguous run
//    fused into one row first. The order of additions is the schedule's,
//    whatever the thread count.
//  - sibling sums (same domain, same parallel axis, neither reading the
//    other) share one parallel loop (compute_with).
//
//===----------------------------------------------------------------------===//
#include "codegen/ReductionSchedules.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

using namespace fm;
using namespace fm::reduce;
using Halide::TailStrategy;
using Halide::Var;

/// Whether `stage` reads `f`, directly or through other stages.
static bool readsTransitively(const LoweredKernel &kernel, const Stage &stage,
                              const Halide::Func &f) {
  std::set<std::string> seen;
  std::vector<const Stage *> work = {&stage};
  while (!work.empty()) {
    const Stage *s = work.back();
    work.pop_back();
    for (const Halide::Func &p : s->producers) {
      if (p.name() == f.name())
        return true;
      if (seen.insert(p.name()).second)
        if (const Stage *producer = kernel.findStage(p))
          work.push_back(producer);
    }
  }
  return false;
}

std::optional<ParallelSum> fm::reduce::scheduleReduction(
    const ScheduleContext &ctx, const Stage &stage) {
  Halide::Func f = stage.func;
  f.compute_root();
  std::vector<Var> args = f.args();
  if (args.empty())
    return std::nullopt;
  int vec = ctx.getVectorSize(f.output_types()[0]);
  Halide::Stage update = f.update();
  bool vectorized = !stage.reducesInnermost() && f.outputs() == 1;
  if (vectorized) {
    // The innermost kept axis is the input's: make it the vector loop and
    // walk the reduced (outer) axes around it.
    std::vector<Halide::VarOrRVar> order = {args[0]};
    for (const Halide::RVar &r : f.rvars(0))
      order.push_back(r);
    for (size_t i = 1; i < args.size(); ++i)
      order.push_back(args[i]);
    update.reorder(order);
    f.vectorize(args[0], vec, TailStrategy::GuardWithIf);
    update.vectorize(args[0], vec, TailStrategy::GuardWithIf);
  }
  if (ctx.getElements(stage.shape) >= kParallelElements) {
    Var outer = args.back();
    f.parallel(outer);
    update.parallel(outer);
    return std::nullopt;
  }
  // A small result of a large reduction would walk its whole input on
  // one thread: split the work over the widest kept axis instead.
  int64_t inputElements = 0;
  for (const Halide::Func &p : stage.producers)
    if (const Stage *producer = ctx.kernel.findStage(p))
      inputElements = std::max(inputElements, ctx.getElements(producer->shape));
  if (inputElements < 4 * kParallelElements ||
      stage.shape.size() != args.size())
    return std::nullopt;
  int widest = -1;
  int64_t widestExtent = 1;
  for (size_t i = vectorized ? 1 : 0; i < args.size(); ++i) {
    int64_t extent = stage.shape[stage.shape.size() - 1 - i];
    if (extent > widestExtent) {
      widest = static_cast<int>(i);
      widestExtent = extent;
    }
  }
  if (widest < 0)
    return std::nullopt;
  auto inParallel = [&](bool lanes) {
    update.parallel(args[widest]);
    return ParallelSum{&stage, args[widest], lanes};
  };
  if (!stage.reducesInnermost() || f.outputs() != 1)
    return inParallel(false);

  // Rows summed one element at a time wait on each add (a bias gradient
  // is 1.4M dependent adds in the Fashion-MNIST CNN): sum them in a
  // vector of partial sums along the rows instead, added up at the end.
  // Rows of 14 (a per-channel sum over [N, C, 14, 14]) are shorter than
  // an AVX-512 vector: the innermost reduced axes that walk one
  // contiguous run are fused into one row first (196 elements, 12 whole
  // vectors).
  const std::vector<Halide::Internal::ReductionVariable> &rdims =
      f.function().update(0).schedule().rvars();
  std::vector<Halide::RVar> rvars = f.rvars(0);
  Halide::RVar row = rvars[0];
  const int64_t *first = Halide::Internal::as_const_int(rdims[0].extent);
  int64_t rowExtent = first ? *first : 0;
  for (int i = 1; rowExtent > 0 && i < stage.innermostReducedAxes; ++i) {
    const int64_t *extent = Halide::Internal::as_const_int(rdims[i].extent);
    if (!extent)
      break;
    Halide::RVar fused(row.name() + "_" + rvars[i].name());
    update.fuse(row, rvars[i], fused);
    row = fused;
    rowExtent *= *extent;
  }
  if (rowExtent < vec)
    return inParallel(false);
  Halide::RVar rowOuter("row_o"), rowInner("row_i");
  Var lane("lane");
  update.split(row, rowOuter, rowInner, vec, TailStrategy::GuardWithIf);
  Halide::Func partial = update.rfactor(rowInner, lane);
  // Each task keeps its own partial sums (in registers): a shared buffer
  // would put two tasks' sums on one cache line.
  ParallelSum sum = inParallel(true);
  partial.compute_at(f, args[widest]).vectorize(lane);
  partial.update().vectorize(lane);
  return sum;
}

// Each task sums its channel's slice for all of them in turn, the slice
// still in L2, instead of each sum streaming the whole tensor from memory
// (a batch-norm gradient's Σg, Σg·x̂, Σgy, Σgy·y).
void fm::reduce::fuseSiblingSums(const ScheduleContext &ctx,
                                 const std::vector<ParallelSum> &sums) {
  auto domainOf = [](const ParallelSum &sum) {
    std::ostringstream key;
    key << sum.var.name() << (sum.lanes ? " lanes" : "");
    for (const Halide::Internal::ReductionVariable &rv :
         sum.stage->func.function().update(0).schedule().rvars())
      key << " " << rv.min << ":" << rv.extent;
    for (int64_t d : sum.stage->shape)
      key << " " << d;
    return key.str();
  };
  std::map<std::string, std::vector<const ParallelSum *>> groups;
  for (const ParallelSum &sum : sums)
    groups[domainOf(sum)].push_back(&sum);
  for (auto &[key, members] : groups) {
    std::vector<const ParallelSum *> fused = {members.front()};
    for (size_t i = 1; i < members.size(); ++i) {
      const Stage &stage = *members[i]->stage;
      bool independent = std::none_of(
          fused.begin(), fused.end(), [&](const ParallelSum *other) {
            return readsTransitively(ctx.kernel, stage, other->stage->func) ||
                   readsTransitively(ctx.kernel, *other->stage, stage.func);
          });
      if (!independent)
        continue;
      Halide::Func child = stage.func, parent = fused.back()->stage->func;
      child.update().compute_with(parent.update(), members[i]->var);
      fused.push_back(members[i]);
    }
  }
}
