//===- Model.h - Executes a model descriptor --------------------*- C++ -*-===//
//
// This file declares fm::Model, which owns one model library's tensors and
// runs its steps. It allocates every tensor once (64-byte aligned, batched
// tensors for the largest batch asked for so far), describes each as a
// halide_buffer_t exactly as docs/descriptor.md says, initialises params
// and state from a seed, and calls the kernels of a step in order. Temps
// live in one arena laid out by planMemory (MemoryPlan.h), so temps never
// live at once share bytes. A smaller batch reuses the same memory with
// smaller extents; no memory is allocated while a step runs.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_MODEL_H
#define FM_RUNTIME_MODEL_H

#include "runtime/Descriptor.h"
#include "runtime/MemoryPlan.h"
#include "runtime/fm_model_desc.h"

#include <HalideRuntime.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fm {

class Model {
public:
  struct Options {
    /// Batch capacity to allocate up front; 0 means train.batch.
    int64_t maxBatch = 0;
    /// Halide worker threads; 0 leaves Halide's default.
    int numThreads = 0;
    /// Initialisation seed; unset means the descriptor's train.seed.
    std::optional<uint64_t> seed;
    /// Let temps share arena bytes when their lives do not overlap; off
    /// gives every temp its own bytes (the reference for tests). Either
    /// way a temp's contents are only defined from the call that writes it
    /// to the end of its step; a step's results (never shared) keep theirs
    /// until the step runs again.
    bool planMemory = true;
    /// Time every kernel call (see setProfiling).
    bool profile = false;
  };

  /// Parses and validates the descriptor of `desc` (which must outlive the
  /// model), allocates every tensor and initialises params and state.
  explicit Model(const fm_model_desc_t *desc) : Model(desc, Options()) {}
  Model(const fm_model_desc_t *desc, const Options &options);
  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  const Descriptor &getDescriptor() const { return desc; }
  const std::string &getName() const { return desc.model; }
  const fm_model_desc_t *getLibraryDesc() const { return library; }
  /// The kernel variant running ("avx2" of a portable library, "host"),
  /// or empty if the library names none.
  std::string getVariantName() const {
    return variant >= 0 ? library->variants[variant].name : "";
  }
  /// Its index in the library's variants, -1 if none is named.
  int getVariantIndex() const { return variant; }

  /// Fills every param and state tensor, in tensor order, from one
  /// generator seeded with `seed`; resets the step count to zero.
  void initialize(uint64_t seed);
  /// The seed of the last initialize.
  uint64_t getSeed() const { return seed; }
  void setNumThreads(int numThreads);

  /// Makes the batched tensors hold at least `batch` samples, keeping their
  /// contents. Called before a step, never inside one.
  void reserveBatch(int64_t batch);
  int64_t getBatchCapacity() const { return capacity; }
  /// The layout of the temps in the arena, for the batch capacity.
  const MemoryPlan &getMemoryPlan() const { return plan; }

  //===--------------------------------------------------------------------===//
  // Tensors
  //===--------------------------------------------------------------------===//

  int getNumTensors() const { return static_cast<int>(tensors.size()); }
  const TensorDesc &getTensorDesc(int id) const { return desc.tensors[id]; }
  /// The id of a tensor by name; throws fm::Error (NOT_FOUND) if absent.
  int getTensorId(const std::string &name) const;
  void *getData(int id) { return tensors[id].data; }
  const void *getData(int id) const { return tensors[id].data; }
  size_t getCapacityBytes(int id) const { return tensors[id].capacityBytes; }
  /// Bytes of a tensor with every batch extent set to `batch`.
  size_t getByteSize(int id, int64_t batch) const;
  /// The halide_buffer_t the kernels see (extents of the last batch set).
  const halide_buffer_t &getBuffer(int id) const { return tensors[id].buffer; }

  /// Copies dense row-major data in or out; byteLength must be exact.
  void writeTensor(int id, int64_t batch, const void *data, size_t byteLength);
  void readTensor(int id, int64_t batch, void *data, size_t byteLength) const;
  /// Marks a tensor written on the host (call after writing getData()).
  void markHostWritten(int id);
  /// Throws if the newest contents of a tensor are on a device only.
  void checkHostReadable(int id) const;

  //===--------------------------------------------------------------------===//
  // Steps
  //===--------------------------------------------------------------------===//

  bool hasStep(StepKind step) const { return desc.getStep(step).present; }
  /// Runs every call of a step on `batch` samples already in the inputs.
  /// A train step feeds `lr` and `step` (= getStepCount() + 1) and then
  /// counts one optimizer step. Train and evaluate read their scalar
  /// results, available through getResults.
  void run(StepKind step, int64_t batch, float lr = 0);
  /// Loss and metrics of the last train/evaluate step, loss first.
  const std::vector<std::pair<std::string, double>> &getResults() const {
    return results;
  }
  double getResult(const std::string &name) const;
  /// The tensor holding output `name` of the predict step (an output's
  /// name need not be its tensor's); throws fm::Error if there is none.
  int getOutputId(const std::string &name) const;

  int64_t getStepCount() const { return stepCount; }
  /// Scratch blocks the library's kernels have taken from the system so
  /// far (fm_kernel_alloc.h reuses the rest); 0 when it does not say.
  uint64_t getKernelSystemAllocations() const {
    return library->kernel_system_allocations
               ? library->kernel_system_allocations()
               : 0;
  }
  void setStepCount(int64_t steps) { stepCount = steps; }

  //===--------------------------------------------------------------------===//
  // Profiling
  //===--------------------------------------------------------------------===//

  /// What profiling measured at one call site of a step, over every run.
  struct CallProfile {
    int kernel = -1;
    std::string name;
    int64_t calls = 0;
    double seconds = 0;
    /// The fastest single call: the figure least disturbed by anything
    /// else on the machine (as a best-of-rounds peak is).
    double bestSeconds = std::numeric_limits<double>::infinity();
    /// Floating-point operations of those calls, from the descriptor's
    /// kernel flops at each run's batch; hasFlops is false without them.
    double flops = 0;
    bool hasFlops = false;
  };
  struct StepProfile {
    int64_t runs = 0;
    /// Wall time of the kernel loops: the calls' times add up to it.
    double seconds = 0;
    std::vector<CallProfile> calls; // in step order
  };
  /// While on, run() reads a steady clock after each kernel call and adds
  /// the interval to that call site; while off, run() reads no clock.
  void setProfiling(bool on) { profiling = on; }
  bool isProfiling() const { return profiling; }
  /// Forgets everything measured so far.
  void resetProfile();
  StepProfile getProfile(StepKind step) const;

private:
  struct Tensor {
    void *data = nullptr;
    size_t capacityBytes = 0;
    std::vector<halide_dimension_t> dims;
    halide_buffer_t buffer = {};
  };
  struct PreparedCall {
    fm_kernel_argv_fn fn;
    int kernel;
    std::string name;
    std::vector<void *> args;
  };

  void allocate(int id, int64_t batch, bool keepContents);
  void allocateArena(int64_t batch);
  void setBatch(int64_t batch);
  void prepareSteps();
  void initializeTensor(int id, class Rng &rng);
  void runProfiled(StepKind step, int64_t batch);

  const fm_model_desc_t *library;
  /// The index of the variant selectVariant picked, -1 if none is named.
  int variant = -1;
  Descriptor desc;
  std::vector<Tensor> tensors;
  // Every temp's bytes: tensors[id].data points into it.
  void *arena = nullptr;
  MemoryPlan plan;
  bool planTemps = true;
  std::vector<PreparedCall> prepared[3];
  std::vector<std::pair<std::string, double>> results;
  std::vector<std::pair<std::string, int>> resultIds[3];
  int64_t capacity = 0;
  int64_t currentBatch = -1;
  int64_t stepCount = 0;
  uint64_t seed = 0;
  // The step scalars; kernel argument lists point at these.
  float lrScalar = 0, stepScalar = 0;
  bool profiling = false;
  StepProfile profiles[3];
};

} // namespace fm

#endif // FM_RUNTIME_MODEL_H
