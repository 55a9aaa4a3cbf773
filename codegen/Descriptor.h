//===- Descriptor.h - The model descriptor of a compiled module -*- C++ -*-===//
//
// This file declares planModel, which reads the step functions of a
// module (after the passes: fm.load / func.call / fm.store only) and
// builds the descriptor JSON of docs/descriptor.md together with the
// kernel table it refers to.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_DESCRIPTOR_H
#define FM_CODEGEN_DESCRIPTOR_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace fm {

/// What a model library holds besides its kernels' code.
struct ModelPlan {
  /// The model's name (`fm.model`), a C identifier.
  std::string model;
  /// The descriptor JSON.
  std::string json;
  /// The kernel table, in descriptor order: the module's `fm.kernel`
  /// functions, then kernels made for constants in step functions.
  std::vector<mlir::func::FuncOp> kernels;
  /// Owns the kernels made for step-function constants.
  mlir::OwningOpRef<mlir::ModuleOp> synthesized;
};

/// Builds the plan of `module`. Reports what it cannot express (a stored
/// value no kernel writes, an in-place write that would clobber a value
/// still needed) as diagnostics on the offending op and fails.
mlir::LogicalResult planModel(mlir::ModuleOp module, ModelPlan &plan);

/// `name` with every character outside [A-Za-z0-9_] replaced by `_`.
std::string sanitizeIdentifier(const std::string &name);

} // namespace fm

#endif // FM_CODEGEN_DESCRIPTOR_H
