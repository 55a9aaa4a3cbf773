//===- EmitLibrary.cpp - A compiled module -> a model library ---*- C++ -*-===//
//
// This file implements emitModelLibrary and emitHalide. Building a library
// is a list of steps (2-4 in CompileKernels.cpp):
//   1. plan: the descriptor JSON and the kernel table (Descriptor.cpp);
//      name each kernel by a digest of its IR, target and schedule, and
//      copy the objects the kernel cache has (KernelCache.h);
//   2. lower and schedule every kernel (FmToHalide, Schedules) for each
//      target variant (one, or portable's three), serially: it is quick,
//      and diagnostics stay in order;
//   3. compile each pipeline the cache lacks to an object with
//      Target::NoRuntime, on several threads (Halide compiles separate
//      pipelines independently; each thread owns its pipelines' Funcs);
//      several variants go through Halide's compile_multitarget, whose
//      objects (one per variant and the dispatching wrapper) are joined
//      into one with `cc -r`. Any Halide warning about a kernel (one that
//      says it will fail an assertion, say) is an error at the op it
//      names: no library is written and nothing is cached. Otherwise the
//      object is stored in the cache;
//   4. compile the Halide runtime once for the baseline variant
//      (compile_standalone_runtime), or copy it from the cache;
//   5. write MODEL_desc.c (LibrarySource.cpp: descriptor, kernel table,
//      runtime wrappers) and compile it with the system C compiler;
//   6. archive everything into libMODEL.a, link libMODEL.so if asked
//      (Halide's objects are position independent), write MODEL.h.
//
//===----------------------------------------------------------------------===//
#include "codegen/EmitLibrary.h"

#include "codegen/CompileKernels.h"

#include "codegen/HalideDiagnostics.h"
#include "codegen/KernelCache.h"
#include "codegen/LibrarySource.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <optional>

using namespace mlir;

#ifndef FM_RUNTIME_INCLUDE_DIR
#define FM_RUNTIME_INCLUDE_DIR "runtime"
#endif

//===----------------------------------------------------------------------===//
// Files and tools
//===----------------------------------------------------------------------===//

static bool writeFile(const std::string &path, const std::string &text,
                      std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (!ec) {
    os << text;
    os.close();
    ec = os.error();
  }
  if (ec)
    error = "cannot write " + path + ": " + ec.message();
  return !ec;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

namespace {
/// Adds the seconds since the last call (or construction) to a step.
class StepTimer {
public:
  void operator()(double &step) {
    auto now = std::chrono::steady_clock::now();
    step += std::chrono::duration<double>(now - last).count();
    last = now;
  }

private:
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};
} // namespace

namespace fm {
LogicalResult emitModelLibrary(ModuleOp module, const EmitOptions &options,
                               std::string &error, EmitStats *statsOut) {
  EmitStats localStats;
  EmitStats &stats = statsOut ? *statsOut : localStats;
  StepTimer timer;
  EmitContext ctx;
  std::vector<KernelJob> jobs;
  if (failed(
          prepare(module, options, ctx, jobs, /*contentSymbols=*/true, error)))
    return failure();
  const ModelPlan &plan = ctx.plan;
  stats.kernels = jobs.size();
  const std::string &m = plan.model, &dir = options.outDir;
  std::string objDir = dir + "/" + m + ".objs";
  if (std::error_code ec = llvm::sys::fs::create_directories(objDir)) {
    error = "cannot create " + objDir + ": " + ec.message();
    return failure();
  }
  std::optional<KernelCache> cache;
  if (!options.cacheDir.empty())
    cache.emplace(options.cacheDir);
  for (KernelJob &job : jobs) {
    if (job.sameAs >= 0)
      continue;
    job.object = objDir + "/" + job.symbol + ".o";
    if (!cache)
      continue;
    job.key = hashParts(
        {"fm-kernel-object", getCompilerIdentity(), job.symbol, job.digest});
    job.cached = cache->fetch(job.key, job.object);
    stats.cached += job.cached;
  }
  timer(stats.plan);
  if (failed(lowerKernels(jobs, ctx, error)))
    return failure();
  timer(stats.lower);
  bool compiled = compileKernels(jobs, ctx, options.jobs,
                                 cache ? &*cache : nullptr, stats, error);
  stats.damaged = cache ? cache->getDamaged() : 0;
  if (!compiled) {
    if (!options.keepObjects) // nothing of a failed build is left behind
      llvm::sys::fs::remove_directories(objDir);
    return failure();
  }
  timer(stats.compile);

  std::vector<std::string> objects;
  for (const KernelJob &job : jobs)
    if (job.sameAs < 0)
      objects.push_back(job.object);
  std::string runtime = objDir + "/halide_runtime.o";
  bool runtimeDone = compileRuntime(ctx.variants.back().target, runtime,
                                    cache ? &*cache : nullptr, stats, error);
  stats.damaged = cache ? cache->getDamaged() : 0;
  if (!runtimeDone)
    return failure();
  if (cache)
    stats.pruned = cache->prune(options.cacheMaxBytes);
  objects.push_back(runtime);
  timer(stats.runtime);

  std::string include = options.runtimeIncludeDir.empty()
                            ? std::string(FM_RUNTIME_INCLUDE_DIR)
                            : options.runtimeIncludeDir;
  std::string descSource = objDir + "/" + m + "_desc.c";
  std::string descObject = objDir + "/" + m + "_desc.o";
  std::vector<std::string> names, symbols;
  for (const KernelJob &job : jobs) {
    names.push_back(job.name);
    symbols.push_back(job.symbol);
  }
  if (!writeFile(descSource,
                 getDescriptorSource(plan, names, symbols, ctx.variants),
                 error) ||
      !runTool(
          options.cc,
          {"-O2", "-fPIC", "-c", "-I", include, "-o", descObject, descSource},
          error))
    return failure();
  objects.push_back(descObject);
  timer(stats.descriptor);

  std::string archive = dir + "/lib" + m + ".a";
  llvm::sys::fs::remove(archive); // ar would add to a stale archive
  std::vector<std::string> arArgs = {"rcs", archive};
  arArgs.insert(arArgs.end(), objects.begin(), objects.end());
  if (!runTool(options.ar, arArgs, error))
    return failure();
  timer(stats.archive);
  if (options.shared) {
    // Only the descriptor function is exported: each model library keeps
    // its own Halide runtime, whatever else the process has loaded.
    std::string exports = objDir + "/exports.map";
    if (!writeFile(exports, "{ global: fm_model_" + m + "; local: *; };\n",
                   error))
      return failure();
    std::vector<std::string> ldArgs = {"-shared", "-o",
                                       dir + "/lib" + m + ".so",
                                       "-Wl,--version-script=" + exports};
    ldArgs.insert(ldArgs.end(), objects.begin(), objects.end());
    ldArgs.insert(ldArgs.end(), {"-lpthread", "-ldl", "-lm"});
    if (!runTool(options.cc, ldArgs, error))
      return failure();
  }
  timer(stats.link);

  if (std::error_code ec = llvm::sys::fs::copy_file(
          include + "/fm_model_desc.h", dir + "/fm_model_desc.h")) {
    error = "cannot copy " + include + "/fm_model_desc.h: " + ec.message();
    return failure();
  }
  if (!writeFile(dir + "/" + m + ".h", getModelHeader(m), error))
    return failure();
  if (!options.keepObjects)
    llvm::sys::fs::remove_directories(objDir);
  return success();
}
} // namespace fm

/// The kernel's argv signature: `fm_MLP_k0(arg0: f32[N, 784], ...)`.
static std::string getSignature(const ::fm::KernelJob &job) {
  auto describe = [](const std::string &name, Halide::Type t,
                     const std::vector<int64_t> &shape) {
    std::string s = name + ": " +
                    (t.is_float()  ? "f"
                     : t.is_uint() ? "u"
                                   : "i") +
                    std::to_string(t.bits()) + "[";
    for (size_t i = 0; i < shape.size(); ++i)
      s += (i ? ", " : "") + (shape[i] < 0 ? "N" : std::to_string(shape[i]));
    return s + "]";
  };
  std::string s = job.symbol + "_argv(";
  const ::fm::LoweredKernel &lowered = job.variants.front().lowered;
  for (const ::fm::KernelArg &arg : lowered.args)
    s += (arg.isScalar ? arg.name + ": float scalar"
                       : describe(arg.name, arg.type, arg.shape)) +
         ", ";
  s += "outputs: ";
  for (size_t i = 0; i < lowered.outputs.size(); ++i) {
    const ::fm::KernelOutput &out = lowered.outputs[i];
    s += (i ? ", " : "") + describe(out.func.name(), out.type, out.shape);
  }
  return s + ")";
}

namespace fm {
LogicalResult emitHalide(ModuleOp module, llvm::raw_ostream &os,
                         const EmitOptions &options, std::string &error) {
  EmitContext ctx;
  std::vector<KernelJob> jobs;
  if (failed(prepare(module, options, ctx, jobs, /*contentSymbols=*/false,
                     error)) ||
      failed(lowerKernels(jobs, ctx, error)))
    return failure();
  llvm::SmallString<128> path;
  llvm::sys::fs::createTemporaryFile("fm-kernel", "stmt", path);
  for (KernelJob &job : jobs) {
    for (size_t i = 0; i < job.variants.size(); ++i) {
      LoweredVariant &variant = job.variants[i];
      const Halide::Target &target = ctx.variants[i].target;
      try {
        ::fm::HalideWarningScope scope;
        variant.lowered.getPipeline().compile_to_lowered_stmt(
            path.str().str(), variant.lowered.getArguments(), Halide::Text,
            target);
        variant.warnings.insert(variant.warnings.end(),
                                scope.getWarnings().begin(),
                                scope.getWarnings().end());
      } catch (const Halide::Error &e) {
        error = "halide failed to lower kernel @" + job.name + ": " + e.what();
        llvm::sys::fs::remove(path);
        return failure();
      }
      os << "// ===- @" << job.name << " -> " << getSignature(job);
      if (job.variants.size() > 1)
        os << " [" << ctx.variants[i].name << "]";
      os << "\n";
      if (auto text = llvm::MemoryBuffer::getFile(path))
        os << (*text)->getBuffer() << "\n";
    }
  }
  llvm::sys::fs::remove(path);
  if (reportWarnings(jobs, ctx, error))
    return failure();
  return success();
}
} // namespace fm
