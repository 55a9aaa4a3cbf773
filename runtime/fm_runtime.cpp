//===- fm_runtime.cpp - The C API over the C++ core -------------*- C++ -*-===//
//
// This file implements fm_runtime.h. Every entry point runs the C++ core
// inside guard(), which turns fm::Error, std::bad_alloc and anything else
// into an fm_status_t: no exception crosses the C API.
//
//===----------------------------------------------------------------------===//
#include "runtime/fm_runtime.h"

#include "runtime/Checkpoint.h"
#include "runtime/Error.h"
#include "runtime/Model.h"
#include "runtime/Trainer.h"
#include "runtime/data/Dataset.h"

#include <atomic>
#include <cmath>
#include <memory>
#include <new>

using namespace fm;

struct fm_status_impl_t {
  fm_status_code_t code;
  std::string message;
};

struct fm_model_t {
  std::atomic<int> refs{1};
  std::unique_ptr<Model> model;
};

struct fm_dataset_t {
  std::atomic<int> refs{1};
  Dataset dataset;
};

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

static fm_status_t makeStatus(fm_status_code_t code,
                              const std::string &message) {
  // If even this allocation fails, a static status still reports the code.
  static fm_status_impl_t outOfMemory{FM_STATUS_RESOURCE_EXHAUSTED, ""};
  try {
    return new fm_status_impl_t{code, message};
  } catch (...) {
    return &outOfMemory;
  }
}

template <typename F> static fm_status_t guard(F &&body) {
  try {
    body();
    return nullptr;
  } catch (const Error &e) {
    return makeStatus(e.getCode(), e.what());
  } catch (const std::bad_alloc &) {
    return makeStatus(FM_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception &e) {
    return makeStatus(FM_STATUS_INTERNAL, e.what());
  } catch (...) {
    return makeStatus(FM_STATUS_INTERNAL, "unknown exception");
  }
}

static void require(bool condition, const char *message) {
  if (!condition)
    throw Error(message, FM_STATUS_INVALID_ARGUMENT);
}

// The header declares every function extern "C"; the definitions below
// inherit that linkage.

fm_status_code_t fm_status_code(fm_status_t status) {
  return status ? status->code : FM_STATUS_OK;
}

const char *fm_status_message(fm_status_t status) {
  return status ? status->message.c_str() : "";
}

void fm_status_free(fm_status_t status) {
  if (status && status->code == FM_STATUS_RESOURCE_EXHAUSTED &&
      status->message.empty())
    return; // the static out-of-memory status
  delete status;
}

const char *fm_status_code_string(fm_status_code_t code) {
  switch (code) {
  case FM_STATUS_OK:
    return "ok";
  case FM_STATUS_INVALID_ARGUMENT:
    return "invalid argument";
  case FM_STATUS_NOT_FOUND:
    return "not found";
  case FM_STATUS_OUT_OF_RANGE:
    return "out of range";
  case FM_STATUS_FAILED_PRECONDITION:
    return "failed precondition";
  case FM_STATUS_DATA_LOSS:
    return "data loss";
  case FM_STATUS_RESOURCE_EXHAUSTED:
    return "resource exhausted";
  case FM_STATUS_UNAVAILABLE:
    return "unavailable";
  case FM_STATUS_INTERNAL:
    return "internal";
  case FM_STATUS_UNIMPLEMENTED:
    return "unimplemented";
  }
  return "unknown";
}

//===----------------------------------------------------------------------===//
// Model
//===----------------------------------------------------------------------===//

void fm_model_options_initialize(fm_model_options_t *out_options) {
  if (out_options)
    *out_options = fm_model_options_t{0, 0, 0, 0};
}

fm_status_t fm_model_create(const fm_model_desc_t *desc,
                            fm_model_t **out_model) {
  return fm_model_create_with_options(desc, nullptr, out_model);
}

fm_status_t fm_model_create_with_options(const fm_model_desc_t *desc,
                                         const fm_model_options_t *options,
                                         fm_model_t **out_model) {
  return guard([&] {
    require(out_model, "out_model is null");
    *out_model = nullptr;
    Model::Options o;
    if (options) {
      require(options->max_batch >= 0, "max_batch must be non-negative");
      o.maxBatch = options->max_batch;
      o.numThreads = options->num_threads;
      if (options->use_seed)
        o.seed = options->seed;
    }
    auto handle = std::make_unique<fm_model_t>();
    handle->model = std::make_unique<Model>(desc, o);
    *out_model = handle.release();
  });
}

void fm_model_retain(fm_model_t *model) {
  if (model)
    model->refs.fetch_add(1);
}

void fm_model_release(fm_model_t *model) {
  if (model && model->refs.fetch_sub(1) == 1)
    delete model;
}

const char *fm_model_name(const fm_model_t *model) {
  return model ? model->model->getName().c_str() : "";
}

int64_t fm_model_step_count(const fm_model_t *model) {
  return model ? model->model->getStepCount() : 0;
}

fm_status_t fm_model_initialize(fm_model_t *model, uint64_t seed) {
  return guard([&] {
    require(model, "model is null");
    model->model->initialize(seed);
  });
}

fm_status_t fm_model_set_num_threads(fm_model_t *model, int32_t num_threads) {
  return guard([&] {
    require(model, "model is null");
    model->model->setNumThreads(num_threads);
  });
}

int32_t fm_model_tensor_count(const fm_model_t *model) {
  return model ? model->model->getNumTensors() : 0;
}

fm_status_t fm_model_find_tensor(const fm_model_t *model, const char *name,
                                 int32_t *out_id) {
  return guard([&] {
    require(model && name && out_id, "model, name and out_id must not be null");
    *out_id = model->model->getTensorId(name);
  });
}

fm_status_t fm_model_tensor_info(const fm_model_t *model, int32_t id,
                                 fm_tensor_info_t *out_info) {
  return guard([&] {
    require(model && out_info, "model and out_info must not be null");
    if (id < 0 || id >= model->model->getNumTensors())
      throw Error("tensor id " + std::to_string(id) + " out of range",
                  FM_STATUS_OUT_OF_RANGE);
    const TensorDesc &t = model->model->getTensorDesc(id);
    out_info->name = t.name.c_str();
    out_info->kind = static_cast<fm_tensor_kind_t>(t.kind);
    out_info->dtype = static_cast<fm_dtype_t>(t.dtype);
    out_info->rank = static_cast<int32_t>(t.shape.size());
    out_info->shape = t.shape.data();
    out_info->data = model->model->getData(id);
    out_info->capacity_bytes = model->model->getCapacityBytes(id);
  });
}

fm_status_t fm_model_write_tensor(fm_model_t *model, const char *name,
                                  int64_t batch, const void *data,
                                  size_t byte_length) {
  return guard([&] {
    require(model && name && data, "model, name and data must not be null");
    Model &m = *model->model;
    m.writeTensor(m.getTensorId(name), batch, data, byte_length);
  });
}

fm_status_t fm_model_read_tensor(const fm_model_t *model, const char *name,
                                 int64_t batch, void *out_data,
                                 size_t byte_length) {
  return guard([&] {
    require(model && name && out_data,
            "model, name and out_data must not be null");
    const Model &m = *model->model;
    m.readTensor(m.getTensorId(name), batch, out_data, byte_length);
  });
}

fm_status_t fm_model_read_output(const fm_model_t *model, const char *name,
                                 int64_t batch, void *out_data,
                                 size_t byte_length) {
  return guard([&] {
    require(model && name && out_data,
            "model, name and out_data must not be null");
    const Model &m = *model->model;
    m.readTensor(m.getOutputId(name), batch, out_data, byte_length);
  });
}

fm_status_t fm_model_run(fm_model_t *model, fm_step_t step, int64_t batch,
                         float lr) {
  return guard([&] {
    require(model, "model is null");
    require(step >= FM_STEP_TRAIN && step <= FM_STEP_PREDICT, "unknown step");
    model->model->run(static_cast<StepKind>(step), batch, lr);
  });
}

fm_status_t fm_model_result(const fm_model_t *model, const char *name,
                            double *out_value) {
  return guard([&] {
    require(model && name && out_value,
            "model, name and out_value must not be null");
    *out_value = model->model->getResult(name);
  });
}

fm_status_t fm_model_save_checkpoint(const fm_model_t *model,
                                     const char *path) {
  return guard([&] {
    require(model && path, "model and path must not be null");
    saveCheckpoint(*model->model, path);
  });
}

fm_status_t fm_model_load_checkpoint(fm_model_t *model, const char *path) {
  return guard([&] {
    require(model && path, "model and path must not be null");
    loadCheckpoint(*model->model, path);
  });
}

//===----------------------------------------------------------------------===//
// Data sets
//===----------------------------------------------------------------------===//

template <typename F>
static fm_status_t makeDataset(fm_dataset_t **out_dataset, F &&load) {
  return guard([&] {
    require(out_dataset, "out_dataset is null");
    *out_dataset = nullptr;
    auto handle = std::make_unique<fm_dataset_t>();
    handle->dataset = load();
    *out_dataset = handle.release();
  });
}

fm_status_t fm_dataset_load_for_model(const fm_model_t *model,
                                      fm_dataset_t **out_dataset) {
  return makeDataset(out_dataset, [&] {
    require(model, "model is null");
    return Dataset::fromSpec(model->model->getDescriptor().train.data);
  });
}

fm_status_t fm_dataset_load_fashion_mnist(fm_dataset_t **out_dataset) {
  return makeDataset(out_dataset, [] { return Dataset::fashionMnist(); });
}

fm_status_t fm_dataset_load_mnist(const char *dir, fm_dataset_t **out_dataset) {
  return makeDataset(out_dataset, [&] {
    require(dir, "dir is null");
    return Dataset::mnist(dir);
  });
}

fm_status_t fm_dataset_load_idx(const char *train_images,
                                const char *train_labels,
                                const char *test_images,
                                const char *test_labels, int32_t num_classes,
                                fm_dataset_t **out_dataset) {
  return makeDataset(out_dataset, [&] {
    require(train_images && train_labels && test_images && test_labels,
            "idx paths must not be null");
    return Dataset::idx(train_images, train_labels, test_images, test_labels,
                        num_classes);
  });
}

fm_status_t fm_dataset_load_cifar10(const char *dir,
                                    fm_dataset_t **out_dataset) {
  return makeDataset(out_dataset, [&] {
    require(dir, "dir is null");
    return Dataset::cifar10(dir);
  });
}

fm_status_t fm_dataset_load_csv(const char *train, const char *test,
                                const char *label, fm_dataset_t **out_dataset) {
  return makeDataset(out_dataset, [&] {
    require(train && test, "csv paths must not be null");
    return Dataset::csv(train, test, label && *label ? label : "label");
  });
}

void fm_dataset_retain(fm_dataset_t *dataset) {
  if (dataset)
    dataset->refs.fetch_add(1);
}

void fm_dataset_release(fm_dataset_t *dataset) {
  if (dataset && dataset->refs.fetch_sub(1) == 1)
    delete dataset;
}

int64_t fm_dataset_size(const fm_dataset_t *dataset, fm_split_t split) {
  if (!dataset)
    return 0;
  return split == FM_SPLIT_TEST ? dataset->dataset.test.count
                                : dataset->dataset.train.count;
}

//===----------------------------------------------------------------------===//
// Training and evaluation
//===----------------------------------------------------------------------===//

void fm_train_options_initialize(fm_train_options_t *out_options) {
  if (!out_options)
    return;
  *out_options = fm_train_options_t{};
  out_options->validation = -1;
  out_options->early_stop = -1;
  out_options->lr = 0;
}

static void copyMetrics(const Model &model, const Metrics &m,
                        fm_metrics_t *out) {
  if (!out)
    return;
  *out = fm_metrics_t{};
  const Descriptor &d = model.getDescriptor();
  out->count = static_cast<int32_t>(m.values.size());
  for (size_t i = 0; i < m.values.size() && i < FM_MAX_METRICS; ++i) {
    // Names must outlive this call: point into the descriptor.
    out->names[i] = i == 0 ? d.loss.c_str() : d.metrics[i - 1].c_str();
    out->values[i] = m.values[i].second;
  }
  out->samples = m.samples;
}

fm_status_t fm_model_train(fm_model_t *model, const fm_dataset_t *dataset,
                           const fm_train_options_t *options,
                           fm_metrics_t *out_test_metrics) {
  return guard([&] {
    require(model && dataset, "model and dataset must not be null");
    TrainOptions o;
    if (options) {
      if (options->epochs > 0)
        o.epochs = options->epochs;
      if (options->batch > 0)
        o.batch = options->batch;
      if (options->use_seed)
        o.seed = options->seed;
      if (options->validation >= 0)
        o.validation = options->validation;
      if (options->lr > 0)
        o.lr = options->lr;
      o.numThreads = options->num_threads;
      o.limit = options->limit;
      if (options->early_stop >= 0)
        o.earlyStop = options->early_stop;
      if (options->scale > 0)
        o.scale = options->scale;
      if (options->log_path)
        o.logPath = options->log_path;
      if (options->checkpoint_dir)
        o.checkpointDir = std::string(options->checkpoint_dir);
      if (options->resume_path)
        o.resumePath = options->resume_path;
      if (options->stop_after < 0)
        throw Error("stop_after must be non-negative");
      o.stopAfter = options->stop_after;
      if (options->progress) {
        auto fn = options->progress;
        void *user = options->progress_user_data;
        o.progress = [fn, user](const std::string &line) {
          fn(user, line.c_str());
        };
      }
    }
    Trainer trainer(*model->model, dataset->dataset, o);
    TrainReport report = trainer.run();
    copyMetrics(*model->model, report.test, out_test_metrics);
  });
}

fm_status_t fm_model_evaluate_split(fm_model_t *model,
                                    const fm_dataset_t *dataset,
                                    fm_split_t split, int32_t batch,
                                    fm_metrics_t *out_metrics) {
  return guard([&] {
    require(model && dataset && out_metrics,
            "model, dataset and out_metrics must not be null");
    Trainer trainer(*model->model, dataset->dataset);
    const Split &s =
        split == FM_SPLIT_TEST ? dataset->dataset.test : dataset->dataset.train;
    Metrics m = trainer.evaluate(s, 0, s.count, batch);
    copyMetrics(*model->model, m, out_metrics);
  });
}
