//===- Elementwise.cpp - Lowering of elementwise fm ops ---------*- C++ -*-===//
//
// This file implements the lowerings of constants and of the pointwise
// ops: unary math, broadcasting binary arithmetic, compare, select and
// cast. Each becomes one pure Func over the result's shape that reads its
// operands with NumPy broadcasting; schedules inline them.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

#include "ir/FmDialect.h"

#include "llvm/ADT/StringSwitch.h"

using namespace ::fm::lowering;
using namespace mlir;
using namespace mlir::fm;
using ::fm::StageKind;
using Halide::Expr;

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

/// Copies a non-splat constant into a Buffer embedded in the pipeline
/// (compiled into the object file as data).
static Halide::Buffer<> makeConstantBuffer(DenseElementsAttr attr,
                                           Halide::Type type,
                                           const std::vector<int64_t> &shape,
                                           const std::string &name) {
  std::vector<int> sizes;
  for (auto it = shape.rbegin(); it != shape.rend(); ++it)
    sizes.push_back(static_cast<int>(*it));
  Halide::Type storage = type.is_bool() ? Halide::UInt(8) : type;
  Halide::Buffer<> buffer(storage, sizes, name);
  // Halide's default layout is dense with dim 0 innermost, which is the
  // row-major order of the attribute's values.
  size_t i = 0;
  if (type.is_float()) {
    for (const APFloat &v : attr.getValues<APFloat>()) {
      double d = v.convertToDouble();
      if (type.bits() == 32)
        static_cast<float *>(buffer.data())[i++] = static_cast<float>(d);
      else
        static_cast<double *>(buffer.data())[i++] = d;
    }
  } else {
    for (const APInt &v : attr.getValues<APInt>()) {
      int64_t x = type.is_bool() || type.is_uint() ? v.getZExtValue()
                                                   : v.getSExtValue();
      switch (storage.bits()) {
      case 8:
        static_cast<uint8_t *>(buffer.data())[i++] = x;
        break;
      case 32:
        static_cast<int32_t *>(buffer.data())[i++] = x;
        break;
      default:
        static_cast<int64_t *>(buffer.data())[i++] = x;
        break;
      }
    }
  }
  return buffer;
}

static LogicalResult lowerConstant(Operation *op, Lowering &ctx) {
  auto attr =
      llvm::dyn_cast<DenseElementsAttr>(cast<ConstantOp>(op).getValue());
  if (!attr)
    return op->emitOpError() << "expected a dense constant";
  Value result = op->getResult(0);
  Halide::Type type = Lowering::getElementType(result);
  std::vector<int64_t> shape = Lowering::getShape(result);
  if (attr.isSplat()) {
    Expr value;
    if (type.is_float())
      value = Lowering::constant(
          type, attr.getSplatValue<APFloat>().convertToDouble());
    else if (type.is_bool())
      value =
          Halide::Internal::make_bool(!attr.getSplatValue<APInt>().isZero());
    else
      value = Halide::Internal::make_const(
          type, type.is_uint() ? static_cast<int64_t>(
                                     attr.getSplatValue<APInt>().getZExtValue())
                               : attr.getSplatValue<APInt>().getSExtValue());
    ctx.bindPointwise(
        op, [&](const Index &) { return value; }, StageKind::Constant);
    return success();
  }
  std::string name = ctx.getName(op);
  Halide::Buffer<> buffer =
      makeConstantBuffer(attr, type, shape, name + "_data");
  ctx.bindPointwise(
      op,
      [&](const Index &i) {
        return Lowering::convert(buffer(Lowering::reversed(i)), type);
      },
      StageKind::Constant);
  return success();
}

//===----------------------------------------------------------------------===//
// Unary and binary math
//===----------------------------------------------------------------------===//

using UnaryFn = Expr (*)(Expr x);
using BinaryFn = Expr (*)(Expr a, Expr b);

static LogicalResult lowerUnary(Operation *op, Lowering &ctx, UnaryFn fn) {
  Tensor x = ctx.get(op->getOperand(0));
  ctx.bindPointwise(op, [&](const Index &i) { return fn(x.at(i)); });
  return success();
}

/// Reads every operand of `op` with broadcasting to the result's shape.
static std::vector<Expr> readOperands(Operation *op, Lowering &ctx,
                                      const Index &index) {
  std::vector<int64_t> shape = Lowering::getShape(op->getResult(0));
  std::vector<Expr> values;
  for (Value operand : op->getOperands())
    values.push_back(Lowering::readBroadcast(ctx.get(operand), shape, index));
  return values;
}

static LogicalResult lowerBinary(Operation *op, Lowering &ctx, BinaryFn fn) {
  ctx.bindPointwise(op, [&](const Index &i) {
    std::vector<Expr> v = readOperands(op, ctx, i);
    return fn(v[0], v[1]);
  });
  return success();
}

static Expr one(Expr like) { return Lowering::constant(like.type(), 1.0); }

static Expr sigmoid(Expr x) { return one(x) / (one(x) + Halide::exp(-x)); }

static Expr power(Expr a, Expr b) {
  if (a.type().is_float())
    return Halide::pow(a, b);
  // Halide's pow is floating-point only: go through f64 for integers.
  Halide::Type t = a.type();
  return Halide::cast(
      t, Halide::pow(Halide::cast<double>(a), Halide::cast<double>(b)));
}

//===----------------------------------------------------------------------===//
// CompareOp, SelectOp, CastOp
//===----------------------------------------------------------------------===//

static LogicalResult lowerCompare(Operation *op, Lowering &ctx) {
  StringRef pred = cast<CompareOp>(op).getPredicate();
  BinaryFn fn = llvm::StringSwitch<BinaryFn>(pred)
                    .Case("lt", [](Expr a, Expr b) { return a < b; })
                    .Case("le", [](Expr a, Expr b) { return a <= b; })
                    .Case("gt", [](Expr a, Expr b) { return a > b; })
                    .Case("ge", [](Expr a, Expr b) { return a >= b; })
                    .Case("eq", [](Expr a, Expr b) { return a == b; })
                    .Case("ne", [](Expr a, Expr b) { return a != b; })
                    .Default(nullptr);
  if (!fn)
    return op->emitOpError() << "unknown predicate \"" << pred << "\"";
  return lowerBinary(op, ctx, fn);
}

static LogicalResult lowerSelect(Operation *op, Lowering &ctx) {
  ctx.bindPointwise(op, [&](const Index &i) {
    std::vector<Expr> v = readOperands(op, ctx, i);
    return Halide::select(v[0], v[1], v[2]);
  });
  return success();
}

static LogicalResult lowerCast(Operation *op, Lowering &ctx) {
  Tensor x = ctx.get(op->getOperand(0));
  // bindPointwise converts to the result type.
  ctx.bindPointwise(op, [&](const Index &i) { return x.at(i); });
  return success();
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

#define FM_UNARY(OP, FN)                                                       \
  table.add<OP>([](Operation *op, Lowering &ctx) {                             \
    return lowerUnary(op, ctx, [](Expr x) -> Expr { return FN; });             \
  })
#define FM_BINARY(OP, FN)                                                      \
  table.add<OP>([](Operation *op, Lowering &ctx) {                             \
    return lowerBinary(op, ctx, [](Expr a, Expr b) -> Expr { return FN; });    \
  })

void ::fm::lowering::registerElementwiseLowerings(LoweringTable &table) {
  table.add<ConstantOp>(lowerConstant);
  FM_UNARY(NegOp, -x);
  FM_UNARY(ReluOp, Halide::max(x, Halide::Internal::make_zero(x.type())));
  FM_UNARY(SigmoidOp, sigmoid(x));
  FM_UNARY(TanhOp, Halide::tanh(x));
  FM_UNARY(ExpOp, Halide::exp(x));
  FM_UNARY(LogOp, Halide::log(x));
  FM_UNARY(SqrtOp, Halide::sqrt(x));
  FM_BINARY(AddOp, a + b);
  FM_BINARY(SubOp, a - b);
  FM_BINARY(MulOp, a * b);
  FM_BINARY(DivOp, a / b);
  FM_BINARY(PowOp, power(a, b));
  table.add<CompareOp>(lowerCompare);
  table.add<SelectOp>(lowerSelect);
  table.add<CastOp>(lowerCast);
}
