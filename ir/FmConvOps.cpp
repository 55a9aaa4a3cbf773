//===- FmConvOps.cpp - Convolution and pooling ops -----------*- C++ -*-===//
//
// This file implements the shape rules, verifiers and gradients of the ops
// declared in FmConvOps.td. One shape rule serves each family: conv2d's
// (inferConvShape) also checks the stated result types of its two
// gradients, and the pooling rule (inferPoolShape) those of pooling's.
//
// Gradients (vector-Jacobian products), with conv(x, w) bilinear:
//   conv2d(x, w)                 -> {backward_data(g, w), backward_filter(x,
//   g)} conv2d_backward_data(g, w)   -> {conv2d(u, w), backward_filter(u, g)}
//   conv2d_backward_filter(x, g) -> {backward_data(g, v), conv2d(x, v)}
//   maxpool2d(x)                 -> {maxpool2d_backward(x, g)}
//   avgpool2d(x)                 -> {avgpool2d_backward(g)}
//   avgpool2d_backward(g)        -> {avgpool2d(u)}
// maxpool2d_backward has none: autodiff reports it if it is ever reached.
//
//===----------------------------------------------------------------------===//
#include "ir/FmDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::fm;

using Grads = SmallVector<Value>;

//===----------------------------------------------------------------------===//
// Shared shape rules
//===----------------------------------------------------------------------===//

namespace {
/// The geometry attributes of a convolution or pooling op.
struct Window {
  ArrayRef<int64_t> kernel; // pooling only; a conv's comes from its filter
  ArrayRef<int64_t> strides, padding, dilation;
  int64_t groups = 1;
};
} // namespace

static std::string formatList(ArrayRef<int64_t> values) {
  std::string s = "[";
  llvm::interleave(
      values, [&](int64_t v) { s += std::to_string(v); }, [&] { s += ", "; });
  return s + "]";
}

/// Checks strides, padding and dilation (and kernel when `pooling`).
static LogicalResult verifyWindow(std::optional<Location> loc, StringRef opName,
                                  const Window &w, bool pooling) {
  auto positive = [](ArrayRef<int64_t> v, size_t n) {
    return v.size() == n && llvm::all_of(v, [](int64_t x) { return x > 0; });
  };
  if (pooling && !positive(w.kernel, 2))
    return emitOptionalError(loc, "'", opName,
                             "' expected kernel of 2 positive values [kh, kw] "
                             "but got ",
                             formatList(w.kernel));
  if (!positive(w.strides, 2))
    return emitOptionalError(loc, "'", opName,
                             "' expected strides of 2 positive values [sh, sw] "
                             "but got ",
                             formatList(w.strides));
  if (w.padding.size() != 4 ||
      llvm::any_of(w.padding, [](int64_t x) { return x < 0; }))
    return emitOptionalError(loc, "'", opName,
                             "' expected padding of 4 non-negative values "
                             "[top, left, bottom, right] but got ",
                             formatList(w.padding));
  if (!pooling && !positive(w.dilation, 2))
    return emitOptionalError(loc, "'", opName,
                             "' expected dilation of 2 positive values "
                             "[dh, dw] but got ",
                             formatList(w.dilation));
  if (!pooling && w.groups <= 0)
    return emitOptionalError(loc, "'", opName,
                             "' expected a positive number of groups but got ",
                             w.groups);
  return success();
}

/// Checks an NCHW activation: rank 4, only the batch may be `?`.
static LogicalResult verifyActivation(std::optional<Location> loc,
                                      StringRef opName, StringRef what,
                                      RankedTensorType t) {
  if (t.getRank() != 4 ||
      llvm::any_of(t.getShape().drop_front(), ShapedType::isDynamic))
    return emitOptionalError(loc, "'", opName, "' expected ", what,
                             " of shape [N, C, H, W] (static C, H, W) but got ",
                             formatShape(t));
  return success();
}

/// The output extent of one spatial axis, or 0 if the window does not fit.
static int64_t outputExtent(int64_t in, int64_t before, int64_t after,
                            int64_t kernel, int64_t stride, int64_t dilation) {
  int64_t span = in + before + after - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

/// conv2d's shape rule: the result type of conv2d(input, filter).
static FailureOr<RankedTensorType>
inferConvShape(std::optional<Location> loc, StringRef opName, Type inputType,
               Type filterType, const Window &w) {
  auto x = llvm::cast<RankedTensorType>(inputType);
  auto f = llvm::cast<RankedTensorType>(filterType);
  if (failed(verifyActivation(loc, opName, "input", x)))
    return failure();
  if (f.getRank() != 4 || !f.hasStaticShape())
    return emitOptionalError(loc, "'", opName,
                             "' expected filter of static shape [O, C/groups, "
                             "KH, KW] but got ",
                             formatShape(f));
  if (x.getElementType() != f.getElementType())
    return emitOptionalError(loc, "'", opName,
                             "' expected operands of one element type but got ",
                             x.getElementType(), " and ", f.getElementType());
  if (failed(verifyWindow(loc, opName, w, /*pooling=*/false)))
    return failure();
  int64_t c = x.getDimSize(1), o = f.getDimSize(0), g = w.groups;
  if (c % g != 0)
    return emitOptionalError(loc, "'", opName,
                             "' expected input channels "
                             "divisible by groups = ",
                             g, " but got ", c, " channels in ",
                             formatShape(x));
  if (o % g != 0)
    return emitOptionalError(loc, "'", opName,
                             "' expected output channels "
                             "divisible by groups = ",
                             g, " but got ", o, " filters in ", formatShape(f));
  if (f.getDimSize(1) != c / g)
    return emitOptionalError(loc, "'", opName, "' expected filter of shape [",
                             o, ", ", c / g, ", KH, KW] (", c,
                             " input channels / ", g, " groups) but got ",
                             formatShape(f));
  int64_t kh = f.getDimSize(2), kw = f.getDimSize(3);
  int64_t oh = outputExtent(x.getDimSize(2), w.padding[0], w.padding[2], kh,
                            w.strides[0], w.dilation[0]);
  int64_t ow = outputExtent(x.getDimSize(3), w.padding[1], w.padding[3], kw,
                            w.strides[1], w.dilation[1]);
  if (oh < 1 || ow < 1)
    return emitOptionalError(
        loc, "'", opName, "' expected an output of at least 1x1 but got ", oh,
        "x", ow, ": the dilated ", kh, "x", kw, " kernel spans ",
        w.dilation[0] * (kh - 1) + 1, "x", w.dilation[1] * (kw - 1) + 1,
        " and the padded input is ",
        x.getDimSize(2) + w.padding[0] + w.padding[2], "x",
        x.getDimSize(3) + w.padding[1] + w.padding[3]);
  return RankedTensorType::get({x.getDimSize(0), o, oh, ow},
                               x.getElementType());
}

/// The pooling shape rule: the result type of pooling `inputType`.
static FailureOr<RankedTensorType> inferPoolShape(std::optional<Location> loc,
                                                  StringRef opName,
                                                  Type inputType,
                                                  const Window &w) {
  auto x = llvm::cast<RankedTensorType>(inputType);
  if (failed(verifyActivation(loc, opName, "input", x)) ||
      failed(verifyWindow(loc, opName, w, /*pooling=*/true)))
    return failure();
  if (w.padding[0] >= w.kernel[0] || w.padding[2] >= w.kernel[0] ||
      w.padding[1] >= w.kernel[1] || w.padding[3] >= w.kernel[1])
    return emitOptionalError(
        loc, "'", opName, "' expected padding smaller than the kernel ",
        formatList(w.kernel), " but got ", formatList(w.padding));
  int64_t oh = outputExtent(x.getDimSize(2), w.padding[0], w.padding[2],
                            w.kernel[0], w.strides[0], 1);
  int64_t ow = outputExtent(x.getDimSize(3), w.padding[1], w.padding[3],
                            w.kernel[1], w.strides[1], 1);
  if (oh < 1 || ow < 1)
    return emitOptionalError(loc, "'", opName,
                             "' expected an output of at least 1x1 but got ",
                             oh, "x", ow, ": the kernel ", formatList(w.kernel),
                             " is larger than the padded input ",
                             x.getDimSize(2) + w.padding[0] + w.padding[2], "x",
                             x.getDimSize(3) + w.padding[1] + w.padding[3]);
  return RankedTensorType::get({x.getDimSize(0), x.getDimSize(1), oh, ow},
                               x.getElementType());
}

/// Checks that a gradient operand of type `actual` has the type `expected`
/// of the forward op's result.
static LogicalResult verifyGradType(std::optional<Location> loc,
                                    StringRef opName, RankedTensorType expected,
                                    RankedTensorType actual) {
  if (expected.getElementType() != actual.getElementType())
    return emitOptionalError(
        loc, "'", opName, "' expected grad of element type ",
        expected.getElementType(), " but got ", actual.getElementType());
  if (expected != actual)
    return emitOptionalError(loc, "'", opName, "' expected grad of shape ",
                             formatShape(expected), " but got ",
                             formatShape(actual));
  return success();
}

template <typename Adaptor> static Window convWindow(Adaptor op) {
  return Window{{},
                op.getStrides(),
                op.getPadding(),
                op.getDilation(),
                static_cast<int64_t>(op.getGroups())};
}

template <typename Adaptor> static Window poolWindow(Adaptor op) {
  return Window{op.getKernel(), op.getStrides(), op.getPadding(), {}, 1};
}

//===----------------------------------------------------------------------===//
// Conv2DOp, Conv2DBackwardDataOp, Conv2DBackwardFilterOp
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto type =
      inferConvShape(loc, getOperationName(), adaptor.getInput().getType(),
                     adaptor.getFilter().getType(), convWindow(adaptor));
  if (failed(type))
    return failure();
  types.push_back(*type);
  return success();
}

LogicalResult Conv2DBackwardDataOp::verify() {
  // The result is the conv2d's input: convolving it must give `grad`.
  auto type = inferConvShape(getLoc(), getOperationName(), getType(),
                             getFilter().getType(), convWindow(*this));
  if (failed(type))
    return failure();
  return verifyGradType(getLoc(), getOperationName(), *type,
                        getGrad().getType());
}

LogicalResult Conv2DBackwardFilterOp::verify() {
  // The result is the conv2d's filter: convolving with it must give `grad`.
  auto type = inferConvShape(getLoc(), getOperationName(), getInput().getType(),
                             getType(), convWindow(*this));
  if (failed(type))
    return failure();
  return verifyGradType(getLoc(), getOperationName(), *type,
                        getGrad().getType());
}

Grads Conv2DOp::buildGradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  return {b.create<Conv2DBackwardDataOp>(
              loc, getInput().getType(), g[0], getFilter(), getStridesAttr(),
              getPaddingAttr(), getDilationAttr(), getGroupsAttr()),
          b.create<Conv2DBackwardFilterOp>(
              loc, getFilter().getType(), getInput(), g[0], getStridesAttr(),
              getPaddingAttr(), getDilationAttr(), getGroupsAttr())};
}

Grads Conv2DBackwardDataOp::buildGradient(OpBuilder &b, ValueRange g) {
  // dx = A_w^T grad, linear in grad and in w: <dx, u> = <grad, conv(u, w)>
  // = <w, backward_filter(u, grad)>.
  Location loc = getLoc();
  return {b.create<Conv2DOp>(loc, g[0], getFilter(), getStridesAttr(),
                             getPaddingAttr(), getDilationAttr(),
                             getGroupsAttr()),
          b.create<Conv2DBackwardFilterOp>(
              loc, getFilter().getType(), g[0], getGrad(), getStridesAttr(),
              getPaddingAttr(), getDilationAttr(), getGroupsAttr())};
}

Grads Conv2DBackwardFilterOp::buildGradient(OpBuilder &b, ValueRange g) {
  // <dw, v> = <grad, conv(x, v)> = <x, backward_data(grad, v)>.
  Location loc = getLoc();
  return {
      b.create<Conv2DBackwardDataOp>(loc, getInput().getType(), getGrad(), g[0],
                                     getStridesAttr(), getPaddingAttr(),
                                     getDilationAttr(), getGroupsAttr()),
      b.create<Conv2DOp>(loc, getInput(), g[0], getStridesAttr(),
                         getPaddingAttr(), getDilationAttr(), getGroupsAttr())};
}

//===----------------------------------------------------------------------===//
// MaxPool2DOp, MaxPool2DBackwardOp, AvgPool2DOp, AvgPool2DBackwardOp
//===----------------------------------------------------------------------===//

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto type = inferPoolShape(loc, getOperationName(),
                             adaptor.getInput().getType(), poolWindow(adaptor));
  if (failed(type))
    return failure();
  types.push_back(*type);
  return success();
}

LogicalResult MaxPool2DBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Type input = adaptor.getInput().getType();
  auto type =
      inferPoolShape(loc, getOperationName(), input, poolWindow(adaptor));
  if (failed(type))
    return failure();
  if (failed(verifyGradType(
          loc, getOperationName(), *type,
          llvm::cast<RankedTensorType>(adaptor.getGrad().getType()))))
    return failure();
  types.push_back(input);
  return success();
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto type = inferPoolShape(loc, getOperationName(),
                             adaptor.getInput().getType(), poolWindow(adaptor));
  if (failed(type))
    return failure();
  types.push_back(*type);
  return success();
}

LogicalResult AvgPool2DBackwardOp::verify() {
  // The result is the pooled input: pooling it must give `grad`.
  auto type = inferPoolShape(getLoc(), getOperationName(), getType(),
                             poolWindow(*this));
  if (failed(type))
    return failure();
  return verifyGradType(getLoc(), getOperationName(), *type,
                        getGrad().getType());
}

Grads MaxPool2DOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {b.create<MaxPool2DBackwardOp>(getLoc(), getInput(), g[0],
                                        getKernelAttr(), getStridesAttr(),
                                        getPaddingAttr())};
}

Grads AvgPool2DOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {b.create<AvgPool2DBackwardOp>(getLoc(), getInput().getType(), g[0],
                                        getKernelAttr(), getStridesAttr(),
                                        getPaddingAttr())};
}

Grads AvgPool2DBackwardOp::buildGradient(OpBuilder &b, ValueRange g) {
  return {b.create<AvgPool2DOp>(getLoc(), g[0], getKernelAttr(),
                                getStridesAttr(), getPaddingAttr())};
}
