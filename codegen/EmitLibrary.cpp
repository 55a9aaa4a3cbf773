//===- EmitLibrary.cpp - A compiled module -> a model library ---*- C++ -*-===//
//
// This file implements emitModelLibrary and emitHalide. Building a library
// is a list of steps:
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

#include "codegen/AutoSchedule.h"
#include "codegen/Descriptor.h"
#include "codegen/FmToHalide.h"
#include "codegen/HalideDiagnostics.h"
#include "codegen/KernelCache.h"
#include "codegen/LibrarySource.h"
#include "codegen/Schedules.h"
#include "codegen/Targets.h"

#include "llvm/ADT/StringMap.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

using namespace mlir;

#ifndef FM_RUNTIME_INCLUDE_DIR
#define FM_RUNTIME_INCLUDE_DIR "runtime"
#endif

namespace {
/// A kernel lowered and scheduled for one target variant.
struct LoweredVariant {
  ::fm::LoweredKernel lowered;
  /// Halide's warnings while lowering and compiling it.
  std::vector<std::string> warnings;
  /// What an autoscheduler said about the schedule it chose.
  std::vector<std::string> remarks;
};

/// One kernel on its way to an object file.
struct KernelJob {
  std::string name; ///< the IR symbol (kernel_names)
  func::FuncOp kernel;
  /// The digest of everything the code depends on but the compiler.
  std::string digest;
  /// The C symbol: fm_MODEL_<digest> (and fm_MODEL_<digest>_argv).
  std::string symbol;
  /// The index of an earlier, identical job whose object this one shares.
  int sameAs = -1;
  std::string key; ///< the kernel cache's key; empty without a cache
  bool cached = false;
  /// One per target variant, in the order of EmitContext::variants.
  std::vector<LoweredVariant> variants;
  /// Warnings Halide raised about no variant in particular.
  std::vector<std::string> warnings;
  std::string object;
  std::string error;

  bool hasWarnings() const {
    bool any = !warnings.empty();
    for (const LoweredVariant &v : variants)
      any |= !v.warnings.empty();
    return any;
  }
};

/// What every kernel of one library is compiled with.
struct EmitContext {
  ::fm::ModelPlan plan;
  /// The targets, best first; the last is the baseline that the Halide
  /// runtime is compiled for.
  std::vector<::fm::TargetVariant> variants;
  ::fm::ScheduleOptions schedule;
  /// The C compiler, for joining multi-target objects.
  std::string cc;
  std::function<void(const std::string &, ::fm::LoweredKernel &)> afterSchedule;
};
} // namespace

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

/// Runs `tool args...`; on failure sets `error` to its output.
static bool runTool(const std::string &tool,
                    const std::vector<std::string> &args, std::string &error) {
  auto program = llvm::sys::findProgramByName(tool);
  if (!program) {
    error = "cannot find '" + tool + "' on the PATH";
    return false;
  }
  llvm::SmallString<128> log;
  llvm::sys::fs::createTemporaryFile("fm-tool", "log", log);
  std::vector<llvm::StringRef> argv = {*program};
  argv.insert(argv.end(), args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(),
                                                log.str()};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*program, argv, std::nullopt, redirects, 0,
                                     0, &message);
  if (rc != 0) {
    std::string command = tool;
    for (const std::string &a : args)
      command += " " + a;
    error =
        "'" + command + "' failed" + (message.empty() ? "" : ": " + message);
    if (auto output = llvm::MemoryBuffer::getFile(log))
      error += "\n" + (*output)->getBuffer().str();
  }
  llvm::sys::fs::remove(log);
  return rc == 0;
}

//===----------------------------------------------------------------------===//
// Lowering and compiling kernels
//===----------------------------------------------------------------------===//

/// What besides its IR decides a kernel's code under `schedule`: the
/// schedule's name (its kind and autoscheduler) and every other
/// ScheduleOptions field a schedule reads; the target is hashed on its
/// own. Add new fields here, or the cache hands out stale objects.
static std::string describeSchedule(const ::fm::EmitOptions &options,
                                    const ::fm::ScheduleOptions &schedule) {
  // 0 threads means this machine's: the autoschedulers size their
  // parallelism for it.
  unsigned threads = schedule.threads > 0 ? unsigned(schedule.threads)
                                          : std::thread::hardware_concurrency();
  std::string text = options.schedule +
                     ":batch=" + std::to_string(schedule.batchEstimate) +
                     ":threads=" + std::to_string(threads);
  if (schedule.kind == ::fm::ScheduleKind::Auto)
    text += ":" + ::fm::describeAutoScheduler(schedule);
  return text;
}

/// Plans the module and names every kernel. With `contentSymbols` (model
/// libraries) a kernel's symbol is `fm_MODEL_<digest>`, the digest of its
/// IR, target and schedule, so that a kernel keeps its symbol, and its
/// cached object, when kernels before it come or go; identical kernels
/// get one symbol and share an object. Otherwise (--emit=halide) the
/// symbol is `fm_MODEL_<name>`.
static LogicalResult prepare(ModuleOp module, const ::fm::EmitOptions &options,
                             EmitContext &ctx, std::vector<KernelJob> &jobs,
                             bool contentSymbols, std::string &error) {
  ::fm::ModelPlan &plan = ctx.plan;
  ctx.cc = options.cc;
  ctx.afterSchedule = options.afterSchedule;
  if (failed(::fm::planModel(module, plan))) {
    error = "cannot build the model descriptor";
    return failure();
  }
  if (!::fm::parseScheduleName(options.schedule, ctx.schedule, error))
    return failure();
  try {
    if (!::fm::resolveTargets(options.target, ctx.variants, error))
      return failure();
  } catch (const Halide::Error &e) {
    error = std::string("halide: ") + e.what();
    return failure();
  }
  ctx.schedule.target = ctx.variants.front().target;
  std::string context;
  for (const ::fm::TargetVariant &variant : ctx.variants)
    context += variant.target.to_string() + "\n";
  context += describeSchedule(options, ctx.schedule);
  llvm::StringMap<size_t> firstWithSymbol;
  for (func::FuncOp kernel : plan.kernels) {
    KernelJob job;
    job.name = kernel.getSymName().str();
    job.kernel = kernel;
    job.digest = ::fm::hashParts({::fm::hashKernelIR(kernel), context});
    job.symbol = "fm_" + plan.model + "_" +
                 (contentSymbols ? job.digest.substr(0, 16)
                                 : ::fm::sanitizeIdentifier(job.name));
    auto [it, inserted] = firstWithSymbol.try_emplace(job.symbol, jobs.size());
    if (!inserted)
      job.sameAs = it->second;
    jobs.push_back(std::move(job));
  }
  return success();
}

/// Lowers and schedules the jobs that need an object of their own,
/// serially, so diagnostics stay in order. Cached ones too: Halide makes
/// a Func's name unique in the process (`matmul_1$2`) and the names end up
/// in the object's strings, so lowering every kernel in the same order is
/// what keeps a library built from the cache byte for byte the same as a
/// cold build. It costs about 10 ms for the CNN's 27 kernels.
static LogicalResult lowerKernels(std::vector<KernelJob> &jobs,
                                  const EmitContext &ctx, std::string &error) {
  try {
    for (KernelJob &job : jobs) {
      if (job.sameAs >= 0)
        continue;
      job.variants.resize(ctx.variants.size());
      for (size_t i = 0; i < ctx.variants.size(); ++i) {
        LoweredVariant &variant = job.variants[i];
        ::fm::ScheduleOptions schedule = ctx.schedule;
        schedule.target = ctx.variants[i].target;
        ::fm::HalideWarningScope scope;
        if (failed(::fm::lowerKernel(job.kernel, variant.lowered,
                                     schedule.target, job.symbol))) {
          error = "cannot lower kernel @" + job.name;
          return failure();
        }
        {
          ::fm::HalideWarningScope scheduling;
          ::fm::scheduleKernel(variant.lowered, schedule);
          if (ctx.afterSchedule)
            ctx.afterSchedule(job.name, variant.lowered);
          (schedule.kind == ::fm::ScheduleKind::Auto ? variant.remarks
                                                     : variant.warnings) =
              scheduling.getWarnings();
        }
        if (schedule.kind == ::fm::ScheduleKind::Auto)
          ::fm::reportAutoSchedulerRemarks(variant.lowered, job.name,
                                           schedule.autoscheduler, job.kernel,
                                           variant.remarks);
        variant.warnings.insert(variant.warnings.end(),
                                scope.getWarnings().begin(),
                                scope.getWarnings().end());
      }
    }
  } catch (const Halide::Error &e) {
    error = std::string("halide: ") + e.what();
    return failure();
  }
  return success();
}

/// Compiles one job's variants to job.object, collecting Halide's
/// warnings: a single target directly, several through Halide's
/// compile_multitarget (per-variant objects and a wrapper that picks one
/// with halide_can_use_target_features), joined into one object.
static void compileJob(KernelJob &job, const EmitContext &ctx) {
  ::fm::HalideWarningScope scope;
  std::vector<Halide::Argument> args =
      job.variants.front().lowered.getArguments();
  try {
    if (job.variants.size() == 1) {
      ::fm::HalideWarningScope variantScope;
      job.variants[0].lowered.getPipeline().compile_to_object(
          job.object, args, job.symbol,
          ctx.variants[0].target.with_feature(Halide::Target::NoRuntime));
      job.variants[0].warnings = variantScope.getWarnings();
    } else {
      std::vector<Halide::Target> targets;
      std::vector<std::string> suffixes;
      for (const ::fm::TargetVariant &v : ctx.variants) {
        targets.push_back(v.target.with_feature(Halide::Target::NoRuntime));
        suffixes.push_back(v.name);
      }
      // Halide calls the factory once per target, in order; each variant
      // is lowered in its own Funcs already (lowerKernels).
      size_t next = 0;
      auto factory = [&](const std::string &name, const Halide::Target &t) {
        LoweredVariant &variant = job.variants.at(next++);
        ::fm::HalideWarningScope variantScope;
        Halide::Module module =
            variant.lowered.getPipeline().compile_to_module(args, name, t);
        variant.warnings.insert(variant.warnings.end(),
                                variantScope.getWarnings().begin(),
                                variantScope.getWarnings().end());
        return module;
      };
      std::string base = job.object.substr(0, job.object.size() - 2);
      Halide::compile_multitarget(
          job.symbol, {{Halide::OutputFileType::object, base + "_parts.o"}},
          targets, suffixes, factory);
      std::vector<std::string> parts;
      for (const std::string &suffix : suffixes)
        parts.push_back(base + "_parts-" + suffix + ".o");
      parts.push_back(base + "_parts_wrapper.o");
      std::vector<std::string> joinArgs = {"-r", "-nostdlib", "-o", job.object};
      joinArgs.insert(joinArgs.end(), parts.begin(), parts.end());
      bool joined = runTool(ctx.cc, joinArgs, job.error);
      for (const std::string &part : parts)
        llvm::sys::fs::remove(part);
      if (!joined)
        return;
    }
  } catch (const Halide::Error &e) {
    job.error = e.what();
  }
  job.warnings = scope.getWarnings();
}

/// Reports every Halide warning of `jobs` at the op it is about; true if
/// there were any.
static bool reportWarnings(const std::vector<KernelJob> &jobs,
                           const EmitContext &ctx, std::string &error) {
  unsigned kernels = 0;
  for (const KernelJob &job : jobs) {
    if (job.sameAs >= 0 || !job.hasWarnings())
      continue;
    ++kernels;
    for (size_t i = 0; i < job.variants.size(); ++i)
      ::fm::reportKernelWarnings(job.variants[i].lowered, job.name,
                                 ctx.variants[i].target.to_string(), job.kernel,
                                 job.variants[i].warnings);
    ::fm::reportKernelWarnings(job.variants.front().lowered, job.name,
                               ctx.variants.front().target.to_string(),
                               job.kernel, job.warnings);
  }
  if (kernels)
    error = std::to_string(kernels) + " kernel" + (kernels > 1 ? "s" : "") +
            " would fail at run time (Halide's warnings above); no library "
            "written";
  return kernels > 0;
}

/// Compiles every lowered job to its object on up to `threads` threads,
/// storing each in `cache` (when given) as soon as it is written.
static bool compileKernels(std::vector<KernelJob> &jobs, const EmitContext &ctx,
                           unsigned threads, ::fm::KernelCache *cache,
                           ::fm::EmitStats &stats, std::string &error) {
  std::vector<KernelJob *> todo;
  for (KernelJob &job : jobs)
    if (job.sameAs < 0 && !job.cached)
      todo.push_back(&job);
  std::atomic<size_t> next{0};
  std::mutex warningMutex;
  auto work = [&] {
    for (size_t i; (i = next++) < todo.size();) {
      KernelJob &job = *todo[i];
      compileJob(job, ctx);
      // A kernel Halide warned about is never cached: the next build
      // must report it again.
      if (!job.error.empty() || job.hasWarnings())
        continue;
      std::string warning;
      if (cache && !cache->store(job.key, job.object, warning)) {
        std::lock_guard<std::mutex> lock(warningMutex);
        if (stats.cacheWarning.empty())
          stats.cacheWarning = warning;
      }
    }
  };
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::min<size_t>(threads, todo.size()); ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  stats.compiled = todo.size();
  for (const KernelJob *job : todo)
    if (!job->error.empty()) {
      error =
          "halide failed to compile kernel @" + job->name + ": " + job->error;
      return false;
    }
  return !reportWarnings(jobs, ctx, error);
}

/// Compiles the Halide runtime for `target` to `path`, or copies it from
/// the cache: it takes as long as a large kernel and never changes.
static bool compileRuntime(const Halide::Target &target,
                           const std::string &path, ::fm::KernelCache *cache,
                           ::fm::EmitStats &stats, std::string &error) {
  Halide::Target runtimeTarget =
      target.without_feature(Halide::Target::NoRuntime);
  std::string key =
      ::fm::hashParts({"fm-halide-runtime", ::fm::getCompilerIdentity(),
                       runtimeTarget.to_string()});
  if (cache && cache->fetch(key, path)) {
    stats.runtimeCached = true;
    return true;
  }
  try {
    Halide::compile_standalone_runtime(path, runtimeTarget);
  } catch (const Halide::Error &e) {
    error = std::string("halide failed to compile its runtime: ") + e.what();
    return false;
  }
  std::string warning;
  if (cache && !cache->store(key, path, warning) && stats.cacheWarning.empty())
    stats.cacheWarning = warning;
  return true;
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
static std::string getSignature(const KernelJob &job) {
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
