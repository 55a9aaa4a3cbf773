//===- PlanReport.h - fmc --emit=plan ---------------------------*- C++ -*-===//
//
// This file declares printMemoryPlan, which builds a module's descriptor
// (as the model library would carry it), runs the runtime's memory planner
// on it and prints the layout of the temps and the memory a training run
// needs. It lives apart from fmc.cpp because the runtime reports errors by
// throwing and fmc is built without exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef FM_TOOLS_FMC_PLANREPORT_H
#define FM_TOOLS_FMC_PLANREPORT_H

#include <cstdint>
#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace fm {

/// Prints the memory plan of `module` (after the passes) for `batch`
/// samples, 0 meaning the train block's batch. Returns false with `error`
/// set if the descriptor cannot be built or planned.
bool printMemoryPlan(mlir::ModuleOp module, int64_t batch,
                     llvm::raw_ostream &os, std::string &error);

} // namespace fm

#endif // FM_TOOLS_FMC_PLANREPORT_H
