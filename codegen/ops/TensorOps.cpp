//===- TensorOps.cpp - Lowering of the fm tensor ops ------------*- C++ -*-===//
//
// Registers the Halide lowerings of the ops of ir/FmTensorOps.td.
//
//  - reduce_max/min: one Func with an update over an RDom of the reduced
//    axes (like reduce_sum), starting from -inf/+inf. argmax: a Tuple
//    (index, value) reduction keeping the first maximum (strict `>`).
//  - erf: Halide's vectorisable erf in f32; libm's erf in f64 (Halide has
//    none), called per element.
//  - concat, slice, pad, gather: pure index mappings. Every read is
//    clamped into its operand (pad and concat select the value after
//    clamped reads; gather clamps ids to [0, V)), so bounds inference never
//    asks for elements outside a buffer and a bad id cannot read wild.
//  - scatter_add: a zeroed accumulator with a scatter update over the ids
//    and the row width, serial over the ids in row-major order, so sums
//    are deterministic without atomics.
//  - dropout: a pointwise select on a 32-bit hash of (seed, salt, flat
//    row-major index): the mask depends on nothing else.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

#include "ir/FmDialect.h"

#include <cmath>

using namespace ::fm::lowering;
using namespace mlir;
using namespace mlir::fm;
using ::fm::StageKind;
using Halide::Expr;

/// `index` with axis `axis` replaced by `e`.
static Index withAxis(Index index, size_t axis, Expr e) {
  index[axis] = std::move(e);
  return index;
}

//===----------------------------------------------------------------------===//
// ReduceMaxOp, ReduceMinOp, ArgMaxOp
//===----------------------------------------------------------------------===//

static LogicalResult lowerExtremum(Operation *op, Lowering &ctx, bool isMax) {
  Tensor x = ctx.get(op->getOperand(0));
  Value result = op->getResult(0);
  std::vector<int64_t> shape = Lowering::getShape(result);
  ArrayRef<int64_t> axesRef = op->getAttrOfType<DenseI64ArrayAttr>("axes");
  std::vector<int64_t> axes(axesRef.begin(), axesRef.end());
  llvm::sort(axes);
  bool keepdims = false;
  if (auto attr = op->getAttrOfType<BoolAttr>("keepdims"))
    keepdims = attr.getValue();
  if (axes.empty()) { // nothing to reduce: a copy
    ctx.bindPointwise(op, [&](const Index &i) { return x.at(i); });
    return success();
  }
  std::string name = ctx.getName(op);
  Halide::Region region;
  for (auto it = axes.rbegin(); it != axes.rend(); ++it)
    region.emplace_back(0, x.extents[*it]);
  Halide::RDom r(region, name + "_r");

  std::vector<Halide::Var> vars = Lowering::makeVars(shape.size());
  Index at;
  size_t kept = 0;
  for (size_t a = 0; a < x.rank(); ++a) {
    auto pos = llvm::find(axes, static_cast<int64_t>(a));
    if (pos != axes.end()) {
      at.push_back(r[axes.end() - pos - 1]); // RDom dim 0: last reduced axis
      kept += keepdims;
    } else {
      at.push_back(vars[kept++]);
    }
  }
  Halide::Func f(name);
  std::vector<Halide::Var> args = Lowering::reversed(vars);
  f(args) = isMax ? x.type.min() : x.type.max(); // -inf / +inf for floats
  f(args) =
      isMax ? Halide::max(f(args), x.at(at)) : Halide::min(f(args), x.at(at));
  ctx.bind(result, f, StageKind::Reduction).innermostReducedAxes =
      llvm::is_contained(axes, int64_t(x.rank()) - 1);
  return success();
}

static LogicalResult lowerArgMax(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0));
  size_t axis = cast<ArgMaxOp>(op).getAxis();
  Value result = op->getResult(0);
  std::vector<int64_t> shape = Lowering::getShape(result);
  std::string name = ctx.getName(op);

  // best(row) = (index, value) of the first maximum: only a strictly
  // greater value replaces it.
  std::vector<Halide::Var> vars = Lowering::makeVars(shape.size());
  std::vector<Halide::Var> args = Lowering::reversed(vars);
  Index row = Lowering::toIndex(vars);
  Halide::RDom r(0, x.extents[axis], name + "_r");
  Index at = row;
  at.insert(at.begin() + axis, Expr(r));
  Halide::Func best(name + "_best");
  best(args) = Halide::Tuple(0, x.type.min());
  Expr value = x.at(at);
  best(args) = Halide::tuple_select(value > best(args)[1],
                                    Halide::Tuple(Expr(r), value), best(args));
  ctx.addStage(best, StageKind::Reduction, {x.func}, shape)
      .innermostReducedAxes = axis + 1 == x.rank();

  Halide::Func f(name);
  f(args) = best(args)[0];
  ctx.bind(result, f, StageKind::Pointwise, {best});
  return success();
}

//===----------------------------------------------------------------------===//
// ErfOp, DropoutOp
//===----------------------------------------------------------------------===//

static Expr erfOf(Expr x) {
  if (x.type().bits() == 32)
    return Halide::erf(x);
  return Halide::Internal::Call::make(x.type(), "erf", {x},
                                      Halide::Internal::Call::PureExtern);
}

static Expr u32(uint32_t v) {
  return Halide::Internal::make_const(Halide::UInt(32), v);
}

/// The lowbias32 integer finaliser (Chris Wellons' hash prospector): a
/// bijection on 32-bit integers with good avalanche.
static Expr mix32(Expr h) {
  h = h ^ (h >> 16);
  h = h * u32(0x7feb352du);
  h = h ^ (h >> 15);
  h = h * u32(0x846ca68bu);
  return h ^ (h >> 16);
}

static LogicalResult lowerDropout(Operation *op, Lowering &ctx) {
  auto dropout = cast<DropoutOp>(op);
  Tensor x = ctx.get(dropout.getInput());
  Tensor seed = ctx.get(dropout.getSeed());
  double rate = dropout.getRate().convertToDouble();
  // keep  <=>  hash >= rate * 2^32, which holds with probability 1 - rate.
  auto threshold = static_cast<uint32_t>(std::floor(rate * 4294967296.0));
  Expr scale = Lowering::constant(x.type, 1.0 / (1.0 - rate));
  Expr zero = Lowering::constant(x.type, 0);
  // key1 = mix(round(seed) ^ mix(salt)), key2 = mix(key1 ^ golden ratio);
  // hash = mix(mix(index ^ key1) ^ key2). Two keys, so that two seeds'
  // masks are not permutations of each other.
  Expr s = Halide::cast<uint32_t>(
      Halide::cast<int64_t>(Halide::round(Halide::cast<double>(seed.at({})))));
  Expr key1 = mix32(s ^ mix32(u32(static_cast<uint32_t>(dropout.getSalt()))));
  Expr key2 = mix32(key1 ^ u32(0x9e3779b9u));
  ctx.bindPointwise(op, [&](const Index &i) {
    Expr flat = 0;
    for (size_t a = 0; a < x.rank(); ++a)
      flat = flat * x.extents[a] + i[a];
    Expr hash = mix32(mix32(Halide::cast<uint32_t>(flat) ^ key1) ^ key2);
    return Halide::select(hash >= u32(threshold), x.at(i) * scale, zero);
  });
  return success();
}

//===----------------------------------------------------------------------===//
// ConcatOp, SliceOp, PadOp
//===----------------------------------------------------------------------===//

static LogicalResult lowerConcat(Operation *op, Lowering &ctx) {
  size_t axis = cast<ConcatOp>(op).getAxis();
  std::vector<Tensor> parts;
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (Value v : op->getOperands()) {
    parts.push_back(ctx.get(v));
    offsets.push_back(offset);
    offset += parts.back().shape[axis];
  }
  ctx.bindPointwise(op, [&](const Index &i) {
    // Read every part at a clamped position; the last part whose range
    // starts at or before i[axis] gives the value.
    auto read = [&](size_t k) {
      int extent = static_cast<int>(parts[k].shape[axis]);
      int start = static_cast<int>(offsets[k]);
      return parts[k].at(
          withAxis(i, axis, Halide::clamp(i[axis] - start, 0, extent - 1)));
    };
    Expr value = read(parts.size() - 1);
    for (size_t k = parts.size() - 1; k-- > 0;)
      value = Halide::select(i[axis] < static_cast<int>(offsets[k + 1]),
                             read(k), value);
    return value;
  });
  return success();
}

static LogicalResult lowerSlice(Operation *op, Lowering &ctx) {
  auto slice = cast<SliceOp>(op);
  Tensor x = ctx.get(slice.getInput());
  size_t axis = slice.getAxis();
  int start = static_cast<int>(slice.getStart());
  ctx.bindPointwise(op, [&](const Index &i) {
    return x.at(withAxis(i, axis, i[axis] + start));
  });
  return success();
}

static LogicalResult lowerPad(Operation *op, Lowering &ctx) {
  auto pad = cast<PadOp>(op);
  Tensor x = ctx.get(pad.getInput());
  ArrayRef<int64_t> before = pad.getBefore();
  Expr zero = Lowering::constant(x.type, 0);
  ctx.bindPointwise(op, [&](const Index &i) {
    Expr inside = Halide::Internal::const_true();
    Index at = i;
    for (size_t a = 0; a < x.rank(); ++a) {
      if (x.shape[a] < 0)
        continue; // the batch axis is never padded
      int b = static_cast<int>(before[a]);
      int extent = static_cast<int>(x.shape[a]);
      inside = inside && i[a] >= b && i[a] < b + extent;
      at[a] = Halide::clamp(i[a] - b, 0, extent - 1);
    }
    return Halide::select(inside, x.at(at), zero);
  });
  return success();
}

//===----------------------------------------------------------------------===//
// GatherOp, ScatterAddOp
//===----------------------------------------------------------------------===//

/// An id as a row index, clamped to [0, rows).
static Expr clampId(Expr id, int64_t rows) {
  return Halide::cast<int32_t>(Halide::clamp(Halide::cast<int64_t>(id),
                                             Halide::Expr(int64_t(0)),
                                             Halide::Expr(int64_t(rows - 1))));
}

static LogicalResult lowerGather(Operation *op, Lowering &ctx) {
  auto gather = cast<GatherOp>(op);
  Tensor table = ctx.get(gather.getTable());
  Tensor ids = ctx.get(gather.getIds());
  int64_t rows = table.shape[0];
  ctx.bindPointwise(op, [&](const Index &i) {
    Index id(i.begin(), i.end() - 1);
    return table.at({clampId(ids.at(id), rows), i.back()});
  });
  return success();
}

static LogicalResult lowerScatterAdd(Operation *op, Lowering &ctx) {
  auto scatter = cast<ScatterAddOp>(op);
  Tensor ids = ctx.get(scatter.getIds());
  Tensor updates = ctx.get(scatter.getUpdates());
  Value result = scatter.getResult();
  std::vector<int64_t> shape = Lowering::getShape(result); // [V, D]
  std::string name = ctx.getName(op);

  // acc(d, v, p) = sum of updates[..., d] over the ids equal to v. The RDom
  // walks the row width innermost, then the ids in row-major order: one
  // serial, deterministic pass. `p`, of extent 1, is the update's only
  // pure variable: the reduction schedule may mark it parallel (one
  // iteration) without splitting the pass.
  Halide::Region region = {{0, updates.extents.back()}};
  for (size_t a = ids.rank(); a-- > 0;)
    region.emplace_back(0, ids.extents[a]);
  Halide::RDom r(region, name + "_r");
  Index at;
  for (size_t a = 0; a < ids.rank(); ++a)
    at.push_back(r[ids.rank() - a]);
  Index updateAt = at;
  updateAt.push_back(r[0]);

  Halide::Var d("i2"), v("i1"), p("i0");
  Halide::Func acc(name + "_acc");
  acc(d, v, p) = Lowering::constant(updates.type, 0);
  acc(r[0], clampId(ids.at(at), shape[0]), p) += updates.at(updateAt);
  std::vector<int64_t> accShape = {1, shape[0], shape[1]};
  ctx.addStage(acc, StageKind::Reduction, {ids.func, updates.func}, accShape)
      .innermostReducedAxes = 1;

  Halide::Func f(name);
  Halide::Var j("i1"), k("i0");
  f(j, k) = acc(j, k, 0);
  ctx.bind(result, f, StageKind::Pointwise, {acc});
  return success();
}

void ::fm::lowering::registerTensorLowerings(LoweringTable &table) {
  table.add<ReduceMaxOp>([](Operation *op, Lowering &ctx) {
    return lowerExtremum(op, ctx, /*isMax=*/true);
  });
  table.add<ReduceMinOp>([](Operation *op, Lowering &ctx) {
    return lowerExtremum(op, ctx, /*isMax=*/false);
  });
  table.add<ArgMaxOp>(lowerArgMax);
  table.add<ErfOp>([](Operation *op, Lowering &ctx) {
    Tensor x = ctx.get(op->getOperand(0));
    ctx.bindPointwise(op, [&](const Index &i) { return erfOf(x.at(i)); });
    return success();
  });
  table.add<DropoutOp>(lowerDropout);
  table.add<ConcatOp>(lowerConcat);
  table.add<SliceOp>(lowerSlice);
  table.add<PadOp>(lowerPad);
  table.add<GatherOp>(lowerGather);
  table.add<ScatterAddOp>(lowerScatterAdd);
}
