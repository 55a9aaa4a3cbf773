//===- MatMulBench.cpp - Throughput of generated matmul kernels -*- C++ -*-===//
//
// This file implements CodegenBench, which JIT-compiles the dense-layer
// kernels of an MLP (forward with bias and ReLU, the two backward
// matmuls) with the hand schedule and prints GFLOP/s. Run it on a quiet
// machine: `CodegenBench [batch] [threads] [runs]`. docs/codegen.md
// records its results.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace fm;
using namespace fm::test;

static const char *kModule = R"mlir(
func.func private @matmul(%a: tensor<?x784xf32>, %b: tensor<784x256xf32>) -> tensor<?x256xf32> attributes {fm.kernel} {
  %0 = fm.matmul %a, %b : tensor<?x784xf32>, tensor<784x256xf32> -> tensor<?x256xf32>
  return %0 : tensor<?x256xf32>
}
func.func private @dense_relu(%a: tensor<?x784xf32>, %b: tensor<784x256xf32>, %c: tensor<256xf32>) -> tensor<?x256xf32> attributes {fm.kernel} {
  %0 = fm.matmul %a, %b : tensor<?x784xf32>, tensor<784x256xf32> -> tensor<?x256xf32>
  %1 = fm.add %0, %c : tensor<?x256xf32>, tensor<256xf32> -> tensor<?x256xf32>
  %2 = fm.relu %1 : tensor<?x256xf32> -> tensor<?x256xf32>
  return %2 : tensor<?x256xf32>
}
func.func private @grad_input(%g: tensor<?x256xf32>, %w: tensor<784x256xf32>) -> tensor<?x784xf32> attributes {fm.kernel} {
  %t = fm.transpose %w {perm = array<i64: 1, 0>} : tensor<784x256xf32> -> tensor<256x784xf32>
  %0 = fm.matmul %g, %t : tensor<?x256xf32>, tensor<256x784xf32> -> tensor<?x784xf32>
  return %0 : tensor<?x784xf32>
}
func.func private @grad_weight(%x: tensor<?x784xf32>, %g: tensor<?x256xf32>) -> tensor<784x256xf32> attributes {fm.kernel} {
  %t = fm.transpose %x {perm = array<i64: 1, 0>} : tensor<?x784xf32> -> tensor<784x?xf32>
  %0 = fm.matmul %t, %g : tensor<784x?xf32>, tensor<?x256xf32> -> tensor<784x256xf32>
  return %0 : tensor<784x256xf32>
}
)mlir";

int main(int argc, char **argv) {
  int batch = argc > 1 ? std::atoi(argv[1]) : 64;
  int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  int runs = argc > 3 ? std::atoi(argv[3]) : 50;
  const char *only = argc > 4 ? argv[4] : nullptr;
  std::string env = std::to_string(threads);
  setenv("HL_NUM_THREADS", env.c_str(), 1);
  auto parsed = parseModule(kModule);
  if (!parsed)
    return 1;
  std::mt19937 rng(0);
  for (const char *name :
       {"matmul", "dense_relu", "grad_input", "grad_weight"}) {
    if (only && std::string(only) != name)
      continue;
    mlir::func::FuncOp func = parsed->lookup(name);
    ScheduleOptions options;
    options.target = getBenchTarget();
    std::string jitError;
    std::unique_ptr<JitKernel> kernel =
        JitKernel::create(func, options, jitError);
    if (!kernel) {
      std::fprintf(stderr, "%s: %s\n", name, jitError.c_str());
      return 1;
    }
    if (getenv("FM_BENCH_STMT")) {
      Halide::Pipeline p = kernel->getKernel().getPipeline();
      p.compile_to_lowered_stmt(std::string("/tmp/") + name + ".stmt",
                                kernel->getKernel().getArguments(),
                                Halide::Text, options.target);
      p.compile_to_assembly(std::string("/tmp/") + name + ".s",
                            kernel->getKernel().getArguments(), name,
                            options.target);
    }
    std::vector<Halide::Buffer<>> args;
    for (const KernelArg &arg : kernel->getKernel().args) {
      std::vector<int64_t> shape = arg.shape;
      for (int64_t &d : shape)
        d = d < 0 ? batch : d;
      args.push_back(toBuffer(randomHost(shape, rng), arg.type));
    }
    std::vector<Halide::Buffer<>> outputs = kernel->allocateOutputs(batch);
    std::string error;
    std::vector<double> seconds;
    for (int r = 0; r < runs + 3; ++r) {
      auto start = std::chrono::steady_clock::now();
      if (!kernel->run(args, outputs, error)) {
        std::fprintf(stderr, "%s: %s\n", name, error.c_str());
        return 1;
      }
      auto end = std::chrono::steady_clock::now();
      if (r >= 3)
        seconds.push_back(std::chrono::duration<double>(end - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    double median = seconds[seconds.size() / 2];
    double flops = 2.0 * batch * 784 * 256;
    std::printf(
        "%-12s batch %3d threads %d: %8.1f us  %6.1f GFLOP/s (best %6.1f)\n",
        name, batch, threads, median * 1e6, flops / median * 1e-9,
        flops / seconds.front() * 1e-9);
  }
  return 0;
}
