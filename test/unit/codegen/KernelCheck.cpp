//===- KernelCheck.cpp - Run a kernel against a reference loop --*- C++ -*-===//
//
// This file implements the harness of KernelCheck.h.
//
//===----------------------------------------------------------------------===//
#include "KernelCheck.h"

#include "gtest/gtest.h"

using namespace fm;
using namespace fm::test;

std::vector<int64_t> fm::test::withBatch(std::vector<int64_t> shape,
                                         int batch) {
  for (int64_t &d : shape)
    d = d < 0 ? batch : d;
  return shape;
}

ArgGen fm::test::uniform(std::vector<int64_t> shape, double lo, double hi) {
  return [=](int batch, std::mt19937 &rng) {
    return randomHost(withBatch(shape, batch), rng, lo, hi);
  };
}

ArgGen fm::test::ints(std::vector<int64_t> shape, int n) {
  return [=](int batch, std::mt19937 &rng) {
    return randomInts(withBatch(shape, batch), rng, n);
  };
}

static void checkOnce(const std::string &source,
                      const std::vector<ArgGen> &gens,
                      const Reference &reference, const CheckOptions &options,
                      bool f64) {
  SCOPED_TRACE(f64 ? "f64" : "f32");
  auto parsed = parseModule(f64 ? replaceAll(source, "f32", "f64") : source);
  ASSERT_TRUE(parsed) << "cannot parse the test module";
  std::unique_ptr<JitKernel> kernel =
      jitKernel(parsed->lookup("k"), options.schedule);
  ASSERT_TRUE(kernel) << "cannot compile the test kernel";
  ASSERT_EQ(kernel->getKernel().args.size(), gens.size());
  std::mt19937 rng(42);
  for (int batch : options.batches) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<Halide::Buffer<>> args;
    std::vector<Host> seen;
    for (size_t i = 0; i < gens.size(); ++i) {
      Host h = gens[i](batch, rng);
      const KernelArg &arg = kernel->getKernel().args[i];
      args.push_back(arg.isScalar ? scalarBuffer(h[0]) : toBuffer(h, arg.type));
      seen.push_back(arg.isScalar ? Host(h) : fromBuffer(args.back()));
      if (arg.isScalar)
        seen.back()[0] = static_cast<float>(h[0]);
    }
    std::vector<Host> actual = runKernel(*kernel, args, batch);
    std::vector<Host> expected = reference(seen);
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t o = 0; o < actual.size(); ++o) {
      std::string message;
      EXPECT_TRUE(allClose(actual[o], expected[o],
                           f64 ? options.rtol64 : options.rtol32,
                           f64 ? options.atol64 : options.atol32, message))
          << "output " << o << ": " << message;
    }
  }
}

void fm::test::checkKernel(const std::string &source,
                           const std::vector<ArgGen> &args,
                           const Reference &reference,
                           const CheckOptions &options) {
  checkOnce(source, args, reference, options, /*f64=*/false);
  if (options.alsoF64)
    checkOnce(source, args, reference, options, /*f64=*/true);
}

Host fm::test::mapHost(const Host &a, const std::function<double(double)> &fn) {
  Host out(a.shape);
  for (int64_t i = 0; i < a.size(); ++i)
    out[i] = fn(a[i]);
  return out;
}

std::vector<int64_t> fm::test::broadcastShape(const std::vector<int64_t> &a,
                                              const std::vector<int64_t> &b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Host fm::test::zipHost(const Host &a, const Host &b,
                       const std::function<double(double, double)> &fn) {
  Host out(broadcastShape(a.shape, b.shape));
  int64_t i = 0;
  for (const std::vector<int64_t> &index : allIndices(out.shape))
    out[i++] =
        fn(a.atBroadcast(out.shape, index), b.atBroadcast(out.shape, index));
  return out;
}

Host fm::test::matmulHost(const Host &a, const Host &b) {
  int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
  Host out({m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
  return out;
}
