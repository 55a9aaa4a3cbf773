//===- Convolution.cpp - conv2d, its gradients, pooling ------*- C++ -*-===//
//
// This file implements the Halide lowerings of the ops of ir/FmConvOps.td.
// Halide dimensions are innermost first: an NCHW tensor is f(x, y, c, n).
//
// conv2d is a sum over a window of channels, lowered to three kinds of
// Func:
//   - packs (ConvPack): the activation zero-padded and the filter reordered
//     so that the channels a vector computes are contiguous. Packs are
//     defined everywhere (reads are clamped, outside is zero), so a
//     schedule may compute whole register tiles past any edge;
//   - an accumulator (ConvAcc) `acc(ch, x, y, n)`, channels innermost,
//     reducing over (channel', kw, kh) with static extents;
//   - the NCHW result (Conv) `out(x, y, ch, n) = acc(ch, x, y, n)`.
// conv2d_backward_data is the same pattern with a 1x1 window: the columns
// `cols[n, (c, kw, kh), y, x] = sum over o of w[o, c, kh, kw] * g[n, o, y, x]`
// (every product useful: a transposed convolution over the padded, spread
// gradient would mostly multiply zeros on small images and with strides),
// then dx gathers each input pixel's taps from the columns (col2im, a
// Window).
//
// conv2d_backward_filter reduces over the batch and the output pixels.
// The sum is split into chunks of images (getFilterChunk) in the algorithm
// itself (FilterAcc per chunk, FilterSum over chunks, then the OIHW result
// Filter), so every schedule adds in the same order and results are
// bit-identical whatever the schedule or thread count.
//
// Pooling ops are pure Funcs (Window) with their windows unrolled. Max
// pooling's gradient goes to the first maximal element of a window in
// row-major order (PyTorch's choice): an argmax Func records it and the
// gradient gathers, for each input element, from the windows that hold it.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

#include "ir/FmDialect.h"

#include <algorithm>

using namespace ::fm::lowering;
using namespace mlir;
using namespace mlir::fm;
using ::fm::StageKind;
using Halide::Expr;
using Halide::Func;
using Halide::Var;

/// Images per partial sum of a filter gradient (see the file comment):
/// about kFilterChunkPixels output pixels, 8 to 64 images.
static constexpr int64_t kFilterChunkPixels = 1024;
/// Filter gradients of at most kFilterLaneRows taps per output channel
/// (Cg * KH * KW) sum in native vectors along x (lowerFilterByLanes). The
/// lane count is part of the algorithm (it fixes the order of the sums),
/// so it is the target's vector width, which the schedule vectorises by:
/// a constant 8 lanes scheduled as 16-lane AVX-512 vectors made a
/// pipeline that Halide proved would fail its bounds assertion.
static constexpr int64_t kFilterLaneRows = 16;
static int64_t getFilterChunk(int64_t pixels) {
  int64_t chunk = 8;
  while (chunk < 64 && chunk * 2 * pixels <= kFilterChunkPixels)
    chunk *= 2;
  return chunk;
}

namespace {
/// The geometry of a convolution or pooling, from its attributes and the
/// shapes of its input (NCHW), filter (OIHW) and output (NCHW).
struct Geometry {
  Expr n;            // batch extent
  int64_t c, h, w;   // input
  int64_t o, kh, kw; // filters (pooling: o = c)
  int64_t oh, ow;    // output
  int64_t sh, sw, top, left, dh = 1, dw = 1, groups = 1;
  int64_t cg() const { return c / groups; }
  int64_t og() const { return o / groups; }
};

/// Index helpers: clamps into [0, extent).
Expr clampTo(Expr e, int64_t extent) {
  return Halide::clamp(e, 0, static_cast<int>(extent - 1));
}
Expr clampTo(Expr e, Expr extent) { return Halide::clamp(e, 0, extent - 1); }
/// A clamp that is usually a no-op: Halide splits the loop over `e` into
/// edges and an interior where the clamp (and selects on the same
/// bounds) disappear, so interior loads stay dense vectors.
Expr clampLikely(Expr e, int64_t extent) {
  return Halide::clamp(Halide::likely(e), 0, static_cast<int>(extent - 1));
}
Expr i32(int64_t v) { return Expr(static_cast<int>(v)); }
} // namespace

static Geometry getGeometry(Operation *op, const Tensor &input,
                            ArrayRef<int64_t> filterShape,
                            ArrayRef<int64_t> outputShape) {
  auto attr = [&](StringRef name) {
    return op->getAttrOfType<DenseI64ArrayAttr>(name).asArrayRef();
  };
  Geometry g;
  g.n = input.extents[0];
  g.c = input.shape[1], g.h = input.shape[2], g.w = input.shape[3];
  g.oh = outputShape[2], g.ow = outputShape[3];
  ArrayRef<int64_t> strides = attr("strides"), padding = attr("padding");
  g.sh = strides[0], g.sw = strides[1], g.top = padding[0], g.left = padding[1];
  if (auto kernel = op->getAttrOfType<DenseI64ArrayAttr>("kernel")) {
    g.o = g.c, g.kh = kernel[0], g.kw = kernel[1];
    return g;
  }
  ArrayRef<int64_t> dilation = attr("dilation");
  g.dh = dilation[0], g.dw = dilation[1];
  g.groups = op->getAttrOfType<IntegerAttr>("groups").getInt();
  g.o = filterShape[0], g.kh = filterShape[2], g.kw = filterShape[3];
  return g;
}

//===----------------------------------------------------------------------===//
// Packs
//===----------------------------------------------------------------------===//

/// `x` zero-padded: pad(x', y', c, n) = x(x' - left, y' - top, c, n) inside
/// the input and 0 outside, for any x', y', c, n (reads are clamped).
static Func padActivation(const Tensor &x, const Geometry &g,
                          const std::string &name) {
  Var px("x"), py("y"), c("c"), n("n");
  Expr inside = px >= i32(g.left) && px < i32(g.left + g.w) &&
                py >= i32(g.top) && py < i32(g.top + g.h);
  Expr v = x.func(clampLikely(px - i32(g.left), g.w),
                  clampLikely(py - i32(g.top), g.h), clampTo(c, g.c),
                  clampTo(n, g.n));
  Func pad(name);
  pad(px, py, c, n) = Halide::select(inside, v, Lowering::constant(x.type, 0));
  return pad;
}

/// The filter with output channels innermost: pack(o, c, kw, kh) =
/// w[o, c, kh, kw], zero for o >= O (tiles of channels may overrun O).
static Func packFilter(const Tensor &w, const Geometry &g,
                       const std::string &name) {
  Var o("o"), c("c"), kw("kw"), kh("kh");
  Expr v = w.at({clampTo(o, g.o), clampTo(c, g.cg()), clampTo(kh, g.kh),
                 clampTo(kw, g.kw)});
  Func pack(name);
  pack(o, c, kw, kh) =
      Halide::select(o < i32(g.o), v, Lowering::constant(w.type, 0));
  return pack;
}

//===----------------------------------------------------------------------===//
// Conv2DOp, Conv2DBackwardDataOp
//===----------------------------------------------------------------------===//

/// Defines `acc(ch, x, y, n) = sum over r of term(r, ch, x, y, n)` and the
/// NCHW Func `out(x, y, ch, n) = acc(ch, x, y, n)`; records both with the
/// packs they read and returns `out` (named with `suffix` if not empty,
/// else bound to the op's result).
static Func defineConvolution(Operation *op, Lowering &ctx, Halide::Type type,
                              const Expr &term, const std::vector<Var> &vars,
                              const std::vector<Func> &packs, int64_t groups,
                              const std::string &suffix = "",
                              std::vector<int64_t> shape = {}) {
  Value result = op->getResult(0);
  if (shape.empty())
    shape = Lowering::getShape(result);
  Var ch = vars[0], x = vars[1], y = vars[2], n = vars[3];
  Func acc(ctx.getName(op, suffix.empty() ? "acc" : suffix + "_acc"));
  acc(ch, x, y, n) = Lowering::constant(type, 0);
  acc(ch, x, y, n) += term;
  ctx.addStage(acc, StageKind::ConvAcc, packs,
               {shape[0], shape[2], shape[3], shape[1]})
      .groups = groups;
  Func out(ctx.getName(op, suffix));
  out(x, y, ch, n) = acc(ch, x, y, n);
  if (suffix.empty())
    ctx.bind(result, out, StageKind::Conv, {acc});
  else
    ctx.addStage(out, StageKind::Conv, {acc}, shape);
  return out;
}

static LogicalResult lowerConv2D(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0)), w = ctx.get(op->getOperand(1));
  Geometry g =
      getGeometry(op, x, w.shape, Lowering::getShape(op->getResult(0)));
  Func pad = padActivation(x, g, ctx.getName(op, "input"));
  ctx.addStage(pad, StageKind::ConvPack, {x.func},
               {x.shape[0], g.c, g.h + 2 * g.top, g.w + 2 * g.left});
  Func filter = packFilter(w, g, ctx.getName(op, "filter"));
  ctx.addStage(filter, StageKind::ConvPack, {w.func},
               {g.kh, g.kw, g.cg(), g.o});

  // acc(o, x, y, n) += pad(x*sw + kw*dw, y*sh + kh*dh, group(o)*C/G + c, n)
  //                    * filter(o, c, kw, kh)
  // with c innermost: consecutive steps read other channels, never an
  // element that the next pixel of the tile reads too (with kw innermost,
  // LLVM keeps such reads live across unrolled steps and spills).
  Halide::RDom r({{0, i32(g.cg())}, {0, i32(g.kw)}, {0, i32(g.kh)}},
                 ctx.getName(op, "r"));
  Var o("o"), ox("x"), oy("y"), n("n");
  Expr channel =
      g.groups == 1 ? Expr(r.x) : (o / i32(g.og())) * i32(g.cg()) + r.x;
  Expr term = pad(ox * i32(g.sw) + r.y * i32(g.dw),
                  oy * i32(g.sh) + r.z * i32(g.dh), channel, n) *
              filter(o, r.x, r.y, r.z);
  defineConvolution(op, ctx, x.type, term, {o, ox, oy, n}, {pad, filter},
                    g.groups);
  return success();
}

static LogicalResult lowerConv2DBackwardData(Operation *op, Lowering &ctx) {
  Tensor grad = ctx.get(op->getOperand(0)), w = ctx.get(op->getOperand(1));
  Value result = op->getResult(0);
  std::vector<int64_t> xShape = Lowering::getShape(result);
  Tensor x{Func(), grad.type, xShape, ctx.getExtents(xShape)};
  Geometry g = getGeometry(op, x, w.shape, grad.shape);
  int64_t taps = g.kh * g.kw, columns = g.c * taps;

  // The output gradient, zero outside (tiles of pixels may overrun it).
  Var ox("x"), oy("y"), o("o"), n("n");
  Expr inside = ox >= 0 && oy >= 0 && ox < i32(g.ow) && oy < i32(g.oh) &&
                o >= 0 && o < i32(g.o);
  Func gradPack(ctx.getName(op, "grad"));
  gradPack(ox, oy, o, n) =
      Halide::select(inside,
                     grad.func(clampTo(ox, g.ow), clampTo(oy, g.oh),
                               clampTo(o, g.o), clampTo(n, g.n)),
                     Lowering::constant(grad.type, 0));
  ctx.addStage(gradPack, StageKind::ConvPack, {grad.func},
               {grad.shape[0], g.o, g.oh, g.ow});

  // The filter transposed, its columns (c, kw, kh) innermost, per group:
  // filter(col, oo) = w[group(c) * O/G + oo, c % (C/G), kh, kw] where
  // col = c + C * (kw + KW * kh).
  Var col("col"), oo("oo");
  Expr cl = clampTo(col, columns);
  Expr c = cl % i32(g.c), tap = cl / i32(g.c);
  Expr wv = w.at({(c / i32(g.cg())) * i32(g.og()) + clampTo(oo, g.og()),
                  c % i32(g.cg()), tap / i32(g.kw), tap % i32(g.kw)});
  Func filter(ctx.getName(op, "filter"));
  filter(col, oo) =
      Halide::select(col < i32(columns), wv, Lowering::constant(w.type, 0));
  ctx.addStage(filter, StageKind::ConvPack, {w.func}, {g.og(), columns});

  // The columns of the gradient (a 1x1 convolution):
  //   acc(col, x, y, n) = sum over oo of filter(col, oo) * grad(x, y,
  //                       group(c) * O/G + oo, n)
  // every term useful, whatever the strides and padding.
  Halide::RDom r(0, i32(g.og()), ctx.getName(op, "r"));
  Expr channel = g.groups == 1
                     ? Expr(r)
                     : ((col % i32(g.c)) / i32(g.cg())) * i32(g.og()) + r;
  Expr term = gradPack(ox, oy, channel, n) * filter(col, r);
  Func columnsFunc = defineConvolution(
      op, ctx, grad.type, term, {col, ox, oy, n}, {gradPack, filter}, g.groups,
      "columns", {grad.shape[0], columns, g.oh, g.ow});

  // dx gathers its taps from the columns (col2im): the input pixel
  // (x, y) is tap (kw, kh) of output pixel ((x + left - kw*dw) / sw, ...)
  // when that divides exactly and lies inside the output.
  Var ix("x"), iy("y"), ic("c");
  Expr zero = Lowering::constant(grad.type, 0), sum;
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) {
      Expr py = iy + i32(g.top - i * g.dh), px = ix + i32(g.left - j * g.dw);
      Expr qy = py / i32(g.sh), qx = px / i32(g.sw);
      Expr valid = py >= 0 && px >= 0 && qy < i32(g.oh) && qx < i32(g.ow);
      if (g.sh > 1)
        valid = valid && py % i32(g.sh) == 0;
      if (g.sw > 1)
        valid = valid && px % i32(g.sw) == 0;
      Expr v = columnsFunc(clampLikely(qx, g.ow), clampLikely(qy, g.oh),
                           ic + i32(g.c * (j + g.kw * i)), n);
      Expr term = Halide::select(valid, v, zero);
      sum = sum.defined() ? sum + term : term;
    }
  Func dx(ctx.getName(op));
  dx(ix, iy, ic, n) = sum;
  ctx.bind(result, dx, StageKind::Window, {columnsFunc});
  return success();
}

//===----------------------------------------------------------------------===//
// Conv2DBackwardFilterOp
//===----------------------------------------------------------------------===//

/// Defines the sum over chunks (and `lanes`) of the partial sums `acc` and
/// the OIHW result reading it, and binds the op's result.
static void bindFilterSum(Operation *op, Lowering &ctx, const Geometry &g,
                          Halide::Type type, Func acc, int64_t images,
                          int64_t lanes) {
  Var o("o"), kw("kw"), kh("kh"), c("c");
  Expr chunks = (g.n + i32(images - 1)) / i32(images);
  Func sum(ctx.getName(op, "sum"));
  sum(o, kw, kh, c) = Lowering::constant(type, 0);
  if (lanes > 1) {
    Halide::RDom r({{0, i32(lanes)}, {0, chunks}}, ctx.getName(op, "chunks"));
    sum(o, kw, kh, c) += acc(r.x, o, kw, kh, c, r.y);
  } else {
    Halide::RDom r(0, chunks, ctx.getName(op, "chunks"));
    sum(o, kw, kh, c) += acc(o, kw, kh, c, r);
  }
  ctx.addStage(sum, StageKind::FilterSum, {acc}, {g.cg(), g.kh, g.kw, g.o});
  Func out(ctx.getName(op));
  out(kw, kh, c, o) = sum(o, kw, kh, c);
  ctx.bind(op->getResult(0), out, StageKind::Filter, {sum});
}

/// The filter gradient of layers with few filter taps per output channel
/// (the first layer: 1 x 3 x 3): partial sums in vectors along x,
///   acc(lane, o, kw, kh, c, chunk) = sum over the chunk's images, y and
///     x = xo * L + lane of g(x, y, o, n) * pad(x*sw + kw*dw, ..., n),
/// summed over lanes and chunks at the end. The output gradient is read
/// as it is, rows of x: a transposed copy (channels innermost, as the
/// other form needs) would cost more than these few taps compute.
static LogicalResult lowerFilterByLanes(Operation *op, Lowering &ctx,
                                        const Tensor &x, const Tensor &grad,
                                        const Geometry &g, Func pad) {
  Var lane("lane"), o("o"), kw("kw"), kh("kh"), c("c"), chunk("chunk");
  int64_t images = getFilterChunk(g.oh * g.ow), L = ctx.getVectorLanes(x.type);
  Halide::RDom r(
      {{0, i32((g.ow + L - 1) / L)}, {0, i32(g.oh)}, {0, i32(images)}},
      ctx.getName(op, "r"));
  Expr image = chunk * i32(images) + r.z, ox = r.x * i32(L) + lane;
  r.where(image < g.n);
  Expr gv = Halide::select(ox < i32(g.ow),
                           grad.func(clampLikely(ox, g.ow), r.y,
                                     clampTo(o, g.o), clampTo(image, g.n)),
                           Lowering::constant(grad.type, 0));
  Expr channel = g.groups == 1 ? Expr(c) : (o / i32(g.og())) * i32(g.cg()) + c;
  Func acc(ctx.getName(op, "acc"));
  acc(lane, o, kw, kh, c, chunk) = Lowering::constant(x.type, 0);
  acc(lane, o, kw, kh, c, chunk) +=
      gv * pad(ox * i32(g.sw) + kw * i32(g.dw),
               r.y * i32(g.sh) + kh * i32(g.dh), channel, image);
  ctx.addStage(acc, StageKind::FilterAcc, {pad, grad.func},
               {-1, g.cg(), g.kh, g.kw, g.o, L})
      .groups = g.groups;
  bindFilterSum(op, ctx, g, x.type, acc, images, L);
  return success();
}

static LogicalResult lowerConv2DBackwardFilter(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0)), grad = ctx.get(op->getOperand(1));
  Value result = op->getResult(0);
  std::vector<int64_t> wShape = Lowering::getShape(result);
  Geometry g = getGeometry(op, x, wShape, grad.shape);

  Func pad = padActivation(x, g, ctx.getName(op, "input"));
  ctx.addStage(pad, StageKind::ConvPack, {x.func},
               {x.shape[0], g.c, g.h + 2 * g.top, g.w + 2 * g.left});
  if (g.cg() * g.kh * g.kw <= kFilterLaneRows &&
      g.ow >= ctx.getVectorLanes(x.type))
    return lowerFilterByLanes(op, ctx, x, grad, g, pad);
  // The output gradient with channels innermost, zero past O.
  Var o("o"), ox("x"), oy("y"), n("n");
  Func gradT(ctx.getName(op, "grad"));
  gradT(o, ox, oy, n) =
      Halide::select(o < i32(g.o),
                     grad.func(clampTo(ox, g.ow), clampTo(oy, g.oh),
                               clampTo(o, g.o), clampTo(n, g.n)),
                     Lowering::constant(grad.type, 0));
  ctx.addStage(gradT, StageKind::ConvPack, {grad.func},
               {grad.shape[0], g.oh, g.ow, g.o});

  // acc(o, kw, kh, c, chunk) = sum over the chunk's images n and output
  //   pixels (x, y) of gradT(o, x, y, n) * pad(x*sw + kw*dw, y*sh + kh*dh,
  //   group(o)*C/G + c, n)
  // The innermost loop runs along x, or over the chunk's images when rows
  // are short: LLVM unrolls a short x loop whole and keeps the inputs that
  // neighbouring pixels share (x + kw) live across steps, and spills.
  Var kw("kw"), kh("kh"), c("c"), chunk("chunk");
  int64_t images = getFilterChunk(g.oh * g.ow);
  bool imagesInnermost = g.ow < 8;
  Halide::Region region = {{0, i32(g.ow)}, {0, i32(g.oh)}, {0, i32(images)}};
  if (imagesInnermost)
    std::rotate(region.begin(), region.begin() + 2, region.end());
  Halide::RDom r(region, ctx.getName(op, "r"));
  Halide::RVar px = imagesInnermost ? r.y : r.x,
               py = imagesInnermost ? r.z : r.y,
               pn = imagesInnermost ? r.x : r.z;
  Expr image = chunk * i32(images) + pn;
  r.where(image < g.n);
  Expr channel = g.groups == 1 ? Expr(c) : (o / i32(g.og())) * i32(g.cg()) + c;
  Func acc(ctx.getName(op, "acc"));
  acc(o, kw, kh, c, chunk) = Lowering::constant(x.type, 0);
  acc(o, kw, kh, c, chunk) +=
      gradT(o, px, py, image) * pad(px * i32(g.sw) + kw * i32(g.dw),
                                    py * i32(g.sh) + kh * i32(g.dh), channel,
                                    image);
  ctx.addStage(acc, StageKind::FilterAcc, {gradT, pad},
               {-1, g.cg(), g.kh, g.kw, g.o})
      .groups = g.groups;
  bindFilterSum(op, ctx, g, x.type, acc, images, 1);
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

namespace {
/// Reads of a pooled input at padded coordinates, `outside` beyond it.
struct PaddedReader {
  const Tensor &x;
  const Geometry &g;
  Expr outside;
  Expr operator()(Expr px, Expr py, Expr c, Expr n) const {
    Expr ix = px - i32(g.left), iy = py - i32(g.top);
    Expr v = x.func(clampLikely(ix, g.w), clampLikely(iy, g.h), c, n);
    Expr inside = ix >= 0 && ix < i32(g.w) && iy >= 0 && iy < i32(g.h);
    return Halide::select(inside, v, outside);
  }
};

/// The windows that hold an input element, for gradients that gather:
/// calls `visit(ox, oy, kx, ky, valid)` for each candidate window (ox, oy)
/// of the element at input (x, y), whose offset in it is (kx, ky); ox, oy
/// are clamped into the output and `valid` says the window is real.
template <typename Fn>
void forEachWindow(const Geometry &g, Expr x, Expr y, Fn visit) {
  Expr px = x + i32(g.left), py = y + i32(g.top); // >= 0
  int64_t rows = (g.kh + g.sh - 1) / g.sh, cols = (g.kw + g.sw - 1) / g.sw;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      Expr oy = py / i32(g.sh) - i32(i), ox = px / i32(g.sw) - i32(j);
      Expr ky = py - oy * i32(g.sh), kx = px - ox * i32(g.sw);
      Expr valid = oy >= 0 && oy < i32(g.oh) && ox >= 0 && ox < i32(g.ow) &&
                   ky < i32(g.kh) && kx < i32(g.kw);
      visit(clampLikely(ox, g.ow), clampLikely(oy, g.oh), kx, ky, valid);
    }
}
} // namespace

static Geometry poolGeometry(Operation *op, const Tensor &x,
                             const std::vector<int64_t> &pooledShape) {
  return getGeometry(op, x, {}, pooledShape);
}

static LogicalResult lowerMaxPool(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0));
  Geometry g = poolGeometry(op, x, Lowering::getShape(op->getResult(0)));
  PaddedReader read{x, g, x.type.min()}; // -inf
  Var ox("x"), oy("y"), c("c"), n("n");
  Expr best;
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) {
      Expr v = read(ox * i32(g.sw) + i32(j), oy * i32(g.sh) + i32(i), c, n);
      best = best.defined() ? Halide::max(best, v) : v;
    }
  Func pool(ctx.getName(op));
  pool(ox, oy, c, n) = best;
  ctx.bind(op->getResult(0), pool, StageKind::Window);
  return success();
}

static LogicalResult lowerMaxPoolBackward(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0)), grad = ctx.get(op->getOperand(1));
  Geometry g = poolGeometry(op, x, grad.shape);
  PaddedReader read{x, g, x.type.min()};

  // argmax(x', y', c, n): the row-major offset i*kw + j of the first
  // maximum of each window (a later element must be strictly greater).
  Var ox("x"), oy("y"), c("c"), n("n");
  Expr best, index;
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) {
      Expr v = read(ox * i32(g.sw) + i32(j), oy * i32(g.sh) + i32(i), c, n);
      Expr k = i32(i * g.kw + j);
      if (!best.defined()) {
        best = v, index = k;
        continue;
      }
      index = Halide::select(v > best, k, index);
      best = Halide::max(best, v);
    }
  Func argmax(ctx.getName(op, "argmax"));
  argmax(ox, oy, c, n) = index;
  ctx.addStage(argmax, StageKind::Window, {x.func}, grad.shape);

  // dx(x, y, c, n) = sum of grad over the windows whose argmax is (x, y).
  Var ix("x"), iy("y");
  Expr zero = Lowering::constant(grad.type, 0), sum;
  forEachWindow(g, ix, iy, [&](Expr wx, Expr wy, Expr kx, Expr ky, Expr valid) {
    Expr hit = valid && argmax(wx, wy, c, n) == ky * i32(g.kw) + kx;
    Expr term = Halide::select(hit, grad.func(wx, wy, c, n), zero);
    sum = sum.defined() ? sum + term : term;
  });
  Func dx(ctx.getName(op));
  dx(ix, iy, c, n) = sum;
  ctx.bind(op->getResult(0), dx, StageKind::Window, {argmax, grad.func});
  return success();
}

static LogicalResult lowerAvgPool(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0));
  Geometry g = poolGeometry(op, x, Lowering::getShape(op->getResult(0)));
  PaddedReader read{x, g, Lowering::constant(x.type, 0)};
  Var ox("x"), oy("y"), c("c"), n("n");
  Expr sum;
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) {
      Expr v = read(ox * i32(g.sw) + i32(j), oy * i32(g.sh) + i32(i), c, n);
      sum = sum.defined() ? sum + v : v;
    }
  Func pool(ctx.getName(op));
  pool(ox, oy, c, n) = sum / Lowering::constant(x.type, g.kh * g.kw);
  ctx.bind(op->getResult(0), pool, StageKind::Window);
  return success();
}

static LogicalResult lowerAvgPoolBackward(Operation *op, Lowering &ctx) {
  Tensor grad = ctx.get(op->getOperand(0));
  std::vector<int64_t> xShape = Lowering::getShape(op->getResult(0));
  Tensor x{Func(), grad.type, xShape, ctx.getExtents(xShape)};
  Geometry g = poolGeometry(op, x, grad.shape);
  Var ix("x"), iy("y"), c("c"), n("n");
  Expr zero = Lowering::constant(grad.type, 0), sum;
  forEachWindow(g, ix, iy, [&](Expr wx, Expr wy, Expr, Expr, Expr valid) {
    Expr term = Halide::select(valid, grad.func(wx, wy, c, n), zero);
    sum = sum.defined() ? sum + term : term;
  });
  Func dx(ctx.getName(op));
  dx(ix, iy, c, n) = sum / Lowering::constant(grad.type, g.kh * g.kw);
  ctx.bind(op->getResult(0), dx, StageKind::Window);
  return success();
}

void ::fm::lowering::registerConvolutionLowerings(LoweringTable &table) {
  table.add<Conv2DOp>(lowerConv2D);
  table.add<Conv2DBackwardDataOp>(lowerConv2DBackwardData);
  table.add<Conv2DBackwardFilterOp>(lowerConv2DBackwardFilter);
  table.add<MaxPool2DOp>(lowerMaxPool);
  table.add<MaxPool2DBackwardOp>(lowerMaxPoolBackward);
  table.add<AvgPool2DOp>(lowerAvgPool);
  table.add<AvgPool2DBackwardOp>(lowerAvgPoolBackward);
}
