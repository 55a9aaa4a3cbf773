//===- FmConvOps.td - Convolution and pooling ops ---*- tablegen -*-===//
//
// Included by FmOps.td after the base classes. NCHW activations, OIHW
// filters, f32 or f64. Geometry attributes (all `array<i64>`):
//   strides  = [sh, sw]                     (positive)
//   padding  = [top, left, bottom, right]   (non-negative)
//   dilation = [dh, dw]                     (positive)
//   kernel   = [kh, kw]                     (pooling; positive)
// and `groups` (i64, positive) for convolutions; all are required. An
// output extent is
//   OH = (H + top + bottom - dh * (KH - 1) - 1) / sh + 1
// (floor division; pooling has dh = 1). Shape rules and gradients are in
// FmConvOps.cpp; lowerings in codegen/ops/Convolution.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef FM_FMCONVOPS_TD
#define FM_FMCONVOPS_TD

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

class Fm_ConvOp<string mnemonic, list<Trait> traits = []>
    : Fm_Op<mnemonic, !listconcat(traits, [Pure, Fm_Grad])> {
  // Required (no defaults), so that printed IR always shows the geometry.
  dag geometry = (ins DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                      DenseI64ArrayAttr:$dilation, I64Attr:$groups);
  let results = (outs Fm_FloatTensor:$result);
}

def Fm_Conv2DOp : Fm_ConvOp<"conv2d", [InferTypeOpAdaptor]> {
  let summary = "2-D convolution (cross-correlation) of NCHW input with OIHW filters";
  let description = [{
    `result[n, o, y, x] = sum over c < C/G, i < KH, j < KW of
       input[n, g*C/G + c, y*sh + i*dh - top, x*sw + j*dw - left] * filter[o, c, i, j]`
    with `g = o / (O/G)`; positions outside the input read zero. No bias.
    ```mlir
    %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
                           dilation = array<i64: 1, 1>, groups = 1 : i64}
        : tensor<?x1x28x28xf32>, tensor<32x1x3x3xf32> -> tensor<?x32x26x26xf32>
    ```
  }];
  let arguments = !con((ins Fm_FloatTensor:$input, Fm_FloatTensor:$filter), geometry);
  let assemblyFormat = "$input `,` $filter attr-dict `:` type($input) `,` type($filter) `->` type($result)";
}

def Fm_Conv2DBackwardDataOp : Fm_ConvOp<"conv2d_backward_data"> {
  let summary = "the gradient of conv2d with respect to its input";
  let description = [{
    Given the gradient `grad` of a conv2d's result and its `filter`, the
    gradient with respect to the conv2d's input (the transposed
    convolution). The result type is that input's type, stated because
    strides make it ambiguous; the verifier checks that a conv2d of that
    shape gives `grad`'s shape.
    ```mlir
    %dx = fm.conv2d_backward_data %g, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
                                          dilation = array<i64: 1, 1>, groups = 1 : i64}
        : tensor<?x64x11x11xf32>, tensor<64x32x3x3xf32> -> tensor<?x32x13x13xf32>
    ```
  }];
  let arguments = !con((ins Fm_FloatTensor:$grad, Fm_FloatTensor:$filter), geometry);
  let assemblyFormat = "$grad `,` $filter attr-dict `:` type($grad) `,` type($filter) `->` type($result)";
  let hasVerifier = 1;
}

def Fm_Conv2DBackwardFilterOp : Fm_ConvOp<"conv2d_backward_filter"> {
  let summary = "the gradient of conv2d with respect to its filter";
  let description = [{
    Given a conv2d's `input` and the gradient `grad` of its result, the
    gradient with respect to its filter (summed over the batch). The
    result type is the filter's type; the verifier checks it.
    ```mlir
    %dw = fm.conv2d_backward_filter %x, %g {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
                                            dilation = array<i64: 1, 1>, groups = 1 : i64}
        : tensor<?x32x13x13xf32>, tensor<?x64x11x11xf32> -> tensor<64x32x3x3xf32>
    ```
  }];
  let arguments = !con((ins Fm_FloatTensor:$input, Fm_FloatTensor:$grad), geometry);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($input) `,` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

class Fm_PoolOp<string mnemonic, list<Trait> traits = []>
    : Fm_Op<mnemonic, !listconcat(traits, [Pure])> {
  dag window = (ins DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                    DenseI64ArrayAttr:$padding);
  let results = (outs Fm_FloatTensor:$result);
}

def Fm_MaxPool2DOp : Fm_PoolOp<"maxpool2d", [InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "maximum over windows of an NCHW tensor";
  let description = [{
    Padding counts as -inf; each padding must be smaller than the kernel
    along its axis, so every window holds an input element.
    ```mlir
    %y = fm.maxpool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
                          padding = array<i64: 0, 0, 0, 0>}
        : tensor<?x32x26x26xf32> -> tensor<?x32x13x13xf32>
    ```
  }];
  let arguments = !con((ins Fm_FloatTensor:$input), window);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Fm_MaxPool2DBackwardOp : Fm_PoolOp<"maxpool2d_backward", [InferTypeOpAdaptor]> {
  let summary = "the gradient of maxpool2d with respect to its input";
  let description = [{
    Routes each window's gradient to the first maximal element of the
    window in row-major order (PyTorch's choice); elements that are the
    maximum of several windows receive the sum. Not differentiable itself:
    autodiff reports it if a second derivative ever needs it.
    ```mlir
    %dx = fm.maxpool2d_backward %x, %g {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
                                        padding = array<i64: 0, 0, 0, 0>}
        : tensor<?x32x26x26xf32>, tensor<?x32x13x13xf32> -> tensor<?x32x26x26xf32>
    ```
  }];
  let arguments = !con((ins Fm_FloatTensor:$input, Fm_FloatTensor:$grad), window);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($input) `,` type($grad) `->` type($result)";
}

def Fm_AvgPool2DOp : Fm_PoolOp<"avgpool2d", [InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "mean over windows of an NCHW tensor";
  let description = [{
    The divisor is always kh * kw: padding counts as zeros (PyTorch's
    `count_include_pad=True`).
    ```mlir
    %y = fm.avgpool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
                          padding = array<i64: 0, 0, 0, 0>}
        : tensor<?x32x26x26xf32> -> tensor<?x32x13x13xf32>
    ```
  }];
  let arguments = !con((ins Fm_FloatTensor:$input), window);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Fm_AvgPool2DBackwardOp : Fm_PoolOp<"avgpool2d_backward", [Fm_Grad]> {
  let summary = "the gradient of avgpool2d with respect to its input";
  let description = [{
    Spreads each window's gradient, divided by kh * kw, over the window.
    The result type is the pooled input's type (strides make it
    ambiguous); the verifier checks it.
    ```mlir
    %dx = fm.avgpool2d_backward %g {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
                                    padding = array<i64: 0, 0, 0, 0>}
        : tensor<?x32x13x13xf32> -> tensor<?x32x26x26xf32>
    ```
  }];
  let arguments = !con((ins Fm_FloatTensor:$grad), window);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

#endif // FM_FMCONVOPS_TD
