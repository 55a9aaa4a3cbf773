//===- fm-opt.cpp - Runs fm passes on .mlir files ---------------*- C++ -*-===//
//
// mlir-opt with the fm dialect and passes: the tool lit tests drive.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::fm::registerFmPasses();
  mlir::fm::registerFmPipelines();
  mlir::DialectRegistry registry;
  registry.insert<mlir::fm::FmDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "fm optimizer driver\n", registry));
}
