//===- ConvSchedules.cpp - Schedules of convolutions, pooling -*- C++ -*-===//
//
// This file implements the hand schedules of convolutions, filter
// gradients and pooling. Each convolution-like anchor is computed like a
// matmul: a register tile of accumulators (vectors x rows, as many as the
// registers hold) is computed whole with the reduction innermost, then
// stored; packs (padded activations, reordered filters, defined past the
// edges) are made first so that the inner loop reads dense vectors and
// broadcasts, and tiles may overrun.
//
//  - conv2d and the columns of conv2d_backward_data (ConvAcc), one of:
//    * channels: vectors of channels x a box of pixels (x, y, images), the
//      implicit GEMM (conv2, conv3 and their backward-data);
//    * spatial: vectors along x x (rows, channels) (the first layer, whose
//      9-term reduction makes the stores decide; grouped convolutions,
//      whose channel vectors would read several groups);
//    whichever costs less (TileCost: FMAs, stores, overrun at the edges).
//    Images run in parallel (image tiles x channel blocks when there are
//    few), each image's padded activation made inside its task; columns
//    are made per image inside the col2im gather that reads them.
//  - conv2d_backward_filter: vectors of output channels x (kw, kh, c)
//    rows, or vectors of partial sums along x x (output channels, taps)
//    for few taps; each tile sums one chunk of images and adds it to the
//    sum, chunk after chunk; tasks are blocks of channels. No atomics:
//    every sum has one order, whatever the thread count.
//  - pooling (Window): vectorised along x (channels for col2im), images in
//    parallel; an argmax read by a gradient is materialised.
//
// Measured with ConvBench (test/unit/codegen/ConvBench.cpp; JIT, median
// of 60 runs, lowest of 2-5 rounds on an idle machine; docs/codegen.md)
// on the Fashion-MNIST CNN's layers, batch 64, 2 threads, AMD EPYC AVX2,
// in GFLOP/s, forward / backward-data / backward-filter:
//   conv1 1->32 28x28: 108-115 / 70-78 / 48-52
//   conv2 32->64 13x13: 145-150 / 138-146 / 156   (PyTorch/oneDNN: ~117)
//   conv3 64->128 5x5:  154-159 / 118-135 / 89-106
// Choices these rest on, measured the same way: channels innermost in the
// reduction (kw innermost: LLVM kept inputs shared by neighbouring pixels
// live across unrolled steps and spilled; conv2 forward 40 -> 86 on one
// thread); stores in the tile cost (conv1 forward 33 -> 60 on one thread
// with x vectors); backward-data as columns + col2im (conv3: 28 -> 63 on
// one thread); filter gradients summing along x for few taps (conv1 in
// the full step: 1.8 -> 0.6 ms).
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvSchedules.h"

#include "codegen/Schedules.h"

#include <algorithm>
#include <cmath>

using namespace fm;
using namespace fm::conv;
using Halide::Func;
using Halide::TailStrategy;
using Halide::Var;
using Halide::VarOrRVar;

/// At most this many rows in a spatial register tile, and accumulators in
/// a channel one (the unrolled code stays small).
static constexpr int kMaxTileRows = 8;
static constexpr int kMaxTileAccumulators = 12;
/// Image tiles below which channel blocks run in parallel too.
static constexpr int64_t kParallelImages = 8;

//===----------------------------------------------------------------------===//
// Register tiles
//===----------------------------------------------------------------------===//

/// Relative speed of a register tile of `rows` broadcasts x `vectors`
/// vector loads: FMA latency is hidden from about 10 accumulators, and each
/// step of the reduction issues rows + vectors loads for rows * vectors
/// FMAs. A rough model; it only ranks tiles of similar waste.
static double tileEfficiency(int64_t rows, int64_t vectors) {
  double accs = static_cast<double>(rows * vectors);
  return std::min(1.0, accs / 10.0) * accs /
         (std::max<double>(accs, rows + vectors) + 1.0);
}

static int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/// The work done per useful element when `extent` is cut into tiles.
static double overrun(int64_t extent, int64_t tile) {
  return static_cast<double>((extent + tile - 1) / tile * tile) / extent;
}

namespace {
/// Tile extents along up to three row dimensions, and vectors of lanes.
struct Tile {
  int64_t rows[3] = {1, 1, 1};
  int vectors = 1;
  double cost = INFINITY;
};

/// The cost of a tile, per accumulator vector, in cycles: the reduction's
/// FMAs (two per cycle, slowed by the tile's efficiency) and the stores
/// (`store` cycles per vector: 1 when dense, about one per lane when the
/// lanes go to memory apart), times the overrun at the edges.
struct TileCost {
  double steps; ///< reduction length
  double store; ///< cycles to store one accumulator vector
  double operator()(double overrun, int64_t rows, int64_t vectors) const {
    return overrun * (steps / 2 / tileEfficiency(rows, vectors) + store);
  }
};
} // namespace

/// The cheapest tile of `vectors` vectors over `columns` and a box of
/// rows over `extents` (at most `maxRows` rows). `penalty[i]` > 1
/// discourages tiling dimension i.
static Tile chooseRows(const int64_t extents[3], const double penalty[3],
                       int64_t columns, int lanes, int vectors, int maxRows,
                       const TileCost &cost) {
  Tile best;
  best.vectors = vectors;
  double columnWaste = overrun(columns, int64_t(vectors) * lanes);
  for (int64_t a = std::min<int64_t>(extents[0], maxRows); a >= 1; --a)
    for (int64_t b = std::min<int64_t>(extents[1], maxRows / a); b >= 1; --b)
      for (int64_t c = std::min<int64_t>(extents[2], maxRows / (a * b)); c >= 1;
           --c) {
        double waste = columnWaste * overrun(extents[0], a) *
                       overrun(extents[1], b) * overrun(extents[2], c);
        double total = cost(waste, a * b * c, vectors) *
                       (b > 1 ? penalty[1] : 1) * (c > 1 ? penalty[2] : 1);
        if (total < best.cost * 0.999) {
          best.rows[0] = a, best.rows[1] = b, best.rows[2] = c;
          best.cost = total;
        }
      }
  return best;
}

/// The best of one- and two-vector tiles.
static Tile chooseTile(const ScheduleContext &ctx, const int64_t extents[3],
                       const double penalty[3], int64_t columns, int lanes,
                       const TileCost &cost) {
  Tile best;
  for (int vectors : {1, 2}) {
    int maxRows = std::min(kMaxTileAccumulators / vectors,
                           (ctx.getRegisters() - vectors - 2) / vectors);
    Tile t =
        chooseRows(extents, penalty, columns, lanes, vectors, maxRows, cost);
    if (t.cost < best.cost)
      best = t;
  }
  return best;
}

/// Vectorises the innermost dimension of a pack and runs its images (the
/// outermost dimension) in parallel when it is computed for the batch.
static void schedulePack(const ScheduleContext &ctx, const Stage &stage,
                         bool root) {
  Func pack = stage.func;
  std::vector<Var> args = pack.args();
  // Narrow rows (5 wide) get narrower vectors rather than a scalar tail.
  int vector = ctx.getVectorSize(pack.output_types()[0]);
  while (vector > 1 && vector > stage.shape.back())
    vector /= 2;
  if (vector > 1)
    pack.vectorize(args[0], vector, TailStrategy::GuardWithIf);
  if (root)
    pack.compute_root().parallel(args.back());
}

/// Computes `acc` whole in each tile of `at`'s loop `level`: its pure
/// dimensions `order` (innermost first, all of them) bound to `extents`,
/// the first vectorised by `lanes` and all unrolled, so that the
/// accumulators become registers; its update likewise, the reduction
/// outside the tile.
static void computeTile(Func acc, Func at, Var level,
                        const std::vector<Var> &order,
                        const std::vector<int> &extents, int lanes) {
  // Vectors never straddle the tile: a width that does not divide its
  // extent asks for elements past the bound, a pipeline that Halide
  // proves will fail its bounds assertion.
  while (lanes > 1 && extents[0] % lanes != 0)
    lanes /= 2;
  std::vector<VarOrRVar> loops(order.begin(), order.end());
  acc.compute_at(at, level).reorder(loops);
  for (size_t i = 0; i < order.size(); ++i)
    acc.bound_extent(order[i], extents[i]);
  for (const Halide::RVar &rv : acc.rvars(0))
    loops.push_back(rv);
  Halide::Stage update = acc.update();
  update.reorder(loops);
  acc.vectorize(order[0], lanes);
  update.vectorize(order[0], lanes);
  for (const Var &v : order) {
    acc.unroll(v);
    update.unroll(v);
  }
}

//===----------------------------------------------------------------------===//
// conv2d and conv2d_backward_data
//===----------------------------------------------------------------------===//

namespace {
/// Where a convolution's loop nest runs.
struct Placement {
  /// Images the nest covers: the batch, or 1 inside a consumer's loop.
  int64_t images;
  /// True: computed per image inside a consumer that runs the images in
  /// parallel already.
  bool nested;
  /// True if root is an output of the kernel.
  bool output;
  /// Channels of the root.
  int64_t channels;
};
} // namespace

/// Runs the images of `root` (tiles of them: `no`) in parallel, or image
/// tiles x channel blocks when there are few; the activation pack is made
/// per image tile inside each task when there are enough of them.
static void parallelise(const ScheduleContext &ctx, Func root, Var no, Var co,
                        const Stage &activation, int64_t imageTiles,
                        const Placement &where) {
  if (where.nested) {
    Func(activation.func).compute_at(root, no);
    schedulePack(ctx, activation, false);
  } else if (imageTiles >= kParallelImages) {
    root.parallel(no);
    Func(activation.func).compute_at(root, no);
    schedulePack(ctx, activation, false);
  } else {
    Var task("task");
    root.fuse(co, no, task).parallel(task);
    schedulePack(ctx, activation, true);
  }
}

/// Channels strategy: root(x, y, ch, n) in tiles of (vectors of channels)
/// x (x, y, n box); acc(ch, x, y, n) computed per tile.
static void scheduleChannels(const ScheduleContext &ctx, Func root, Func acc,
                             const Stage &activation, const Tile &t, int lanes,
                             const Placement &where) {
  std::vector<Var> r = root.args(), a = acc.args();
  int tileCh = t.vectors * lanes;
  int tx = t.rows[0], ty = t.rows[1], tn = t.rows[2];
  // An intermediate root is computed for whole vectors of channels (the
  // packs are zero past the edge). Halide 14 drops the guard of a
  // partial vector tile of a non-output Func (seen: the second vector of
  // the last tile stored over the first tile's), so there is no tail.
  if (!where.output)
    root.bound(r[2], 0, static_cast<int>(roundUp(where.channels, tileCh)));
  Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), co("co"), ci("ci"), no("no"),
      ni("ni");
  root.split(r[0], xo, xi, tx, TailStrategy::GuardWithIf)
      .split(r[1], yo, yi, ty, TailStrategy::GuardWithIf)
      .split(r[2], co, ci, tileCh, TailStrategy::GuardWithIf)
      .split(r[3], no, ni, tn, TailStrategy::GuardWithIf)
      .reorder(ci, xi, yi, ni, xo, yo, co, no)
      .vectorize(ci, lanes)
      .unroll(ci)
      .unroll(xi)
      .unroll(yi)
      .unroll(ni);
  computeTile(acc, root, xo, a, {tileCh, tx, ty, tn}, lanes);
  // The images of a tile sit side by side in the pack: the broadcasts of
  // one step read one cache line.
  Func pack = activation.func;
  std::vector<Var> p = pack.args();
  if (tn > 1)
    pack.reorder_storage(p[3], p[0], p[1], p[2]);
  parallelise(ctx, root, no, co, activation, (where.images + tn - 1) / tn,
              where);
}

/// Spatial strategy: root(x, y, ch, n) in tiles of (a vector along x) x
/// (y rows, channels); acc computed per tile.
static void scheduleSpatial(const ScheduleContext &ctx, Func root, Func acc,
                            const Stage &activation, int64_t width,
                            const Tile &t, int lanes, const Placement &where) {
  std::vector<Var> r = root.args(), a = acc.args();
  int ty = t.rows[0], tc = t.rows[1];
  if (!where.output) // whole vectors along x, as in scheduleChannels
    root.bound(r[0], 0, static_cast<int>(roundUp(width, lanes)));
  Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), co("co"), ci("ci");
  // A pure root may shift its last vector inwards: no scalar tail.
  root.split(r[0], xo, xi, lanes,
             width >= lanes ? TailStrategy::ShiftInwards
                            : TailStrategy::GuardWithIf)
      .split(r[1], yo, yi, ty, TailStrategy::GuardWithIf)
      .split(r[2], co, ci, tc, TailStrategy::GuardWithIf)
      .reorder(xi, yi, ci, xo, yo, co, r[3])
      .vectorize(xi)
      .unroll(yi)
      .unroll(ci);
  // Stored x innermost: the vectors are dense in the tile too.
  acc.reorder_storage(a[1], a[2], a[0], a[3]);
  computeTile(acc, root, xo, {a[1], a[2], a[0], a[3]}, {lanes, ty, tc, 1},
              lanes);
  parallelise(ctx, root, r[3], co, activation, where.images, where);
}

/// The spatial strategy's tile: rows of y each load a vector along x and
/// channels are broadcasts of the filter; accumulators, x vectors and a
/// broadcast fill the registers.
static Tile chooseSpatialTile(const ScheduleContext &ctx, int64_t width,
                              int64_t height, int64_t channels, int lanes,
                              const TileCost &cost) {
  Tile t;
  double waste = overrun(width, lanes);
  for (int64_t ty = 1; ty <= std::min<int64_t>(height, kMaxTileRows); ++ty)
    for (int64_t tc = 1; tc <= channels; ++tc) {
      if (ty * tc + ty + 1 > ctx.getRegisters())
        break;
      double total =
          cost(waste * overrun(height, ty) * overrun(channels, tc), tc, ty);
      if (total < t.cost * 0.999) {
        t.rows[0] = ty, t.rows[1] = tc;
        t.cost = total;
      }
    }
  return t;
}

void fm::conv::scheduleConvolution(const ScheduleContext &ctx,
                                   const Stage &root, const Stage &acc,
                                   const Stage *within) {
  Func out = root.func, f = acc.func;
  bool output = ctx.kernel.isOutput(out);
  // acc is (ch, x, y, n): row-major [n, y, x, ch].
  int64_t height = acc.shape[1], width = acc.shape[2], channels = acc.shape[3];
  Placement where{ctx.getExtent(acc.shape[0]), false, output, channels};
  // A col2im gather reading the columns directly reads vectors of
  // channels (scheduleWindow); a pooling reads rows along x.
  bool gatherChannels = false;
  if (within)
    for (const Func &p : within->producers)
      gatherChannels |=
          p.name() == out.name() &&
          within->shape[1] >= ctx.getVectorSize(f.output_types()[0]);
  if (within) {
    // Channels innermost when the gather reads vectors of channels: a tile
    // then stores whole vectors too.
    std::vector<Var> r = out.args();
    out.compute_at(within->func, within->func.args().back());
    if (gatherChannels)
      out.reorder_storage(r[2], r[0], r[1], r[3]);
    where.images = 1, where.nested = true;
  } else if (!output) {
    out.compute_root();
  }
  const Stage &activation = *ctx.kernel.findStage(acc.producers[0]);
  schedulePack(ctx, *ctx.kernel.findStage(acc.producers[1]), true);
  int lanes = ctx.getVectorSize(f.output_types()[0]);

  // Vectors of channels need one group (else the lanes read several
  // groups' inputs); several images per tile only when that saves a lot
  // of overrun, their activations being further apart.
  // The stores of a spatial tile are dense vectors; those of a channel
  // tile are too inside a gather (channels innermost), else each lane goes
  // to another plane. With short reductions (the first layer: 9) the
  // stores decide.
  double steps = 1;
  for (const Halide::Internal::ReductionVariable &rv :
       f.function().update(0).schedule().rvars())
    if (const int64_t *extent = Halide::Internal::as_const_int(rv.extent))
      steps *= *extent;
  bool denseChannels = gatherChannels;
  Tile spatial = chooseSpatialTile(ctx, width, height, channels, lanes,
                                   TileCost{steps, 1});
  if (acc.groups == 1 && channels >= lanes) {
    int64_t extents[3] = {width, height, where.images};
    double penalty[3] = {1.0, 1.0, 1.1};
    Tile t = chooseTile(ctx, extents, penalty, channels, lanes,
                        TileCost{steps, denseChannels ? 1.0 : double(lanes)});
    if (t.cost <= spatial.cost) {
      scheduleChannels(ctx, out, f, activation, t, lanes, where);
      return;
    }
  }
  scheduleSpatial(ctx, out, f, activation, width, spatial, lanes, where);
}

//===----------------------------------------------------------------------===//
// conv2d_backward_filter
//===----------------------------------------------------------------------===//

/// Filter gradients summed in vectors along x (FilterAcc with a lane
/// dimension, few taps): tiles of (output channels x taps) rows, each a
/// vector of partial sums along x; the lanes are added into the sum per
/// chunk.
static void scheduleFilterLanes(const ScheduleContext &ctx, Func sum, Func acc,
                                const int64_t extents[4], int64_t lanesInAcc) {
  int64_t o = extents[0], kw = extents[1], kh = extents[2], cg = extents[3];
  int lanes = ctx.getVectorSize(sum.output_types()[0]);
  int vectors = static_cast<int>(std::max<int64_t>(1, lanesInAcc / lanes));
  // Rows: `to` output channels (a vector of g each) x taps (a vector of the
  // input each); accumulators, loads and nothing else in the registers.
  int64_t best[4] = {1, 1, 1, 1};
  double bestCost = INFINITY;
  for (int64_t to = 1; to <= std::min<int64_t>(o, 12); ++to)
    for (int64_t a = 1; a <= kw; ++a)
      for (int64_t b = 1; b <= kh; ++b)
        for (int64_t c = 1; c <= cg; ++c) {
          int64_t taps = a * b * c;
          if ((to * taps + to + taps) * vectors > ctx.getRegisters() - 1)
            continue;
          double cost = overrun(o, to) * overrun(kw, a) * overrun(kh, b) *
                        overrun(cg, c) / tileEfficiency(to, taps);
          if (cost < bestCost * 0.999) {
            bestCost = cost;
            best[0] = to, best[1] = a, best[2] = b, best[3] = c;
          }
        }
  std::vector<Var> s = sum.args();
  std::vector<Halide::RVar> rv = sum.rvars(0); // lane, chunk
  Var oo("oo"), oi("oi"), kwo("kwo"), kwi("kwi"), kho("kho"), khi("khi"),
      co("co"), ci("ci");
  sum.compute_root().vectorize(s[0], lanes, TailStrategy::GuardWithIf);
  Halide::Stage update = sum.update();
  update
      .split(s[0], oo, oi, static_cast<int>(best[0]), TailStrategy::GuardWithIf)
      .split(s[1], kwo, kwi, static_cast<int>(best[1]),
             TailStrategy::GuardWithIf)
      .split(s[2], kho, khi, static_cast<int>(best[2]),
             TailStrategy::GuardWithIf)
      .split(s[3], co, ci, static_cast<int>(best[3]), TailStrategy::GuardWithIf)
      .reorder(rv[0], oi, kwi, khi, ci, kwo, kho, co, rv[1], oo)
      .unroll(rv[0])
      .unroll(oi)
      .unroll(kwi)
      .unroll(khi)
      .unroll(ci);
  if ((o + best[0] - 1) / best[0] >= 2)
    update.parallel(oo);

  // acc is (lane, o, kw, kh, c, chunk).
  computeTile(acc, sum, kwo, acc.args(),
              {static_cast<int>(lanesInAcc), static_cast<int>(best[0]),
               static_cast<int>(best[1]), static_cast<int>(best[2]),
               static_cast<int>(best[3]), 1},
              lanes);
}

void fm::conv::scheduleFilterGradient(const ScheduleContext &ctx,
                                      const Stage &result) {
  const Stage *sumStage = ctx.kernel.findStage(result.producers[0]);
  const Stage *accStage = ctx.kernel.findStage(sumStage->producers[0]);
  Func out = result.func, sum = sumStage->func, acc = accStage->func;
  // sum is (o, kw, kh, c): row-major [c, kh, kw, o].
  int64_t cg = sumStage->shape[0], kh = sumStage->shape[1],
          kw = sumStage->shape[2], o = sumStage->shape[3];
  int lanes = ctx.getVectorSize(sum.output_types()[0]);

  // The OIHW result: a small transpose of the sum.
  std::vector<Var> r = out.args();
  if (!ctx.kernel.isOutput(out))
    out.compute_root();
  out.reorder(r[3], r[0], r[1], r[2])
      .vectorize(r[3], lanes, TailStrategy::GuardWithIf);
  if (o * kw * kh * cg >= kParallelElements)
    out.parallel(r[2]);

  // The packs, for the whole batch (read by every block of channels).
  for (const Halide::Func &p : accStage->producers)
    if (const Stage *pack = ctx.kernel.findStage(p))
      if (pack->kind == StageKind::ConvPack)
        schedulePack(ctx, *pack, true);

  if (acc.dimensions() == 6) {
    int64_t extents[4] = {o, kw, kh, cg};
    scheduleFilterLanes(ctx, sum, acc, extents, accStage->shape.back());
    return;
  }

  int64_t extents[3] = {kw, kh, cg};
  double penalty[3] = {1.0, 1.0, 1.0};
  // Each tile adds a chunk's partial sums to the sum: a dense load, add
  // and store per vector, against hundreds of steps.
  Tile t = chooseTile(ctx, extents, penalty, o, lanes, TileCost{1000, 3});
  int tileO = t.vectors * lanes;
  int tkw = t.rows[0], tkh = t.rows[1], tc = t.rows[2];

  // Chunk after chunk, each tile of the sum adds the tile of the chunk's
  // partial sums computed in registers just before. Tasks are blocks of
  // output channels x blocks of input channels (about 4 of those, for
  // balance); each runs every chunk, so each sum keeps its order.
  std::vector<Var> s = sum.args();
  Halide::RVar chunk = sum.rvars(0)[0];
  Var oo("oo"), oi("oi"), kwo("kwo"), kwi("kwi"), kho("kho"), khi("khi"),
      co("co"), ci("ci"), cb("cb"), cbi("cbi"), task("task");
  int64_t cTiles = (cg + tc - 1) / tc;
  int blockTiles = static_cast<int>((cTiles + 3) / 4);
  sum.compute_root().vectorize(s[0], lanes, TailStrategy::GuardWithIf);
  Halide::Stage update = sum.update();
  update.split(s[0], oo, oi, tileO, TailStrategy::GuardWithIf)
      .split(s[1], kwo, kwi, tkw, TailStrategy::GuardWithIf)
      .split(s[2], kho, khi, tkh, TailStrategy::GuardWithIf)
      .split(s[3], co, ci, tc, TailStrategy::GuardWithIf)
      .split(co, cb, cbi, blockTiles, TailStrategy::GuardWithIf)
      .reorder(oi, kwi, khi, ci, kwo, kho, cbi, chunk, cb, oo)
      .vectorize(oi, lanes)
      .unroll(oi)
      .unroll(kwi)
      .unroll(khi)
      .unroll(ci)
      .fuse(cb, oo, task);
  if ((o + tileO - 1) / tileO * ((cTiles + blockTiles - 1) / blockTiles) >= 2)
    update.parallel(task);

  // acc is (o, kw, kh, c, chunk).
  computeTile(acc, sum, kwo, acc.args(), {tileO, tkw, tkh, tc, 1}, lanes);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

void fm::conv::scheduleWindow(const ScheduleContext &ctx, const Stage &stage) {
  Func f = stage.func;
  if (!ctx.kernel.isOutput(f))
    f.compute_root();
  std::vector<Var> args = f.args();
  int lanes = ctx.getVectorSize(f.output_types()[0]);
  int64_t width = stage.shape[3], channels = stage.shape[1], elements = 1;
  for (int64_t d : stage.shape)
    elements *= ctx.getExtent(d);
  bool gathersColumns = false;
  for (const Func &p : stage.producers)
    if (const Stage *producer = ctx.kernel.findStage(p))
      gathersColumns |= producer->kind == StageKind::Conv;
  if (gathersColumns && channels >= lanes) {
    // The columns hold channels innermost (scheduleConvolution).
    f.reorder(args[2], args[0], args[1], args[3])
        .vectorize(args[2], lanes, TailStrategy::GuardWithIf);
  } else {
    // Narrow rows (5 after conv2's pool) get narrower vectors.
    int vector = lanes;
    while (vector > width)
      vector /= 2;
    if (vector > 1)
      f.vectorize(args[0], vector, TailStrategy::ShiftInwards);
  }
  if (elements >= kParallelElements)
    f.parallel(args[3]);
}
