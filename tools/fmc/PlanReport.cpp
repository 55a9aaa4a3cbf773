//===- PlanReport.cpp - fmc --emit=plan -------------------------*- C++ -*-===//
//
// This file implements printMemoryPlan. The descriptor goes through the
// runtime's own parser and planner, so the report shows exactly the
// layout libfmrt will use for the library fmc would write. The layout is
// checked pair by pair before it is printed.
//
//===----------------------------------------------------------------------===//
#include "tools/fmc/PlanReport.h"

#include "codegen/Descriptor.h"
#include "runtime/Error.h"
#include "runtime/MemoryPlan.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace fm;

static std::string formatRange(const LiveRange &r, int numCalls) {
  return std::to_string(r.first) + ".." +
         (r.last >= numCalls ? std::string("end") : std::to_string(r.last));
}

static std::string formatMiB(size_t bytes) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  return s;
}

/// Bytes of every tensor of `kind` at `batch`, 64-byte rounded like the
/// runtime's allocations.
static size_t sumBytes(const Descriptor &d, TensorKind kind, int64_t batch,
                       int &count) {
  size_t sum = 0;
  count = 0;
  for (const TensorDesc &t : d.tensors)
    if (t.kind == kind) {
      size_t bytes =
          static_cast<size_t>(t.getElementCount(batch)) * getDTypeSize(t.dtype);
      sum += (bytes + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
      ++count;
    }
  return sum;
}

/// "" if no two temps that are live at once share a byte.
static std::string checkPlan(const Descriptor &d, const MemoryPlan &plan) {
  for (size_t i = 0; i < plan.tensors.size(); ++i)
    for (size_t j = i + 1; j < plan.tensors.size(); ++j) {
      const PlannedTensor &a = plan.tensors[i], &b = plan.tensors[j];
      bool disjoint = a.offset + a.bytes <= b.offset ||
                      b.offset + b.bytes <= a.offset || !a.bytes || !b.bytes;
      if (!disjoint && livesOverlap(a, b))
        return "temps '" + d.tensors[a.id].name + "' and '" +
               d.tensors[b.id].name + "' are live at once but share bytes";
    }
  return "";
}

static void printStep(const Descriptor &d, const MemoryPlan &plan,
                      StepKind kind, llvm::raw_ostream &os) {
  const StepDesc &step = d.getStep(kind);
  int numCalls = static_cast<int>(step.calls.size());
  std::vector<std::pair<const PlannedTensor *, LiveRange>> rows;
  for (const PlannedTensor &p : plan.tensors)
    for (const LiveRange &r : p.live)
      if (r.step == kind)
        rows.emplace_back(&p, r);
  std::stable_sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return a.second.first < b.second.first;
  });
  size_t sum = 0;
  for (const auto &row : rows)
    sum += row.first->bytes;
  os << "step " << getStepName(kind) << ": " << numCalls << " calls, "
     << rows.size() << " temps, " << sum << " bytes\n";
  os << "        offset        bytes  live       tensor\n";
  for (const auto &[p, r] : rows) {
    const TensorDesc &t = d.tensors[p->id];
    os << llvm::format("  %12zu %12zu  %-10s ", p->offset, p->bytes,
                       formatRange(r, numCalls).c_str())
       << t.name << " " << formatShape(t.dtype, t.shape) << "\n";
  }
}

static void printPlan(const Descriptor &d, int64_t batch, bool fromFlag,
                      llvm::raw_ostream &os) {
  MemoryPlan plan = planMemory(d, batch);
  std::string problem = checkPlan(d, plan);
  if (!problem.empty())
    throw Error("memory plan is wrong: " + problem, FM_STATUS_INTERNAL);
  os << "memory plan of model " << d.model << " at batch " << batch
     << (fromFlag ? " (--batch)" : " (the train block's batch)") << "\n";
  os << "live ranges are call indices within a step, inclusive; 'end': a "
        "result, read after the last call (results keep bytes of their "
        "own)\n\n";
  for (StepKind kind : {StepKind::Train, StepKind::Evaluate, StepKind::Predict})
    if (d.getStep(kind).present) {
      printStep(d, plan, kind, os);
      os << "\n";
    }
  for (const PlannedTensor &p : plan.tensors)
    if (p.live.empty())
      os << "unused temp (bytes of its own): " << d.tensors[p.id].name << " at "
         << p.offset << ", " << p.bytes << " bytes\n";

  int params, state, inputs, labels;
  size_t paramBytes = sumBytes(d, TensorKind::Param, batch, params);
  size_t stateBytes = sumBytes(d, TensorKind::State, batch, state);
  size_t ioBytes = sumBytes(d, TensorKind::Input, batch, inputs) +
                   sumBytes(d, TensorKind::Label, batch, labels);
  size_t peak = paramBytes + stateBytes + plan.arenaBytes + ioBytes;
  double share = plan.unplannedBytes
                     ? 100.0 * plan.arenaBytes / plan.unplannedBytes
                     : 100.0;
  os << llvm::format("temps    %12zu bytes  %s  (%zu temps, one buffer each)\n",
                     plan.unplannedBytes,
                     formatMiB(plan.unplannedBytes).c_str(),
                     plan.tensors.size());
  os << llvm::format("arena    %12zu bytes  %s  (%.1f%% of the temps)\n",
                     plan.arenaBytes, formatMiB(plan.arenaBytes).c_str(),
                     share);
  os << llvm::format("params   %12zu bytes  %s  (%d tensors)\n", paramBytes,
                     formatMiB(paramBytes).c_str(), params);
  os << llvm::format("state    %12zu bytes  %s  (%d tensors)\n", stateBytes,
                     formatMiB(stateBytes).c_str(), state);
  os << llvm::format("io       %12zu bytes  %s  (%d inputs, %d labels)\n",
                     ioBytes, formatMiB(ioBytes).c_str(), inputs, labels);
  os << llvm::format("peak     %12zu bytes  %s  (params + state + arena + io; "
                     "without reuse %zu bytes)\n",
                     peak, formatMiB(peak).c_str(),
                     peak - plan.arenaBytes + plan.unplannedBytes);
}

bool fm::printMemoryPlan(mlir::ModuleOp module, int64_t batch,
                         llvm::raw_ostream &os, std::string &error) {
  ModelPlan model;
  if (mlir::failed(planModel(module, model))) {
    error = "cannot build the descriptor";
    return false;
  }
  try {
    Descriptor d = parseDescriptor(model.json, model.kernels.size());
    bool fromFlag = batch > 0;
    printPlan(d, fromFlag ? batch : d.train.batch, fromFlag, os);
  } catch (const Error &e) {
    error = e.what();
    return false;
  }
  return true;
}
