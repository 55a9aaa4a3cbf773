//===- ConvolutionTest.cpp - Lowerings of convolution and pooling --------===//
//
// conv2d, its two gradients and max/avg pooling with theirs, JIT-run in
// f32 and f64 for batch extents 1, 3, 64 and 65 and compared with
// straightforward loops in double precision. The gradients' references
// scatter (each output adds into the inputs it read), while the lowerings
// gather, so the two are written independently. Geometries cover strides,
// asymmetric padding, dilation, groups (depthwise too), non-square
// kernels and the Fashion-MNIST CNN's own layers; max pooling is fed small
// integers so that windows tie and the first maximum must win.
// Hand schedules are also compared with all-root ones on fused kernels,
// and reruns must be bit-identical.
//
//===----------------------------------------------------------------------===//
#include "KernelCheck.h"

#include "codegen/Targets.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace fm;
using namespace fm::test;

namespace {

/// Convolution or pooling geometry (pooling uses kh, kw; conv the filter).
struct Geom {
  int64_t sh = 1, sw = 1, top = 0, left = 0, bottom = 0, right = 0;
  int64_t dh = 1, dw = 1, groups = 1, kh = 0, kw = 0;
};

std::string list(std::initializer_list<int64_t> v) {
  std::string s;
  for (int64_t x : v)
    s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

std::string convAttrs(const Geom &g) {
  return "{strides = array<i64: " + list({g.sh, g.sw}) +
         ">, padding = array<i64: " + list({g.top, g.left, g.bottom, g.right}) +
         ">, dilation = array<i64: " + list({g.dh, g.dw}) +
         ">, groups = " + std::to_string(g.groups) + " : i64}";
}

std::string poolAttrs(const Geom &g) {
  return "{kernel = array<i64: " + list({g.kh, g.kw}) +
         ">, strides = array<i64: " + list({g.sh, g.sw}) +
         ">, padding = array<i64: " + list({g.top, g.left, g.bottom, g.right}) +
         ">}";
}

/// `tensor<?x3x8x8xf32>` for {-1, 3, 8, 8}.
std::string type(const std::vector<int64_t> &shape) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += (d < 0 ? std::string("?") : std::to_string(d)) + "x";
  return s + "f32>";
}

std::string kernel(const std::string &args, const std::string &result,
                   const std::string &body) {
  return "func.func private @k(" + args + ") -> " + result +
         " attributes {fm.kernel} {\n" + body + "\n  return %r : " + result +
         "\n}\n";
}

int64_t outExtent(int64_t in, int64_t before, int64_t after, int64_t k,
                  int64_t s, int64_t d) {
  return (in + before + after - d * (k - 1) - 1) / s + 1;
}

/// Flat row-major offset of (a, b, c, d) in a rank-4 shape.
int64_t at4(const std::vector<int64_t> &s, int64_t a, int64_t b, int64_t c,
            int64_t d) {
  return ((a * s[1] + b) * s[2] + c) * s[3] + d;
}

/// Visits every (n, o, oy, ox, c, i, j) term of a convolution of input
/// shape `xs` and filter shape `ws`, with the input position it reads
/// (iy, ix), in range or not.
template <typename Fn>
void forEachTerm(const std::vector<int64_t> &xs, const std::vector<int64_t> &ws,
                 const Geom &g, Fn fn) {
  int64_t n = xs[0], cIn = xs[1], h = xs[2], w = xs[3];
  int64_t o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
  int64_t oh = outExtent(h, g.top, g.bottom, kh, g.sh, g.dh);
  int64_t ow = outExtent(w, g.left, g.right, kw, g.sw, g.dw);
  int64_t og = o / g.groups;
  (void)cIn;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t f = 0; f < o; ++f)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t iy = oy * g.sh + i * g.dh - g.top;
                int64_t ix = ox * g.sw + j * g.dw - g.left;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                  continue;
                fn(b, f, oy, ox, (f / og) * cg + c, c, i, j, iy, ix);
              }
}

std::vector<int64_t> convShape(const std::vector<int64_t> &xs,
                               const std::vector<int64_t> &ws, const Geom &g) {
  return {xs[0], ws[0], outExtent(xs[2], g.top, g.bottom, ws[2], g.sh, g.dh),
          outExtent(xs[3], g.left, g.right, ws[3], g.sw, g.dw)};
}

Host convRef(const Host &x, const Host &w, const Geom &g) {
  Host y(convShape(x.shape, w.shape, g));
  forEachTerm(x.shape, w.shape, g,
              [&](int64_t n, int64_t o, int64_t oy, int64_t ox, int64_t ci,
                  int64_t c, int64_t i, int64_t j, int64_t iy, int64_t ix) {
                y[at4(y.shape, n, o, oy, ox)] +=
                    x[at4(x.shape, n, ci, iy, ix)] *
                    w[at4(w.shape, o, c, i, j)];
              });
  return y;
}

Host backwardDataRef(const Host &gy, const Host &w, std::vector<int64_t> xs,
                     const Geom &g) {
  xs[0] = gy.shape[0];
  Host dx(xs);
  forEachTerm(xs, w.shape, g,
              [&](int64_t n, int64_t o, int64_t oy, int64_t ox, int64_t ci,
                  int64_t c, int64_t i, int64_t j, int64_t iy, int64_t ix) {
                dx[at4(xs, n, ci, iy, ix)] += gy[at4(gy.shape, n, o, oy, ox)] *
                                              w[at4(w.shape, o, c, i, j)];
              });
  return dx;
}

Host backwardFilterRef(const Host &x, const Host &gy,
                       const std::vector<int64_t> &ws, const Geom &g) {
  Host dw(ws);
  forEachTerm(x.shape, ws, g,
              [&](int64_t n, int64_t o, int64_t oy, int64_t ox, int64_t ci,
                  int64_t c, int64_t i, int64_t j, int64_t iy, int64_t ix) {
                dw[at4(ws, o, c, i, j)] += gy[at4(gy.shape, n, o, oy, ox)] *
                                           x[at4(x.shape, n, ci, iy, ix)];
              });
  return dw;
}

std::vector<int64_t> poolShape(const std::vector<int64_t> &xs, const Geom &g) {
  return {xs[0], xs[1], outExtent(xs[2], g.top, g.bottom, g.kh, g.sh, 1),
          outExtent(xs[3], g.left, g.right, g.kw, g.sw, 1)};
}

/// Visits every window with the in-range positions it holds, row-major.
template <typename Fn>
void forEachWindow(const std::vector<int64_t> &xs, const Geom &g, Fn fn) {
  std::vector<int64_t> ps = poolShape(xs, g);
  for (int64_t n = 0; n < ps[0]; ++n)
    for (int64_t c = 0; c < ps[1]; ++c)
      for (int64_t oy = 0; oy < ps[2]; ++oy)
        for (int64_t ox = 0; ox < ps[3]; ++ox) {
          std::vector<int64_t> offsets; // flat offsets into x
          for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
              int64_t iy = oy * g.sh + i - g.top, ix = ox * g.sw + j - g.left;
              if (iy >= 0 && iy < xs[2] && ix >= 0 && ix < xs[3])
                offsets.push_back(at4(xs, n, c, iy, ix));
            }
          fn(at4(ps, n, c, oy, ox), offsets);
        }
}

Host maxpoolRef(const Host &x, const Geom &g) {
  Host y(poolShape(x.shape, g));
  forEachWindow(x.shape, g, [&](int64_t out, const std::vector<int64_t> &in) {
    double m = -INFINITY;
    for (int64_t k : in)
      m = std::max(m, x[k]);
    y[out] = m;
  });
  return y;
}

Host maxpoolBackwardRef(const Host &x, const Host &gy, const Geom &g) {
  Host dx(x.shape);
  forEachWindow(x.shape, g, [&](int64_t out, const std::vector<int64_t> &in) {
    int64_t first = in.front();
    for (int64_t k : in)
      if (x[k] > x[first])
        first = k;
    dx[first] += gy[out];
  });
  return dx;
}

Host avgpoolRef(const Host &x, const Geom &g) {
  Host y(poolShape(x.shape, g));
  forEachWindow(x.shape, g, [&](int64_t out, const std::vector<int64_t> &in) {
    for (int64_t k : in)
      y[out] += x[k];
    y[out] /= double(g.kh * g.kw);
  });
  return y;
}

Host avgpoolBackwardRef(const Host &gy, std::vector<int64_t> xs,
                        const Geom &g) {
  xs[0] = gy.shape[0];
  Host dx(xs);
  forEachWindow(xs, g, [&](int64_t out, const std::vector<int64_t> &in) {
    for (int64_t k : in)
      dx[k] += gy[out] / double(g.kh * g.kw);
  });
  return dx;
}

CheckOptions options() {
  CheckOptions o;
  o.batches = {1, 3, 64, 65};
  // Sums of up to ~1000 f32 products.
  o.rtol32 = 1e-4;
  o.atol32 = 1e-4;
  // FM_TEST_ROOT=1 runs the reference checks with all-root schedules: a
  // failure in both is the algorithm's, in one the hand schedule's.
  if (getenv("FM_TEST_ROOT"))
    o.schedule = ScheduleKind::Root;
  return o;
}

/// Checks conv2d and both its gradients for input shape `xs` ([-1, ...]),
/// filter shape `ws` and geometry `g`.
void checkConv(const std::vector<int64_t> &xs, const std::vector<int64_t> &ws,
               const Geom &g, const std::string &what) {
  SCOPED_TRACE(what);
  std::vector<int64_t> ys = convShape(xs, ws, g);
  std::string attrs = convAttrs(g);
  {
    SCOPED_TRACE("conv2d");
    std::string src =
        kernel("%x: " + type(xs) + ", %w: " + type(ws), type(ys),
               "  %r = fm.conv2d %x, %w " + attrs + " : " + type(xs) + ", " +
                   type(ws) + " -> " + type(ys));
    checkKernel(
        src, {uniform(xs), uniform(ws)},
        [&](const std::vector<Host> &a) {
          return std::vector<Host>{convRef(a[0], a[1], g)};
        },
        options());
  }
  {
    SCOPED_TRACE("conv2d_backward_data");
    std::string src =
        kernel("%g: " + type(ys) + ", %w: " + type(ws), type(xs),
               "  %r = fm.conv2d_backward_data %g, %w " + attrs + " : " +
                   type(ys) + ", " + type(ws) + " -> " + type(xs));
    checkKernel(
        src, {uniform(ys), uniform(ws)},
        [&](const std::vector<Host> &a) {
          return std::vector<Host>{backwardDataRef(a[0], a[1], xs, g)};
        },
        options());
  }
  {
    SCOPED_TRACE("conv2d_backward_filter");
    std::string src =
        kernel("%x: " + type(xs) + ", %g: " + type(ys), type(ws),
               "  %r = fm.conv2d_backward_filter %x, %g " + attrs + " : " +
                   type(xs) + ", " + type(ys) + " -> " + type(ws));
    CheckOptions o = options();
    o.rtol32 = o.atol32 = 1e-3; // sums over the batch: ~65 * 700 terms
    checkKernel(
        src, {uniform(xs), uniform(ys)},
        [&](const std::vector<Host> &a) {
          return std::vector<Host>{backwardFilterRef(a[0], a[1], ws, g)};
        },
        o);
  }
}

/// Checks max and avg pooling and their gradients; max pooling reads
/// integers in [0, 3) so that most windows tie.
void checkPool(const std::vector<int64_t> &xs, const Geom &g,
               const std::string &what) {
  SCOPED_TRACE(what);
  std::vector<int64_t> ys = poolShape(xs, g);
  std::string attrs = poolAttrs(g);
  std::string xt = type(xs), yt = type(ys);
  ArgGen ties = ints(xs, 3);
  checkKernel(
      kernel("%x: " + xt, yt,
             "  %r = fm.maxpool2d %x " + attrs + " : " + xt + " -> " + yt),
      {ties},
      [&](const std::vector<Host> &a) {
        return std::vector<Host>{maxpoolRef(a[0], g)};
      },
      options());
  for (const ArgGen &xgen : {ties, uniform(xs)}) {
    SCOPED_TRACE("maxpool2d_backward");
    checkKernel(
        kernel("%x: " + xt + ", %g: " + yt, xt,
               "  %r = fm.maxpool2d_backward %x, %g " + attrs + " : " + xt +
                   ", " + yt + " -> " + xt),
        {xgen, uniform(ys)},
        [&](const std::vector<Host> &a) {
          return std::vector<Host>{maxpoolBackwardRef(a[0], a[1], g)};
        },
        options());
  }
  checkKernel(
      kernel("%x: " + xt, yt,
             "  %r = fm.avgpool2d %x " + attrs + " : " + xt + " -> " + yt),
      {uniform(xs)},
      [&](const std::vector<Host> &a) {
        return std::vector<Host>{avgpoolRef(a[0], g)};
      },
      options());
  checkKernel(
      kernel("%g: " + yt, xt,
             "  %r = fm.avgpool2d_backward %g " + attrs + " : " + yt + " -> " +
                 xt),
      {uniform(ys)},
      [&](const std::vector<Host> &a) {
        return std::vector<Host>{avgpoolBackwardRef(a[0], xs, g)};
      },
      options());
}

} // namespace

//===----------------------------------------------------------------------===//
// Against reference loops
//===----------------------------------------------------------------------===//

TEST(ConvolutionTest, Basic) {
  checkConv({-1, 3, 7, 6}, {5, 3, 3, 3}, Geom{}, "3x3 valid");
}

TEST(ConvolutionTest, StridesPaddingDilation) {
  Geom g;
  g.sh = 2, g.sw = 1, g.top = 1, g.left = 2, g.bottom = 0, g.right = 1;
  checkConv({-1, 4, 9, 8}, {6, 4, 3, 2}, g, "stride 2x1, padding 1,2,0,1, 3x2");
  Geom d;
  d.dh = 2, d.dw = 2, d.top = d.bottom = d.left = d.right = 2;
  checkConv({-1, 2, 8, 7}, {3, 2, 3, 3}, d, "dilation 2, padding 2 (same)");
  Geom s;
  s.sh = s.sw = 2, s.top = 1, s.left = 0, s.bottom = 2, s.right = 1;
  checkConv({-1, 3, 10, 9}, {4, 3, 1, 4}, s, "stride 2, 1x4 kernel");
  Geom u; // strides that skip the last input rows and columns
  u.sh = 3, u.sw = 2;
  checkConv({-1, 2, 8, 8}, {2, 2, 2, 3}, u, "stride 3x2, uncovered edge");
}

TEST(ConvolutionTest, Groups) {
  Geom g;
  g.groups = 2, g.top = g.left = g.bottom = g.right = 1;
  checkConv({-1, 4, 6, 6}, {6, 2, 3, 3}, g, "2 groups");
  Geom d;
  d.groups = 8, d.sh = d.sw = 2, d.top = d.left = 1;
  checkConv({-1, 8, 9, 9}, {8, 1, 3, 3}, d, "depthwise, stride 2");
  Geom m;
  m.groups = 4;
  checkConv({-1, 4, 6, 7}, {8, 1, 2, 3}, m, "depthwise, multiplier 2");
}

TEST(ConvolutionTest, FewTapsWideRows) {
  // Filter gradients with few taps per filter sum in vectors along x
  // (conv1 too): grouped, strided, dilated and padded here.
  Geom g;
  g.groups = 2, g.sw = 2, g.dh = 2, g.top = 1, g.left = 1, g.right = 2;
  checkConv({-1, 4, 7, 21}, {8, 2, 1, 3}, g, "2 groups, 1x3, stride 1x2");
  Geom d;
  d.groups = 3, d.top = d.bottom = 1;
  checkConv({-1, 3, 5, 12}, {3, 1, 3, 3}, d, "depthwise, 12 wide");
}

TEST(ConvolutionTest, WideChannels) {
  // Enough channels and reduction for the channel-vectorised schedule,
  // with channel counts that do not fill the last vector.
  Geom g;
  g.top = g.left = g.bottom = g.right = 1;
  checkConv({-1, 20, 7, 5}, {36, 20, 3, 3}, g, "36 filters, padding 1");
  Geom s;
  s.sh = s.sw = 2;
  checkConv({-1, 16, 9, 9}, {24, 16, 3, 3}, s, "stride 2, 24 filters");
}

TEST(ConvolutionTest, FashionMnistLayers) {
  checkConv({-1, 1, 28, 28}, {32, 1, 3, 3}, Geom{}, "conv1");
  checkConv({-1, 32, 13, 13}, {64, 32, 3, 3}, Geom{}, "conv2");
  checkConv({-1, 64, 5, 5}, {128, 64, 3, 3}, Geom{}, "conv3");
}

TEST(PoolingTest, Windows) {
  Geom two;
  two.kh = two.kw = 2, two.sh = two.sw = 2;
  checkPool({-1, 3, 26, 26}, two, "2x2 stride 2 (conv1's pool)");
  checkPool({-1, 4, 11, 11}, two, "2x2 stride 2, odd input");
  Geom overlap;
  overlap.kh = 3, overlap.kw = 2, overlap.sh = 2, overlap.sw = 1;
  overlap.top = 1, overlap.left = 0, overlap.bottom = 2, overlap.right = 1;
  checkPool({-1, 2, 7, 9}, overlap, "3x2 stride 2x1, padding 1,0,2,1");
  Geom three;
  three.kh = three.kw = 3, three.sh = three.sw = 2;
  three.top = three.left = three.bottom = three.right = 1;
  checkPool({-1, 2, 9, 10}, three, "3x3 stride 2, padding 1");
  Geom global;
  global.kh = global.kw = 3, global.sh = global.sw = 3;
  checkPool({-1, 5, 3, 3}, global, "3x3 on 3x3 (conv3's pool)");
}

//===----------------------------------------------------------------------===//
// Hand schedules against all-root ones; determinism
//===----------------------------------------------------------------------===//

static const char *kFused = R"mlir(
func.func private @conv_bias_relu(%x: tensor<?x32x13x13xf32>, %w: tensor<64x32x3x3xf32>, %b: tensor<64xf32>)
    -> tensor<?x64x11x11xf32> attributes {fm.kernel} {
  %c = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x32x13x13xf32>, tensor<64x32x3x3xf32> -> tensor<?x64x11x11xf32>
  %br = fm.reshape %b : tensor<64xf32> -> tensor<64x1x1xf32>
  %s = fm.add %c, %br : tensor<?x64x11x11xf32>, tensor<64x1x1xf32> -> tensor<?x64x11x11xf32>
  %r = fm.relu %s : tensor<?x64x11x11xf32> -> tensor<?x64x11x11xf32>
  return %r : tensor<?x64x11x11xf32>
}
func.func private @first_layer(%x: tensor<?x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32x1x1xf32>)
    -> tensor<?x32x13x13xf32> attributes {fm.kernel} {
  %c = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x1x28x28xf32>, tensor<32x1x3x3xf32> -> tensor<?x32x26x26xf32>
  %s = fm.add %c, %b : tensor<?x32x26x26xf32>, tensor<32x1x1xf32> -> tensor<?x32x26x26xf32>
  %a = fm.relu %s : tensor<?x32x26x26xf32> -> tensor<?x32x26x26xf32>
  %p = fm.maxpool2d %a {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<?x32x26x26xf32> -> tensor<?x32x13x13xf32>
  return %p : tensor<?x32x13x13xf32>
}
func.func private @pool_then_conv(%x: tensor<?x64x11x11xf32>, %w: tensor<128x64x3x3xf32>)
    -> tensor<?x128x3x3xf32> attributes {fm.kernel} {
  %p = fm.maxpool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<?x64x11x11xf32> -> tensor<?x64x5x5xf32>
  %r = fm.conv2d %p, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x64x5x5xf32>, tensor<128x64x3x3xf32> -> tensor<?x128x3x3xf32>
  return %r : tensor<?x128x3x3xf32>
}
func.func private @backward(%x: tensor<?x32x13x13xf32>, %a: tensor<?x64x11x11xf32>, %g: tensor<?x64x5x5xf32>,
                            %w: tensor<64x32x3x3xf32>)
    -> (tensor<?x32x13x13xf32>, tensor<64x32x3x3xf32>) attributes {fm.kernel} {
  %dp = fm.maxpool2d_backward %a, %g {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<?x64x11x11xf32>, tensor<?x64x5x5xf32> -> tensor<?x64x11x11xf32>
  %zero = fm.constant dense<0.0> : tensor<f32>
  %m = fm.compare "gt", %a, %zero : tensor<?x64x11x11xf32>, tensor<f32> -> tensor<?x64x11x11xi1>
  %d = fm.select %m, %dp, %zero : tensor<?x64x11x11xi1>, tensor<?x64x11x11xf32>, tensor<f32> -> tensor<?x64x11x11xf32>
  %dx = fm.conv2d_backward_data %d, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x64x11x11xf32>, tensor<64x32x3x3xf32> -> tensor<?x32x13x13xf32>
  %dw = fm.conv2d_backward_filter %x, %d {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x32x13x13xf32>, tensor<?x64x11x11xf32> -> tensor<64x32x3x3xf32>
  return %dx, %dw : tensor<?x32x13x13xf32>, tensor<64x32x3x3xf32>
}
func.func private @conv_pool_odd_channels(%x: tensor<?x5x9x9xf32>, %w: tensor<20x5x3x3xf32>)
    -> tensor<?x20x5x5xf32> attributes {fm.kernel} {
  %c = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x5x9x9xf32>, tensor<20x5x3x3xf32> -> tensor<?x20x9x9xf32>
  %r = fm.maxpool2d %c {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
      : tensor<?x20x9x9xf32> -> tensor<?x20x5x5xf32>
  return %r : tensor<?x20x5x5xf32>
}
func.func private @static_small_batch(%x: tensor<2x16x8x8xf32>, %w: tensor<24x16x3x3xf32>, %v: tensor<16x4x3x3xf32>)
    -> (tensor<2x24x6x6xf32>, tensor<2x16x8x8xf32>) attributes {fm.kernel} {
  %a = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<2x16x8x8xf32>, tensor<24x16x3x3xf32> -> tensor<2x24x6x6xf32>
  %b = fm.conv2d %x, %v {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 4 : i64}
      : tensor<2x16x8x8xf32>, tensor<16x4x3x3xf32> -> tensor<2x16x8x8xf32>
  return %a, %b : tensor<2x24x6x6xf32>, tensor<2x16x8x8xf32>
}
func.func private @grouped_backward(%x: tensor<?x12x7x7xf32>, %g: tensor<?x24x4x4xf32>, %w: tensor<24x4x3x3xf32>)
    -> (tensor<?x12x7x7xf32>, tensor<24x4x3x3xf32>) attributes {fm.kernel} {
  %dx = fm.conv2d_backward_data %g, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 3 : i64}
      : tensor<?x24x4x4xf32>, tensor<24x4x3x3xf32> -> tensor<?x12x7x7xf32>
  %dw = fm.conv2d_backward_filter %x, %g {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 3 : i64}
      : tensor<?x12x7x7xf32>, tensor<?x24x4x4xf32> -> tensor<24x4x3x3xf32>
  return %dx, %dw : tensor<?x12x7x7xf32>, tensor<24x4x3x3xf32>
}
func.func private @overlapping_pools(%x: tensor<?x6x9x9xf32>, %g: tensor<?x6x9x9xf32>)
    -> (tensor<?x6x9x9xf32>, tensor<?x6x9x9xf32>) attributes {fm.kernel} {
  %dm = fm.maxpool2d_backward %x, %g {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>}
      : tensor<?x6x9x9xf32>, tensor<?x6x9x9xf32> -> tensor<?x6x9x9xf32>
  %da = fm.avgpool2d_backward %g {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>}
      : tensor<?x6x9x9xf32> -> tensor<?x6x9x9xf32>
  return %dm, %da : tensor<?x6x9x9xf32>, tensor<?x6x9x9xf32>
}
)mlir";

class ConvScheduleTest : public ::testing::TestWithParam<const char *> {};

TEST_P(ConvScheduleTest, HandMatchesRootAndReruns) {
  auto parsed = parseModule(kFused);
  ASSERT_TRUE(parsed);
  mlir::func::FuncOp func = parsed->lookup(GetParam());
  ASSERT_TRUE(func);
  std::unique_ptr<JitKernel> hand = jitKernel(func, ScheduleKind::Hand);
  std::unique_ptr<JitKernel> root = jitKernel(func, ScheduleKind::Root);
  ASSERT_TRUE(hand && root);
  std::mt19937 rng(11);
  // f32 sums of up to 576 products whose partial sums reach ~10: vector
  // and scalar code round differently (FMA contraction).
  expectSameOutputs(*hand, *root, {1, 3, 64, 65}, rng, 1e-4, 1e-4,
                    /*rerun=*/true);
}

INSTANTIATE_TEST_SUITE_P(Kernels, ConvScheduleTest,
                         ::testing::Values("conv_bias_relu", "first_layer",
                                           "pool_then_conv", "backward",
                                           "conv_pool_odd_channels",
                                           "static_small_batch",
                                           "grouped_backward",
                                           "overlapping_pools"));

//===----------------------------------------------------------------------===//
// Other targets
//===----------------------------------------------------------------------===//

// The hand schedules size register tiles and vectors by the target: every
// kernel above must schedule and compile for each x86-64 level (4, 8 and
// 16 float lanes) without a Halide warning. The machine may lack a level,
// so the code is compiled, not run; TargetLevelsTest runs
// whole models on the levels this CPU has.
TEST(ConvScheduleTargets, EveryLevelCompilesWithoutWarnings) {
  auto parsed = parseModule(kFused);
  ASSERT_TRUE(parsed);
  for (const TargetVariant &level : getX86Levels())
    for (const char *name :
         {"conv_bias_relu", "first_layer", "pool_then_conv", "backward",
          "conv_pool_odd_channels", "grouped_backward"}) {
      SCOPED_TRACE(std::string(name) + " for " + level.name);
      expectCompilesWithoutWarnings(parsed->lookup(name), level.target);
    }
}
