//===- FmTensorOps.td - More tensor ops --------------------*- tablegen -*-===//
//
// Included by FmOps.td after the base classes: the remaining ops of
// LANGUAGE.md §8 (max/min reductions, argmax, erf, concat, slice, pad,
// gather and its gradient scatter_add, dropout). Shape rules, verifiers
// and gradients are in FmTensorOps.cpp; lowerings in
// codegen/ops/TensorOps.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef FM_FMTENSOROPS_TD
#define FM_FMTENSOROPS_TD

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

def Fm_ReduceMaxOp : Fm_ReduceOp<"reduce_max", [Fm_Grad]> {
  let summary = "maximum over the given axes";
  let description = [{
    The gradient goes to the elements equal to the maximum, split evenly
    between tied elements.
    ```mlir
    %m = fm.reduce_max %x {axes = array<i64: 1>, keepdims = true} : tensor<?x10xf32> -> tensor<?x1xf32>
    ```
  }];
}
def Fm_ReduceMinOp : Fm_ReduceOp<"reduce_min", [Fm_Grad]> {
  let summary = "minimum over the given axes";
  let description = [{
    The gradient goes to the elements equal to the minimum, split evenly
    between tied elements.
    ```mlir
    %m = fm.reduce_min %x {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<10xf32>
    ```
  }];
}

def Fm_ArgMaxOp : Fm_Op<"argmax", [Pure, InferTypeOpAdaptor, Fm_NoGradient]> {
  let summary = "index of the first maximum along an axis (i32)";
  let description = [{
    The axis is dropped from the shape. Ties go to the smallest index, as
    in NumPy and PyTorch.
    ```mlir
    %i = fm.argmax %x {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?xi32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64, I32, I64]>:$input, I64Attr:$axis);
  let results = (outs RankedTensorOf<[I32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def Fm_ErfOp : Fm_UnaryOp<"erf"> {
  let summary = "elementwise error function";
  let description = [{
    2/sqrt(pi) times the integral of exp(-t^2) from 0 to x (exact GELU).
    ```mlir
    %y = fm.erf %x : tensor<?x8xf32> -> tensor<?x8xf32>
    ```
  }];
}

def Fm_DropoutOp : Fm_Op<"dropout", [Pure, InferTypeOpAdaptor, Fm_Grad, Fm_Pointwise]> {
  let summary = "zeroes elements with probability `rate`, scales the rest by 1/(1-rate)";
  let description = [{
    Whether an element is kept is a 32-bit hash of (`seed` converted to an
    integer, `salt`, the element's row-major flat index): the same seed
    gives the same mask on every machine and thread count. `seed` is the
    step counter the runtime feeds; `salt` tells dropout layers apart.
    The gradient is the same dropout of the incoming gradient.
    ```mlir
    %y = fm.dropout %x, %step {rate = 5.000000e-01 : f64, salt = 3 : i64} : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Fm_FloatTensor:$input, Fm_Scalar:$seed, F64Attr:$rate,
                       I64Attr:$salt);
  let results = (outs Fm_FloatTensor:$result);
  let assemblyFormat = "$input `,` $seed attr-dict `:` type($input) `,` type($seed) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

def Fm_ConcatOp : Fm_Op<"concat", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "joins tensors along an axis";
  let description = [{
    All operands have one element type and rank, and equal extents on
    every axis but `axis`. The batch `?` may be any other axis.
    ```mlir
    %c = fm.concat %a, %b {axis = 1 : i64} : tensor<?x2xf32>, tensor<?x3xf32> -> tensor<?x5xf32>
    ```
  }];
  let arguments = (ins Variadic<Fm_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
}

def Fm_SliceOp : Fm_Op<"slice", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "the elements [start, end) along one axis";
  let description = [{
    0 <= start < end <= extent; not on the batch axis.
    ```mlir
    %s = fm.slice %x {axis = 1 : i64, start = 2 : i64, end = 5 : i64} : tensor<?x8xf32> -> tensor<?x3xf32>
    ```
  }];
  let arguments = (ins Fm_Tensor:$input, I64Attr:$axis, I64Attr:$start,
                       I64Attr:$end);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Fm_PadOp : Fm_Op<"pad", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "zero padding before and after each axis";
  let description = [{
    One non-negative entry per axis in `before` and `after`; the batch
    axis takes none.
    ```mlir
    %p = fm.pad %x {before = array<i64: 0, 0, 1, 1>, after = array<i64: 0, 0, 1, 1>} : tensor<?x3x28x28xf32> -> tensor<?x3x30x30xf32>
    ```
  }];
  let arguments = (ins Fm_Tensor:$input, DenseI64ArrayAttr:$before,
                       DenseI64ArrayAttr:$after);
  let results = (outs Fm_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Embeddings
//===----------------------------------------------------------------------===//

def Fm_GatherOp : Fm_Op<"gather", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "rows of a [V, D] table picked by integer ids";
  let description = [{
    The result is `ids`' shape followed by D. Ids outside [0, V) are
    clamped into it (a wrong row, never a read out of bounds).
    ```mlir
    %e = fm.gather %table, %ids : tensor<1000x64xf32>, tensor<?x16xi32> -> tensor<?x16x64xf32>
    ```
  }];
  let arguments = (ins Fm_FloatTensor:$table, Fm_IntTensor:$ids);
  let results = (outs Fm_FloatTensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` type($table) `,` type($ids) `->` type($result)";
}

def Fm_ScatterAddOp : Fm_Op<"scatter_add", [Pure, InferTypeOpAdaptor, Fm_Grad]> {
  let summary = "sums rows of updates into a [rows, D] table by id (gather's gradient)";
  let description = [{
    `updates` has `ids`' shape followed by D; row r of the result is the
    sum of the update rows whose (clamped) id is r, summed in row-major
    order of the ids (deterministic). Its own gradient is a gather.
    ```mlir
    %g = fm.scatter_add %ids, %dy {rows = 1000 : i64} : tensor<?x16xi32>, tensor<?x16x64xf32> -> tensor<1000x64xf32>
    ```
  }];
  let arguments = (ins Fm_IntTensor:$ids, Fm_FloatTensor:$updates, I64Attr:$rows);
  let results = (outs Fm_FloatTensor:$result);
  let assemblyFormat = "$ids `,` $updates attr-dict `:` type($ids) `,` type($updates) `->` type($result)";
}

#endif // FM_FMTENSOROPS_TD
