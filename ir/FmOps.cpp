//===- FmOps.cpp - fm op verifiers and shape rules --------------*- C++ -*-===//
//
// This file implements the hand-written parts of the fm ops: shape
// inference and verifiers, one banner per op or op family.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace mlir::fm;

//===----------------------------------------------------------------------===//
// Shared shape rules
//===----------------------------------------------------------------------===//

std::string mlir::fm::formatShape(Type type) {
  auto shaped = llvm::dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasRank())
    return "[?]";
  std::string s = "[";
  llvm::interleave(
      shaped.getShape(),
      [&](int64_t d) { s += ShapedType::isDynamic(d) ? "N" : std::to_string(d); },
      [&] { s += ", "; });
  return s + "]";
}

std::optional<SmallVector<int64_t>>
mlir::fm::broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else
      return std::nullopt; // includes N against a fixed extent other than 1
  }
  return out;
}

LogicalResult mlir::fm::inferBroadcastBinary(std::optional<Location> loc,
                                             StringRef opName, Type lhs,
                                             Type rhs,
                                             SmallVectorImpl<Type> &types) {
  auto l = llvm::cast<RankedTensorType>(lhs);
  auto r = llvm::cast<RankedTensorType>(rhs);
  if (l.getElementType() != r.getElementType())
    return emitOptionalError(loc, "'", opName,
                             "' expected operands of one element type but got ",
                             l.getElementType(), " and ", r.getElementType());
  auto shape = broadcastShapes(l.getShape(), r.getShape());
  if (!shape)
    return emitOptionalError(loc, "'", opName, "' cannot broadcast shapes ",
                             formatShape(l), " and ", formatShape(r));
  types.push_back(RankedTensorType::get(*shape, l.getElementType()));
  return success();
}

LogicalResult mlir::fm::inferReduction(std::optional<Location> loc,
                                       Type input, ArrayRef<int64_t> axes,
                                       bool keepdims,
                                       SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(input);
  int64_t rank = in.getRank();
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t a : axes) {
    if (a < 0 || a >= rank)
      return emitOptionalError(loc, "expected axis in [0, ", rank,
                               ") but got ", a, " for shape ",
                               formatShape(in));
    if (!seen.insert(a).second)
      return emitOptionalError(loc, "axis ", a, " is listed twice");
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (!seen.contains(i))
      shape.push_back(in.getDimSize(i));
    else if (keepdims)
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult mlir::fm::inferClassification(std::optional<Location> loc,
                                            StringRef opName, Type logits,
                                            Type labels,
                                            SmallVectorImpl<Type> &types) {
  auto l = llvm::cast<RankedTensorType>(logits);
  auto y = llvm::cast<RankedTensorType>(labels);
  if (l.getRank() != 2)
    return emitOptionalError(loc, "'", opName,
                             "' expected logits of shape [N, C] but got ",
                             formatShape(l));
  if (!llvm::isa<IntegerType>(y.getElementType()) || y.getElementType().isInteger(1))
    return emitOptionalError(loc, "'", opName,
                             "' expected integer class ids but got element type ",
                             y.getElementType());
  if (y.getRank() != 1 || y.getDimSize(0) != l.getDimSize(0))
    return emitOptionalError(loc, "'", opName, "' expected labels of shape [",
                             formatShape(l).substr(1, formatShape(l).find(',') - 1),
                             "] (one class id per row of logits ",
                             formatShape(l), ") but got ", formatShape(y));
  types.push_back(RankedTensorType::get({}, l.getElementType()));
  return success();
}

LogicalResult mlir::fm::verifyAxis(Operation *op, Type input, int64_t axis) {
  int64_t rank = llvm::cast<RankedTensorType>(input).getRank();
  if (axis < 0 || axis >= rank)
    return op->emitOpError() << "expected axis in [0, " << rank
                             << ") but got " << axis;
  return success();
}

LogicalResult NormalizeOp::verify() {
  if (getAxes().empty())
    return emitOpError() << "expected at least one axis to normalise over";
  if (!(getEps().convertToDouble() > 0))
    return emitOpError() << "expected eps above 0 but got "
                         << getEps().convertToDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp, LoadOp, StoreOp, ApplyGradientOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  auto type = llvm::dyn_cast<RankedTensorType>(getType());
  if (!type || !type.hasStaticShape())
    return emitOpError() << "expected a tensor type of static shape but got "
                         << getType();
  if (getKind() != "param" && getKind() != "state")
    return emitOpError() << "expected kind \"param\" or \"state\" but got \""
                         << getKind() << "\"";
  static constexpr StringLiteral inits[] = {
      "zeros",          "ones",          "constant",       "normal",
      "uniform",        "glorot_uniform", "glorot_normal", "he_uniform",
      "he_normal"};
  if (!llvm::is_contained(inits, getInit()))
    return emitOpError() << "unknown initialiser \"" << getInit() << "\"";
  return success();
}

/// Shared by the ops that name a parameter: it must exist and match `type`.
static LogicalResult verifyParamUse(Operation *op, FlatSymbolRefAttr name,
                                    Type type,
                                    SymbolTableCollection &symbols) {
  auto param = symbols.lookupNearestSymbolFrom<ParamOp>(op, name);
  if (!param)
    return op->emitOpError() << "'" << name.getValue()
                             << "' does not name an fm.param";
  if (param.getType() != type)
    return op->emitOpError() << "expected type " << param.getType()
                             << " of '" << name.getValue() << "' but got "
                             << type;
  return success();
}

LogicalResult LoadOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyParamUse(*this, getParamAttr(), getType(), symbols);
}

LogicalResult StoreOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyParamUse(*this, getParamAttr(), getValue().getType(), symbols);
}

LogicalResult ApplyGradientOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyParamUse(*this, getParamAttr(), getGradient().getType(),
                        symbols);
}

//===----------------------------------------------------------------------===//
// CompareOp, SelectOp, CastOp
//===----------------------------------------------------------------------===//

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (failed(inferBroadcastBinary(loc, getOperationName(),
                                  adaptor.getLhs().getType(),
                                  adaptor.getRhs().getType(), types)))
    return failure();
  auto shape = llvm::cast<RankedTensorType>(types.back()).getShape();
  types.back() = RankedTensorType::get(shape, IntegerType::get(ctx, 1));
  return success();
}

LogicalResult CompareOp::verify() {
  static constexpr StringLiteral preds[] = {"lt", "le", "gt", "ge", "eq", "ne"};
  if (!llvm::is_contained(preds, getPredicate()))
    return emitOpError() << "expected predicate lt, le, gt, ge, eq or ne but got \""
                         << getPredicate() << "\"";
  return success();
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  SmallVector<Type> values;
  if (failed(inferBroadcastBinary(loc, getOperationName(),
                                  adaptor.getTrueValue().getType(),
                                  adaptor.getFalseValue().getType(), values)))
    return failure();
  auto v = llvm::cast<RankedTensorType>(values.front());
  auto c = llvm::cast<RankedTensorType>(adaptor.getCondition().getType());
  auto shape = broadcastShapes(c.getShape(), v.getShape());
  if (!shape)
    return emitOptionalError(loc, "'", getOperationName(),
                             "' cannot broadcast condition shape ",
                             formatShape(c), " with ", formatShape(v));
  types.push_back(RankedTensorType::get(*shape, v.getElementType()));
  return success();
}

LogicalResult CastOp::verify() {
  if (getInput().getType().getShape() != getResult().getType().getShape())
    return emitOpError() << "expected the same shape but got "
                         << formatShape(getInput().getType()) << " and "
                         << formatShape(getResult().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// MatMulOp, TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto a = llvm::cast<RankedTensorType>(adaptor.getLhs().getType());
  auto b = llvm::cast<RankedTensorType>(adaptor.getRhs().getType());
  if (a.getRank() != 2 || b.getRank() != 2)
    return emitOptionalError(loc, "'", getOperationName(),
                             "' expected [M, K] @ [K, P] but got ",
                             formatShape(a), " @ ", formatShape(b));
  if (a.getElementType() != b.getElementType())
    return emitOptionalError(loc, "'", getOperationName(),
                             "' expected operands of one element type but got ",
                             a.getElementType(), " and ", b.getElementType());
  if (a.getDimSize(1) != b.getDimSize(0))
    return emitOptionalError(loc, "'", getOperationName(),
                             "' expected inner dimensions to agree but got ",
                             formatShape(a), " @ ", formatShape(b));
  types.push_back(RankedTensorType::get({a.getDimSize(0), b.getDimSize(1)},
                                        a.getElementType()));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  SmallVector<bool> used(in.getRank(), false);
  if ((int64_t)perm.size() != in.getRank())
    return emitOptionalError(loc, "expected a permutation of ", in.getRank(),
                             " axes but got ", perm.size());
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || used[p])
      return emitOptionalError(loc, "expected a permutation of [0, ",
                               in.getRank(), ") but axis ", p,
                               " is out of range or repeated");
    used[p] = true;
    shape.push_back(in.getDimSize(p));
  }
  types.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// ReshapeOp, BroadcastToOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "expected the same element type";
  auto staticCount = [](RankedTensorType t) {
    int64_t n = 1;
    for (int64_t d : t.getShape())
      if (!ShapedType::isDynamic(d))
        n *= d;
    return n;
  };
  auto dynamicLead = [](RankedTensorType t) {
    return t.getNumDynamicDims() == 1 && t.getRank() > 0 &&
           ShapedType::isDynamic(t.getDimSize(0));
  };
  if (in.getNumDynamicDims() != out.getNumDynamicDims() ||
      (in.getNumDynamicDims() && (!dynamicLead(in) || !dynamicLead(out))))
    return emitOpError() << "expected the batch dimension N to stay the "
                            "leading dimension but got "
                         << formatShape(in) << " -> " << formatShape(out);
  if (staticCount(in) != staticCount(out))
    return emitOpError() << "expected the same number of elements but got "
                         << formatShape(in) << " -> " << formatShape(out);
  return success();
}

LogicalResult BroadcastToOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "expected the same element type";
  auto shape = broadcastShapes(in.getShape(), out.getShape());
  if (!shape || ArrayRef<int64_t>(*shape) != out.getShape())
    return emitOpError() << "cannot broadcast " << formatShape(in) << " to "
                         << formatShape(out);
  return success();
}

//===----------------------------------------------------------------------===//
// SizeOp, OneHotOp, MseOp
//===----------------------------------------------------------------------===//

LogicalResult SizeOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  for (int64_t a : adaptor.getAxes())
    if (a < 0 || a >= in.getRank())
      return emitOptionalError(loc, "expected axis in [0, ", in.getRank(),
                               ") but got ", a);
  Type elem = in.getElementType();
  if (!llvm::isa<FloatType>(elem))
    elem = Float32Type::get(ctx);
  types.push_back(RankedTensorType::get({}, elem));
  return success();
}

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t classes = adaptor.getClasses();
  if (classes <= 0)
    return emitOptionalError(loc, "expected a positive number of classes but got ",
                             classes);
  SmallVector<int64_t> shape(in.getShape());
  shape.push_back(classes);
  types.push_back(RankedTensorType::get(shape, Float32Type::get(ctx)));
  return success();
}

LogicalResult MseOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  auto p = llvm::cast<RankedTensorType>(adaptor.getPrediction().getType());
  auto t = llvm::cast<RankedTensorType>(adaptor.getTarget().getType());
  if (p != t)
    return emitOptionalError(loc, "'", getOperationName(),
                             "' expected prediction and target of one shape but got ",
                             formatShape(p), " and ", formatShape(t));
  types.push_back(RankedTensorType::get({}, p.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// TableGen'd op definitions
//===----------------------------------------------------------------------===//

#define GET_OP_CLASSES
#include "ir/FmOps.cpp.inc"
