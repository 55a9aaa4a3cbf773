//===- FmTensorOps.cpp - Shape rules and VJPs of tensor ops -----*- C++ -*-===//
//
// This file implements the shape rules, verifiers and gradients of the ops
// declared in FmTensorOps.td. Like FmGradients.cpp, every gradient is built
// from other fm ops and returns one value per operand, shaped like it
// (null for integer operands and the dropout seed).
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

#include "mlir/IR/Builders.h"

#include <sstream>

using namespace mlir;
using namespace mlir::fm;

using Grads = SmallVector<Value>;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

namespace {
/// Builds fm ops at one location, so the rules below read as formulas.
struct Rules {
  OpBuilder &b;
  Location loc;

  static Type elemOf(Value v) {
    return llvm::cast<RankedTensorType>(v.getType()).getElementType();
  }
  Value scalarLike(Value v, double c) {
    auto type = RankedTensorType::get({}, elemOf(v));
    return b.create<ConstantOp>(
        loc, type, DenseElementsAttr::get(type, FloatAttr::get(elemOf(v), c)));
  }
  Value reshape(Value x, Type type) {
    return x.getType() == type ? x : b.create<ReshapeOp>(loc, type, x);
  }
  Value slice(Value x, int64_t axis, int64_t start, int64_t end) {
    return b.create<SliceOp>(loc, x, b.getI64IntegerAttr(axis),
                             b.getI64IntegerAttr(start),
                             b.getI64IntegerAttr(end));
  }
};

/// The type of `x` reduced over `axes` with the reduced axes kept as 1.
RankedTensorType keptType(Value x, ArrayRef<int64_t> axes) {
  auto t = llvm::cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(t.getShape());
  for (int64_t a : axes)
    shape[a] = 1;
  return RankedTensorType::get(shape, t.getElementType());
}

bool isFloat(Value v) {
  return llvm::isa<FloatType>(
      llvm::cast<RankedTensorType>(v.getType()).getElementType());
}
} // namespace

/// An attribute the shape rule needs, or null if it is missing or of
/// another kind: MLIRGen runs shape rules before ops are verified, and the
/// adaptor's typed getters assert on a missing attribute.
template <typename AttrT>
static AttrT lookupAttr(DictionaryAttr attrs, StringRef name) {
  return attrs ? llvm::dyn_cast_or_null<AttrT>(attrs.get(name)) : AttrT();
}

/// Reads an integer attribute of the shape rule, reporting its absence.
static FailureOr<int64_t> getIntAttr(std::optional<Location> loc,
                                     StringRef opName, DictionaryAttr attrs,
                                     StringRef name) {
  auto attr = lookupAttr<IntegerAttr>(attrs, name);
  if (!attr)
    return emitOptionalError(loc, "'", opName, "' expected an integer '", name,
                             "' attribute");
  return attr.getValue().getSExtValue();
}

//===----------------------------------------------------------------------===//
// ReduceMaxOp, ReduceMinOp
//===----------------------------------------------------------------------===//

/// The gradient of a max or min reduction: `g` goes to the elements equal
/// to the extremum `y`, split evenly between ties.
static Grads buildExtremumGradient(OpBuilder &b, Location loc, Value x, Value y,
                                   ArrayRef<int64_t> axes, Value g) {
  if (!isFloat(x))
    return {Value()};
  Rules r{b, loc};
  RankedTensorType kept = keptType(x, axes);
  Value hit =
      b.create<CompareOp>(loc, b.getStringAttr("eq"), x, r.reshape(y, kept));
  Value zero = r.scalarLike(x, 0.0);
  Value ones = b.create<SelectOp>(loc, hit, r.scalarLike(x, 1.0), zero);
  Value count = b.create<ReduceSumOp>(loc, ones, b.getDenseI64ArrayAttr(axes),
                                      b.getBoolAttr(true));
  Value share = b.create<DivOp>(loc, r.reshape(g, kept), count);
  return {b.create<SelectOp>(loc, hit, share, zero)};
}

Grads ReduceMaxOp::buildGradient(OpBuilder &b, ValueRange g) {
  return buildExtremumGradient(b, getLoc(), getInput(), getResult(), getAxes(),
                               g[0]);
}

Grads ReduceMinOp::buildGradient(OpBuilder &b, ValueRange g) {
  return buildExtremumGradient(b, getLoc(), getInput(), getResult(), getAxes(),
                               g[0]);
}

//===----------------------------------------------------------------------===//
// ArgMaxOp
//===----------------------------------------------------------------------===//

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<int64_t> axis =
      getIntAttr(loc, getOperationName(), adaptor.getAttributes(), "axis");
  if (failed(axis))
    return failure();
  if (*axis < 0 || *axis >= in.getRank())
    return emitOptionalError(
        loc, "'", getOperationName(), "' expected axis in [0, ", in.getRank(),
        ") but got ", *axis, " for shape ", formatShape(in));
  SmallVector<int64_t> shape(in.getShape());
  shape.erase(shape.begin() + *axis);
  types.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 32)));
  return success();
}

//===----------------------------------------------------------------------===//
// ErfOp, DropoutOp
//===----------------------------------------------------------------------===//

Grads ErfOp::buildGradient(OpBuilder &b, ValueRange g) {
  // d erf(x)/dx = 2/sqrt(pi) * exp(-x^2)
  Rules r{b, getLoc()};
  Value x = getInput();
  Value x2 = b.create<MulOp>(getLoc(), x, x);
  Value e = b.create<ExpOp>(getLoc(), b.create<NegOp>(getLoc(), x2));
  Value k = r.scalarLike(x, 1.1283791670955126); // 2/sqrt(pi)
  return {b.create<MulOp>(getLoc(), g[0], b.create<MulOp>(getLoc(), e, k))};
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto rate = lookupAttr<FloatAttr>(adaptor.getAttributes(), "rate");
  if (!rate)
    return emitOptionalError(loc, "'", getOperationName(),
                             "' expected a float 'rate' attribute");
  double r = rate.getValueAsDouble();
  if (!(r >= 0 && r < 1)) {
    std::ostringstream os; // 1.5, not raw_ostream's 1.500000e+00
    os << r;
    return emitOptionalError(loc, "'", getOperationName(),
                             "' expected rate in [0, 1) but got ", os.str());
  }
  if (failed(
          getIntAttr(loc, getOperationName(), adaptor.getAttributes(), "salt")))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

Grads DropoutOp::buildGradient(OpBuilder &b, ValueRange g) {
  // The same mask (same seed, rate, salt and shape) scales the gradient.
  return {b.create<DropoutOp>(getLoc(), g[0], getSeed(), getRateAttr(),
                              getSaltAttr()),
          Value()};
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return emitOptionalError(loc, "'", name,
                             "' expected at least one operand but got none");
  auto first = llvm::cast<RankedTensorType>(inputs.front().getType());
  int64_t rank = first.getRank();
  FailureOr<int64_t> axis =
      getIntAttr(loc, name, adaptor.getAttributes(), "axis");
  if (failed(axis))
    return failure();
  if (*axis < 0 || *axis >= rank)
    return emitOptionalError(loc, "'", name, "' expected axis in [0, ", rank,
                             ") but got ", *axis, " for shape ",
                             formatShape(first));
  SmallVector<int64_t> shape(first.getShape());
  shape[*axis] = 0;
  for (auto [i, v] : llvm::enumerate(inputs)) {
    auto t = llvm::cast<RankedTensorType>(v.getType());
    if (t.getElementType() != first.getElementType())
      return emitOptionalError(
          loc, "'", name, "' expected operands of one element type but got ",
          first.getElementType(), " and ", t.getElementType());
    if (t.getRank() != rank)
      return emitOptionalError(loc, "'", name, "' expected operands of rank ",
                               rank, " like ", formatShape(first),
                               " but operand ", i, " is ", formatShape(t));
    if (t.isDynamicDim(*axis))
      return emitOptionalError(loc, "'", name,
                               "' expected a static extent on axis ", *axis,
                               " but got the batch extent N in operand ", i,
                               " of shape ", formatShape(t));
    for (int64_t a = 0; a < rank; ++a)
      if (a != *axis && t.getDimSize(a) != first.getDimSize(a))
        return emitOptionalError(
            loc, "'", name, "' expected equal extents on all axes but ", *axis,
            " but got ", formatShape(first), " and ", formatShape(t));
    shape[*axis] += t.getDimSize(*axis);
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

Grads ConcatOp::buildGradient(OpBuilder &b, ValueRange g) {
  Grads grads;
  Rules r{b, getLoc()};
  int64_t axis = getAxis(), offset = 0;
  for (Value in : getInputs()) {
    int64_t extent =
        llvm::cast<RankedTensorType>(in.getType()).getDimSize(axis);
    grads.push_back(isFloat(in) ? r.slice(g[0], axis, offset, offset + extent)
                                : Value());
    offset += extent;
  }
  return grads;
}

//===----------------------------------------------------------------------===//
// SliceOp, PadOp
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<int64_t> axis =
      getIntAttr(loc, name, adaptor.getAttributes(), "axis");
  FailureOr<int64_t> start =
      getIntAttr(loc, name, adaptor.getAttributes(), "start");
  FailureOr<int64_t> end =
      getIntAttr(loc, name, adaptor.getAttributes(), "end");
  if (failed(axis) || failed(start) || failed(end))
    return failure();
  if (*axis < 0 || *axis >= in.getRank())
    return emitOptionalError(loc, "'", name, "' expected axis in [0, ",
                             in.getRank(), ") but got ", *axis, " for shape ",
                             formatShape(in));
  if (in.isDynamicDim(*axis))
    return emitOptionalError(
        loc, "'", name, "' expected a static extent on axis ", *axis,
        " but got the batch extent N of ", formatShape(in));
  int64_t extent = in.getDimSize(*axis);
  if (*start < 0 || *start >= *end || *end > extent)
    return emitOptionalError(loc, "'", name,
                             "' expected 0 <= start < end <= ", extent,
                             " on axis ", *axis, " of ", formatShape(in),
                             " but got start ", *start, " and end ", *end);
  SmallVector<int64_t> shape(in.getShape());
  shape[*axis] = *end - *start;
  types.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

Grads SliceOp::buildGradient(OpBuilder &b, ValueRange g) {
  auto in = getInput().getType();
  SmallVector<int64_t> before(in.getRank(), 0), after(in.getRank(), 0);
  int64_t axis = getAxis();
  before[axis] = getStart();
  after[axis] = in.getDimSize(axis) - static_cast<int64_t>(getEnd());
  return {b.create<PadOp>(getLoc(), g[0], b.getDenseI64ArrayAttr(before),
                          b.getDenseI64ArrayAttr(after))};
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  auto beforeAttr =
      lookupAttr<DenseI64ArrayAttr>(adaptor.getAttributes(), "before");
  auto afterAttr =
      lookupAttr<DenseI64ArrayAttr>(adaptor.getAttributes(), "after");
  if (!beforeAttr || !afterAttr)
    return emitOptionalError(loc, "'", name,
                             "' expected 'before' and 'after' i64 arrays");
  ArrayRef<int64_t> before = beforeAttr, after = afterAttr;
  int64_t rank = in.getRank();
  if ((int64_t)before.size() != rank || (int64_t)after.size() != rank)
    return emitOptionalError(loc, "'", name, "' expected ", rank,
                             " entries (one per axis of ", formatShape(in),
                             ") in before and after but got ", before.size(),
                             " and ", after.size());
  SmallVector<int64_t> shape(in.getShape());
  for (int64_t a = 0; a < rank; ++a) {
    if (before[a] < 0 || after[a] < 0)
      return emitOptionalError(
          loc, "'", name, "' expected non-negative padding but got ", before[a],
          " before and ", after[a], " after axis ", a);
    if (in.isDynamicDim(a)) {
      if (before[a] || after[a])
        return emitOptionalError(loc, "'", name,
                                 "' expected no padding of the batch axis ", a,
                                 " of ", formatShape(in), " but got ",
                                 before[a], " before and ", after[a], " after");
      continue;
    }
    shape[a] += before[a] + after[a];
  }
  types.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

Grads PadOp::buildGradient(OpBuilder &b, ValueRange g) {
  Rules r{b, getLoc()};
  auto in = getInput().getType();
  Value grad = g[0];
  for (int64_t a = 0; a < in.getRank(); ++a)
    if (getBefore()[a] || getAfter()[a])
      grad =
          r.slice(grad, a, getBefore()[a], getBefore()[a] + in.getDimSize(a));
  return {grad};
}

//===----------------------------------------------------------------------===//
// GatherOp, ScatterAddOp
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto table = llvm::cast<RankedTensorType>(adaptor.getTable().getType());
  auto ids = llvm::cast<RankedTensorType>(adaptor.getIds().getType());
  if (table.getRank() != 2 || !table.hasStaticShape())
    return emitOptionalError(
        loc, "'", getOperationName(),
        "' expected a table of static shape [V, D] but got ",
        formatShape(table));
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  types.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

Grads GatherOp::buildGradient(OpBuilder &b, ValueRange g) {
  int64_t rows = getTable().getType().getDimSize(0);
  return {b.create<ScatterAddOp>(getLoc(), getIds(), g[0],
                                 b.getI64IntegerAttr(rows)),
          Value()};
}

LogicalResult ScatterAddOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto ids = llvm::cast<RankedTensorType>(adaptor.getIds().getType());
  auto updates = llvm::cast<RankedTensorType>(adaptor.getUpdates().getType());
  FailureOr<int64_t> rows =
      getIntAttr(loc, name, adaptor.getAttributes(), "rows");
  if (failed(rows))
    return failure();
  if (*rows <= 0)
    return emitOptionalError(
        loc, "'", name, "' expected a positive number of rows but got ", *rows);
  if (updates.getRank() != ids.getRank() + 1 ||
      updates.getShape().drop_back() != ids.getShape() ||
      updates.isDynamicDim(ids.getRank()))
    return emitOptionalError(
        loc, "'", name, "' expected updates of the ids' shape ",
        formatShape(ids), " followed by a static row width but got ",
        formatShape(updates));
  types.push_back(RankedTensorType::get({*rows, updates.getShape().back()},
                                        updates.getElementType()));
  return success();
}

Grads ScatterAddOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {Value(), b.create<GatherOp>(getLoc(), g[0], getIds())};
}
