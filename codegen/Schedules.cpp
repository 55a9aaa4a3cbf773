//===- Schedules.cpp - CPU schedules of lowered fm kernels ------*- C++ -*-===//
//
// This file implements the hand-written CPU schedule, one rule per anchor
// kind, the all-root reference schedule, and the schedule names fmc
// takes (Halide's autoschedulers are run by AutoSchedule.cpp).
//
//  - matmul: the result is tiled rows x (2 vectors) columns, column
//    strips outermost (a strip of B stays in cache while the row tiles
//    stream past it), strips in parallel (row tiles when there are fewer
//    than 4 strips). A tile of the accumulator is computed in each tile
//    with k outermost; its extent is bound to the whole tile so the
//    unrolled accumulators live in registers (the algorithm clamps its
//    reads, so tiles past the edges read valid data and store nothing).
//    If the result feeds a single pointwise chain ending in a
//    materialised Func (an output, say `relu(x @ w + b)`), the chain is
//    inlined and the tiling applied to that Func: bias and activation run
//    on the tile while it is in registers. Operands that are not kernel
//    arguments (transposes, reshapes, pointwise results) are computed at
//    root first, so the inner loop reads dense rows once per strip.
//  - transposes that are materialised: square blocks of vector width.
//  - reductions: ReductionSchedules.cpp.
//  - pointwise: inlined into consumers; outputs (and materialised matmul
//    operands) are vectorised over their innermost axis and parallel
//    over row blocks of their outermost axis when large.
//  - convolutions, filter gradients and pooling: ConvSchedules.cpp. A
//    convolution's result is tiled at its fusion root like a matmul's.
// Tails use GuardWithIf, so every extent works, batch 1 included.
//
//===----------------------------------------------------------------------===//
#include "codegen/Schedules.h"

#include "codegen/AutoSchedule.h"
#include "codegen/ConvSchedules.h"
#include "codegen/FmToHalide.h"
#include "codegen/ReductionSchedules.h"

#include <map>
#include <set>

using namespace fm;
using Halide::TailStrategy;
using Halide::Var;

// The register tile of a matmul: kTileVectors vectors of columns by as many
// rows as the target's vector registers allow (accumulators, plus the
// column vectors of B and one broadcast of A). Measured with CodegenBench
// on the development machine (AMD EPYC, AVX2, 16 ymm registers, 2 cores):
// [64x784] @ [784x256] f32, median of 100 runs on 2 threads, tiles (rows x
// vectors) 6x2: 121 GFLOP/s, 4x2: 101, 8x1: 107, 12x1: 96, 8x2: 50 (spills),
// 4x3: 23 (24 columns do not divide 256: gathers in the tail strip).
// AVX-512 (32 zmm registers) gets 8x2 by the same register count, capped
// at 8 rows so that a batch of 64 has no partial row tile. Measured on an
// AMD EPYC Zen 5 (2 cores, FM_BENCH_LEVEL=avx512 CodegenBench): 8x2 437
// GFLOP/s, 6x2 408, 12x2 385, 14x2 402 (its fused bias + ReLU spills: 227).
static constexpr int kTileVectors = 2;
static constexpr int kMaxTileRows = 8;

namespace {
class HandScheduler {
public:
  HandScheduler(LoweredKernel &kernel, const ScheduleOptions &options)
      : kernel(kernel),
        context{kernel, options.target, options.batchEstimate} {}

  void run();

private:
  LoweredKernel &kernel;
  /// The target and batch estimate, as the family schedules take them.
  ScheduleContext context;
  /// Func name -> the stages that read it.
  std::map<std::string, std::vector<const Stage *>> consumers;
  /// Funcs that get a loop nest of their own (outputs included).
  std::set<std::string> materialised;

  const Stage *findFusionRoot(const Stage &matmul) const;
  const Stage *findWindowReader(const Stage &conv) const;
  int countMaterialisedReaders(const Stage &stage) const;
  void schedulePointwise(const Stage &stage);
  void scheduleTranspose(const Stage &stage);
  void scheduleMatMul(const Stage &root,
                      const std::vector<const Stage *> &accs);
};
} // namespace

//===----------------------------------------------------------------------===//
// Graph queries
//===----------------------------------------------------------------------===//

/// The window op that alone reads `conv`, directly (col2im) or through a
/// chain of same-shaped pointwise stages that nothing else reads (bias and
/// activation before a pooling), if conv's result is not an output.
const Stage *HandScheduler::findWindowReader(const Stage &conv) const {
  const Stage *at = &conv;
  while (!kernel.isOutput(at->func)) {
    auto it = consumers.find(at->func.name());
    if (it == consumers.end() || it->second.size() != 1)
      return nullptr;
    const Stage *next = it->second.front();
    if (next->kind == StageKind::Window)
      return next;
    if (next->kind != StageKind::Pointwise || next->shape != conv.shape ||
        next->func.outputs() != 1 || materialised.count(next->func.name()))
      return nullptr;
    at = next;
  }
  return nullptr;
}

/// The loop nests that read `stage`, directly or through Funcs inlined
/// into them (as decided so far).
int HandScheduler::countMaterialisedReaders(const Stage &stage) const {
  std::set<std::string> seen, nests;
  std::vector<const Stage *> work = {&stage};
  while (!work.empty()) {
    const Stage *s = work.back();
    work.pop_back();
    auto it = consumers.find(s->func.name());
    if (it == consumers.end())
      continue;
    for (const Stage *reader : it->second) {
      const std::string &name = reader->func.name();
      if (materialised.count(name))
        nests.insert(name);
      else if (seen.insert(name).second)
        work.push_back(reader);
    }
  }
  return static_cast<int>(nests.size());
}

/// Follows `matmul`'s single-consumer chain of same-shaped pointwise
/// stages; returns the materialised Func it ends in, or `matmul` itself.
const Stage *HandScheduler::findFusionRoot(const Stage &matmul) const {
  const Stage *at = &matmul;
  while (!materialised.count(at->func.name())) {
    auto it = consumers.find(at->func.name());
    if (it == consumers.end() || it->second.size() != 1)
      return &matmul;
    const Stage *next = it->second.front();
    if (next->kind != StageKind::Pointwise || next->shape != matmul.shape ||
        next->func.outputs() != 1)
      return &matmul;
    at = next;
  }
  return at;
}

//===----------------------------------------------------------------------===//
// Per-kind schedules
//===----------------------------------------------------------------------===//

void HandScheduler::schedulePointwise(const Stage &stage) {
  Halide::Func f = stage.func;
  if (!kernel.isOutput(f))
    f.compute_root();
  std::vector<Var> args = f.args();
  if (args.empty())
    return;
  int vec = context.getVectorSize(f.output_types()[0]);
  int64_t elements = context.getElements(stage.shape);
  if (args.size() == 1) {
    if (elements >= kParallelElements) {
      Var o(args[0].name() + "_o"), i(args[0].name() + "_i");
      f.split(args[0], o, i, vec * 64, TailStrategy::GuardWithIf)
          .parallel(o)
          .vectorize(i, vec, TailStrategy::GuardWithIf);
    } else {
      f.vectorize(args[0], vec, TailStrategy::GuardWithIf);
    }
    return;
  }
  int64_t run = stage.contiguousRun;
  // Rows shorter than a vector (3x3 filters: an optimizer update walks
  // [O, C, 3, 3]) would be predicated vectors of 3 lanes in 8: fuse the
  // inner dimensions of static extent (dense strides make the fused index
  // a ramp again) until a row holds several vectors.
  int64_t inner = stage.shape.back();
  if (stage.kind == StageKind::Pointwise && inner > 0 && inner < vec &&
      stage.shape.size() > 1 && stage.shape[stage.shape.size() - 2] > 0) {
    Var fused = args[0];
    size_t next = 1;
    for (; next < args.size() && inner < 8 * vec; ++next) {
      int64_t extent = stage.shape[stage.shape.size() - 1 - next];
      if (extent < 0)
        break;
      Var joined(fused.name() + "_" + args[next].name());
      f.fuse(fused, args[next], joined);
      fused = joined;
      inner *= extent;
    }
    if (elements < kParallelElements) {
      f.vectorize(fused, vec, TailStrategy::GuardWithIf);
    } else if (next < args.size()) {
      f.vectorize(fused, vec, TailStrategy::GuardWithIf).parallel(args.back());
    } else { // one loop: parallel blocks of it
      Var o(fused.name() + "_o"), i(fused.name() + "_i");
      f.split(fused, o, i, vec * 64, TailStrategy::GuardWithIf)
          .parallel(o)
          .vectorize(i, vec, TailStrategy::GuardWithIf);
    }
    return;
  }
  if (stage.kind == StageKind::Reshape && run >= 4 && run % vec != 0) {
    // Vectors within runs that are contiguous in the input too: dense
    // loads instead of gathers ([N, 1, 28, 28] -> [N, 784]: runs of 28).
    Var o(args[0].name() + "_o"), i(args[0].name() + "_i");
    f.split(args[0], o, i, static_cast<int>(run), TailStrategy::GuardWithIf)
        .vectorize(i);
  } else if (stage.shape[0] < 0 && inner > vec && inner % vec != 0) {
    // Rows of a batched tensor (26 wide after conv1) end in a vector
    // shifted back over the previous one instead of a masked one (AVX2's
    // masked stores are slow). Only batched tensors: a parameter updated
    // in place would read back elements it had already written.
    f.vectorize(args[0], vec, TailStrategy::ShiftInwards);
  } else {
    f.vectorize(args[0], vec, TailStrategy::GuardWithIf);
  }
  if (elements >= kParallelElements) {
    // Blocks of outer rows of about 4K elements each.
    int64_t row =
        elements /
        std::max<int64_t>(1, context.getExtent(stage.shape[0]));
    int block = static_cast<int>(
        std::max<int64_t>(1, 4096 / std::max<int64_t>(1, row)));
    Var outer = args.back(), o(outer.name() + "_o"), i(outer.name() + "_i");
    f.split(outer, o, i, block, TailStrategy::GuardWithIf).parallel(o);
  }
}

void HandScheduler::scheduleTranspose(const Stage &stage) {
  // Square blocks: the strided reads of a block touch `vec` rows that stay
  // in cache while all their columns are read.
  Halide::Func f = stage.func;
  if (!kernel.isOutput(f))
    f.compute_root();
  int vec = context.getVectorSize(f.output_types()[0]);
  std::vector<Var> args = f.args();
  Var xo("xo"), yo("yo"), xi("xi"), yi("yi");
  f.tile(args[0], args[1], xo, yo, xi, yi, vec, vec, TailStrategy::GuardWithIf)
      .vectorize(xi)
      .unroll(yi);
  if (context.getElements(stage.shape) >= kParallelElements)
    f.parallel(yo);
}

void HandScheduler::scheduleMatMul(const Stage &root,
                                   const std::vector<const Stage *> &accs) {
  Halide::Func o = root.func;
  Halide::Type type = accs.front()->func.output_types()[0];
  int vec = context.getVectorSize(type);
  int registers = context.getRegisters();
  int tileRows =
      std::min(kMaxTileRows, (registers - kTileVectors - 2) / kTileVectors);
  int tileVectors = kTileVectors;
  // Columns are static; a narrow result (logits) is one short vector.
  int64_t cols = root.shape[1];
  int tileCols = tileVectors * vec;
  if (cols > 0 && cols < tileCols)
    tileCols = cols < vec ? static_cast<int>(cols) : vec;
  int lanes = std::min(vec, tileCols);

  std::vector<Var> args = o.args();
  Var j = args[0], i = args[1];
  Var jo("jo"), io("io"), ji("ji"), ii("ii");
  if (!kernel.isOutput(o))
    o.compute_root();
  // Column strips outermost: a strip of B stays in cache while every row
  // tile streams past it. Strips run in parallel when there are enough of
  // them, row tiles otherwise; small results run on one thread.
  o.tile(j, i, jo, io, ji, ii, tileCols, tileRows, TailStrategy::GuardWithIf)
      .reorder(ji, ii, io, jo)
      .vectorize(ji, lanes, TailStrategy::GuardWithIf);
  int64_t strips = cols > 0 ? (cols + tileCols - 1) / tileCols : 0;
  if (context.getElements(root.shape) >= kParallelElements)
    o.parallel(strips >= 4 ? jo : io);

  for (const Stage *stage : accs) {
    Halide::Func acc = stage->func;
    std::vector<Var> a = acc.args();
    Halide::RVar k = acc.rvars(0)[0];
    // A whole tile every time, even past the edges (the reads are clamped
    // in the algorithm), so the tile has constant extents and its unrolled
    // accumulators become registers.
    acc.compute_at(o, io)
        .bound_extent(a[0], tileCols)
        .bound_extent(a[1], tileRows)
        .vectorize(a[0], lanes)
        .unroll(a[0])
        .unroll(a[1]);
    acc.update()
        .reorder(a[0], a[1], k)
        .vectorize(a[0], lanes)
        .unroll(a[0])
        .unroll(a[1]);
  }
}

//===----------------------------------------------------------------------===//
// HandScheduler::run
//===----------------------------------------------------------------------===//

void HandScheduler::run() {
  for (const Stage &stage : kernel.stages)
    for (const Halide::Func &p : stage.producers)
      consumers[p.name()].push_back(&stage);

  // 1. What gets a loop nest: outputs, anchors, and matmul operands that
  //    are computed inside the kernel (read once each, not per tile).
  for (const KernelOutput &out : kernel.outputs)
    materialised.insert(out.func.name());
  for (const Stage &stage : kernel.stages) {
    if (stage.kind == StageKind::Reduction ||
        stage.kind == StageKind::ConvPack || stage.kind == StageKind::Filter)
      materialised.insert(stage.func.name());
    // A window op read by another (an argmax by its gradient) is read
    // several times per element: computed once. A window op reading a
    // convolution (col2im) gets a loop nest that the convolution nests in.
    if (stage.kind == StageKind::Window)
      for (const Halide::Func &p : stage.producers)
        if (const Stage *producer = kernel.findStage(p))
          if (producer->kind == StageKind::Window)
            materialised.insert(p.name());
    // So does a pooling of a convolution's activation that is not written
    // out (conv + bias + relu + pool in inference): the convolution is made
    // an image at a time inside the pooling's loop.
    if (stage.kind == StageKind::Conv)
      if (const Stage *window = findWindowReader(stage))
        materialised.insert(window->func.name());
    if (stage.kind != StageKind::MatMulAcc)
      continue;
    for (const Halide::Func &p : stage.producers) {
      const Stage *producer = kernel.findStage(p);
      if (producer && producer->kind != StageKind::Input)
        materialised.insert(p.name());
    }
  }
  // A pooling gradient inlined into several loop nests (the batch-norm
  // gradient's sums and its result read it four or five times) would
  // redo its window compare in each, with gathers: computed once.
  for (const Stage &stage : kernel.stages)
    if (stage.kind == StageKind::Window &&
        !materialised.count(stage.func.name()) &&
        countMaterialisedReaders(stage) > 1)
      materialised.insert(stage.func.name());

  // 2. Each matmul is tiled at its fusion root.
  std::map<std::string, std::vector<const Stage *>> accsByRoot;
  std::map<std::string, const Stage *> roots;
  for (const Stage &stage : kernel.stages) {
    if (stage.kind != StageKind::MatMul)
      continue;
    const Stage *root = findFusionRoot(stage);
    const Stage *acc = kernel.findStage(stage.producers.front());
    accsByRoot[root->func.name()].push_back(acc);
    roots[root->func.name()] = root;
    materialised.insert(root->func.name());
  }
  for (auto &[name, accs] : accsByRoot)
    scheduleMatMul(*roots[name], accs);

  // 2b. Each convolution is tiled at its fusion root too; filter gradients
  //     and materialised window ops have their own loop nests.
  for (const Stage &stage : kernel.stages) {
    if (stage.kind == StageKind::Conv) {
      // A chain that ends in an intermediate Func would be computed for
      // whole vectors past its edges, reading its other operands there:
      // only outputs take the convolution's tiles.
      const Stage *root = findFusionRoot(stage);
      if (root != &stage && !kernel.isOutput(root->func))
        root = &stage;
      roots[root->func.name()] = root;
      materialised.insert(root->func.name());
      // Columns read by a col2im gather, and activations read only by a
      // pooling, are made per image inside the window op's loop.
      const Stage *within = root == &stage ? findWindowReader(stage) : nullptr;
      conv::scheduleConvolution(context, *root,
                                *kernel.findStage(stage.producers.front()),
                                within);
    } else if (stage.kind == StageKind::Filter) {
      roots[stage.func.name()] = &stage;
      conv::scheduleFilterGradient(context, stage);
    } else if (stage.kind == StageKind::Window &&
               materialised.count(stage.func.name())) {
      roots[stage.func.name()] = &stage;
      conv::scheduleWindow(context, stage);
    }
  }

  // 3. Everything else that is materialised.
  std::vector<reduce::ParallelSum> parallelSums;
  for (const Stage &stage : kernel.stages) {
    const std::string &name = stage.func.name();
    if (!materialised.count(name) || roots.count(name))
      continue;
    if (stage.kind == StageKind::Reduction) {
      if (auto sum = reduce::scheduleReduction(context, stage))
        parallelSums.push_back(*sum);
    }
    else if (stage.kind == StageKind::Transpose && stage.shape.size() == 2)
      scheduleTranspose(stage);
    else if (stage.kind == StageKind::ConvPack || stage.kind == StageKind::Conv)
      continue; // scheduled with their convolution (2b)
    else if (stage.kind != StageKind::MatMulAcc)
      schedulePointwise(stage);
  }
  reduce::fuseSiblingSums(context, parallelSums);
}

//===----------------------------------------------------------------------===//
// scheduleKernel
//===----------------------------------------------------------------------===//

int ScheduleContext::getVectorSize(Halide::Type t) const {
  return getVectorLanes(target, t);
}

int ScheduleContext::getRegisters() const { return getVectorRegisters(target); }

int fm::getVectorRegisters(const Halide::Target &target) {
  // x86-64: 16 xmm/ymm registers, 32 zmm with AVX-512.
  return target.has_feature(Halide::Target::AVX512) ? 32 : 16;
}

void fm::scheduleKernel(LoweredKernel &kernel, const ScheduleOptions &options) {
  if (options.kind == ScheduleKind::Root) {
    for (Stage &stage : kernel.stages)
      if (stage.kind != StageKind::Input)
        stage.func.compute_root();
    return;
  }
  if (options.kind == ScheduleKind::Auto) {
    autoScheduleKernel(kernel, options);
    return;
  }
  HandScheduler(kernel, options).run();
}

bool fm::parseScheduleName(const std::string &name, ScheduleOptions &options,
                           std::string &error) {
  // fmc's spelling -> Halide's registered name.
  static const std::pair<const char *, const char *> kAuto[] = {
      {"adams2019", "Adams2019"},
      {"mullapudi2016", "Mullapudi2016"},
      {"li2018", "Li2018"},
  };
  if (name == "hand" || name == "root") {
    options.kind = name == "hand" ? ScheduleKind::Hand : ScheduleKind::Root;
    return true;
  }
  for (auto [flag, halideName] : kAuto)
    if (name == flag) {
      options.kind = ScheduleKind::Auto;
      options.autoscheduler = halideName;
      return true;
    }
  error = "unknown schedule '" + name +
          "'; expected hand, root, adams2019, mullapudi2016 or li2018";
  return false;
}
