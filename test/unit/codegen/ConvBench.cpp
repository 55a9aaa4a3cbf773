//===- ConvBench.cpp - Throughput of convolution kernels -----*- C++ -*-===//
//
// This file implements ConvBench, which JIT-compiles the convolution
// kernels of the Fashion-MNIST CNN (LANGUAGE.md §1: conv 1->32, 32->64,
// 64->128, 3x3, valid, each followed by a 2x2 max pool) with the hand
// schedule: forward (conv alone and fused with bias + ReLU), backward-data
// and backward-filter of each layer, and the pooling kernels, and prints
// the median and best time and GFLOP/s (2 * N * O * OH * OW * C * KH * KW
// per convolution). Run it on a quiet machine:
// `[FM_BENCH_LEVEL=avx2] ConvBench [batch] [threads] [runs] [kernel]`.
// docs/codegen.md records its results.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace fm;
using namespace fm::test;

namespace {
struct Layer {
  const char *name;
  int64_t c, h, o; // input channels and size, filters (3x3, valid)
};
const Layer kLayers[] = {
    {"conv1", 1, 28, 32}, {"conv2", 32, 13, 64}, {"conv3", 64, 5, 128}};

std::string t(std::vector<int64_t> shape) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += (d < 0 ? std::string("?") : std::to_string(d)) + "x";
  return s + "f32>";
}

const char *kAttrs = "{strides = array<i64: 1, 1>, padding = array<i64: 0, 0, "
                     "0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}";
const char *kPool = "{kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, "
                    "padding = array<i64: 0, 0, 0, 0>}";

struct Kernel {
  std::string name, source;
  double flops; // per image
};

std::vector<Kernel> kernels() {
  std::vector<Kernel> all;
  for (const Layer &l : kLayers) {
    int64_t oh = l.h - 2;
    std::string x = t({-1, l.c, l.h, l.h}), w = t({l.o, l.c, 3, 3}),
                y = t({-1, l.o, oh, oh}), b = t({l.o, 1, 1});
    double flops = 2.0 * l.o * oh * oh * l.c * 9;
    std::string n = l.name;
    all.push_back({n + "_forward",
                   "func.func private @k(%x: " + x + ", %w: " + w + ") -> " +
                       y +
                       " attributes {fm.kernel} {\n  %r = fm.conv2d %x, %w " +
                       kAttrs + " : " + x + ", " + w + " -> " + y +
                       "\n  return %r : " + y + "\n}\n",
                   flops});
    all.push_back({n + "_forward_bias_relu",
                   "func.func private @k(%x: " + x + ", %w: " + w +
                       ", %b: " + b + ") -> " + y +
                       " attributes {fm.kernel} {\n  %c = fm.conv2d %x, %w " +
                       kAttrs + " : " + x + ", " + w + " -> " + y +
                       "\n  %s = fm.add %c, %b : " + y + ", " + b + " -> " + y +
                       "\n  %r = fm.relu %s : " + y + " -> " + y +
                       "\n  return %r : " + y + "\n}\n",
                   flops});
    all.push_back({n + "_backward_data",
                   "func.func private @k(%g: " + y + ", %w: " + w + ") -> " +
                       x +
                       " attributes {fm.kernel} {\n  %r = "
                       "fm.conv2d_backward_data %g, %w " +
                       kAttrs + " : " + y + ", " + w + " -> " + x +
                       "\n  return %r : " + x + "\n}\n",
                   flops});
    all.push_back({n + "_backward_filter",
                   "func.func private @k(%x: " + x + ", %g: " + y + ") -> " +
                       w +
                       " attributes {fm.kernel} {\n  %r = "
                       "fm.conv2d_backward_filter %x, %g " +
                       kAttrs + " : " + x + ", " + y + " -> " + w +
                       "\n  return %r : " + w + "\n}\n",
                   flops});
    std::string p = t({-1, l.o, oh / 2, oh / 2});
    all.push_back({n + "_maxpool",
                   "func.func private @k(%x: " + y + ") -> " + p +
                       " attributes {fm.kernel} {\n  %r = fm.maxpool2d %x " +
                       kPool + " : " + y + " -> " + p + "\n  return %r : " + p +
                       "\n}\n",
                   0});
    all.push_back(
        {n + "_maxpool_backward",
         "func.func private @k(%x: " + y + ", %g: " + p + ") -> " + y +
             " attributes {fm.kernel} {\n  %r = fm.maxpool2d_backward %x, %g " +
             kPool + " : " + y + ", " + p + " -> " + y +
             "\n  return %r : " + y + "\n}\n",
         0});
  }
  return all;
}
} // namespace

int main(int argc, char **argv) {
  int batch = argc > 1 ? std::atoi(argv[1]) : 64;
  int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  int runs = argc > 3 ? std::atoi(argv[3]) : 50;
  const char *only = argc > 4 ? argv[4] : nullptr;
  std::string env = std::to_string(threads);
  setenv("HL_NUM_THREADS", env.c_str(), 1);
  std::mt19937 rng(0);
  std::vector<Kernel> all = kernels();
  // A .mlir file as the kernel argument: bench its @k instead.
  if (only && std::string(only).size() > 5 &&
      std::string(only).substr(std::string(only).size() - 5) == ".mlir") {
    std::ifstream in(only);
    std::stringstream text;
    text << in.rdbuf();
    all = {Kernel{"k", text.str(), 0}};
    only = nullptr;
  }
  for (const Kernel &k : all) {
    if (only && k.name.find(only) == std::string::npos)
      continue;
    auto parsed = parseModule(k.source);
    if (!parsed)
      return 1;
    // FM_BENCH_PROFILE=1: Halide's profiler reports time per Func at exit.
    ScheduleOptions options;
    options.target = getBenchTarget();
    if (getenv("FM_BENCH_PROFILE"))
      options.target = options.target.with_feature(Halide::Target::Profile);
    std::string jitError;
    std::unique_ptr<JitKernel> kernel =
        JitKernel::create(parsed->lookup("k"), options, jitError);
    if (!kernel) {
      std::fprintf(stderr, "%s: %s\n", k.name.c_str(), jitError.c_str());
      return 1;
    }
    if (getenv("FM_BENCH_STMT")) {
      Halide::Pipeline p = kernel->getKernel().getPipeline();
      std::string base = "/tmp/" + k.name;
      p.compile_to_lowered_stmt(base + ".stmt",
                                kernel->getKernel().getArguments(),
                                Halide::Text, options.target);
      p.compile_to_assembly(base + ".s", kernel->getKernel().getArguments(),
                            k.name, options.target);
    }
    std::vector<Halide::Buffer<>> args =
        randomArgs(kernel->getKernel(), batch, rng);
    std::vector<Halide::Buffer<>> outputs = kernel->allocateOutputs(batch);
    std::string error;
    std::vector<double> seconds;
    for (int r = 0; r < runs + 3; ++r) {
      auto start = std::chrono::steady_clock::now();
      if (!kernel->run(args, outputs, error)) {
        std::fprintf(stderr, "%s: %s\n", k.name.c_str(), error.c_str());
        return 1;
      }
      auto end = std::chrono::steady_clock::now();
      if (r >= 3)
        seconds.push_back(std::chrono::duration<double>(end - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    double median = seconds[seconds.size() / 2], flops = k.flops * batch;
    std::printf("%-26s batch %3d threads %d: %8.1f us (best %8.1f)",
                k.name.c_str(), batch, threads, median * 1e6,
                seconds.front() * 1e6);
    if (flops > 0)
      std::printf("  %6.1f GFLOP/s (best %6.1f)", flops / median * 1e-9,
                  flops / seconds.front() * 1e-9);
    std::printf("\n");
  }
  return 0;
}
