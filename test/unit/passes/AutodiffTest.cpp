//===- AutodiffTest.cpp - Gradients against finite differences --*- C++ -*-===//
//
// For every differentiable op, the gradient that fm-autodiff builds and
// codegen compiles is compared with central finite differences of the
// compiled forward computation, in f64. Each case computes
//   loss = sum(op(params, inputs) * R)
// with R random, so every element of the op's Jacobian is exercised;
// shapes include broadcasting and the symbolic batch N.
//
//===----------------------------------------------------------------------===//
#include "GradientCheck.h"

using namespace fm_test;

namespace {

std::vector<GradCase> cases() {
  const std::string m34 = "tensor<3x4xf64>", n4 = "tensor<?x4xf64>";
  auto bin = [&](const char *op, const char *bt, Fill fb = Fill::Any) {
    return GradCase{std::string(op) + "_broadcast",
                    {{"a", m34}, {"b", bt, fb}},
                    {},
                    std::string("%y = fm.") + op + " %a, %b : tensor<3x4xf64>, " + bt +
                        " -> tensor<3x4xf64>",
                    m34};
  };
  auto un = [&](const char *op, Fill f = Fill::Any) {
    return GradCase{op, {{"a", m34, f}}, {},
                    std::string("%y = fm.") + op + " %a : " + m34 + " -> " + m34, m34};
  };
  std::vector<GradCase> all = {
      bin("add", "tensor<4xf64>"),
      bin("sub", "tensor<3x1xf64>"),
      bin("mul", "tensor<1x4xf64>"),
      bin("div", "tensor<4xf64>", Fill::Positive),
      bin("pow", "tensor<f64>"),
      un("neg"), un("relu", Fill::AwayFromZero), un("sigmoid"), un("tanh"),
      un("exp"), un("log", Fill::Positive), un("sqrt", Fill::Positive),
  };
  // add with the batch symbol: a batch input plus a broadcast parameter.
  all.push_back({"add_batch", {{"b", "tensor<4xf64>"}}, {{"x", n4}},
                 "%y = fm.add %x, %b : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>", n4});
  // pow's positive base: overwrite fills.
  all[4].params[0].fill = Fill::Positive;
  all.push_back({"matmul", {{"w", "tensor<5x4xf64>"}}, {{"x", "tensor<?x5xf64>"}},
                 "%y = fm.matmul %x, %w : tensor<?x5xf64>, tensor<5x4xf64> -> tensor<?x4xf64>", n4});
  all.push_back({"matmul_both", {{"a", "tensor<3x5xf64>"}, {"b", "tensor<5x4xf64>"}}, {},
                 "%y = fm.matmul %a, %b : tensor<3x5xf64>, tensor<5x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"dense", {{"w", "tensor<5x4xf64>"}, {"b", "tensor<4xf64>"}}, {{"x", "tensor<?x5xf64>"}},
                 "%m = fm.matmul %x, %w : tensor<?x5xf64>, tensor<5x4xf64> -> tensor<?x4xf64>\n"
                 "%y = fm.add %m, %b : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>", n4});
  all.push_back({"transpose", {{"a", "tensor<4x3xf64>"}}, {},
                 "%y = fm.transpose %a {perm = array<i64: 1, 0>} : tensor<4x3xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"reshape", {{"a", "tensor<2x6xf64>"}}, {},
                 "%y = fm.reshape %a : tensor<2x6xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"flatten", {{"a", "tensor<3x2x2xf64>"}}, {},
                 "%y = fm.reshape %a : tensor<3x2x2xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"broadcast_to", {{"a", "tensor<1x4xf64>"}}, {},
                 "%y = fm.broadcast_to %a : tensor<1x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"sum_axis1", {{"a", m34}}, {},
                 "%y = fm.reduce_sum %a {axes = array<i64: 1>} : tensor<3x4xf64> -> tensor<3xf64>",
                 "tensor<3xf64>"});
  all.push_back({"sum_axis0_keepdims", {{"a", m34}}, {},
                 "%y = fm.reduce_sum %a {axes = array<i64: 0>, keepdims = true} : tensor<3x4xf64> -> tensor<1x4xf64>",
                 "tensor<1x4xf64>"});
  all.push_back({"mean_all", {{"a", m34}}, {},
                 "%y = fm.reduce_mean %a {axes = array<i64: 0, 1>} : tensor<3x4xf64> -> tensor<f64>",
                 "tensor<f64>"});
  all.push_back({"mean_batch", {{"b", "tensor<4xf64>"}}, {{"x", n4}},
                 "%s = fm.mul %x, %b : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>\n"
                 "%y = fm.reduce_mean %s {axes = array<i64: 0>} : tensor<?x4xf64> -> tensor<4xf64>",
                 "tensor<4xf64>"});
  all.push_back({"softmax_axis1", {{"a", m34}}, {},
                 "%y = fm.softmax %a {axis = 1 : i64} : tensor<3x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"softmax_axis0", {{"a", m34}}, {},
                 "%y = fm.softmax %a {axis = 0 : i64} : tensor<3x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"log_softmax", {{"a", m34}}, {},
                 "%y = fm.log_softmax %a {axis = 1 : i64} : tensor<3x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"cross_entropy", {{"w", "tensor<5x4xf64>"}},
                 {{"x", "tensor<?x5xf64>"}, {"labels", "tensor<?xi32>", Fill::Labels, 4}},
                 "%l = fm.matmul %x, %w : tensor<?x5xf64>, tensor<5x4xf64> -> tensor<?x4xf64>\n"
                 "%y = fm.cross_entropy %l, %labels : tensor<?x4xf64>, tensor<?xi32> -> tensor<f64>",
                 "tensor<f64>"});
  all.push_back({"mse", {{"a", m34}}, {{"t", m34}},
                 "%y = fm.mse %a, %t : tensor<3x4xf64>, tensor<3x4xf64> -> tensor<f64>", "tensor<f64>"});
  all.push_back({"select", {{"a", m34}, {"b", "tensor<4xf64>"}}, {{"c", m34}},
                 "%z = fm.constant dense<0.0> : tensor<f64>\n"
                 "%m = fm.compare \"gt\", %c, %z : tensor<3x4xf64>, tensor<f64> -> tensor<3x4xi1>\n"
                 "%y = fm.select %m, %a, %b : tensor<3x4xi1>, tensor<3x4xf64>, tensor<4xf64> -> tensor<3x4xf64>",
                 m34});
  // normalize (batch_norm's statistics over N, H, W; layer_norm's over
  // the last axis): its closed-form gradient, from each result.
  const std::string x4 = "tensor<4x3x2x2xf64>", c4 = "tensor<1x3x1x1xf64>";
  const std::string norm4 = "%n:3 = fm.normalize %a {axes = array<i64: 0, 2, 3>, eps = 1.0e-05 : f64} : " +
                            x4 + " -> " + x4 + ", " + c4 + ", " + c4 + "\n";
  all.push_back({"normalize_batch", {{"a", x4}}, {}, norm4 + "%y = fm.mul %n#0, %n#0 : " + x4 + ", " + x4 + " -> " + x4, x4});
  all.push_back({"normalize_statistics", {{"a", x4}}, {},
                 norm4 + "%s = fm.add %n#0, %n#1 : " + x4 + ", " + c4 + " -> " + x4 + "\n" +
                     "%y = fm.add %s, %n#2 : " + x4 + ", " + c4 + " -> " + x4,
                 x4});
  all.push_back({"normalize_last_axis", {{"a", m34}}, {},
                 "%n:3 = fm.normalize %a {axes = array<i64: 1>, eps = 1.0e-03 : f64} : " + m34 + " -> " +
                     m34 + ", tensor<3x1xf64>, tensor<3x1xf64>\n%y = fm.exp %n#0 : " + m34 + " -> " + m34,
                 m34});
  return all;
}

class GradientCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradientCheck, MatchesCentralDifferences) { checkGradients(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Ops, GradientCheck, ::testing::ValuesIn(cases()),
                         [](const auto &info) { return info.param.name; });

} // namespace
