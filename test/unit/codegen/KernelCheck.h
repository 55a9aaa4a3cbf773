//===- KernelCheck.h - Run a kernel against a reference loop ----*- C++ -*-===//
//
// The harness shared by the op tests: JIT-run `@k` of a module in f32 and
// (rewritten) in f64 on random arguments for several batch extents, and
// compare every output with a double-precision reference.
//
//===----------------------------------------------------------------------===//
#ifndef FM_TEST_UNIT_CODEGEN_KERNELCHECK_H
#define FM_TEST_UNIT_CODEGEN_KERNELCHECK_H

#include "TestUtils.h"

#include <functional>

namespace fm::test {

/// Makes one argument for a batch extent.
using ArgGen = std::function<Host(int batch, std::mt19937 &rng)>;
/// Computes the expected outputs from the arguments (as the kernel saw
/// them, i.e. after rounding to the buffer type).
using Reference = std::function<std::vector<Host>(const std::vector<Host> &)>;

/// Uniform floats in [lo, hi) of `shape` (-1 = batch).
ArgGen uniform(std::vector<int64_t> shape, double lo = -1, double hi = 1);
/// Integers in [0, n) of `shape` (-1 = batch).
ArgGen ints(std::vector<int64_t> shape, int n);
/// A shape with -1 replaced by `batch`.
std::vector<int64_t> withBatch(std::vector<int64_t> shape, int batch);

struct CheckOptions {
  std::vector<int> batches = {1, 3, 64};
  bool alsoF64 = true;
  double rtol32 = 2e-5, atol32 = 2e-5;
  double rtol64 = 1e-11, atol64 = 1e-11;
  ScheduleKind schedule = ScheduleKind::Hand;
};

/// Checks `@k` of `source` against `reference`.
void checkKernel(const std::string &source, const std::vector<ArgGen> &args,
                 const Reference &reference, const CheckOptions &options = {});

//===--- reference helpers ------------------------------------------------===//
/// `fn` applied elementwise to `a`.
Host mapHost(const Host &a, const std::function<double(double)> &fn);
/// `fn` applied to the broadcast elements of `a` and `b`.
Host zipHost(const Host &a, const Host &b,
             const std::function<double(double, double)> &fn);
/// The NumPy broadcast of two shapes.
std::vector<int64_t> broadcastShape(const std::vector<int64_t> &a,
                                    const std::vector<int64_t> &b);
/// Row-major matrix product.
Host matmulHost(const Host &a, const Host &b);

} // namespace fm::test

#endif // FM_TEST_UNIT_CODEGEN_KERNELCHECK_H
