//===- Model.cpp - Executes a model descriptor ------------------*- C++ -*-===//
//
// This file implements fm::Model: allocation (temps in one arena laid out
// by planMemory), halide_buffer_t set-up, deterministic initialisation and
// step execution. A step's kernel argument lists are built once
// (prepareSteps) and point at the model's
// halide_buffer_t structs and step scalars, so running a step only updates
// batch extents and calls kernels.
//
//===----------------------------------------------------------------------===//
#include "runtime/Model.h"

#include "runtime/CpuFeatures.h"
#include "runtime/Error.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>

using namespace fm;

//===----------------------------------------------------------------------===//
// Halide error capture
//===----------------------------------------------------------------------===//

// Halide's default handler prints and aborts. Ours records the message; the
// failing kernel then returns non-zero and run() turns both into an
// fm::Error. The handler has no useful user_context (argv kernels pass
// none) and may run on a Halide worker thread, hence one locked slot.
static std::mutex halideErrorMutex;
static std::string halideErrorText;

static void captureHalideError(void * /*userContext*/, const char *message) {
  std::lock_guard<std::mutex> lock(halideErrorMutex);
  if (halideErrorText.size() > 4096)
    return;
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' '))
    m.pop_back();
  if (!halideErrorText.empty())
    halideErrorText += "; ";
  halideErrorText += m;
}

static std::string takeHalideError() {
  std::lock_guard<std::mutex> lock(halideErrorMutex);
  std::string m;
  m.swap(halideErrorText);
  return m;
}

//===----------------------------------------------------------------------===//
// Construction and memory
//===----------------------------------------------------------------------===//

static halide_type_t getHalideType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return halide_type_t(halide_type_float, 32);
  case DType::F64:
    return halide_type_t(halide_type_float, 64);
  case DType::I32:
    return halide_type_t(halide_type_int, 32);
  case DType::I64:
    return halide_type_t(halide_type_int, 64);
  case DType::U8:
    return halide_type_t(halide_type_uint, 8);
  case DType::Bool:
    return halide_type_t(halide_type_uint, 8);
  }
  return halide_type_t(halide_type_uint, 8);
}

Model::Model(const fm_model_desc_t *library, const Options &options)
    : library(library) {
  if (!library)
    throw Error("model descriptor is null");
  if (library->abi_version != FM_MODEL_DESC_ABI_VERSION)
    throw Error("model library has descriptor ABI version " +
                    std::to_string(library->abi_version) +
                    " but this runtime expects " +
                    std::to_string(FM_MODEL_DESC_ABI_VERSION),
                FM_STATUS_FAILED_PRECONDITION);
  if (!library->json)
    throw Error("model library has no descriptor json");
  if (library->num_kernels < 0 ||
      (library->num_kernels > 0 && !library->kernels))
    throw Error("model library has an invalid kernel table");
  for (int k = 0; k < library->num_kernels; ++k)
    if (!library->kernels[k])
      throw Error("model library kernel " + std::to_string(k) + " is null");
  desc = parseDescriptor(library->json, library->num_kernels);
  // Before any of the library's code runs: its Halide runtime may use the
  // instructions this CPU lacks.
  variant = selectVariant(library, desc.model, getUsableCpuFeatures());

  if (library->set_error_handler)
    library->set_error_handler(captureHalideError);
  setNumThreads(options.numThreads);
  planTemps = options.planMemory;

  tensors.resize(desc.tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorDesc &t = desc.tensors[i];
    Tensor &tensor = tensors[i];
    tensor.dims.resize(t.shape.size());
    tensor.buffer.type = getHalideType(t.dtype);
    tensor.buffer.dimensions = static_cast<int32_t>(t.shape.size());
    tensor.buffer.dim = tensor.dims.empty() ? nullptr : tensor.dims.data();
    if (!t.isBatched() && t.kind != TensorKind::Temp)
      allocate(static_cast<int>(i), 1, false);
  }
  reserveBatch(std::max<int64_t>(1, options.maxBatch > 0 ? options.maxBatch
                                                         : desc.train.batch));
  prepareSteps();
  profiling = options.profile;
  initialize(options.seed.value_or(desc.train.seed));
}

Model::~Model() {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (desc.tensors[i].kind != TensorKind::Temp)
      std::free(tensors[i].data);
  std::free(arena);
}

/// Halide extents and strides are int32; checks them at the largest batch.
static void checkAddressable(const TensorDesc &t, int64_t batch) {
  int64_t stride = 1;
  for (size_t a = t.shape.size(); a-- > 0;) {
    stride *= t.shape[a] < 0 ? batch : t.shape[a];
    if (stride > INT32_MAX)
      throw Error("tensor '" + t.name + "' at batch " + std::to_string(batch) +
                      " has more elements than a Halide buffer can address",
                  FM_STATUS_OUT_OF_RANGE);
  }
}

void Model::allocate(int id, int64_t batch, bool keepContents) {
  const TensorDesc &t = desc.tensors[id];
  checkAddressable(t, batch);
  size_t bytes =
      static_cast<size_t>(t.getElementCount(batch)) * getDTypeSize(t.dtype);
  size_t rounded = (bytes + 63) / 64 * 64;
  void *data = std::aligned_alloc(64, rounded);
  if (!data)
    throw Error("out of memory allocating " + std::to_string(rounded) +
                    " bytes for tensor '" + t.name + "'",
                FM_STATUS_RESOURCE_EXHAUSTED);
  // Zero so that nothing depends on what the allocator returned.
  std::memset(data, 0, rounded);
  Tensor &tensor = tensors[id];
  if (keepContents && tensor.data)
    std::memcpy(data, tensor.data, std::min(tensor.capacityBytes, rounded));
  std::free(tensor.data);
  tensor.data = data;
  tensor.capacityBytes = rounded;
  tensor.buffer.host = static_cast<uint8_t *>(data);
}

/// Lays the temps out for `batch` samples and points them into a new arena.
/// Temps are scratch (their contents end with their step), so nothing is
/// copied from the old arena.
void Model::allocateArena(int64_t batch) {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (desc.tensors[i].kind == TensorKind::Temp)
      checkAddressable(desc.tensors[i], batch);
  MemoryPlan next = planMemory(desc, batch, planTemps);
  size_t bytes = std::max(next.arenaBytes, kPlanAlignment);
  void *data = std::aligned_alloc(kPlanAlignment, bytes);
  if (!data)
    throw Error("out of memory allocating the " + std::to_string(bytes) +
                    "-byte arena of the temps of model '" + desc.model + "'",
                FM_STATUS_RESOURCE_EXHAUSTED);
  // Zero so that nothing depends on what the allocator returned.
  std::memset(data, 0, bytes);
  std::free(arena);
  arena = data;
  plan = std::move(next);
  for (const PlannedTensor &p : plan.tensors) {
    Tensor &tensor = tensors[p.id];
    tensor.data = static_cast<uint8_t *>(arena) + p.offset;
    tensor.capacityBytes = p.bytes;
    tensor.buffer.host = static_cast<uint8_t *>(tensor.data);
  }
}

void Model::reserveBatch(int64_t batch) {
  if (batch <= capacity)
    return;
  if (batch > INT32_MAX)
    throw Error("batch " + std::to_string(batch) + " is too large",
                FM_STATUS_OUT_OF_RANGE);
  for (size_t i = 0; i < tensors.size(); ++i)
    if (desc.tensors[i].isBatched() && desc.tensors[i].kind != TensorKind::Temp)
      allocate(static_cast<int>(i), batch, true);
  allocateArena(batch);
  capacity = batch;
  currentBatch = -1;
  setBatch(1);
}

/// Sets every batch extent to `batch`: innermost-first dims, dense
/// row-major strides, min 0 (docs/descriptor.md, "Buffers").
void Model::setBatch(int64_t batch) {
  if (batch == currentBatch)
    return;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorDesc &t = desc.tensors[i];
    if (!t.isBatched() && currentBatch >= 0)
      continue;
    int64_t stride = 1;
    int rank = static_cast<int>(t.shape.size());
    for (int d = 0; d < rank; ++d) {
      int64_t extent = t.shape[rank - 1 - d];
      if (extent < 0)
        extent = batch;
      halide_dimension_t &dim = tensors[i].dims[d];
      dim.min = 0;
      dim.extent = static_cast<int32_t>(extent);
      dim.stride = static_cast<int32_t>(stride);
      dim.flags = 0;
      stride *= extent;
    }
  }
  currentBatch = batch;
}

void Model::setNumThreads(int numThreads) {
  if (numThreads < 0)
    throw Error("thread count must be non-negative but got " +
                std::to_string(numThreads));
  if (numThreads > 0 && library->set_num_threads)
    library->set_num_threads(numThreads);
}

//===----------------------------------------------------------------------===//
// Initialisation
//===----------------------------------------------------------------------===//

static void storeValue(DType dtype, void *base, int64_t i, double v) {
  switch (dtype) {
  case DType::F32:
    static_cast<float *>(base)[i] = static_cast<float>(v);
    break;
  case DType::F64:
    static_cast<double *>(base)[i] = v;
    break;
  case DType::I32:
    static_cast<int32_t *>(base)[i] = static_cast<int32_t>(v);
    break;
  case DType::I64:
    static_cast<int64_t *>(base)[i] = static_cast<int64_t>(v);
    break;
  case DType::U8:
    static_cast<uint8_t *>(base)[i] = static_cast<uint8_t>(v);
    break;
  case DType::Bool:
    static_cast<uint8_t *>(base)[i] = v != 0;
    break;
  }
}

void Model::initializeTensor(int id, Rng &rng) {
  const TensorDesc &t = desc.tensors[id];
  const InitSpec &init = t.init;
  int64_t n = t.getElementCount(1);
  void *data = tensors[id].data;
  double fanIn = static_cast<double>(init.fanIn);
  double fanOut = static_cast<double>(init.fanOut);
  auto fill = [&](auto draw) {
    for (int64_t i = 0; i < n; ++i)
      storeValue(t.dtype, data, i, draw());
  };
  switch (init.kind) {
  case InitSpec::Kind::Zeros:
    fill([] { return 0.0; });
    break;
  case InitSpec::Kind::Ones:
    fill([] { return 1.0; });
    break;
  case InitSpec::Kind::Constant:
    fill([&] { return init.args[0]; });
    break;
  case InitSpec::Kind::Normal:
    fill([&] { return init.args[0] * rng.normal(); });
    break;
  case InitSpec::Kind::Uniform: {
    double lo = init.args[0], hi = init.args[1];
    fill([&] { return lo + (hi - lo) * rng.uniform(); });
    break;
  }
  case InitSpec::Kind::GlorotUniform:
  case InitSpec::Kind::HeUniform: {
    double limit = init.kind == InitSpec::Kind::GlorotUniform
                       ? std::sqrt(6.0 / (fanIn + fanOut))
                       : std::sqrt(6.0 / fanIn);
    fill([&] { return limit * (2.0 * rng.uniform() - 1.0); });
    break;
  }
  case InitSpec::Kind::GlorotNormal:
  case InitSpec::Kind::HeNormal: {
    double std = init.kind == InitSpec::Kind::GlorotNormal
                     ? std::sqrt(2.0 / (fanIn + fanOut))
                     : std::sqrt(2.0 / fanIn);
    fill([&] { return std * rng.normal(); });
    break;
  }
  }
  markHostWritten(id);
}

void Model::initialize(uint64_t newSeed) {
  seed = newSeed;
  // One generator for all tensors, in tensor order (docs/descriptor.md);
  // deterministic kinds draw nothing, so adding a zero-initialised state
  // tensor does not change the parameters after it.
  Rng rng(seed);
  for (size_t i = 0; i < tensors.size(); ++i)
    if (desc.tensors[i].hasInit)
      initializeTensor(static_cast<int>(i), rng);
  stepCount = 0;
  results.clear();
}

//===----------------------------------------------------------------------===//
// Tensor access
//===----------------------------------------------------------------------===//

int Model::getTensorId(const std::string &name) const {
  int id = desc.findTensor(name);
  if (id < 0)
    throw Error("model '" + desc.model + "' has no tensor '" + name + "'",
                FM_STATUS_NOT_FOUND);
  return id;
}

size_t Model::getByteSize(int id, int64_t batch) const {
  const TensorDesc &t = desc.tensors[id];
  return static_cast<size_t>(t.getElementCount(batch)) * getDTypeSize(t.dtype);
}

void Model::markHostWritten(int id) {
  // A GPU kernel copies an input to the device only if it is host-dirty.
  tensors[id].buffer.flags |= halide_buffer_flag_host_dirty;
  tensors[id].buffer.flags &= ~uint64_t(halide_buffer_flag_device_dirty);
}

void Model::checkHostReadable(int id) const {
  if (tensors[id].buffer.flags & halide_buffer_flag_device_dirty)
    throw Error(
        "tensor '" + desc.tensors[id].name +
            "' is newer on the device than on the host; copying it back "
            "needs halide_copy_to_host, which fm_model_desc_t does not "
            "export yet",
        FM_STATUS_UNIMPLEMENTED);
}

static void checkTransfer(const TensorDesc &t, int64_t batch, size_t want,
                          size_t got) {
  if (t.isBatched() && batch < 1)
    throw Error("batch must be positive but got " + std::to_string(batch));
  if (want != got)
    throw Error("tensor '" + t.name + "' " + formatShape(t.dtype, t.shape) +
                " at batch " + std::to_string(batch) + " holds " +
                std::to_string(want) + " bytes but got " + std::to_string(got));
}

void Model::writeTensor(int id, int64_t batch, const void *data,
                        size_t byteLength) {
  const TensorDesc &t = desc.tensors[id];
  checkTransfer(t, batch,
                t.isBatched() && batch >= 1 ? getByteSize(id, batch)
                                            : getByteSize(id, 1),
                byteLength);
  if (t.isBatched())
    reserveBatch(batch);
  std::memcpy(tensors[id].data, data, byteLength);
  markHostWritten(id);
}

void Model::readTensor(int id, int64_t batch, void *data,
                       size_t byteLength) const {
  const TensorDesc &t = desc.tensors[id];
  checkTransfer(t, batch,
                t.isBatched() && batch >= 1 ? getByteSize(id, batch)
                                            : getByteSize(id, 1),
                byteLength);
  if (t.isBatched() && batch > capacity)
    throw Error("tensor '" + t.name + "' holds at most " +
                    std::to_string(capacity) + " samples but " +
                    std::to_string(batch) + " were asked for",
                FM_STATUS_OUT_OF_RANGE);
  checkHostReadable(id);
  std::memcpy(data, tensors[id].data, byteLength);
}

//===----------------------------------------------------------------------===//
// Steps
//===----------------------------------------------------------------------===//

void Model::prepareSteps() {
  for (StepKind kind :
       {StepKind::Train, StepKind::Evaluate, StepKind::Predict}) {
    const StepDesc &step = desc.getStep(kind);
    auto &calls = prepared[static_cast<int>(kind)];
    for (const KernelCall &call : step.calls) {
      PreparedCall p;
      p.fn = library->kernels[call.kernel];
      p.kernel = call.kernel;
      p.name = library->kernel_names && library->kernel_names[call.kernel]
                   ? library->kernel_names[call.kernel]
                   : "kernel " + std::to_string(call.kernel);
      for (const CallArg &arg : call.args) {
        switch (arg.kind) {
        case CallArg::Kind::Tensor:
          p.args.push_back(&tensors[arg.tensor].buffer);
          break;
        case CallArg::Kind::LearningRate:
          p.args.push_back(&lrScalar);
          break;
        case CallArg::Kind::Step:
          p.args.push_back(&stepScalar);
          break;
        }
      }
      calls.push_back(std::move(p));
    }
    if (kind != StepKind::Predict && step.present) {
      auto &ids = resultIds[static_cast<int>(kind)];
      ids.emplace_back(desc.loss, step.findResult(desc.loss));
      for (const std::string &m : desc.metrics)
        ids.emplace_back(m, step.findResult(m));
    }
  }
}

/// Throws the error of a kernel call that returned `rc` != 0.
static void throwKernelError(const std::string &kernel, StepKind step, int rc) {
  std::string message = takeHalideError();
  throw Error("kernel '" + kernel + "' in step '" + getStepName(step) +
                  "' failed with code " + std::to_string(rc) +
                  (message.empty() ? "" : ": " + message),
              FM_STATUS_INTERNAL);
}

void Model::run(StepKind step, int64_t batch, float lr) {
  int index = static_cast<int>(step);
  if (!desc.getStep(step).present)
    throw Error("model '" + desc.model + "' has no " + getStepName(step) +
                    " step",
                FM_STATUS_FAILED_PRECONDITION);
  if (batch < 1)
    throw Error("batch must be positive but got " + std::to_string(batch));
  reserveBatch(batch);
  setBatch(batch);
  lrScalar = lr;
  stepScalar = static_cast<float>(stepCount + 1);
  takeHalideError(); // drop anything stale from an unrelated failure
  if (profiling) {
    runProfiled(step, batch);
  } else {
    for (PreparedCall &call : prepared[index])
      if (int rc = call.fn(call.args.data()))
        throwKernelError(call.name, step, rc);
  }
  if (step == StepKind::Train)
    ++stepCount;
  if (step == StepKind::Predict)
    return;
  const auto &ids = resultIds[index];
  results.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    int id = ids[i].second;
    checkHostReadable(id);
    double value = desc.tensors[id].dtype == DType::F64
                       ? *static_cast<const double *>(tensors[id].data)
                       : *static_cast<const float *>(tensors[id].data);
    results[i].first = ids[i].first;
    results[i].second = value;
  }
}

/// The kernel loop of run() with a clock read after every call. Each call
/// is charged from the previous read, so the calls' times add up to the
/// step's: the clock reads themselves (tens of nanoseconds) are charged to
/// the kernels, which is negligible beside kernels of microseconds.
void Model::runProfiled(StepKind step, int64_t batch) {
  using Clock = std::chrono::steady_clock;
  int index = static_cast<int>(step);
  std::vector<PreparedCall> &calls = prepared[index];
  StepProfile &profile = profiles[index];
  if (profile.calls.size() != calls.size()) {
    profile.calls.assign(calls.size(), CallProfile());
    for (size_t i = 0; i < calls.size(); ++i) {
      profile.calls[i].kernel = calls[i].kernel;
      profile.calls[i].name = calls[i].name;
      profile.calls[i].hasFlops = desc.kernels[calls[i].kernel].hasFlops;
    }
  }
  Clock::time_point start = Clock::now(), last = start;
  for (size_t i = 0; i < calls.size(); ++i) {
    int rc = calls[i].fn(calls[i].args.data());
    Clock::time_point now = Clock::now();
    if (rc != 0)
      throwKernelError(calls[i].name, step, rc);
    CallProfile &p = profile.calls[i];
    double seconds = std::chrono::duration<double>(now - last).count();
    p.seconds += seconds;
    p.bestSeconds = std::min(p.bestSeconds, seconds);
    ++p.calls;
    p.flops += desc.kernels[calls[i].kernel].getFlops(batch);
    last = now;
  }
  profile.seconds += std::chrono::duration<double>(last - start).count();
  ++profile.runs;
}

void Model::resetProfile() {
  for (StepProfile &p : profiles)
    p = StepProfile();
}

Model::StepProfile Model::getProfile(StepKind step) const {
  return profiles[static_cast<int>(step)];
}

double Model::getResult(const std::string &name) const {
  for (const auto &r : results)
    if (r.first == name)
      return r.second;
  throw Error(results.empty()
                  ? "no train or evaluate step has run yet"
                  : "model '" + desc.model + "' has no result '" + name + "'",
              FM_STATUS_NOT_FOUND);
}

int Model::getOutputId(const std::string &name) const {
  int id = desc.getStep(StepKind::Predict).findResult(name);
  if (id < 0)
    throw Error("model '" + desc.model + "' has no output '" + name + "'",
                FM_STATUS_NOT_FOUND);
  return id;
}
