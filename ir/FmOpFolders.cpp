//===- FmOpFolders.cpp - fm op folders --------------------------*- C++ -*-===//
//
// This file implements constant folding and no-op removal for fm ops.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::fm;

/// Folds a pointwise binary op whose operands are both scalar-like splat
/// float constants of the result's type (e.g. the optimizer's 1 - beta1).
template <typename Fn>
static OpFoldResult foldSplatBinary(Type resultType, Attribute lhs,
                                    Attribute rhs, Fn fn) {
  auto l = llvm::dyn_cast_if_present<SplatElementsAttr>(lhs);
  auto r = llvm::dyn_cast_if_present<SplatElementsAttr>(rhs);
  auto type = llvm::cast<RankedTensorType>(resultType);
  if (!l || !r || !type.hasStaticShape() ||
      !llvm::isa<FloatType>(type.getElementType()))
    return {};
  double v = fn(l.getSplatValue<APFloat>().convertToDouble(),
                r.getSplatValue<APFloat>().convertToDouble());
  return DenseElementsAttr::get(type, FloatAttr::get(type.getElementType(), v));
}

OpFoldResult AddOp::fold(FoldAdaptor a) {
  return foldSplatBinary(getType(), a.getLhs(), a.getRhs(),
                         [](double x, double y) { return x + y; });
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  return foldSplatBinary(getType(), a.getLhs(), a.getRhs(),
                         [](double x, double y) { return x - y; });
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  return foldSplatBinary(getType(), a.getLhs(), a.getRhs(),
                         [](double x, double y) { return x * y; });
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  return foldSplatBinary(getType(), a.getLhs(), a.getRhs(),
                         [](double x, double y) { return x / y; });
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) reads x directly.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>())
    if (inner.getInput().getType() == getType())
      return inner.getInput();
  return {};
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = getInput().getType();
  double count = 1;
  for (int64_t a : getAxes()) {
    if (in.isDynamicDim(a))
      return {}; // the batch extent is only known at run time
    count *= in.getDimSize(a);
  }
  auto type = getType();
  return DenseElementsAttr::get(type,
                                FloatAttr::get(type.getElementType(), count));
}
