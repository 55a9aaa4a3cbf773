//===- CodegenEmit.cpp - Drive codegen on a .mlir file ----------*- C++ -*-===//
//
// This file implements `codegen-emit`, a developer tool: it reads a module
// as the passes leave it (e.g. `fmc model.fm --emit=fm > m.mlir`) and runs
// the codegen entry points fmc uses, so codegen can be exercised on real
// modules without the driver:
//   codegen-emit m.mlir -o DIR [--shared]   (emitModelLibrary)
//   codegen-emit m.mlir --emit=halide       (emitHalide)
//
//===----------------------------------------------------------------------===//
#include "codegen/EmitLibrary.h"

#include "ir/FmDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string> input(cl::Positional, cl::desc("<input .mlir>"),
                                  cl::init("-"));
static cl::opt<std::string> outDir("o", cl::desc("output folder"),
                                   cl::init(""));
static cl::opt<bool> shared("shared", cl::desc("also link libMODEL.so"));
static cl::opt<std::string> emit("emit", cl::desc("lib or halide"),
                                 cl::init("lib"));
static cl::opt<std::string> schedule("schedule", cl::desc("hand or root"),
                                     cl::init("hand"));
static cl::opt<std::string> target("target", cl::desc("Halide target"),
                                   cl::init("host"));
static cl::opt<unsigned> jobs("jobs", cl::desc("kernels compiled at once"),
                              cl::init(0));
static cl::opt<bool> keep("keep-objects", cl::desc("keep kernel objects"));

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv, "fm codegen driver\n");
  mlir::MLIRContext context;
  context.loadDialect<mlir::fm::FmDialect, mlir::func::FuncDialect>();
  llvm::SourceMgr sources;
  mlir::SourceMgrDiagnosticHandler handler(sources, &context);
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(input, sources, &context);
  if (!module)
    return 1;
  fm::EmitOptions options;
  options.outDir = outDir;
  options.shared = shared;
  options.schedule = schedule;
  options.target = target;
  options.keepObjects = keep;
  options.jobs = jobs;
  std::string error;
  mlir::LogicalResult result =
      emit == "halide" ? fm::emitHalide(*module, llvm::outs(), options, error)
                       : fm::emitModelLibrary(*module, options, error);
  if (mlir::failed(result)) {
    llvm::errs() << "codegen-emit: " << error << "\n";
    return 1;
  }
  return 0;
}
