//===- MLIRGen.h - AST to the fm dialect ------------------------*- C++ -*-===//
//
// The one bridge between the front end and MLIR: a checked `ModuleAST`
// becomes an MLIR module holding the model's parameters (`fm.param`), one
// function marked `fm.model_fn` computing loss, outputs and metrics, and
// the `train` block as module attributes.
//
//===----------------------------------------------------------------------===//
#ifndef FM_FRONTEND_MLIRGEN_H
#define FM_FRONTEND_MLIRGEN_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OwningOpRef.h"

namespace fm {

struct MLIRGenOptions {
  /// The model to compile; empty: the file's only model (or the one with a
  /// train block).
  std::string modelName;
  /// Entries that override the model's train block (`fmc --set`), applied
  /// after it.
  const TrainAST *overrides = nullptr;
};

/// Lowers `module` to the fm dialect. Every error (unknown names and ops,
/// wrong arguments, shape mismatches, bad train keys) is reported to
/// `diag` at its source location; returns null if there was any.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          const ModuleAST &module,
                                          DiagnosticEngine &diag,
                                          const MLIRGenOptions &options = {});

/// Prints the MLIR diagnostics of `context` through `diag` while the
/// returned handler lives: `file:line:col: error: ...` with the source
/// line, like the front end's own, for errors raised by passes and codegen
/// at the ops MLIRGen located.
std::unique_ptr<mlir::ScopedDiagnosticHandler>
forwardDiagnostics(mlir::MLIRContext &context, DiagnosticEngine &diag);

} // namespace fm

#endif // FM_FRONTEND_MLIRGEN_H
