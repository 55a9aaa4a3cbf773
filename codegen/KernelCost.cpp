//===- KernelCost.cpp - The arithmetic work of a kernel ---------*- C++ -*-===//
//
// This file implements getKernelCost. Every count is a product of tensor
// extents in which each dynamic extent is the batch N, so a term is
// c * N^d; terms of degree 0 and 1 add up to the descriptor's
// [perItem, fixed] pair, and a term of higher degree makes the cost
// unknown rather than wrong.
//
//===----------------------------------------------------------------------===//
#include "codegen/KernelCost.h"

#include "ir/FmDialect.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace {
/// c * N^degree.
struct Term {
  int64_t coefficient = 1;
  int degree = 0;

  Term operator*(const Term &o) const {
    return {coefficient * o.coefficient, degree + o.degree};
  }
};
} // namespace

/// The product of `shape[from:]`, a dynamic extent counting as N.
static Term getExtentProduct(ArrayRef<int64_t> shape, size_t from = 0) {
  Term t;
  for (size_t i = from; i < shape.size(); ++i) {
    if (ShapedType::isDynamic(shape[i]))
      ++t.degree;
    else
      t.coefficient *= shape[i];
  }
  return t;
}

static ArrayRef<int64_t> getShape(Value v) {
  return llvm::cast<RankedTensorType>(v.getType()).getShape();
}

/// Two flops (a multiply and an add) per multiply-add of a contraction.
static std::optional<Term> getOpFlops(Operation *op) {
  using namespace mlir::fm;
  if (auto mm = dyn_cast<MatMulOp>(op)) {
    // [M, K] @ [K, P]: M * P outputs of K multiply-adds each.
    Term outputs = getExtentProduct(getShape(mm.getResult()));
    Term inner = getExtentProduct(getShape(mm.getLhs()).drop_front());
    return Term{2, 0} * outputs * inner;
  }
  // A convolution's multiply-adds: each element of the forward result (the
  // gradient, for the two backward ops) takes C/G * KH * KW of them, the
  // filter's extents after the first. The backward ops do exactly the
  // forward's multiply-adds in another order.
  if (auto conv = dyn_cast<Conv2DOp>(op))
    return Term{2, 0} * getExtentProduct(getShape(conv.getResult())) *
           getExtentProduct(getShape(conv.getFilter()), 1);
  if (auto data = dyn_cast<Conv2DBackwardDataOp>(op))
    return Term{2, 0} * getExtentProduct(getShape(data.getGrad())) *
           getExtentProduct(getShape(data.getFilter()), 1);
  if (auto filter = dyn_cast<Conv2DBackwardFilterOp>(op))
    return Term{2, 0} * getExtentProduct(getShape(filter.getGrad())) *
           getExtentProduct(getShape(filter.getResult()), 1);
  return std::nullopt;
}

namespace fm {
KernelCost getKernelCost(func::FuncOp kernel) {
  KernelCost cost;
  kernel.walk([&](Operation *op) {
    std::optional<Term> t = getOpFlops(op);
    if (!t)
      return;
    if (t->degree == 0)
      cost.fixed += t->coefficient;
    else if (t->degree == 1)
      cost.perItem += t->coefficient;
    else
      cost.known = false;
  });
  return cost;
}

std::string getKernelOps(func::FuncOp kernel) {
  std::vector<std::string> names;
  kernel.walk([&](Operation *op) {
    if (op == kernel.getOperation() || isa<func::ReturnOp>(op))
      return;
    std::string name = op->getName().stripDialect().str();
    if (!llvm::is_contained(names, name))
      names.push_back(name);
  });
  return llvm::join(names, "+");
}
} // namespace fm
