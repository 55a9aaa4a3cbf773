//===- NeuralNetTest.cpp - Lowerings of softmax, losses, metrics ---------===//
//
// Softmax and log-softmax along either axis, one-hot, cross-entropy,
// accuracy and mse against reference loops, in f32 and f64, with logits
// large enough that a naive exp would overflow and with tied maxima.
//
//===----------------------------------------------------------------------===//
#include "KernelCheck.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace fm::test;

namespace {
std::string kernel(const std::string &args, const std::string &result,
                   const std::string &body) {
  return "func.func private @k(" + args + ") -> " + result +
         " attributes {fm.kernel} {\n" + body + "\n  return %r : " + result +
         "\n}\n";
}

/// Softmax (or its log) of a 2-D host tensor along `axis`.
Host softmaxHost(const Host &x, int axis, bool log) {
  int64_t rows = x.shape[0], cols = x.shape[1];
  Host out(x.shape);
  int64_t outer = axis == 1 ? rows : cols, inner = axis == 1 ? cols : rows;
  for (int64_t o = 0; o < outer; ++o) {
    auto at = [&](int64_t i) {
      return axis == 1 ? o * cols + i : i * cols + o;
    };
    double m = -INFINITY, s = 0;
    for (int64_t i = 0; i < inner; ++i)
      m = std::max(m, x[at(i)]);
    for (int64_t i = 0; i < inner; ++i)
      s += std::exp(x[at(i)] - m);
    for (int64_t i = 0; i < inner; ++i)
      out[at(i)] =
          log ? x[at(i)] - m - std::log(s) : std::exp(x[at(i)] - m) / s;
  }
  return out;
}

Host scalar(double v) {
  Host h(std::vector<int64_t>{});
  h[0] = v;
  return h;
}
} // namespace

TEST(NeuralNetTest, SoftmaxAndLogSoftmax) {
  for (const char *op : {"softmax", "log_softmax"})
    for (int axis : {0, 1}) {
      SCOPED_TRACE(std::string(op) + " axis " + std::to_string(axis));
      std::string src =
          kernel("%a: tensor<?x10xf32>", "tensor<?x10xf32>",
                 "  %r = fm." + std::string(op) +
                     " %a {axis = " + std::to_string(axis) +
                     " : i64} : tensor<?x10xf32> -> tensor<?x10xf32>");
      bool log = std::string(op) == "log_softmax";
      // Logits of +-200: exp would overflow f32 without the max shift.
      checkKernel(src, {uniform({-1, 10}, -200, 200)},
                  [&](const std::vector<Host> &x) {
                    return std::vector<Host>{softmaxHost(x[0], axis, log)};
                  });
    }
}

TEST(NeuralNetTest, OneHot) {
  for (const char *label : {"i32", "i64"}) {
    SCOPED_TRACE(label);
    std::string l = std::string("tensor<?x") + label + ">";
    std::string src = kernel("%y: " + l, "tensor<?x4xf32>",
                             "  %r = fm.one_hot %y {classes = 4 : i64} : " + l +
                                 " -> tensor<?x4xf32>");
    CheckOptions options;
    options.alsoF64 = false; // one_hot always gives f32
    checkKernel(
        src, {ints({-1}, 4)},
        [](const std::vector<Host> &x) {
          Host out({x[0].shape[0], 4});
          for (int64_t n = 0; n < x[0].shape[0]; ++n)
            out[n * 4 + int64_t(x[0][n])] = 1;
          return std::vector<Host>{out};
        },
        options);
  }
}

TEST(NeuralNetTest, CrossEntropy) {
  for (const char *label : {"i32", "i64"}) {
    SCOPED_TRACE(label);
    std::string l = std::string("tensor<?x") + label + ">";
    std::string src =
        kernel("%x: tensor<?x10xf32>, %y: " + l, "tensor<f32>",
               "  %r = fm.cross_entropy %x, %y : tensor<?x10xf32>, " + l +
                   " -> tensor<f32>");
    CheckOptions options;
    options.batches = {1, 3, 64, 65};
    options.rtol32 = 1e-5;
    options.atol32 = 1e-4;
    checkKernel(
        src, {uniform({-1, 10}, -100, 100), ints({-1}, 10)},
        [](const std::vector<Host> &x) {
          Host logp = softmaxHost(x[0], 1, /*log=*/true);
          int64_t n = x[0].shape[0];
          double loss = 0;
          for (int64_t i = 0; i < n; ++i)
            loss -= logp[i * 10 + int64_t(x[1][i])];
          return std::vector<Host>{scalar(loss / n)};
        },
        options);
  }
}

TEST(NeuralNetTest, AccuracyFirstMaximumWins) {
  std::string src =
      kernel("%x: tensor<?x5xf32>, %y: tensor<?xi32>", "tensor<f32>",
             "  %r = fm.accuracy %x, %y : tensor<?x5xf32>, "
             "tensor<?xi32> -> tensor<f32>");
  // Logits from a small set of integers: most rows have tied maxima.
  ArgGen tied = [](int batch, std::mt19937 &rng) {
    Host h = randomInts({batch, 5}, rng, 3);
    return h;
  };
  CheckOptions options;
  options.batches = {1, 3, 64, 65};
  checkKernel(
      src, {tied, ints({-1}, 5)},
      [](const std::vector<Host> &x) {
        int64_t n = x[0].shape[0];
        double hits = 0;
        for (int64_t i = 0; i < n; ++i) {
          int64_t best = 0;
          for (int64_t c = 1; c < 5; ++c)
            if (x[0][i * 5 + c] > x[0][i * 5 + best])
              best = c;
          hits += best == int64_t(x[1][i]);
        }
        return std::vector<Host>{scalar(hits / n)};
      },
      options);
}

TEST(NeuralNetTest, Mse) {
  std::string src =
      kernel("%p: tensor<?x3xf32>, %t: tensor<?x3xf32>", "tensor<f32>",
             "  %r = fm.mse %p, %t : tensor<?x3xf32>, tensor<?x3xf32> "
             "-> tensor<f32>");
  checkKernel(src, {uniform({-1, 3}), uniform({-1, 3})},
              [](const std::vector<Host> &x) {
                double s = 0;
                for (int64_t i = 0; i < x[0].size(); ++i)
                  s += (x[0][i] - x[1][i]) * (x[0][i] - x[1][i]);
                return std::vector<Host>{scalar(s / x[0].size())};
              });
}
