//===- AutodiffConvTest.cpp - Conv/pool gradients vs finite differences ---===//
//
// The gradients of conv2d, maxpool2d and avgpool2d (and the VJPs of
// conv2d's two gradient ops and of avgpool2d_backward, which second
// derivatives use) against central differences of the compiled forward
// computation in f64, through GradientCheck.h. Parameters get gradients,
// so an operand that must be checked is a parameter; where the batch is
// `?` it is an input and the gradient reaches a parameter through the op
// (a broadcast parameter, or a layer before it).
//
// Max pooling is fed `p + C` where C is a constant whose values are spread
// wider than p's range ([-1, 1], or a sum's bound), in a scrambled order:
// no window ties within 1e-6 (a perturbation of h = 1e-6 never moves a
// maximum), while the maxima still sit at varied places in the windows.
//
//===----------------------------------------------------------------------===//
#include "GradientCheck.h"

using namespace fm_test;

namespace {

std::string list(std::initializer_list<int64_t> v) {
  std::string s;
  for (int64_t x : v)
    s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

/// `{strides = ..., padding = ..., dilation = ..., groups = ...}`.
std::string conv(std::initializer_list<int64_t> strides,
                 std::initializer_list<int64_t> padding,
                 std::initializer_list<int64_t> dilation, int64_t groups) {
  return "{strides = array<i64: " + list(strides) +
         ">, padding = array<i64: " + list(padding) +
         ">, dilation = array<i64: " + list(dilation) +
         ">, groups = " + std::to_string(groups) + " : i64}";
}

/// `{kernel = ..., strides = ..., padding = ...}`.
std::string pool(std::initializer_list<int64_t> kernel,
                 std::initializer_list<int64_t> strides,
                 std::initializer_list<int64_t> padding) {
  return "{kernel = array<i64: " + list(kernel) +
         ">, strides = array<i64: " + list(strides) +
         ">, padding = array<i64: " + list(padding) + ">}";
}

/// `tensor<AxBx...xf64>`; -1 is `?`.
std::string t(std::initializer_list<int64_t> shape) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += (d < 0 ? std::string("?") : std::to_string(d)) + "x";
  return s + "f64>";
}

/// `%name = ` a constant of `shape` whose values are `spacing` apart in a
/// scrambled order: spacing * ((37 k + 11) mod n) for element k of n
/// (37 must be prime to n).
std::string spreadConstant(const std::string &name,
                           std::initializer_list<int64_t> shape,
                           double spacing) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::string values;
  for (int64_t k = 0; k < n; ++k)
    values += (k ? ", " : "") + std::to_string(spacing * ((37 * k + 11) % n));
  return "%" + name + "_flat = fm.constant dense<[" + values +
         "]> : " + t({n}) + "\n%" + name + " = fm.reshape %" + name +
         "_flat : " + t({n}) + " -> " + t(shape) + "\n";
}

GradCase convCase(const std::string &name, std::initializer_list<int64_t> xs,
                  std::initializer_list<int64_t> ws,
                  std::initializer_list<int64_t> ys, const std::string &attrs) {
  return {name,
          {{"x", t(xs)}, {"w", t(ws)}},
          {},
          "%y = fm.conv2d %x, %w " + attrs + " : " + t(xs) + ", " + t(ws) +
              " -> " + t(ys),
          t(ys)};
}

std::vector<GradCase> cases() {
  std::vector<GradCase> all;
  //===--- conv2d: both operands are parameters ---------------------------===//
  all.push_back(convCase("conv", {2, 3, 6, 5}, {4, 3, 3, 3}, {2, 4, 4, 3},
                         conv({1, 1}, {0, 0, 0, 0}, {1, 1}, 1)));
  // OH = (7 + 1 + 2 - 3) / 2 + 1 = 4, OW = (8 + 0 + 1 - 2) / 2 + 1 = 4.
  all.push_back(convCase("conv_stride2_asymmetric_padding", {2, 3, 7, 8},
                         {4, 3, 3, 2}, {2, 4, 4, 4},
                         conv({2, 2}, {1, 0, 2, 1}, {1, 1}, 1)));
  // OH = (8 + 4 - 4 - 1) / 1 + 1 = 8, OW = (7 + 2 - 4 - 1) + 1 = 5.
  all.push_back(convCase("conv_dilation2", {1, 2, 8, 7}, {3, 2, 3, 3},
                         {1, 3, 8, 5}, conv({1, 1}, {2, 1, 2, 1}, {2, 2}, 1)));
  all.push_back(convCase("conv_stride2x1_dilation2x1_2x3", {2, 2, 9, 6},
                         {3, 2, 2, 3}, {2, 3, 4, 4},
                         conv({2, 1}, {0, 0, 0, 0}, {2, 1}, 1)));
  all.push_back(convCase("conv_groups2", {2, 4, 5, 5}, {6, 2, 3, 3},
                         {2, 6, 5, 5}, conv({1, 1}, {1, 1, 1, 1}, {1, 1}, 2)));
  // OH = (6 + 1 + 0 - 3) / 2 + 1 = 3, OW = (6 + 1 + 0 - 3) / 2 + 1 = 3.
  all.push_back(convCase("conv_depthwise_stride2", {2, 3, 6, 6}, {3, 1, 3, 3},
                         {2, 3, 3, 3}, conv({2, 2}, {1, 1, 0, 0}, {1, 1}, 3)));
  all.push_back(convCase("conv_depthwise_multiplier2", {1, 3, 5, 6},
                         {6, 1, 2, 3}, {1, 6, 4, 4},
                         conv({1, 1}, {0, 0, 0, 0}, {1, 1}, 3)));
  // Few taps per filter and rows of 8 or more: the filter gradient sums
  // in vectors along x. OW = (19 + 1 - 3) / 2 + 1 = 9.
  all.push_back(convCase("conv_depthwise_wide_rows", {2, 3, 6, 19},
                         {3, 1, 2, 3}, {2, 3, 6, 9},
                         conv({1, 2}, {0, 1, 1, 0}, {1, 1}, 3)));
  // The strides skip the last rows and columns (they get zero gradient).
  all.push_back(convCase("conv_stride3_uncovered", {1, 2, 8, 8}, {2, 2, 2, 3},
                         {1, 2, 3, 3}, conv({3, 2}, {0, 0, 0, 0}, {1, 1}, 1)));

  //===--- conv2d with the batch N
  //-----------------------------------------===//
  all.push_back({"conv_batch",
                 {{"w", t({4, 3, 3, 3})}},
                 {{"x", t({-1, 3, 6, 6})}},
                 "%y = fm.conv2d %x, %w " +
                     conv({1, 2}, {1, 1, 1, 0}, {1, 1}, 1) + " : " +
                     t({-1, 3, 6, 6}) + ", " + t({4, 3, 3, 3}) + " -> " +
                     t({-1, 4, 6, 3}),
                 t({-1, 4, 6, 3})});
  // Two layers: w1's gradient flows through conv2d_backward_data of the
  // second (grouped, strided) layer.
  all.push_back(
      {"conv_chain_batch",
       {{"w1", t({4, 2, 3, 3})}, {"w2", t({6, 2, 2, 2})}},
       {{"x", t({-1, 2, 7, 7})}},
       "%h = fm.conv2d %x, %w1 " + conv({1, 1}, {1, 1, 1, 1}, {1, 1}, 1) +
           " : " + t({-1, 2, 7, 7}) + ", " + t({4, 2, 3, 3}) + " -> " +
           t({-1, 4, 7, 7}) + "\n%y = fm.conv2d %h, %w2 " +
           conv({2, 2}, {0, 0, 1, 1}, {1, 1}, 2) + " : " + t({-1, 4, 7, 7}) +
           ", " + t({6, 2, 2, 2}) + " -> " + t({-1, 6, 4, 4}),
       t({-1, 6, 4, 4})});

  //===--- the gradient ops' own VJPs (second derivatives) ----------------===//
  std::string a2 = conv({2, 1}, {1, 0, 0, 1}, {1, 2}, 1);
  // x [2, 3, 6, 7], w [4, 3, 3, 2]: OH = (6 + 1 - 3) / 2 + 1 = 3,
  // OW = (7 + 1 - 2 - 1) / 1 + 1 = 6.
  all.push_back({"conv2d_backward_data",
                 {{"g", t({2, 4, 3, 6})}, {"w", t({4, 3, 3, 2})}},
                 {},
                 "%y = fm.conv2d_backward_data %g, %w " + a2 + " : " +
                     t({2, 4, 3, 6}) + ", " + t({4, 3, 3, 2}) + " -> " +
                     t({2, 3, 6, 7}),
                 t({2, 3, 6, 7})});
  all.push_back({"conv2d_backward_filter",
                 {{"x", t({2, 3, 6, 7})}, {"g", t({2, 4, 3, 6})}},
                 {},
                 "%y = fm.conv2d_backward_filter %x, %g " + a2 + " : " +
                     t({2, 3, 6, 7}) + ", " + t({2, 4, 3, 6}) + " -> " +
                     t({4, 3, 3, 2}),
                 t({4, 3, 3, 2})});
  std::string a3 = conv({1, 1}, {0, 1, 1, 0}, {1, 1}, 2);
  all.push_back({"conv2d_backward_data_groups",
                 {{"g", t({1, 4, 4, 5})}, {"w", t({4, 1, 2, 2})}},
                 {},
                 "%y = fm.conv2d_backward_data %g, %w " + a3 + " : " +
                     t({1, 4, 4, 5}) + ", " + t({4, 1, 2, 2}) + " -> " +
                     t({1, 2, 4, 5}),
                 t({1, 2, 4, 5})});
  // The batch: g = q * p with q an input, so p's gradient flows through
  // the VJP of conv2d_backward_filter with respect to g.
  all.push_back({"conv2d_backward_filter_batch",
                 {{"p", t({4, 1, 1})}},
                 {{"x", t({-1, 2, 4, 5})}, {"q", t({-1, 4, 4, 5})}},
                 "%g = fm.mul %q, %p : " + t({-1, 4, 4, 5}) + ", " +
                     t({4, 1, 1}) + " -> " + t({-1, 4, 4, 5}) +
                     "\n%y = fm.conv2d_backward_filter %x, %g " + a3 + " : " +
                     t({-1, 2, 4, 5}) + ", " + t({-1, 4, 4, 5}) + " -> " +
                     t({4, 1, 2, 2}),
                 t({4, 1, 2, 2})});

  //===--- max pooling
  //-----------------------------------------------------===//
  auto maxpool = [&](const std::string &name, std::initializer_list<int64_t> xs,
                     std::initializer_list<int64_t> ys,
                     const std::string &attrs) {
    return GradCase{name,
                    {{"p", t(xs)}},
                    {},
                    spreadConstant("c", xs, 2.5) +
                        "%x = fm.add %p, %c : " + t(xs) + ", " + t(xs) +
                        " -> " + t(xs) + "\n%y = fm.maxpool2d %x " + attrs +
                        " : " + t(xs) + " -> " + t(ys),
                    t(ys)};
  };
  all.push_back(maxpool("maxpool_2x2", {2, 3, 6, 6}, {2, 3, 3, 3},
                        pool({2, 2}, {2, 2}, {0, 0, 0, 0})));
  // Overlapping windows (an element can be the maximum of several) and
  // padding: OH = (7 + 1 + 1 - 3) / 2 + 1 = 4, OW = (5 + 0 + 1 - 2) + 1 = 5.
  all.push_back(maxpool("maxpool_3x2_stride2x1_padding", {1, 2, 7, 5},
                        {1, 2, 4, 5}, pool({3, 2}, {2, 1}, {1, 0, 1, 1})));
  all.push_back(maxpool("maxpool_3x3_stride2_padding1", {2, 2, 7, 7},
                        {2, 2, 4, 4}, pool({3, 3}, {2, 2}, {1, 1, 1, 1})));
  // With the batch: p broadcast over it; x + p stays within [-2, 2].
  all.push_back(
      {"maxpool_batch",
       {{"p", t({3, 4, 5})}},
       {{"x", t({-1, 3, 4, 5})}},
       spreadConstant("c", {3, 4, 5}, 4.5) + "%s = fm.add %x, %p : " +
           t({-1, 3, 4, 5}) + ", " + t({3, 4, 5}) + " -> " + t({-1, 3, 4, 5}) +
           "\n%z = fm.add %s, %c : " + t({-1, 3, 4, 5}) + ", " + t({3, 4, 5}) +
           " -> " + t({-1, 3, 4, 5}) + "\n%y = fm.maxpool2d %z " +
           pool({2, 3}, {1, 2}, {0, 1, 1, 1}) + " : " + t({-1, 3, 4, 5}) +
           " -> " + t({-1, 3, 4, 3}),
       t({-1, 3, 4, 3})});

  //===--- average pooling
  //-------------------------------------------------===//
  all.push_back({"avgpool_3x3_stride2_padding",
                 {{"x", t({2, 3, 7, 6})}},
                 {},
                 "%y = fm.avgpool2d %x " + pool({3, 3}, {2, 2}, {1, 1, 1, 0}) +
                     " : " + t({2, 3, 7, 6}) + " -> " + t({2, 3, 4, 3}),
                 t({2, 3, 4, 3})});
  all.push_back({"avgpool_2x3_batch",
                 {{"p", t({2, 1, 1})}},
                 {{"x", t({-1, 2, 5, 7})}},
                 "%s = fm.mul %x, %p : " + t({-1, 2, 5, 7}) + ", " +
                     t({2, 1, 1}) + " -> " + t({-1, 2, 5, 7}) +
                     "\n%y = fm.avgpool2d %s " +
                     pool({2, 3}, {2, 2}, {0, 1, 1, 0}) + " : " +
                     t({-1, 2, 5, 7}) + " -> " + t({-1, 2, 3, 3}),
                 t({-1, 2, 3, 3})});
  all.push_back({"avgpool2d_backward",
                 {{"g", t({2, 3, 4, 3})}},
                 {},
                 "%y = fm.avgpool2d_backward %g " +
                     pool({3, 3}, {2, 2}, {1, 1, 1, 0}) + " : " +
                     t({2, 3, 4, 3}) + " -> " + t({2, 3, 7, 6}),
                 t({2, 3, 7, 6})});

  //===--- a small CNN with the batch
  //---------------------------------------===//
  // conv -> + C (|conv| <= 9: spacing 20) -> maxpool -> flatten -> dense.
  all.push_back(
      {"cnn_batch",
       {{"w1", t({4, 1, 3, 3})}, {"w2", t({16, 3})}},
       {{"x", t({-1, 1, 6, 6})}},
       "%h = fm.conv2d %x, %w1 " + conv({1, 1}, {0, 0, 0, 0}, {1, 1}, 1) +
           " : " + t({-1, 1, 6, 6}) + ", " + t({4, 1, 3, 3}) + " -> " +
           t({-1, 4, 4, 4}) + "\n" + spreadConstant("c", {4, 4, 4}, 20.0) +
           "%z = fm.add %h, %c : " + t({-1, 4, 4, 4}) + ", " + t({4, 4, 4}) +
           " -> " + t({-1, 4, 4, 4}) + "\n%p = fm.maxpool2d %z " +
           pool({2, 2}, {2, 2}, {0, 0, 0, 0}) + " : " + t({-1, 4, 4, 4}) +
           " -> " + t({-1, 4, 2, 2}) +
           "\n%f = fm.reshape %p : " + t({-1, 4, 2, 2}) + " -> " + t({-1, 16}) +
           "\n%y = fm.matmul %f, %w2 : " + t({-1, 16}) + ", " + t({16, 3}) +
           " -> " + t({-1, 3}),
       t({-1, 3})});
  return all;
}

class ConvGradientCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(ConvGradientCheck, MatchesCentralDifferences) {
  checkGradients(GetParam());
}

INSTANTIATE_TEST_SUITE_P(ConvOps, ConvGradientCheck,
                         ::testing::ValuesIn(cases()),
                         [](const auto &info) { return info.param.name; });

} // namespace
