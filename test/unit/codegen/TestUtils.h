//===- TestUtils.h - Helpers for the codegen unit tests ---------*- C++ -*-===//
//
// Parsing hand-written .mlir, row-major host tensors with reference math
// in double precision, and conversions to and from Halide buffers.
//
//===----------------------------------------------------------------------===//
#ifndef FM_TEST_UNIT_CODEGEN_TESTUTILS_H
#define FM_TEST_UNIT_CODEGEN_TESTUTILS_H

#include "codegen/Jit.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <random>
#include <string>
#include <vector>

namespace fm::test {

/// A parsed module and the context that owns it.
struct ParsedModule {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp lookup(const std::string &name);
};

/// Parses `source` (fm and func dialects); null on a parse error.
std::unique_ptr<ParsedModule> parseModule(const std::string &source);

/// Replaces every `from` in `text` by `to` (tests are written in f32 and
/// re-run in f64).
std::string replaceAll(std::string text, const std::string &from,
                       const std::string &to);

/// A row-major tensor of doubles (integers and bools stored exactly).
struct Host {
  std::vector<int64_t> shape;
  std::vector<double> data;

  Host() = default;
  explicit Host(std::vector<int64_t> shape);
  int64_t size() const;
  double &operator[](int64_t i) { return data[i]; }
  double operator[](int64_t i) const { return data[i]; }
  /// The element at a row-major index.
  double at(const std::vector<int64_t> &index) const;
  /// The element at `index` of a result of `resultShape`, with NumPy
  /// broadcasting.
  double atBroadcast(const std::vector<int64_t> &resultShape,
                     const std::vector<int64_t> &index) const;
};

/// Every row-major index of `shape`, in order.
std::vector<std::vector<int64_t>> allIndices(const std::vector<int64_t> &shape);
/// Uniform values in [lo, hi).
Host randomHost(std::vector<int64_t> shape, std::mt19937 &rng, double lo = -1,
                double hi = 1);
/// Integers in [0, n).
Host randomInts(std::vector<int64_t> shape, std::mt19937 &rng, int n);

/// Copies a host tensor into a new buffer of type `t` (dims reversed).
Halide::Buffer<> toBuffer(const Host &h, Halide::Type t);
/// A 0-d float buffer holding a scalar argument.
Halide::Buffer<> scalarBuffer(float v);
/// Copies a buffer (dims reversed) into a host tensor.
Host fromBuffer(const Halide::Buffer<> &b);

/// Random arguments for a kernel at a batch extent: floats in [-1, 1),
/// integers (labels) in [0, 10), scalars 0.5.
std::vector<Halide::Buffer<>> randomArgs(const LoweredKernel &kernel, int batch,
                                         std::mt19937 &rng);

/// Runs `actual` and `expected` on the same random arguments at each batch
/// extent and expects every output to agree within `rtol`/`atol`
/// (scheduled kernels against the all-root reference). With `rerun`,
/// also runs `actual` a second time and expects the same bits.
void expectSameOutputs(JitKernel &actual, JitKernel &expected,
                       const std::vector<int> &batches, std::mt19937 &rng,
                       double rtol, double atol, bool rerun = false);

/// Lowers `kernel` for `target`, hand-schedules it and compiles it to an
/// object with no runtime, failing the current test on any Halide error
/// or warning. Returns the lowered kernel (its stages) for further checks.
LoweredKernel expectCompilesWithoutWarnings(mlir::func::FuncOp kernel,
                                            const Halide::Target &target);

/// The target the benchmarks compile for: FM_BENCH_LEVEL=avx512|avx2|sse41
/// (a level of fmc --target=portable, to compare vector widths on one
/// machine), else this machine's.
Halide::Target getBenchTarget();

/// Runs `kernel` with the given arguments; fails the current test on error.
std::vector<Host> runKernel(JitKernel &kernel,
                            const std::vector<Halide::Buffer<>> &args,
                            int batch);

/// Maximum of |a-b| / (atol/rtol + |b|) style check: true if every element
/// satisfies |a - b| <= atol + rtol * |b|; writes the worst element to
/// `message` otherwise.
bool allClose(const Host &actual, const Host &expected, double rtol,
              double atol, std::string &message);

} // namespace fm::test

#endif // FM_TEST_UNIT_CODEGEN_TESTUTILS_H
