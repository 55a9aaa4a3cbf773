/*===- LinearKernels.h - Hand-written kernels for runtime tests -*- C -*-===*
 *
 * A linear-softmax classifier written as plain C kernels with the argv
 * convention of a Halide AOT library (docs/descriptor.md): each takes
 * void **args whose entries are halide_buffer_t* (tensors) or float*
 * (scalars), inputs first, then outputs. With them the runtime tests train
 * a real model without the compiler. The table below plays the part of a
 * generated library's kernels and Halide runtime hooks.
 *
 *===----------------------------------------------------------------------===*/
#ifndef FM_TEST_LINEARKERNELS_H
#define FM_TEST_LINEARKERNELS_H

#include "runtime/fm_model_desc.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  FM_TEST_LINEAR_FORWARD = 0,   /* x, W, b -> logits */
  FM_TEST_SOFTMAX_CE_GRAD = 1,  /* logits, y -> loss, acc, dlogits */
  FM_TEST_SOFTMAX_CE = 2,       /* logits, y -> loss, acc */
  FM_TEST_LINEAR_BACKWARD = 3,  /* x, dlogits -> dW, db */
  FM_TEST_SGD_MOMENTUM = 4,     /* p, v, g, lr, step -> p, v (in place) */
  FM_TEST_SOFTMAX = 5,          /* logits -> probs */
  FM_TEST_FAIL = 6,             /* reports an error and returns -1 */
  FM_TEST_PROBE = 7,            /* records its first buffer's dims */
  FM_TEST_SIGMOID_BCE_GRAD = 8, /* logits, y f32[N,1] -> loss, acc, dlogits */
  FM_TEST_SIGMOID_BCE = 9,      /* logits, y f32[N,1] -> loss, acc */
  FM_TEST_SIGMOID = 10,         /* logits -> probabilities */
  FM_TEST_NUM_KERNELS = 11
};

extern const fm_kernel_argv_fn fm_test_kernels[FM_TEST_NUM_KERNELS];
extern const char *const fm_test_kernel_names[FM_TEST_NUM_KERNELS];

/* Stand-ins for the Halide runtime entry points of a model library. */
void fm_test_set_num_threads(int n);
void fm_test_set_error_handler(void (*handler)(void *, const char *));
int fm_test_get_num_threads(void);

/* What FM_TEST_PROBE saw: dimensions, then (min, extent, stride) each. */
typedef struct fm_test_probe_t {
  int dimensions;
  int min[8], extent[8], stride[8];
  int type_code, type_bits;
} fm_test_probe_t;
extern fm_test_probe_t fm_test_last_probe;

/* A descriptor table around `json` and the kernels above. */
fm_model_desc_t fm_test_make_desc(const char *json);

#ifdef __cplusplus
}
#endif
#endif /* FM_TEST_LINEARKERNELS_H */
