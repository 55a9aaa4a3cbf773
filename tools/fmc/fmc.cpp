//===- fmc.cpp - The fm compiler driver -----------------------------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file implements `fmc`, the driver that compiles a `.fm` file. Like
// the Toy tutorial's driver, `--emit=` selects how far the pipeline runs;
// the stops are ordered, so each stage runs only if the requested action is
// at or past it:
//
//   fmc model.fm --emit=ast      parse and print the AST
//
// Errors go to stderr and make fmc exit with status 1.
//
//===----------------------------------------------------------------------===//

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "frontend/Parser.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input .fm file>"),
                                          cl::init("-"),
                                          cl::value_desc("filename"));

namespace {
/// The stops of the pipeline, in order. Add new stages at their place in
/// the order; `emitAction >= Action::X` means "run stage X".
enum class Action {
  None,    ///< parse and check only
  DumpAST, ///< print the AST
};
} // namespace

static cl::opt<Action> emitAction(
    "emit", cl::desc("Select the kind of output desired"),
    cl::init(Action::None),
    cl::values(clEnumValN(Action::DumpAST, "ast", "print the AST")));

static cl::opt<unsigned>
    errorLimit("error-limit",
               cl::desc("Stop after this many errors (0: no limit)"),
               cl::init(50));

/// Reads and parses the input file. Returns null after reporting errors.
static std::unique_ptr<fm::ModuleAST>
parseInputFile(llvm::SourceMgr &sourceMgr, fm::DiagnosticEngine &diag) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> fileOrErr =
      llvm::MemoryBuffer::getFileOrSTDIN(inputFilename, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (std::error_code ec = fileOrErr.getError()) {
    llvm::WithColor::error(llvm::errs(), "fmc")
        << "could not open '" << inputFilename << "': " << ec.message()
        << "\n";
    return nullptr;
  }
  unsigned bufferID =
      sourceMgr.AddNewSourceBuffer(std::move(*fileOrErr), llvm::SMLoc());
  return fm::parseBuffer(sourceMgr, bufferID, diag);
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "fm model compiler\n");

  llvm::SourceMgr sourceMgr;
  fm::DiagnosticEngine diag(sourceMgr);
  diag.setErrorLimit(errorLimit);

  // Front end: text -> AST.
  std::unique_ptr<fm::ModuleAST> module = parseInputFile(sourceMgr, diag);
  if (!module)
    return 1;
  if (emitAction == Action::DumpAST) {
    module->dump(llvm::outs());
    return 0;
  }

  // Later stages (MLIRGen, passes, codegen) go here, in pipeline order.
  return diag.hasErrors() ? 1 : 0;
}
