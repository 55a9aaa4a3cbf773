//===- MemoryPlanCheck.h - Checks a memory plan -----------------*- C++ -*-===//
//
// checkPlanAgainstDescriptor recomputes liveness from the descriptor in
// another form than the planner (the set of temps live at each point of
// each step) and checks that no two of them share a byte, that results
// share with nothing (they are read after other steps ran), and that every
// temp is aligned, inside the arena and large enough. Header-only so that both
// runtime test executables use the same checker.
//
//===----------------------------------------------------------------------===//
#ifndef FM_TEST_RUNTIME_MEMORYPLANCHECK_H
#define FM_TEST_RUNTIME_MEMORYPLANCHECK_H

#include "runtime/Descriptor.h"
#include "runtime/MemoryPlan.h"

#include <set>
#include <string>
#include <vector>

namespace fm {
namespace test {

/// "" if `plan` is a valid layout of `d`'s temps, else what is wrong.
inline std::string checkPlanAgainstDescriptor(const Descriptor &d,
                                              const MemoryPlan &plan) {
  std::vector<bool> usedAnywhere(d.tensors.size(), false);
  for (const PlannedTensor &p : plan.tensors) {
    const TensorDesc &t = d.tensors[p.id];
    size_t need = static_cast<size_t>(t.getElementCount(plan.batch)) *
                  getDTypeSize(t.dtype);
    if (p.bytes < need)
      return "'" + t.name + "' has " + std::to_string(p.bytes) +
             " bytes but needs " + std::to_string(need);
    if (p.offset % kPlanAlignment || p.offset + p.bytes > plan.arenaBytes)
      return "'" + t.name + "' is misaligned or outside the arena";
  }
  auto clash = [&](int a, int b) -> std::string {
    const PlannedTensor *x = plan.find(a), *y = plan.find(b);
    if (!x || !y || !x->bytes || !y->bytes)
      return "";
    if (x->offset + x->bytes <= y->offset || y->offset + y->bytes <= x->offset)
      return "";
    return "'" + d.tensors[a].name + "' and '" + d.tensors[b].name +
           "' are live at once but share bytes";
  };
  for (StepKind kind :
       {StepKind::Train, StepKind::Evaluate, StepKind::Predict}) {
    const StepDesc &step = d.getStep(kind);
    if (!step.present)
      continue;
    int n = static_cast<int>(step.calls.size());
    // uses[id]: the points of the step that name the temp; results are
    // read at point n, after the last call.
    std::vector<std::set<int>> uses(d.tensors.size());
    for (int c = 0; c < n; ++c)
      for (const CallArg &a : step.calls[c].args)
        if (a.kind == CallArg::Kind::Tensor)
          uses[a.tensor].insert(c);
    for (const auto &r : step.results)
      uses[r.second].insert(n);
    for (int point = 0; point <= n; ++point) {
      std::vector<int> live;
      for (size_t id = 0; id < d.tensors.size(); ++id) {
        if (d.tensors[id].kind != TensorKind::Temp || uses[id].empty())
          continue;
        usedAnywhere[id] = true;
        if (*uses[id].begin() <= point && *uses[id].rbegin() >= point)
          live.push_back(static_cast<int>(id));
      }
      for (size_t i = 0; i < live.size(); ++i)
        for (size_t j = i + 1; j < live.size(); ++j)
          if (std::string m = clash(live[i], live[j]); !m.empty())
            return std::string(getStepName(kind)) + " point " +
                   std::to_string(point) + ": " + m;
    }
  }
  // A result, or a temp no step names, may be read at any time: it
  // shares with nobody.
  std::vector<bool> isResult(d.tensors.size(), false);
  for (const StepDesc &step : d.steps)
    for (const auto &r : step.results)
      isResult[r.second] = true;
  for (const PlannedTensor &p : plan.tensors)
    if (!usedAnywhere[p.id] || isResult[p.id])
      for (const PlannedTensor &q : plan.tensors)
        if (q.id != p.id)
          if (std::string m = clash(p.id, q.id); !m.empty())
            return "result or unused temp: " + m;
  return "";
}

} // namespace test
} // namespace fm

#endif // FM_TEST_RUNTIME_MEMORYPLANCHECK_H
