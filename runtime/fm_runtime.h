/*===- fm_runtime.h - The C API of libfmrt -------------------------*- C -*-===*
 *
 * This file declares the C API of the fm runtime: load a model library's
 * descriptor, run its steps, read and write its tensors, load data sets,
 * train with the built-in loop and save or load checkpoints.
 *
 * Conventions (IREE style): every function that can fail returns an
 * fm_status_t; NULL means success, anything else must be freed with
 * fm_status_free. Results come back through `out_` parameters. Objects are
 * opaque and reference counted (_retain/_release). No function throws or
 * aborts. The C++ API (Model.h, Trainer.h, data/Dataset.h) is the core;
 * this is a thin layer over it for other languages.
 *
 *===----------------------------------------------------------------------===*/
#ifndef FM_RUNTIME_H
#define FM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/fm_model_desc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Status
 *===----------------------------------------------------------------------===*/

typedef enum fm_status_code_e {
  FM_STATUS_OK = 0,
  FM_STATUS_INVALID_ARGUMENT = 1,    /* bad argument, descriptor or option */
  FM_STATUS_NOT_FOUND = 2,           /* missing file, tensor or result */
  FM_STATUS_OUT_OF_RANGE = 3,        /* e.g. a label outside [0, classes) */
  FM_STATUS_FAILED_PRECONDITION = 4, /* e.g. the model has no such step */
  FM_STATUS_DATA_LOSS = 5,           /* corrupt or truncated file */
  FM_STATUS_RESOURCE_EXHAUSTED = 6,  /* out of memory */
  FM_STATUS_UNAVAILABLE = 7,         /* an I/O operation failed */
  FM_STATUS_INTERNAL = 8,            /* a kernel failed */
  FM_STATUS_UNIMPLEMENTED = 9,       /* valid but not supported yet */
} fm_status_code_t;

/* NULL is success. */
typedef struct fm_status_impl_t *fm_status_t;
#define fm_status_is_ok(status) ((status) == NULL)

fm_status_code_t fm_status_code(fm_status_t status);
/* The message ("" for success); valid until fm_status_free. */
const char *fm_status_message(fm_status_t status);
void fm_status_free(fm_status_t status);
const char *fm_status_code_string(fm_status_code_t code);

/*===----------------------------------------------------------------------===*
 * Model
 *===----------------------------------------------------------------------===*/

typedef struct fm_model_t fm_model_t;

typedef enum fm_dtype_e {
  FM_DTYPE_F32 = 0,
  FM_DTYPE_F64 = 1,
  FM_DTYPE_I32 = 2,
  FM_DTYPE_I64 = 3,
  FM_DTYPE_U8 = 4,
  FM_DTYPE_BOOL = 5, /* one byte */
} fm_dtype_t;

typedef enum fm_tensor_kind_e {
  FM_TENSOR_INPUT = 0,
  FM_TENSOR_LABEL = 1,
  FM_TENSOR_PARAM = 2,
  FM_TENSOR_STATE = 3,
  FM_TENSOR_TEMP = 4,
} fm_tensor_kind_t;

typedef enum fm_step_e {
  FM_STEP_TRAIN = 0, /* "train_step" */
  FM_STEP_EVALUATE = 1,
  FM_STEP_PREDICT = 2,
} fm_step_t;

typedef struct fm_model_options_t {
  int32_t max_batch;   /* batch capacity; 0: the descriptor's train.batch */
  int32_t num_threads; /* Halide threads; 0: Halide's default */
  int32_t use_seed;    /* non-zero: initialise from `seed`, not train.seed */
  uint64_t seed;
} fm_model_options_t;

void fm_model_options_initialize(fm_model_options_t *out_options);

/* Parses and validates the descriptor, allocates every tensor and
 * initialises parameters and state from the descriptor's train.seed. The
 * descriptor must outlive the model (it is a model library's static). */
fm_status_t fm_model_create(const fm_model_desc_t *desc,
                            fm_model_t **out_model);
fm_status_t fm_model_create_with_options(const fm_model_desc_t *desc,
                                         const fm_model_options_t *options,
                                         fm_model_t **out_model);
void fm_model_retain(fm_model_t *model);
void fm_model_release(fm_model_t *model);

const char *fm_model_name(const fm_model_t *model);
/* Optimizer steps taken so far (the `step` scalar of the next train step
 * is this plus one). */
int64_t fm_model_step_count(const fm_model_t *model);

/* Re-initialises every parameter and state tensor; resets the step count. */
fm_status_t fm_model_initialize(fm_model_t *model, uint64_t seed);
fm_status_t fm_model_set_num_threads(fm_model_t *model, int32_t num_threads);

typedef struct fm_tensor_info_t {
  const char *name;
  fm_tensor_kind_t kind;
  fm_dtype_t dtype;
  int32_t rank;
  const int64_t *shape; /* row-major; -1 is the batch extent */
  void *data;           /* 64-byte aligned host memory */
  size_t capacity_bytes;
} fm_tensor_info_t;

int32_t fm_model_tensor_count(const fm_model_t *model);
fm_status_t fm_model_find_tensor(const fm_model_t *model, const char *name,
                                 int32_t *out_id);
fm_status_t fm_model_tensor_info(const fm_model_t *model, int32_t id,
                                 fm_tensor_info_t *out_info);

/* Copies dense row-major data into / out of a tensor with every batch
 * extent set to `batch`; byte_length must match exactly. */
fm_status_t fm_model_write_tensor(fm_model_t *model, const char *name,
                                  int64_t batch, const void *data,
                                  size_t byte_length);
fm_status_t fm_model_read_tensor(const fm_model_t *model, const char *name,
                                 int64_t batch, void *out_data,
                                 size_t byte_length);

/* Runs one step on `batch` samples already written to the inputs (and
 * labels). `lr` feeds the train step's learning-rate scalar. */
fm_status_t fm_model_run(fm_model_t *model, fm_step_t step, int64_t batch,
                         float lr);
/* Copies output `name` of the last predict step (dense row-major, every
 * batch extent set to `batch`); byte_length must match exactly. */
fm_status_t fm_model_read_output(const fm_model_t *model, const char *name,
                                 int64_t batch, void *out_data,
                                 size_t byte_length);
/* A scalar result (loss or metric) of the last train or evaluate step. */
fm_status_t fm_model_result(const fm_model_t *model, const char *name,
                            double *out_value);

fm_status_t fm_model_save_checkpoint(const fm_model_t *model, const char *path);
fm_status_t fm_model_load_checkpoint(fm_model_t *model, const char *path);

/*===----------------------------------------------------------------------===*
 * Data sets
 *===----------------------------------------------------------------------===*/

typedef struct fm_dataset_t fm_dataset_t;

typedef enum fm_split_e {
  FM_SPLIT_TRAIN = 0,
  FM_SPLIT_TEST = 1,
} fm_split_t;

/* The data set named by the descriptor's train.data. */
fm_status_t fm_dataset_load_for_model(const fm_model_t *model,
                                      fm_dataset_t **out_dataset);
fm_status_t fm_dataset_load_fashion_mnist(fm_dataset_t **out_dataset);
fm_status_t fm_dataset_load_mnist(const char *dir, fm_dataset_t **out_dataset);
/* num_classes: labels must lie in [0, num_classes); 0 if unknown. */
fm_status_t fm_dataset_load_idx(const char *train_images,
                                const char *train_labels,
                                const char *test_images,
                                const char *test_labels, int32_t num_classes,
                                fm_dataset_t **out_dataset);
/* The CIFAR-10 binary version: data_batch_1..5.bin and test_batch.bin in
 * dir (or dir/cifar-10-batches-bin). */
fm_status_t fm_dataset_load_cifar10(const char *dir,
                                    fm_dataset_t **out_dataset);
/* Two CSV files with a header row; `label` names the label column (NULL:
 * "label"), every other column is a float feature. */
fm_status_t fm_dataset_load_csv(const char *train, const char *test,
                                const char *label, fm_dataset_t **out_dataset);
void fm_dataset_retain(fm_dataset_t *dataset);
void fm_dataset_release(fm_dataset_t *dataset);
int64_t fm_dataset_size(const fm_dataset_t *dataset, fm_split_t split);

/*===----------------------------------------------------------------------===*
 * Training and evaluation
 *===----------------------------------------------------------------------===*/

#define FM_MAX_METRICS 16

/* Loss and metrics averaged over samples. names[0] is the loss; names
 * point into the model and live as long as it does. */
typedef struct fm_metrics_t {
  int32_t count;
  const char *names[FM_MAX_METRICS];
  double values[FM_MAX_METRICS];
  int64_t samples;
} fm_metrics_t;

/* Overrides of the descriptor's train block; fm_train_options_initialize
 * sets every field to "use the descriptor's value". */
typedef struct fm_train_options_t {
  int32_t epochs;   /* 0: descriptor */
  int32_t batch;    /* 0: descriptor */
  int32_t use_seed; /* non-zero: use `seed` */
  uint64_t seed;
  double validation;          /* negative: descriptor */
  double lr;                  /* non-positive: descriptor */
  int32_t num_threads;        /* 0: keep the model's */
  int64_t limit;              /* >0: only the first `limit` training samples */
  int32_t early_stop;         /* negative: descriptor; 0: none */
  double scale;               /* non-positive: descriptor */
  const char *log_path;       /* JSON lines; NULL: none */
  const char *checkpoint_dir; /* NULL: descriptor; "": no checkpoints */
  const char *resume_path;    /* file or checkpoint folder; NULL: fresh */
  /* Called with each progress line (no newline); NULL: print to stdout. */
  void (*progress)(void *user_data, const char *line);
  void *progress_user_data;
  /* >0: return after this many epochs, as if interrupted (no test
   * evaluation); resume_path continues the run. */
  int32_t stop_after;
} fm_train_options_t;

void fm_train_options_initialize(fm_train_options_t *out_options);

/* Trains with the built-in loop, then evaluates the test split into
 * out_test_metrics (may be NULL). */
fm_status_t fm_model_train(fm_model_t *model, const fm_dataset_t *dataset,
                           const fm_train_options_t *options,
                           fm_metrics_t *out_test_metrics);
/* Evaluates a whole split; batch 0 means the descriptor's train.batch. */
fm_status_t fm_model_evaluate_split(fm_model_t *model,
                                    const fm_dataset_t *dataset,
                                    fm_split_t split, int32_t batch,
                                    fm_metrics_t *out_metrics);

#ifdef __cplusplus
}
#endif
#endif /* FM_RUNTIME_H */
