//===- AutoSchedule.cpp - Halide's autoschedulers on fm kernels -*- C++ -*-===//
//
// This file implements autoScheduleKernel. Halide 14 ships its
// autoschedulers as plugins (libautoschedule_<name>.so, Debian's
// libhalide14-0-dev installs them next to libHalide14): dlopen-ing one runs
// a static initialiser that registers the scheduler under its name with
// Pipeline::add_autoscheduler. Registering a name twice is a Halide error,
// so a plugin is loaded only when Halide does not know the name yet (a
// Halide built with one inside needs no plugin), once per process, under a
// mutex: Halide's registry is a plain std::map.
//
// The autoschedulers size their tiles and parallel loops from estimates:
// every argument, scalar and output gets one here, the batch extent being
// ScheduleOptions::batchEstimate. Pipeline::auto_schedule applies the
// schedule it finds to the pipeline's Funcs (the Funcs share their
// contents with the kernel's; AutoScheduleTest checks that the result
// runs scheduled), so nothing needs schedule_source. Around it:
//  - tails: the autoschedulers let tiles of outputs shift inwards and
//    those of intermediates round up, which assumes extents at least a
//    tile wide (and, for static ones, a multiple of it), and unroll loops
//    whose extent they take from the estimates; fm kernels take any
//    batch (1, the last one of an epoch), so every split guards its tail
//    instead, and unrolled loops of varying extent (a filter gradient's
//    chunks of the batch) run serially. Halide 14 cannot guard a vector
//    of atomic updates ("Atomic predicated store is not supported":
//    Li2018 vectorises the rfactor of a loss that way), so those loops
//    run serially too. Guarding only the batch-sized loops was tried and
//    dropped: some static-extent tiles of Adams2019 overran too;
//  - Adams2019's beam search: with Halide's default beam (32 states, 5
//    passes) it ran for over 14 minutes and grew to 9 GB on the CNN's
//    kernels before it was stopped; fm asks for a greedy search (beam 1)
//    unless HL_BEAM_SIZE says otherwise (docs/codegen.md has figures);
//  - the log: Adams2019 prints cache statistics on stderr for every
//    kernel, which would bury fmc's own messages; the autoschedulers'
//    stderr is dropped unless HL_DEBUG_AUTOSCHEDULE asks for it.
//
//===----------------------------------------------------------------------===//
#include "codegen/AutoSchedule.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

using namespace fm;

#ifndef FM_HALIDE_PLUGIN_DIR
#define FM_HALIDE_PLUGIN_DIR "/usr/lib/x86_64-linux-gnu/halide14"
#endif

/// Halide's name of each autoscheduler -> the plugin that registers it.
static const std::map<std::string, std::string> kPlugins = {
    {"Adams2019", "libautoschedule_adams2019.so"},
    {"Mullapudi2016", "libautoschedule_mullapudi2016.so"},
    {"Li2018", "libautoschedule_li2018.so"},
};

/// Halide's generic machine (MachineParams::generic()): what we assume
/// where sysfs does not say. The balance (a load from the last-level cache
/// costs this many arithmetic ops) only matters to Mullapudi2016.
static constexpr uint64_t kDefaultCacheBytes = 16ull << 20;
static constexpr float kBalance = 40;
/// Adams2019's beam when HL_BEAM_SIZE is unset: greedy (the header says
/// why).
static constexpr const char *kAdamsBeamSize = "1";

/// "32768K" -> 33554432; 0 if it does not parse.
static uint64_t parseCacheSize(const std::string &text) {
  char *end = nullptr;
  unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  switch (end && *end ? *end : ' ') {
  case 'K':
    return n << 10;
  case 'M':
    return n << 20;
  case 'G':
    return n << 30;
  default:
    return n;
  }
}

std::string fm::describeAutoScheduler(const ScheduleOptions &options) {
  std::string out = "cache=" + std::to_string(getLastLevelCacheBytes());
  if (options.autoscheduler != "Adams2019")
    return out;
  // The variables Halide 14's Adams2019 reads (AutoSchedule.cpp,
  // DefaultCostModel.cpp); the beam as it will run (our default if unset).
  static const char *const kVariables[] = {
      "HL_BEAM_SIZE",   "HL_NUM_PASSES",      "HL_SEED",
      "HL_WEIGHTS_DIR", "HL_RANDOM_DROPOUT", "HL_NO_SUBTILING",
      "HL_AUTOSCHEDULE_MEMORY_LIMIT", "HL_PERMIT_FAILED_UNROLL"};
  for (const char *name : kVariables) {
    const char *value = std::getenv(name);
    if (std::string(name) == "HL_BEAM_SIZE" && (!value || !*value))
      value = kAdamsBeamSize;
    out += std::string(":") + name + "=" + (value ? value : "");
  }
  return out;
}

uint64_t fm::getLastLevelCacheBytes() {
  uint64_t bytes = 0;
  int deepest = 0;
  for (int i = 0;; ++i) {
    std::string dir =
        "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i);
    std::ifstream levelFile(dir + "/level"), sizeFile(dir + "/size");
    int level = 0;
    std::string size;
    if (!(levelFile >> level) || !(sizeFile >> size))
      break;
    if (level >= deepest) {
      deepest = level;
      bytes = parseCacheSize(size);
    }
  }
  return bytes ? bytes : kDefaultCacheBytes;
}

static std::string getPluginDir() {
  if (const char *dir = std::getenv("FM_HALIDE_PLUGIN_DIR"); dir && *dir)
    return dir;
  return FM_HALIDE_PLUGIN_DIR;
}

namespace {
/// Sends stderr (fd 2) to /dev/null while alive. fd 2 is the process's:
/// kernels are scheduled on one thread (EmitLibrary's step 2), so nothing
/// else is writing then.
class QuietStderr {
public:
  QuietStderr() {
    const char *debug = std::getenv("HL_DEBUG_AUTOSCHEDULE");
    if (debug && *debug && std::string(debug) != "0")
      return;
    int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0)
      return;
    std::fflush(stderr);
    saved = ::dup(2);
    if (saved >= 0)
      ::dup2(null, 2);
    ::close(null);
  }
  ~QuietStderr() {
    if (saved < 0)
      return;
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
  }
  QuietStderr(const QuietStderr &) = delete;
  QuietStderr &operator=(const QuietStderr &) = delete;

private:
  int saved = -1;
};
} // namespace

/// Runs `name` on `pipeline`. The first call for a name probes Halide's
/// registry by asking for it and loads the plugin when Halide answers that
/// it does not know it; later calls go straight through.
static Halide::AutoSchedulerResults
runAutoscheduler(Halide::Pipeline &pipeline, const std::string &name,
                 const Halide::Target &target,
                 const Halide::MachineParams &params) {
  static std::mutex mutex;
  static std::set<std::string> registered;
  std::unique_lock<std::mutex> lock(mutex);
  // Adams2019 reads its search parameters from the environment on every
  // call; setenv without overwriting keeps the user's choice. Done under
  // the mutex, before any autoscheduler runs.
  if (name == "Adams2019")
    ::setenv("HL_BEAM_SIZE", kAdamsBeamSize, /*overwrite=*/0);
  if (registered.count(name)) {
    lock.unlock();
    return pipeline.auto_schedule(name, target, params);
  }
  try {
    // Halide looks the name up before it touches the pipeline.
    Halide::AutoSchedulerResults results =
        pipeline.auto_schedule(name, target, params);
    registered.insert(name);
    return results;
  } catch (const Halide::CompileError &e) {
    // Halide 14 words it "Unknown autoscheduler name 'X'; known names
    // are: ..." (find_autoscheduler); older ones "Could not find".
    std::string what = e.what();
    if (what.find("nknown autoscheduler name") == std::string::npos &&
        what.find("Could not find autoscheduler") == std::string::npos)
      throw;
  }
  auto plugin = kPlugins.find(name);
  if (plugin == kPlugins.end())
    throw Halide::CompileError("unknown autoscheduler '" + name + "'");
  std::string path = getPluginDir() + "/" + plugin->second;
  if (::access(path.c_str(), R_OK) != 0)
    throw Halide::CompileError(
        "the " + name + " autoscheduler needs its plugin " + path +
        ", which is missing (install libhalide14-0-dev, or set "
        "FM_HALIDE_PLUGIN_DIR to the folder holding it)");
  Halide::load_plugin(path);
  registered.insert(name);
  lock.unlock();
  return pipeline.auto_schedule(name, target, params);
}

/// Adapts the autoscheduler's loops to any batch (the header says why):
/// every split guards its tail; unrolled loops whose extent may vary and
/// vector loops of atomic updates run serially. The Funcs are walked from
/// the outputs rather than taken from the kernel's stages: an
/// autoscheduler may add Funcs of its own (Li2018's rfactor).
static void fitAnyBatch(const Halide::Pipeline &pipeline) {
  using namespace Halide::Internal;
  auto fit = [](StageSchedule &schedule) {
    // The loops whose extent is a constant whatever the batch: inner
    // loops of splits by a constant (tails are guarded inside them) and
    // reductions over constant domains.
    std::set<std::string> constant;
    for (Split &split : schedule.splits())
      if (split.is_split()) {
        split.tail = Halide::TailStrategy::GuardWithIf;
        if (is_const(split.factor))
          constant.insert(split.inner);
      }
    for (const ReductionVariable &r : schedule.rvars())
      if (is_const(r.extent))
        constant.insert(r.var);
    for (Dim &dim : schedule.dims()) {
      if (dim.for_type == ForType::Vectorized && schedule.atomic())
        dim.for_type = ForType::Serial;
      if (dim.for_type == ForType::Unrolled && !constant.count(dim.var))
        dim.for_type = ForType::Serial;
    }
  };
  std::vector<Function> outputs;
  for (const Halide::Func &f : pipeline.outputs())
    outputs.push_back(f.function());
  for (auto &[name, f] : build_environment(outputs)) {
    fit(f.definition().schedule());
    for (size_t i = 0; i < f.updates().size(); ++i)
      fit(f.update(static_cast<int>(i)).schedule());
  }
}

void fm::autoScheduleKernel(LoweredKernel &kernel,
                            const ScheduleOptions &options) {
  auto extent = [&](int64_t d) {
    return static_cast<int>(d < 0 ? options.batchEstimate : d);
  };
  for (KernelArg &arg : kernel.args) {
    if (arg.isScalar) {
      // A learning rate or a step count: the value does not change the
      // schedule, but every Param needs one.
      arg.scalar.set_estimate(1.0f);
      continue;
    }
    int rank = arg.shape.size();
    for (int d = 0; d < rank; ++d)
      arg.image.dim(d).set_estimate(0, extent(arg.shape[rank - 1 - d]));
  }
  for (KernelOutput &out : kernel.outputs) {
    Halide::Region region;
    for (auto it = out.shape.rbegin(); it != out.shape.rend(); ++it)
      region.push_back(Halide::Range(0, extent(*it)));
    out.func.set_estimates(region);
  }

  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(
                          1u, std::thread::hardware_concurrency()));
  Halide::MachineParams params(threads, getLastLevelCacheBytes(), kBalance);
  Halide::Pipeline pipeline = kernel.getPipeline();
  {
    QuietStderr quiet;
    runAutoscheduler(pipeline, options.autoscheduler, options.target, params);
  }
  fitAnyBatch(pipeline);
}
