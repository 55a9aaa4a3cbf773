//===- FmDialect.h - The fm dialect -----------------------------*- C++ -*-===//
//
// Include this to use the fm dialect and its ops.
//
//===----------------------------------------------------------------------===//
#ifndef FM_IR_FMDIALECT_H
#define FM_IR_FMDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ir/FmOpsDialect.h.inc"

namespace mlir::fm {

/// Marks ops that stop gradients (see Fm_NoGradient in FmInterfaces.td).
template <typename ConcreteType>
class NoGradient : public OpTrait::TraitBase<ConcreteType, NoGradient> {};

/// Marks pointwise ops (see Fm_Pointwise in FmInterfaces.td).
template <typename ConcreteType>
class Pointwise : public OpTrait::TraitBase<ConcreteType, Pointwise> {};

/// Prints a shape the way users write it: `[N, 784]`, `[]` for scalars.
std::string formatShape(Type type);

/// Shape rules shared by several ops; each emits its error at `loc`.
LogicalResult inferBroadcastBinary(std::optional<Location> loc, StringRef opName,
                                   Type lhs, Type rhs,
                                   SmallVectorImpl<Type> &types);
LogicalResult inferReduction(std::optional<Location> loc, Type input,
                             ArrayRef<int64_t> axes, bool keepdims,
                             SmallVectorImpl<Type> &types);
LogicalResult inferClassification(std::optional<Location> loc, StringRef opName,
                                  Type logits, Type labels,
                                  SmallVectorImpl<Type> &types);
LogicalResult verifyAxis(Operation *op, Type input, int64_t axis);

/// True if `kernel` (an outlined fm.kernel function) may write result
/// `resultIndex` into the buffer it reads as argument `argIndex`: the
/// argument is read element by element (pointwise ops of its shape) on
/// every path to that result, and any other output made from the old value
/// is computed before it (the stored result reads that output back).
bool isInPlaceWriteSafe(func::FuncOp kernel, unsigned argIndex,
                        unsigned resultIndex);

/// NumPy broadcasting of two shapes (`?` is the batch extent); nullopt if
/// they do not broadcast.
std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> b);

} // namespace mlir::fm

#include "ir/FmInterfaces.h.inc"

#define GET_OP_CLASSES
#include "ir/FmOps.h.inc"

#endif // FM_IR_FMDIALECT_H
