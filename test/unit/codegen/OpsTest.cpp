//===- OpsTest.cpp - Lowerings of elementwise, shape, matmul, reduce ops
//---===//
//
// Each test JIT-runs one small kernel in f32 and f64 for batch extents 1, 3
// and 64 and compares it with a straightforward loop in double precision.
// Shapes exercise broadcasting (missing leading axes, extent-1 axes) and
// the batch extent N.
//
//===----------------------------------------------------------------------===//
#include "KernelCheck.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>

using namespace fm::test;

namespace {

/// A one-op kernel `@k(args) -> result` around `body` (which defines %r).
std::string kernel(const std::string &args, const std::string &result,
                   const std::string &body) {
  return "func.func private @k(" + args + ") -> " + result +
         " attributes {fm.kernel} {\n" + body + "\n  return %r : " + result +
         "\n}\n";
}

/// Checks a unary op on [N, 5] inputs in [lo, hi).
void checkUnary(const std::string &op, const std::function<double(double)> &fn,
                double lo = -3, double hi = 3) {
  SCOPED_TRACE(op);
  std::string src =
      kernel("%a: tensor<?x5xf32>", "tensor<?x5xf32>",
             "  %r = fm." + op + " %a : tensor<?x5xf32> -> tensor<?x5xf32>");
  checkKernel(src, {uniform({-1, 5}, lo, hi)}, [&](const std::vector<Host> &a) {
    return std::vector<Host>{mapHost(a[0], fn)};
  });
}

/// Checks a binary op between shapes `a` and `b` (MLIR spelling) giving `r`.
void checkBinary(const std::string &op, const std::string &a,
                 const std::string &b, const std::string &r,
                 std::vector<int64_t> sa, std::vector<int64_t> sb,
                 const std::function<double(double, double)> &fn,
                 double lo = -2, double hi = 2) {
  SCOPED_TRACE(op + " " + a + ", " + b);
  std::string src =
      kernel("%a: " + a + ", %b: " + b, r,
             "  %r = fm." + op + " %a, %b : " + a + ", " + b + " -> " + r);
  checkKernel(src, {uniform(sa, lo, hi), uniform(sb, lo, hi)},
              [&](const std::vector<Host> &x) {
                return std::vector<Host>{zipHost(x[0], x[1], fn)};
              });
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

TEST(ElementwiseTest, Unary) {
  checkUnary("neg", [](double x) { return -x; });
  checkUnary("relu", [](double x) { return x > 0 ? x : 0; });
  checkUnary(
      "sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }, -20, 20);
  checkUnary("tanh", [](double x) { return std::tanh(x); });
  checkUnary("exp", [](double x) { return std::exp(x); });
  checkUnary(
      "log", [](double x) { return std::log(x); }, 0.01, 10);
  checkUnary(
      "sqrt", [](double x) { return std::sqrt(x); }, 0, 10);
}

TEST(ElementwiseTest, BinaryBroadcasting) {
  auto add = [](double a, double b) { return a + b; };
  checkBinary("add", "tensor<?x4x3xf32>", "tensor<4x1xf32>",
              "tensor<?x4x3xf32>", {-1, 4, 3}, {4, 1}, add);
  checkBinary("sub", "tensor<?x3xf32>", "tensor<3xf32>", "tensor<?x3xf32>",
              {-1, 3}, {3}, [](double a, double b) { return a - b; });
  checkBinary("mul", "tensor<?x3xf32>", "tensor<f32>", "tensor<?x3xf32>",
              {-1, 3}, {}, [](double a, double b) { return a * b; });
  checkBinary(
      "div", "tensor<?x1xf32>", "tensor<1x5xf32>", "tensor<?x5xf32>", {-1, 1},
      {1, 5}, [](double a, double b) { return a / b; }, 0.5, 2);
  checkBinary(
      "pow", "tensor<?x3xf32>", "tensor<3xf32>", "tensor<?x3xf32>", {-1, 3},
      {3}, [](double a, double b) { return std::pow(a, b); }, 0.1, 3);
}

TEST(ElementwiseTest, CompareAndSelect) {
  // compare gives a bool tensor: a uint8 buffer of 0 and 1.
  std::string cmp =
      kernel("%a: tensor<?x3xf32>, %b: tensor<3xf32>", "tensor<?x3xi1>",
             "  %r = fm.compare \"gt\", %a, %b : tensor<?x3xf32>, "
             "tensor<3xf32> -> tensor<?x3xi1>");
  checkKernel(
      cmp, {uniform({-1, 3}), uniform({3})}, [](const std::vector<Host> &x) {
        return std::vector<Host>{zipHost(
            x[0], x[1], [](double a, double b) { return double(a > b); })};
      });
  std::string sel =
      kernel("%c: tensor<?x3xi1>, %a: tensor<?x3xf32>, %b: tensor<f32>",
             "tensor<?x3xf32>",
             "  %r = fm.select %c, %a, %b : tensor<?x3xi1>, tensor<?x3xf32>, "
             "tensor<f32> -> tensor<?x3xf32>");
  checkKernel(sel, {ints({-1, 3}, 2), uniform({-1, 3}), uniform({})},
              [](const std::vector<Host> &x) {
                Host out(x[1].shape);
                for (int64_t i = 0; i < out.size(); ++i)
                  out[i] = x[0][i] != 0 ? x[1][i] : x[2][0];
                return std::vector<Host>{out};
              });
}

TEST(ElementwiseTest, Cast) {
  std::string toFloat =
      kernel("%a: tensor<?x4xi32>", "tensor<?x4xf32>",
             "  %r = fm.cast %a : tensor<?x4xi32> -> tensor<?x4xf32>");
  checkKernel(toFloat, {ints({-1, 4}, 100)}, [](const std::vector<Host> &x) {
    return std::vector<Host>{x[0]};
  });
  // Float to integer truncates toward zero, like C.
  std::string toInt =
      kernel("%a: tensor<?x4xf32>", "tensor<?x4xi64>",
             "  %r = fm.cast %a : tensor<?x4xf32> -> tensor<?x4xi64>");
  checkKernel(toInt, {uniform({-1, 4}, -50, 50)},
              [](const std::vector<Host> &x) {
                return std::vector<Host>{
                    mapHost(x[0], [](double v) { return std::trunc(v); })};
              });
}

TEST(ElementwiseTest, Constants) {
  std::string splat = kernel(
      "%a: tensor<?x2xf32>", "tensor<?x2xf32>",
      "  %c = fm.constant dense<1.5> : tensor<f32>\n"
      "  %r = fm.mul %a, %c : tensor<?x2xf32>, tensor<f32> -> tensor<?x2xf32>");
  checkKernel(splat, {uniform({-1, 2})}, [](const std::vector<Host> &x) {
    return std::vector<Host>{mapHost(x[0], [](double v) { return 1.5 * v; })};
  });
  std::string dense = kernel("%a: tensor<?x2x3xf32>", "tensor<?x2x3xf32>",
                             "  %c = fm.constant dense<[[1.0, 2.0, 3.0], [4.0, "
                             "5.0, 6.0]]> : tensor<2x3xf32>\n"
                             "  %r = fm.add %a, %c : tensor<?x2x3xf32>, "
                             "tensor<2x3xf32> -> tensor<?x2x3xf32>");
  checkKernel(dense, {uniform({-1, 2, 3})}, [](const std::vector<Host> &x) {
    Host out = x[0];
    for (int64_t i = 0; i < out.size(); ++i)
      out[i] += 1 + i % 6;
    return std::vector<Host>{out};
  });
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

TEST(ShapesTest, Transpose) {
  std::string src = kernel("%a: tensor<?x3x4xf32>", "tensor<4x?x3xf32>",
                           "  %r = fm.transpose %a {perm = array<i64: 2, 0, "
                           "1>} : tensor<?x3x4xf32> -> tensor<4x?x3xf32>");
  checkKernel(src, {uniform({-1, 3, 4})}, [](const std::vector<Host> &x) {
    int64_t n = x[0].shape[0];
    Host out({4, n, 3});
    for (const auto &i : allIndices(out.shape))
      out[(i[0] * n + i[1]) * 3 + i[2]] = x[0].at({i[1], i[2], i[0]});
    return std::vector<Host>{out};
  });
}

TEST(ShapesTest, Reshape) {
  // Reshapes keep the row-major element order.
  auto same = [](const std::vector<Host> &x) {
    return std::vector<Host>{x[0]};
  };
  auto check = [&](const std::string &from, const std::string &to,
                   std::vector<int64_t> shape, std::vector<int64_t> outShape) {
    SCOPED_TRACE(from + " -> " + to);
    std::string src = kernel("%a: " + from, to,
                             "  %r = fm.reshape %a : " + from + " -> " + to);
    checkKernel(src, {uniform(shape)}, [&](const std::vector<Host> &x) {
      Host out = x[0];
      out.shape = withBatch(outShape, x[0].shape.empty() ? 1 : x[0].shape[0]);
      if (outShape[0] >= 0)
        out.shape = outShape;
      return std::vector<Host>{out};
    });
  };
  check("tensor<?x2x3xf32>", "tensor<?x6xf32>", {-1, 2, 3}, {-1, 6});
  check("tensor<?x6xf32>", "tensor<?x3x2xf32>", {-1, 6}, {-1, 3, 2});
  check("tensor<?x1x4x3xf32>", "tensor<?x2x6xf32>", {-1, 1, 4, 3}, {-1, 2, 6});
  check("tensor<2x3xf32>", "tensor<3x2xf32>", {2, 3}, {3, 2});
  check("tensor<?xf32>", "tensor<?x1xf32>", {-1}, {-1, 1});
  (void)same;
}

TEST(ShapesTest, BroadcastToAndSize) {
  std::string bcast =
      kernel("%a: tensor<?x2xf32>, %b: tensor<2xf32>", "tensor<?x2xf32>",
             "  %r = fm.broadcast_to %b : tensor<2xf32> -> tensor<?x2xf32>");
  checkKernel(bcast, {uniform({-1, 2}), uniform({2})},
              [](const std::vector<Host> &x) {
                Host out(x[0].shape);
                for (int64_t i = 0; i < out.size(); ++i)
                  out[i] = x[1][i % 2];
                return std::vector<Host>{out};
              });
  std::string size = kernel("%a: tensor<?x3xf32>", "tensor<f32>",
                            "  %r = fm.size %a {axes = array<i64: 0, 1>} : "
                            "tensor<?x3xf32> -> tensor<f32>");
  checkKernel(size, {uniform({-1, 3})}, [](const std::vector<Host> &x) {
    Host out(std::vector<int64_t>{});
    out[0] = double(x[0].size());
    return std::vector<Host>{out};
  });
}

//===----------------------------------------------------------------------===//
// MatMul
//===----------------------------------------------------------------------===//

TEST(LinearAlgebraTest, MatMul) {
  // Shapes around the tile sizes: narrow (5), one vector and a bit (37),
  // and exact multiples (64), each with the batch as rows.
  for (int64_t p : {5, 37, 64}) {
    std::string ps = std::to_string(p);
    SCOPED_TRACE("p = " + ps);
    std::string b = "tensor<40x" + ps + "xf32>", r = "tensor<?x" + ps + "xf32>";
    std::string src =
        kernel("%a: tensor<?x40xf32>, %b: " + b, r,
               "  %r = fm.matmul %a, %b : tensor<?x40xf32>, " + b + " -> " + r);
    CheckOptions options;
    options.batches = {1, 3, 64, 65};
    checkKernel(
        src, {uniform({-1, 40}), uniform({40, p})},
        [](const std::vector<Host> &x) {
          return std::vector<Host>{matmulHost(x[0], x[1])};
        },
        options);
  }
}

TEST(LinearAlgebraTest, MatMulOfTransposes) {
  // dW = x^T @ dy (K is the batch) and dx = dy @ W^T (B transposed).
  std::string dw =
      kernel("%x: tensor<?x7xf32>, %g: tensor<?x33xf32>", "tensor<7x33xf32>",
             "  %t = fm.transpose %x {perm = array<i64: 1, 0>} : "
             "tensor<?x7xf32> -> tensor<7x?xf32>\n"
             "  %r = fm.matmul %t, %g : tensor<7x?xf32>, tensor<?x33xf32> -> "
             "tensor<7x33xf32>");
  auto transpose = [](const Host &h) {
    Host t({h.shape[1], h.shape[0]});
    for (int64_t i = 0; i < h.shape[0]; ++i)
      for (int64_t j = 0; j < h.shape[1]; ++j)
        t[j * h.shape[0] + i] = h[i * h.shape[1] + j];
    return t;
  };
  CheckOptions options;
  options.batches = {1, 3, 64, 65};
  checkKernel(
      dw, {uniform({-1, 7}), uniform({-1, 33})},
      [&](const std::vector<Host> &x) {
        return std::vector<Host>{matmulHost(transpose(x[0]), x[1])};
      },
      options);
  std::string dx =
      kernel("%g: tensor<?x33xf32>, %w: tensor<7x33xf32>", "tensor<?x7xf32>",
             "  %t = fm.transpose %w {perm = array<i64: 1, 0>} : "
             "tensor<7x33xf32> -> tensor<33x7xf32>\n"
             "  %r = fm.matmul %g, %t : tensor<?x33xf32>, tensor<33x7xf32> -> "
             "tensor<?x7xf32>");
  checkKernel(
      dx, {uniform({-1, 33}), uniform({7, 33})},
      [&](const std::vector<Host> &x) {
        return std::vector<Host>{matmulHost(x[0], transpose(x[1]))};
      },
      options);
}

TEST(LinearAlgebraTest, DenseReluFused) {
  // The matmul is tiled at the output and bias + relu run on the tile.
  std::string src =
      kernel("%x: tensor<?x20xf32>, %w: tensor<20x48xf32>, %b: tensor<48xf32>",
             "tensor<?x48xf32>",
             "  %0 = fm.matmul %x, %w : tensor<?x20xf32>, tensor<20x48xf32> -> "
             "tensor<?x48xf32>\n"
             "  %1 = fm.add %0, %b : tensor<?x48xf32>, tensor<48xf32> -> "
             "tensor<?x48xf32>\n"
             "  %r = fm.relu %1 : tensor<?x48xf32> -> tensor<?x48xf32>");
  CheckOptions options;
  options.batches = {1, 7, 64, 65};
  checkKernel(
      src, {uniform({-1, 20}), uniform({20, 48}), uniform({48})},
      [](const std::vector<Host> &x) {
        Host y = zipHost(matmulHost(x[0], x[1]), x[2],
                         [](double a, double b) { return a + b; });
        return std::vector<Host>{
            mapHost(y, [](double v) { return v > 0 ? v : 0; })};
      },
      options);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// Sum (or mean) over `axes` of a row-major host tensor, keeping dims.
static Host reduceHost(const Host &x, const std::vector<int64_t> &axes,
                       bool keepdims, bool mean) {
  std::vector<int64_t> kept = x.shape;
  for (int64_t a : axes)
    kept[a] = 1;
  Host out(kept);
  double count = 1;
  for (int64_t a : axes)
    count *= x.shape[a];
  for (const auto &i : allIndices(x.shape)) {
    std::vector<int64_t> o = i;
    for (int64_t a : axes)
      o[a] = 0;
    int64_t flat = 0;
    for (size_t a = 0; a < kept.size(); ++a)
      flat = flat * kept[a] + o[a];
    out[flat] += x.at(i) / (mean ? count : 1);
  }
  if (!keepdims) {
    std::vector<int64_t> shape;
    for (size_t a = 0; a < kept.size(); ++a)
      if (std::find(axes.begin(), axes.end(), int64_t(a)) == axes.end())
        shape.push_back(kept[a]);
    out.shape = shape;
  }
  return out;
}

TEST(ReductionsTest, SumAndMean) {
  struct Case {
    std::string op, axes, result;
    std::vector<int64_t> axesList;
    bool keepdims;
  };
  std::vector<Case> cases = {
      {"reduce_sum", "0", "tensor<4x3xf32>", {0}, false},
      {"reduce_sum", "2", "tensor<?x4xf32>", {2}, false},
      {"reduce_sum", "0, 2", "tensor<1x4x1xf32>", {0, 2}, true},
      {"reduce_mean", "0, 1, 2", "tensor<f32>", {0, 1, 2}, false},
      {"reduce_mean", "1", "tensor<?x1x3xf32>", {1}, true},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.op + " axes " + c.axes);
    std::string attrs = "{axes = array<i64: " + c.axes + ">" +
                        (c.keepdims ? ", keepdims = true}" : "}");
    std::string src = kernel("%a: tensor<?x4x3xf32>", c.result,
                             "  %r = fm." + c.op + " %a " + attrs +
                                 " : tensor<?x4x3xf32> -> " + c.result);
    checkKernel(src, {uniform({-1, 4, 3})}, [&](const std::vector<Host> &x) {
      return std::vector<Host>{
          reduceHost(x[0], c.axesList, c.keepdims, c.op == "reduce_mean")};
    });
  }
}

TEST(ReductionsTest, LargeColumnSum) {
  // The bias gradient: a sum over the batch, vectorised over columns and
  // large enough to run in parallel.
  std::string src = kernel("%a: tensor<?x300xf32>", "tensor<300xf32>",
                           "  %r = fm.reduce_sum %a {axes = array<i64: 0>} : "
                           "tensor<?x300xf32> -> tensor<300xf32>");
  CheckOptions options;
  options.batches = {1, 65, 200};
  options.rtol32 = options.atol32 = 1e-4;
  checkKernel(
      src, {uniform({-1, 300})},
      [](const std::vector<Host> &x) {
        return std::vector<Host>{reduceHost(x[0], {0}, false, false)};
      },
      options);
}
