//===- CompileKernels.cpp - Kernels of a library, lowered and compiled ---===//
//
// This file implements the kernel jobs of CompileKernels.h: lowering and
// scheduling every kernel for each target variant, compiling the objects
// the kernel cache lacks on several threads (Halide compiles separate
// pipelines independently; each thread owns its pipelines' Funcs),
// reporting Halide's warnings, and the Halide runtime.
//
//===----------------------------------------------------------------------===//
#include "codegen/CompileKernels.h"

#include "codegen/AutoSchedule.h"
#include "codegen/HalideDiagnostics.h"
#include "codegen/KernelCache.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

using namespace mlir;
using namespace fm;

bool fm::runTool(const std::string &tool, const std::vector<std::string> &args,
                 std::string &error) {
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

LogicalResult fm::prepare(ModuleOp module, const ::fm::EmitOptions &options,
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

/// Adds what Halide warned about in `scope` to the variant's warnings: a
/// variant collects them from lowering, scheduling and compiling.
static void keepWarnings(LoweredVariant &variant,
                         const ::fm::HalideWarningScope &scope) {
  variant.warnings.insert(variant.warnings.end(), scope.getWarnings().begin(),
                          scope.getWarnings().end());
}

/// Lowers and schedules the jobs that need an object of their own,
/// serially, so diagnostics stay in order. Cached ones too: Halide makes
/// a Func's name unique in the process (`matmul_1$2`) and the names end up
/// in the object's strings, so lowering every kernel in the same order is
/// what keeps a library built from the cache byte for byte the same as a
/// cold build. It costs about 10 ms for the CNN's 27 kernels.
LogicalResult fm::lowerKernels(std::vector<KernelJob> &jobs,
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
        keepWarnings(variant, scope);
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
      keepWarnings(job.variants[0], variantScope);
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
        keepWarnings(variant, variantScope);
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

bool fm::reportWarnings(const std::vector<KernelJob> &jobs,
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

bool fm::compileKernels(std::vector<KernelJob> &jobs, const EmitContext &ctx,
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

// The runtime takes as long as a large kernel to compile and never
// changes: it is cached like one.
bool fm::compileRuntime(const Halide::Target &target, const std::string &path,
                        ::fm::KernelCache *cache, ::fm::EmitStats &stats,
                        std::string &error) {
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
