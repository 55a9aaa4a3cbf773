//===- FmOps.td - fm dialect operations --------------------*- tablegen -*-===//
//
// Every op of the fm dialect, with its verifier and shape rule. The
// gradient (VJP) of each differentiable op lives in FmGradients.cpp,
// declared here through Fm_GradientOpInterface.
//
//===----------------------------------------------------------------------===//
#ifndef FM_OPS_TD
#define FM_OPS_TD

include "FmBase.td"
include "FmInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

defvar Fm_Grad = DeclareOpInterfaceMethods<Fm_GradientOpInterface>;

//===----------------------------------------------------------------------===//
// Parameters and state
//===----------------------------------------------------------------------===//

def Fm_ParamOp : Fm_Op<"param", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a persistent tensor: a trainable parameter or optimizer state";
  let description = [{
    A module-level tensor that outlives a step. `kind` is `param`
    (trainable, differentiated) or `state` (e.g. optimizer moments). `init`
    names the initialiser (LANGUAGE.md §4) and `init_args` its arguments.
    ```mlir
    fm.param @dense.weight : tensor<784x256xf32> {kind = "param", init = "glorot_uniform", init_args = [], fan_in = 784, fan_out = 256}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttr:$type,
                       DefaultValuedStrAttr<StrAttr, "param">:$kind,
                       DefaultValuedStrAttr<StrAttr, "zeros">:$init,
                       DefaultValuedAttr<F64ArrayAttr, "{}">:$init_args,
                       OptionalAttr<I64Attr>:$fan_in,
                       OptionalAttr<I64Attr>:$fan_out);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    bool isTrainable() { return getKind() == "param"; }
  }];
}

def Fm_LoadOp : Fm_Op<"load", [DeclareOpInterfaceMethods<SymbolUserOpInterface>,
                               MemoryEffects<[MemRead]>]> {
  let summary = "reads a parameter or state tensor";
  let description = [{
    ```mlir
    %w = fm.load @dense.weight : tensor<784x256xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$param attr-dict `:` type($result)";
}

def Fm_StoreOp : Fm_Op<"store", [DeclareOpInterfaceMethods<SymbolUserOpInterface>,
                                 MemoryEffects<[MemWrite]>]> {
  let summary = "writes a parameter or state tensor";
  let description = [{
    ```mlir
    fm.store %w_new, @dense.weight : tensor<784x256xf32>
    ```
  }];
  let arguments = (ins Fm_Tensor:$value, FlatSymbolRefAttr:$param);
  let assemblyFormat = "$value `,` $param attr-dict `:` type($value)";
}

def Fm_ApplyGradientOp : Fm_Op<"apply_gradient", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>, MemoryEffects<[MemWrite]>]> {
  let summary = "hands a parameter's gradient to the optimizer";
  let description = [{
    Emitted by `fm-autodiff` for each trainable parameter and expanded into
    the optimizer's update by `fm-optimizer-update`.
    ```mlir
    fm.apply_gradient @dense.weight, %dw : tensor<784x256xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param, Fm_FloatTensor:$gradient);
  let assemblyFormat = "$param `,` $gradient attr-dict `:` type($gradient)";
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Fm_ConstantOp : Fm_Op<"constant", [ConstantLike, Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "a constant tensor";
  let description = [{
    ```mlir
    %c = fm.constant dense<1.0> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Fm_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Fm_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor, Fm_Grad, Fm_Pointwise])> {
  let arguments = (ins Fm_FloatTensor:$input);
  let results = (outs Fm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location>, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.getInput().getType());
      return ::mlir::success();
    }
  }];
}

def Fm_NegOp : Fm_UnaryOp<"neg"> {
  let summary = "elementwise negation";
  let description = [{ ```mlir
    %y = fm.neg %x : tensor<4xf32> -> tensor<4xf32>
  ``` }];
}
def Fm_ReluOp : Fm_UnaryOp<"relu"> {
  let summary = "elementwise max(x, 0)";
  let description = [{ ```mlir
    %y = fm.relu %x : tensor<?x8xf32> -> tensor<?x8xf32>
  ``` }];
}
def Fm_SigmoidOp : Fm_UnaryOp<"sigmoid"> {
  let summary = "elementwise 1 / (1 + exp(-x))";
  let description = [{ ```mlir
    %y = fm.sigmoid %x : tensor<4xf32> -> tensor<4xf32>
  ``` }];
}
def Fm_TanhOp : Fm_UnaryOp<"tanh"> {
  let summary = "elementwise hyperbolic tangent";
  let description = [{ ```mlir
    %y = fm.tanh %x : tensor<4xf32> -> tensor<4xf32>
  ``` }];
}
def Fm_ExpOp : Fm_UnaryOp<"exp"> {
  let summary = "elementwise e^x";
  let description = [{ ```mlir
    %y = fm.exp %x : tensor<4xf32> -> tensor<4xf32>
  ``` }];
}
def Fm_LogOp : Fm_UnaryOp<"log"> {
  let summary = "elementwise natural logarithm";
  let description = [{ ```mlir
    %y = fm.log %x : tensor<4xf32> -> tensor<4xf32>
  ``` }];
}
def Fm_SqrtOp : Fm_UnaryOp<"sqrt"> {
  let summary = "elementwise square root";
  let description = [{ ```mlir
    %y = fm.sqrt %x : tensor<4xf32> -> tensor<4xf32>
  ``` }];
}

class Fm_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Fm_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor, Fm_Grad, Fm_Pointwise])> {
  let arguments = (ins Fm_Tensor:$lhs, Fm_Tensor:$rhs);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasFolder = !or(!eq(mnemonic, "add"), !eq(mnemonic, "sub"), !eq(mnemonic, "mul"), !eq(mnemonic, "div"));
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return ::mlir::fm::inferBroadcastBinary(loc, getOperationName(),
          adaptor.getLhs().getType(), adaptor.getRhs().getType(), types);
    }
  }];
}

def Fm_AddOp : Fm_BinaryOp<"add", [Commutative]> {
  let summary = "elementwise sum with broadcasting";
  let description = [{ ```mlir
    %z = fm.add %x, %b : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  ``` }];
}
def Fm_SubOp : Fm_BinaryOp<"sub"> {
  let summary = "elementwise difference with broadcasting";
  let description = [{ ```mlir
    %z = fm.sub %x, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  ``` }];
}
def Fm_MulOp : Fm_BinaryOp<"mul", [Commutative]> {
  let summary = "elementwise product with broadcasting";
  let description = [{ ```mlir
    %z = fm.mul %x, %s : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  ``` }];
}
def Fm_DivOp : Fm_BinaryOp<"div"> {
  let summary = "elementwise quotient with broadcasting";
  let description = [{ ```mlir
    %z = fm.div %x, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  ``` }];
}
def Fm_PowOp : Fm_BinaryOp<"pow"> {
  let summary = "elementwise x^p with broadcasting";
  let description = [{ ```mlir
    %z = fm.pow %x, %p : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  ``` }];
}

def Fm_CompareOp : Fm_Op<"compare", [Pure, InferTypeOpAdaptor, Fm_NoGradient, Fm_Pointwise]> {
  let summary = "elementwise comparison with broadcasting, giving bool";
  let description = [{
    `predicate` is one of `lt le gt ge eq ne`.
    ```mlir
    %m = fm.compare "gt", %x, %zero : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xi1>
    ```
  }];
  let arguments = (ins StrAttr:$predicate, Fm_Tensor:$lhs, Fm_Tensor:$rhs);
  let results = (outs Fm_BoolTensor:$result);
  let assemblyFormat = "$predicate `,` $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def Fm_SelectOp : Fm_Op<"select", [Pure, InferTypeOpAdaptor, Fm_Grad, Fm_Pointwise]> {
  let summary = "elementwise choice: cond ? a : b, with broadcasting";
  let description = [{ ```mlir
    %z = fm.select %m, %g, %zero : tensor<?x8xi1>, tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  ``` }];
  let arguments = (ins Fm_BoolTensor:$condition, Fm_Tensor:$true_value, Fm_Tensor:$false_value);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$condition `,` $true_value `,` $false_value attr-dict `:` type($condition) `,` type($true_value) `,` type($false_value) `->` type($result)";
}

def Fm_CastOp : Fm_Op<"cast", [Pure, Fm_Grad, Fm_Pointwise]> {
  let summary = "elementwise conversion to another element type";
  let description = [{ ```mlir
    %f = fm.cast %ids : tensor<?xi32> -> tensor<?xf32>
  ``` }];
  let arguments = (ins Fm_Tensor:$input);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra and shapes
//===----------------------------------------------------------------------===//

def Fm_MatMulOp : Fm_Op<"matmul", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "matrix product [M, K] @ [K, P] -> [M, P]";
  let description = [{ ```mlir
    %c = fm.matmul %a, %b : tensor<?x784xf32>, tensor<784x256xf32> -> tensor<?x256xf32>
  ``` }];
  let arguments = (ins Fm_FloatTensor:$lhs, Fm_FloatTensor:$rhs);
  let results = (outs Fm_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
}

def Fm_TransposeOp : Fm_Op<"transpose", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "permutes axes: result axis i is input axis perm[i]";
  let description = [{ ```mlir
    %t = fm.transpose %w {perm = array<i64: 1, 0>} : tensor<784x256xf32> -> tensor<256x784xf32>
  ``` }];
  let arguments = (ins Fm_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Fm_ReshapeOp : Fm_Op<"reshape", [Pure, Fm_Grad]> {
  let summary = "reinterprets a tensor's elements under another shape";
  let description = [{
    The batch dimension `?` must stay the leading dimension.
    ```mlir
    %f = fm.reshape %x : tensor<?x1x28x28xf32> -> tensor<?x784xf32>
    ```
  }];
  let arguments = (ins Fm_Tensor:$input);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Fm_BroadcastToOp : Fm_Op<"broadcast_to", [Pure, Fm_Grad, Fm_Pointwise]> {
  let summary = "stretches extent-1 (or missing leading) axes to a shape";
  let description = [{ ```mlir
    %b = fm.broadcast_to %s : tensor<f32> -> tensor<?x10xf32>
  ``` }];
  let arguments = (ins Fm_Tensor:$input);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Fm_ReduceOp<string mnemonic, list<Trait> traits = []>
    : Fm_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])> {
  let arguments = (ins Fm_Tensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return ::mlir::fm::inferReduction(loc, adaptor.getInput().getType(),
          adaptor.getAxes(), adaptor.getKeepdims(), types);
    }
  }];
}

def Fm_ReduceSumOp : Fm_ReduceOp<"reduce_sum", [Fm_Grad]> {
  let summary = "sum over the given axes";
  let description = [{ ```mlir
    %s = fm.reduce_sum %x {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<10xf32>
  ``` }];
}
def Fm_ReduceMeanOp : Fm_ReduceOp<"reduce_mean", [Fm_Grad]> {
  let summary = "mean over the given axes";
  let description = [{ ```mlir
    %m = fm.reduce_mean %x {axes = array<i64: 0, 1>} : tensor<?x10xf32> -> tensor<f32>
  ``` }];
}

def Fm_SizeOp : Fm_Op<"size", [Pure, InferTypeOpAdaptor, Fm_NoGradient]> {
  let summary = "the number of elements spanned by the given axes, as a scalar";
  let description = [{
    Turns the run-time batch extent into a value (e.g. the 1/N of a mean's
    gradient). The result is the input's float type, or f32 for integers.
    ```mlir
    %n = fm.size %x {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins Fm_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Fm_Scalar:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Neural-network ops and losses
//===----------------------------------------------------------------------===//

class Fm_AxisOp<string mnemonic> : Fm_Op<mnemonic, [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let arguments = (ins Fm_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Fm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location>, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.getInput().getType());
      return ::mlir::success();
    }
    ::mlir::LogicalResult $cppClass::verify() {
      return ::mlir::fm::verifyAxis(getOperation(), getInput().getType(), getAxis());
    }
  }];
}

def Fm_NormalizeOp : Fm_Op<"normalize", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "(x - mean) / sqrt(variance + eps) with the statistics over axes";
  let description = [{
    The normalisation of batch_norm (axes: all but the channels) and
    layer_norm (the last axis), with the mean and the biased variance it
    used (kept axes of extent 1) for running statistics. One op, so that
    its gradient is the closed form that needs two sibling sums, not the
    chain of four dependent ones that differentiating the composition
    builds.
    ```mlir
    %y, %mean, %var = fm.normalize %x {axes = array<i64: 0, 2, 3>, eps = 1.0e-05 : f64}
        : tensor<?x8x4x4xf32> -> tensor<?x8x4x4xf32>, tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>
    ```
  }];
  let arguments = (ins Fm_FloatTensor:$input, DenseI64ArrayAttr:$axes, F64Attr:$eps);
  let results = (outs Fm_FloatTensor:$result, Fm_FloatTensor:$mean,
                      Fm_FloatTensor:$variance);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type(results)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.getInput().getType());
      if (::mlir::failed(::mlir::fm::inferReduction(loc, adaptor.getInput().getType(),
              adaptor.getAxes(), /*keepdims=*/true, types)))
        return ::mlir::failure();
      types.push_back(types.back());
      return ::mlir::success();
    }
  }];
}

def Fm_SoftmaxOp : Fm_AxisOp<"softmax"> {
  let summary = "exp(x) normalised to sum to one along an axis";
  let description = [{ ```mlir
    %p = fm.softmax %x {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?x10xf32>
  ``` }];
}
def Fm_LogSoftmaxOp : Fm_AxisOp<"log_softmax"> {
  let summary = "the logarithm of softmax, computed stably";
  let description = [{ ```mlir
    %p = fm.log_softmax %x {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?x10xf32>
  ``` }];
}

def Fm_OneHotOp : Fm_Op<"one_hot", [Pure, InferTypeOpAdaptor, Fm_NoGradient]> {
  let summary = "integer class ids to one-hot rows (f32)";
  let description = [{ ```mlir
    %h = fm.one_hot %y {classes = 10 : i64} : tensor<?xi32> -> tensor<?x10xf32>
  ``` }];
  let arguments = (ins Fm_IntTensor:$input, I64Attr:$classes);
  let results = (outs Fm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

class Fm_LabelledOp<string mnemonic, list<Trait> traits>
    : Fm_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])> {
  let arguments = (ins Fm_FloatTensor:$logits, Fm_IntTensor:$labels);
  let results = (outs Fm_Scalar:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` type($logits) `,` type($labels) `->` type($result)";
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return ::mlir::fm::inferClassification(loc, getOperationName(),
          adaptor.getLogits().getType(), adaptor.getLabels().getType(), types);
    }
  }];
}

def Fm_CrossEntropyOp : Fm_LabelledOp<"cross_entropy", [Fm_Grad]> {
  let summary = "mean softmax cross-entropy of logits [N, C] against class ids [N]";
  let description = [{ ```mlir
    %l = fm.cross_entropy %logits, %y : tensor<?x10xf32>, tensor<?xi32> -> tensor<f32>
  ``` }];
}
def Fm_AccuracyOp : Fm_LabelledOp<"accuracy", [Fm_NoGradient]> {
  let summary = "fraction of rows whose arg-max equals the label";
  let description = [{ ```mlir
    %a = fm.accuracy %logits, %y : tensor<?x10xf32>, tensor<?xi32> -> tensor<f32>
  ``` }];
}

def Fm_MseOp : Fm_Op<"mse", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "mean squared error over all elements";
  let description = [{ ```mlir
    %l = fm.mse %pred, %target : tensor<?x1xf32>, tensor<?x1xf32> -> tensor<f32>
  ``` }];
  let arguments = (ins Fm_FloatTensor:$prediction, Fm_FloatTensor:$target);
  let results = (outs Fm_Scalar:$result);
  let assemblyFormat = "$prediction `,` $target attr-dict `:` type($prediction) `,` type($target) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Train / evaluation behaviour
//===----------------------------------------------------------------------===//

def Fm_TrainOrEvalOp : Fm_Op<"train_or_eval", [Pure, AllTypesMatch<["train_value", "eval_value", "result"]>]> {
  let summary = "a value that differs between training and evaluation";
  let description = [{
    `fm-build-steps` resolves it: `train_step` keeps `train_value`,
    `evaluate` and `predict` keep `eval_value` (dropout, batch norm).
    ```mlir
    %y = fm.train_or_eval %dropped, %x : tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Fm_Tensor:$train_value, Fm_Tensor:$eval_value);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$train_value `,` $eval_value attr-dict `:` type($result)";
}

// Convolution and pooling (FmConvOps.cpp), tensor manipulation and the
// remaining ops of LANGUAGE.md §8 (FmTensorOps.cpp).
include "FmConvOps.td"
include "FmTensorOps.td"
// Fusion regions (FmFusionOps.cpp), formed by fm-fuse.
include "FmFusionOps.td"

#endif // FM_OPS_TD
