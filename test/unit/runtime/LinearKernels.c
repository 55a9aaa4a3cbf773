/*===- LinearKernels.c - Hand-written kernels for runtime tests -*- C -*-===*
 *
 * A linear-softmax classifier as argv kernels. Tensors arrive as Halide
 * buffers with innermost-first dims; a kernel reads extents and strides
 * from them, so the tests check the runtime's buffer layout for real.
 * Inputs of any rank are read as [N, rest...] flattened: N is the
 * outermost dimension.
 *
 *===----------------------------------------------------------------------===*/
#include "test/unit/runtime/LinearKernels.h"

#include <HalideRuntime.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

static void (*errorHandler)(void *, const char *);
static int numThreads;
fm_test_probe_t fm_test_last_probe;

void fm_test_set_num_threads(int n) { numThreads = n; }
void fm_test_set_error_handler(void (*handler)(void *, const char *)) {
  errorHandler = handler;
}
int fm_test_get_num_threads(void) { return numThreads; }

static int fail(const char *message) {
  if (errorHandler)
    errorHandler(NULL, message);
  return -1;
}

/* Outer extent and the dense element count of everything inside it. */
static int outer(const halide_buffer_t *b) {
  return b->dimensions ? b->dim[b->dimensions - 1].extent : 1;
}
static int inner(const halide_buffer_t *b) {
  int n = 1;
  for (int d = 0; d + 1 < b->dimensions; ++d)
    n *= b->dim[d].extent;
  return n;
}
static int64_t count(const halide_buffer_t *b) {
  int64_t n = 1;
  for (int d = 0; d < b->dimensions; ++d)
    n *= b->dim[d].extent;
  return n;
}
static float *f32(void *arg) { return (float *)((halide_buffer_t *)arg)->host; }

/* logits[n,k] = sum_d x[n,d] W[d,k] + b[k] */
static int linear_forward(void **args) {
  halide_buffer_t *x = args[0], *w = args[1], *b = args[2], *out = args[3];
  int n = outer(x), d = inner(x), k = w->dim[0].extent;
  if (w->dimensions != 2 || w->dim[1].extent != d)
    return fail("linear_forward: weight rows do not match the input features");
  if (out->dim[1].extent != n || out->dim[0].extent != k ||
      b->dim[0].extent != k)
    return fail("linear_forward: output extents do not match");
  const float *xv = f32(x), *wv = f32(w), *bv = f32(b);
  float *o = f32(out);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) {
      float s = bv[j];
      for (int t = 0; t < d; ++t)
        s += xv[i * d + t] * wv[t * w->dim[1].stride + j];
      o[i * out->dim[1].stride + j] = s;
    }
  return 0;
}

/* Mean softmax cross-entropy and accuracy; dlogits if `grad` is set. */
static int softmax_ce_impl(void **args, int grad) {
  halide_buffer_t *logits = args[0], *y = args[1];
  int n = logits->dim[1].extent, k = logits->dim[0].extent;
  if (y->dim[0].extent != n)
    return fail("softmax_ce: labels and logits disagree on the batch");
  const float *l = f32(logits);
  const int32_t *labels = (const int32_t *)y->host;
  float *dl = grad ? f32(args[4]) : NULL;
  double loss = 0, correct = 0;
  for (int i = 0; i < n; ++i) {
    const float *row = l + i * k;
    float max = row[0];
    int arg = 0;
    for (int j = 1; j < k; ++j)
      if (row[j] > max) {
        max = row[j];
        arg = j;
      }
    double sum = 0;
    for (int j = 0; j < k; ++j)
      sum += exp((double)row[j] - max);
    int label = labels[i];
    if (label < 0 || label >= k)
      return fail("softmax_ce: label out of range");
    loss += -(row[label] - max - log(sum));
    correct += arg == label;
    if (dl)
      for (int j = 0; j < k; ++j)
        dl[i * k + j] =
            (float)((exp((double)row[j] - max) / sum - (j == label)) / n);
  }
  *f32(args[2]) = (float)(loss / n);
  *f32(args[3]) = (float)(correct / n);
  return 0;
}
static int softmax_ce_grad(void **args) { return softmax_ce_impl(args, 1); }
static int softmax_ce(void **args) { return softmax_ce_impl(args, 0); }

/* dW = x^T dlogits, db = column sums of dlogits */
static int linear_backward(void **args) {
  halide_buffer_t *x = args[0], *g = args[1], *dw = args[2], *db = args[3];
  int n = outer(x), d = inner(x), k = g->dim[0].extent;
  const float *xv = f32(x), *gv = f32(g);
  float *dwv = f32(dw), *dbv = f32(db);
  if (count(dw) != (int64_t)d * k || count(db) != k)
    return fail("linear_backward: gradient extents do not match");
  for (int t = 0; t < d; ++t)
    for (int j = 0; j < k; ++j) {
      float s = 0;
      for (int i = 0; i < n; ++i)
        s += xv[i * d + t] * gv[i * k + j];
      dwv[t * k + j] = s;
    }
  for (int j = 0; j < k; ++j) {
    float s = 0;
    for (int i = 0; i < n; ++i)
      s += gv[i * k + j];
    dbv[j] = s;
  }
  return 0;
}

/* v = 0.9 v + g; p -= lr v. Reads `step` only to check it counts from 1. */
static int sgd_momentum(void **args) {
  float *p = f32(args[0]), *v = f32(args[1]), *g = f32(args[2]);
  float lr = *(float *)args[3], step = *(float *)args[4];
  if (step < 1)
    return fail("sgd_momentum: step must count from 1");
  if (f32(args[5]) != p || f32(args[6]) != v)
    return fail("sgd_momentum: expected an in-place update");
  int64_t n = count(args[0]);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = 0.9f * v[i] + g[i];
    p[i] -= lr * v[i];
  }
  return 0;
}

static int softmax(void **args) {
  halide_buffer_t *logits = args[0];
  int n = logits->dim[1].extent, k = logits->dim[0].extent;
  const float *l = f32(logits);
  float *p = f32(args[1]);
  for (int i = 0; i < n; ++i) {
    float max = l[i * k];
    for (int j = 1; j < k; ++j)
      max = l[i * k + j] > max ? l[i * k + j] : max;
    double sum = 0;
    for (int j = 0; j < k; ++j)
      sum += exp((double)l[i * k + j] - max);
    for (int j = 0; j < k; ++j)
      p[i * k + j] = (float)(exp((double)l[i * k + j] - max) / sum);
  }
  return 0;
}

/* Mean binary cross-entropy from logits [N, 1] against f32 targets
 * [N, 1] (numerically stable: max(l, 0) - l t + log(1 + exp(-|l|))), and
 * binary accuracy (logit > 0 against target > 0.5); dlogits if `grad`. */
static int sigmoid_bce_impl(void **args, int grad) {
  halide_buffer_t *logits = args[0], *y = args[1];
  int n = logits->dim[1].extent;
  if (logits->dim[0].extent != 1 || y->dimensions != 2 ||
      y->dim[1].extent != n || y->dim[0].extent != 1)
    return fail("sigmoid_bce: expected logits and targets of shape [N, 1]");
  if (y->type.code != halide_type_float || y->type.bits != 32)
    return fail("sigmoid_bce: expected f32 targets");
  const float *l = f32(logits), *t = f32(y);
  float *dl = grad ? f32(args[4]) : NULL;
  double loss = 0, correct = 0;
  for (int i = 0; i < n; ++i) {
    double x = l[i], target = t[i];
    loss += (x > 0 ? x : 0) - x * target + log1p(exp(-fabs(x)));
    correct += (x > 0) == (target > 0.5);
    if (dl)
      dl[i] = (float)((1 / (1 + exp(-x)) - target) / n);
  }
  *f32(args[2]) = (float)(loss / n);
  *f32(args[3]) = (float)(correct / n);
  return 0;
}
static int sigmoid_bce_grad(void **args) { return sigmoid_bce_impl(args, 1); }
static int sigmoid_bce(void **args) { return sigmoid_bce_impl(args, 0); }

static int sigmoid(void **args) {
  halide_buffer_t *logits = args[0];
  int64_t n = count(logits);
  const float *l = f32(logits);
  float *p = f32(args[1]);
  for (int64_t i = 0; i < n; ++i)
    p[i] = (float)(1 / (1 + exp(-(double)l[i])));
  return 0;
}

static int fail_kernel(void **args) {
  (void)args;
  return fail("Input buffer x has extent 3 but the pipeline requires 4");
}

static int probe(void **args) {
  halide_buffer_t *b = args[0];
  fm_test_last_probe.dimensions = b->dimensions;
  for (int d = 0; d < b->dimensions && d < 8; ++d) {
    fm_test_last_probe.min[d] = b->dim[d].min;
    fm_test_last_probe.extent[d] = b->dim[d].extent;
    fm_test_last_probe.stride[d] = b->dim[d].stride;
  }
  fm_test_last_probe.type_code = b->type.code;
  fm_test_last_probe.type_bits = b->type.bits;
  return 0;
}

const fm_kernel_argv_fn fm_test_kernels[FM_TEST_NUM_KERNELS] = {
    linear_forward,   softmax_ce_grad, softmax_ce,  linear_backward,
    sgd_momentum,     softmax,         fail_kernel, probe,
    sigmoid_bce_grad, sigmoid_bce,     sigmoid};
const char *const fm_test_kernel_names[FM_TEST_NUM_KERNELS] = {
    "linear_forward",   "softmax_ce_grad", "softmax_ce", "linear_backward",
    "sgd_momentum",     "softmax",         "fail",       "probe",
    "sigmoid_bce_grad", "sigmoid_bce",     "sigmoid"};

fm_model_desc_t fm_test_make_desc(const char *json) {
  fm_model_desc_t d;
  d.abi_version = FM_MODEL_DESC_ABI_VERSION;
  d.json = json;
  d.num_kernels = FM_TEST_NUM_KERNELS;
  d.kernels = fm_test_kernels;
  d.kernel_names = fm_test_kernel_names;
  d.set_num_threads = fm_test_set_num_threads;
  d.set_error_handler = fm_test_set_error_handler;
  d.kernel_system_allocations = NULL; /* plain C kernels: no scratch */
  d.num_variants = 0; /* plain C: runs on any CPU */
  d.variants = NULL;
  d.select_variant = NULL;
  return d;
}
