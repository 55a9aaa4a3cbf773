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
//   fmc model.fm --emit=ast        parse and print the AST
//   fmc model.fm --emit=mlir       the fm dialect as MLIRGen emits it
//   fmc model.fm --emit=steps      predict / evaluate / train_step
//   fmc model.fm --emit=grad       ... with the backward graph
//   fmc model.fm --emit=optimized  ... with the optimizer's update
//   fmc model.fm --emit=fused      ... grouped into fm.fused regions
//   fmc model.fm --emit=fm         ... grouped into kernels (the final fm IR)
//   fmc model.fm --emit=halide     each kernel as a scheduled Halide pipeline
//   fmc model.fm --emit=plan       the memory plan of the temps [--batch N]
//   fmc model.fm -o DIR [--shared] DIR/libMODEL.a, DIR/MODEL.h (and .so)
//
// Compiled kernels are kept in a cache (codegen/KernelCache.h) unless
// --no-cache; --cache-dir moves it, -v reports what it did and the time
// each step took.
//
// Errors go to stderr and make fmc exit with status 1.
//
//===----------------------------------------------------------------------===//

#include "codegen/EmitLibrary.h"
#include "codegen/KernelCache.h"
#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "ir/FmDialect.h"
#include "passes/Passes.h"
#include "tools/fmc/PlanReport.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

namespace cl = llvm::cl;

// Only fmc's own options in --help: the LLVM and MLIR libraries register
// hundreds of their own.
static cl::OptionCategory fmcCategory("fmc options");

static cl::opt<std::string>
    inputFilename(cl::Positional, cl::desc("<input .fm file>"), cl::init("-"),
                  cl::value_desc("filename"), cl::cat(fmcCategory));

namespace {
/// The stops of the pipeline, in order. Add new stages at their place in
/// the order; `emitAction >= Action::X` means "run stage X".
enum class Action {
  None,          ///< compile and check only
  DumpAST,       ///< print the AST
  DumpMLIR,      ///< print the fm dialect from MLIRGen
  DumpSteps,     ///< print the step functions
  DumpGrad,      ///< print after autodiff
  DumpOptimized, ///< print after the optimizer update
  DumpFused,     ///< print the fusion groups (fm.fused regions)
  DumpKernels,   ///< print the outlined kernels (the final fm IR)
  DumpHalide,    ///< print each kernel's Halide pipeline
  DumpPlan,      ///< print the memory plan of the temps
};
} // namespace

static cl::opt<Action> emitAction(
    "emit", cl::desc("Select the kind of output desired"),
    cl::init(Action::None),
    cl::values(clEnumValN(Action::DumpAST, "ast", "print the AST"),
               clEnumValN(Action::DumpMLIR, "mlir",
                          "print the fm dialect from MLIRGen"),
               clEnumValN(Action::DumpSteps, "steps",
                          "print the step functions"),
               clEnumValN(Action::DumpGrad, "grad", "print after autodiff"),
               clEnumValN(Action::DumpOptimized, "optimized",
                          "print after the optimizer update"),
               clEnumValN(Action::DumpFused, "fused",
                          "print the fusion groups (fm.fused regions)"),
               clEnumValN(Action::DumpKernels, "fm",
                          "print the final fm IR, grouped into kernels"),
               clEnumValN(Action::DumpHalide, "halide",
                          "print each kernel's scheduled Halide pipeline"),
               clEnumValN(Action::DumpPlan, "plan",
                          "print the memory plan of the temps")),
    cl::cat(fmcCategory));

static cl::opt<int64_t>
    planBatch("batch",
              cl::desc("Batch size for --emit=plan (default: the train "
                       "block's batch)"),
              cl::init(0), cl::cat(fmcCategory));

static cl::list<std::string> trainOverrides(
    "set", cl::desc("Override a train key, e.g. --set 'optimizer=sgd(lr=0.1)'"),
    cl::value_desc("key=value"), cl::cat(fmcCategory));

static cl::opt<std::string>
    outputDir("o", cl::desc("Write the model library to this folder"),
              cl::value_desc("dir"), cl::init(""), cl::cat(fmcCategory));
static cl::opt<bool> emitShared("shared",
                                cl::desc("Also link libMODEL.so (for fmrun)"),
                                cl::cat(fmcCategory));
static cl::opt<std::string>
    target("target",
           cl::desc("Kernel target: host (default: this CPU), portable "
                    "(AVX-512, AVX2 and SSE4.1 variants picked at run "
                    "time) or a Halide target string such as "
                    "x86-64-linux-avx-avx2-f16c-fma-sse41"),
           cl::init("host"), cl::cat(fmcCategory));
static cl::opt<std::string>
    schedule("schedule",
             cl::desc("Kernel schedules: hand (default), root (unscheduled "
                      "reference), or Halide's autoschedulers adams2019, "
                      "mullapudi2016, li2018"),
             cl::init("hand"), cl::cat(fmcCategory));

static cl::opt<std::string> cacheDir(
    "cache-dir",
    cl::desc("Keep compiled kernels here (default: $FM_CACHE_DIR/kernels, "
             "$XDG_CACHE_HOME/fm/kernels or ~/.cache/fm/kernels)"),
    cl::value_desc("dir"), cl::init(""), cl::cat(fmcCategory));
static cl::opt<bool> noCache("no-cache",
                             cl::desc("Compile every kernel; neither read "
                                      "nor write the kernel cache"),
                             cl::cat(fmcCategory));
static cl::opt<bool> verbose(
    "v", cl::desc("Report kernels compiled and cached, and each step's time"),
    cl::cat(fmcCategory));
static cl::alias verboseLong("verbose", cl::desc("Alias for -v"),
                             cl::aliasopt(verbose), cl::cat(fmcCategory));

static cl::opt<bool>
    fuse("fuse",
         cl::desc("Fuse ops into kernels (default); --fuse=false makes every "
                  "op a kernel of its own, the unfused reference"),
         cl::init(true), cl::cat(fmcCategory));

static cl::opt<std::string>
    modelName("model",
              cl::desc("The model to compile (default: the file's only one)"),
              cl::init(""), cl::cat(fmcCategory));

static cl::opt<unsigned>
    errorLimit("error-limit",
               cl::desc("Stop after this many errors (0: no limit)"),
               cl::init(50), cl::cat(fmcCategory));

/// Reads and parses the input file. Returns null after reporting errors.
static std::unique_ptr<fm::ModuleAST>
parseInputFile(llvm::SourceMgr &sourceMgr, fm::DiagnosticEngine &diag) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> fileOrErr =
      llvm::MemoryBuffer::getFileOrSTDIN(inputFilename, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (std::error_code ec = fileOrErr.getError()) {
    llvm::WithColor::error(llvm::errs(), "fmc")
        << "could not open '" << inputFilename << "': " << ec.message() << "\n";
    return nullptr;
  }
  unsigned bufferID =
      sourceMgr.AddNewSourceBuffer(std::move(*fileOrErr), llvm::SMLoc());
  return fm::parseBuffer(sourceMgr, bufferID, diag);
}

/// fmc -v: what the kernel cache did and where the time went, e.g.
///   fmc: kernels: 0 compiled, 27 cached (27 kernels); runtime cached
///   fmc: time: passes 0.09 s, plan 0.05 s, lower 0.00 s, ...
/// `passes` is everything before codegen (parsing, MLIRGen, the passes).
static void printStats(const fm::EmitStats &stats, double passes, double total,
                       const std::string &cache) {
  llvm::raw_ostream &os = llvm::errs();
  os << "fmc: kernels: " << stats.compiled << " compiled, " << stats.cached
     << " cached (" << stats.kernels << " kernels)";
  if (stats.damaged)
    os << ", " << stats.damaged << " damaged cache entries replaced";
  os << "; runtime " << (stats.runtimeCached ? "cached" : "compiled") << "\n";
  os << "fmc: cache: " << (cache.empty() ? "off" : cache);
  if (stats.pruned)
    os << " (" << stats.pruned << " least recently used entries pruned)";
  os << "\n";
  if (!stats.cacheWarning.empty())
    os << "fmc: cache not written: " << stats.cacheWarning << "\n";
  os << llvm::format("fmc: time: passes %.2f s, plan %.2f s, lower %.2f s, "
                     "compile %.2f s, runtime %.2f s, descriptor %.2f s, "
                     "archive %.2f s, link %.2f s; total %.2f s\n",
                     passes, stats.plan, stats.lower, stats.compile,
                     stats.runtime, stats.descriptor, stats.archive, stats.link,
                     total);
}

static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

int main(int argc, char **argv) {
  auto started = std::chrono::steady_clock::now();
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(fmcCategory);
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

  if (diag.hasErrors())
    return 1;

  // MLIRGen: AST -> fm dialect, with names, arguments and shapes checked.
  mlir::MLIRContext context;
  fm::MLIRGenOptions genOptions;
  genOptions.modelName = modelName;
  // `--set key=value` entries are parsed as a train block of their own, so
  // they are checked exactly like the source's.
  std::unique_ptr<fm::ModuleAST> overrides;
  if (!trainOverrides.empty()) {
    std::string text = "train overrides {\n";
    for (const std::string &entry : trainOverrides)
      text += entry + "\n";
    text += "}\n";
    overrides = fm::parseSource(text, "<--set>", sourceMgr, diag);
    if (!overrides)
      return 1;
    genOptions.overrides = overrides->lookupTrain("overrides");
  }
  mlir::OwningOpRef<mlir::ModuleOp> ir =
      fm::mlirGen(context, *module, diag, genOptions);
  if (!ir)
    return 1;
  // Passes and codegen report at the ops' source positions too.
  auto forward = fm::forwardDiagnostics(context, diag);
  if (emitAction == Action::DumpMLIR) {
    ir->print(llvm::outs());
    return 0;
  }

  // Passes: step functions, gradients, optimizer, kernels.
  llvm::StringRef stop = emitAction == Action::DumpSteps       ? "steps"
                         : emitAction == Action::DumpGrad      ? "grad"
                         : emitAction == Action::DumpOptimized ? "optimized"
                         : emitAction == Action::DumpFused     ? "fused"
                                                               : "kernels";
  mlir::PassManager pm(&context);
  mlir::fm::buildFmPipelineUpTo(pm, stop, fuse);
  if (mlir::failed(pm.run(*ir)))
    return 1;
  if (emitAction >= Action::DumpSteps && emitAction <= Action::DumpKernels) {
    ir->print(llvm::outs());
    return 0;
  }

  // Codegen: kernels -> Halide pipelines -> the model library.
  fm::EmitOptions emitOptions;
  emitOptions.outDir = outputDir;
  emitOptions.shared = emitShared;
  emitOptions.target = target;
  emitOptions.schedule = schedule;
  std::string error;
  if (emitAction == Action::DumpPlan) {
    if (planBatch < 0) {
      llvm::WithColor::error(llvm::errs(), "fmc")
          << "--batch must be positive but got " << planBatch << "\n";
      return 1;
    }
    if (!fm::printMemoryPlan(*ir, planBatch, llvm::outs(), error)) {
      llvm::WithColor::error(llvm::errs(), "fmc") << error << "\n";
      return 1;
    }
    return 0;
  }
  if (emitAction == Action::DumpHalide) {
    if (mlir::failed(fm::emitHalide(*ir, llvm::outs(), emitOptions, error))) {
      llvm::WithColor::error(llvm::errs(), "fmc") << error << "\n";
      return 1;
    }
    return 0;
  }
  if (outputDir.empty())
    return 0; // checked only
  if (!noCache) {
    emitOptions.cacheDir =
        cacheDir.empty() ? fm::getDefaultKernelCacheDir() : cacheDir;
    if (!fm::getKernelCacheLimit(emitOptions.cacheMaxBytes, error)) {
      llvm::WithColor::error(llvm::errs(), "fmc") << error << "\n";
      return 1;
    }
  }
  fm::EmitStats stats;
  double passes = secondsSince(started);
  if (mlir::failed(fm::emitModelLibrary(*ir, emitOptions, error, &stats))) {
    llvm::WithColor::error(llvm::errs(), "fmc") << error << "\n";
    return 1;
  }
  if (verbose)
    printStats(stats, passes, secondsSince(started), emitOptions.cacheDir);
  return 0;
}
