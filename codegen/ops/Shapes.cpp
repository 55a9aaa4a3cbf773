//===- Shapes.cpp - Lowering of fm shape ops --------------------*- C++ -*-===//
//
// This file implements the lowerings of reshape, transpose, broadcast_to
// and size. They move no data of their own: each is an index mapping that
// schedules inline into its consumer, except a transpose feeding a matmul,
// which the matmul schedule materialises so its inner loop is unit-stride.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

#include "ir/FmDialect.h"

#include <numeric>

using namespace ::fm::lowering;
using namespace mlir;
using namespace mlir::fm;
using ::fm::Stage;
using ::fm::StageKind;
using Halide::Expr;

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

/// Row-major strides of the static axes from `first` on.
static std::vector<int64_t> staticStrides(const std::vector<int64_t> &shape,
                                          size_t first) {
  std::vector<int64_t> strides(shape.size(), 0);
  int64_t stride = 1;
  for (size_t a = shape.size(); a-- > first;) {
    strides[a] = stride;
    stride *= shape[a];
  }
  return strides;
}

static LogicalResult lowerReshape(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0));
  std::vector<int64_t> out = Lowering::getShape(op->getResult(0));
  // The verifier keeps the batch extent leading in both shapes, so it maps
  // to itself and only the static trailing axes are re-linearised.
  size_t lead = !out.empty() && out[0] < 0 ? 1 : 0;
  std::vector<int64_t> outStrides = staticStrides(out, lead);
  std::vector<int64_t> inStrides = staticStrides(x.shape, lead);
  Stage &stage = ctx.bindPointwise(
      op,
      [&](const Index &i) {
        Expr flat = 0;
        for (size_t a = lead; a < out.size(); ++a)
          flat = flat + i[a] * static_cast<int>(outStrides[a]);
        Index at;
        if (lead)
          at.push_back(i[0]);
        for (size_t b = lead; b < x.rank(); ++b) {
          Expr coord = flat / static_cast<int>(inStrides[b]);
          // The first static axis needs no wrap-around: flat is in range.
          if (b > lead)
            coord = coord % static_cast<int>(x.shape[b]);
          at.push_back(coord);
        }
        return x.at(at);
      },
      StageKind::Reshape);
  if (!out.empty() && !x.shape.empty() && out.back() > 0 && x.shape.back() > 0)
    stage.contiguousRun = std::gcd(out.back(), x.shape.back());
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp, BroadcastToOp, SizeOp
//===----------------------------------------------------------------------===//

static LogicalResult lowerTranspose(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0));
  ArrayRef<int64_t> perm = cast<TransposeOp>(op).getPerm();
  ctx.bindPointwise(
      op,
      [&](const Index &i) {
        Index at(x.rank());
        for (size_t a = 0; a < perm.size(); ++a)
          at[perm[a]] = i[a];
        return x.at(at);
      },
      StageKind::Transpose);
  return success();
}

static LogicalResult lowerBroadcastTo(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0));
  std::vector<int64_t> shape = Lowering::getShape(op->getResult(0));
  ctx.bindPointwise(
      op, [&](const Index &i) { return Lowering::readBroadcast(x, shape, i); });
  return success();
}

static LogicalResult lowerSize(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0));
  ArrayRef<int64_t> axes = cast<SizeOp>(op).getAxes();
  Expr count =
      Lowering::getCount(x, std::vector<int64_t>(axes.begin(), axes.end()));
  ctx.bindPointwise(op, [&](const Index &) { return count; });
  return success();
}

void ::fm::lowering::registerShapeLowerings(LoweringTable &table) {
  table.add<ReshapeOp>(lowerReshape);
  table.add<TransposeOp>(lowerTranspose);
  table.add<BroadcastToOp>(lowerBroadcastTo);
  table.add<SizeOp>(lowerSize);
}
