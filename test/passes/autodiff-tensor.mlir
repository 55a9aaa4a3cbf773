// RUN: fm-opt --split-input-file --fm-autodiff %s | FileCheck %s
// The VJPs of the ops of FmTensorOps.td, built from other fm ops.

// gather's gradient sums rows per id into the table's shape; the ids get
// none.
fm.param @table : tensor<10x4xf32> {kind = "param", init = "zeros"}
// CHECK-LABEL: func.func @gather
func.func @gather(%ids: tensor<?x3xi32>) -> tensor<f32> attributes {fm.differentiate} {
  %t = fm.load @table : tensor<10x4xf32>
  %e = fm.gather %t, %ids : tensor<10x4xf32>, tensor<?x3xi32> -> tensor<?x3x4xf32>
  %l = fm.reduce_sum %e {axes = array<i64: 0, 1, 2>} : tensor<?x3x4xf32> -> tensor<f32>
  // CHECK: %[[G:.+]] = fm.broadcast_to %{{.+}} : tensor<1x1x1xf32> -> tensor<?x3x4xf32>
  // CHECK: %[[S:.+]] = fm.scatter_add %arg0, %[[G]] {rows = 10 : i64} : tensor<?x3xi32>, tensor<?x3x4xf32> -> tensor<10x4xf32>
  // CHECK: fm.apply_gradient @table, %[[S]] : tensor<10x4xf32>
  return %l : tensor<f32>
}

// -----

// dropout's gradient is the same dropout (seed, rate, salt) of the
// incoming gradient: the same mask.
fm.param @w : tensor<8xf32> {kind = "param", init = "ones"}
// CHECK-LABEL: func.func @dropout
func.func @dropout(%x: tensor<?x8xf32>, %step: tensor<f32>) -> tensor<f32> attributes {fm.differentiate} {
  %w = fm.load @w : tensor<8xf32>
  %a = fm.mul %x, %w : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  // CHECK: fm.dropout %{{.+}}, %arg1 {rate = 2.500000e-01 : f64, salt = 7 : i64}
  %d = fm.dropout %a, %step {rate = 2.500000e-01 : f64, salt = 7 : i64} : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %l = fm.reduce_sum %d {axes = array<i64: 0, 1>} : tensor<?x8xf32> -> tensor<f32>
  // CHECK: %[[G:.+]] = fm.broadcast_to %{{.+}} : tensor<1x1xf32> -> tensor<?x8xf32>
  // CHECK: fm.dropout %[[G]], %arg1 {rate = 2.500000e-01 : f64, salt = 7 : i64} : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  return %l : tensor<f32>
}

// -----

// concat -> one slice of the gradient per operand; slice -> pad; pad ->
// a slice per padded axis.
fm.param @a : tensor<3x2xf32> {kind = "param", init = "ones"}
fm.param @b : tensor<3x3xf32> {kind = "param", init = "ones"}
// CHECK-LABEL: func.func @shapes
func.func @shapes() -> tensor<f32> attributes {fm.differentiate} {
  %a = fm.load @a : tensor<3x2xf32>
  %b = fm.load @b : tensor<3x3xf32>
  %c = fm.concat %a, %b {axis = 1 : i64} : tensor<3x2xf32>, tensor<3x3xf32> -> tensor<3x5xf32>
  %s = fm.slice %c {axis = 1 : i64, start = 1 : i64, end = 4 : i64} : tensor<3x5xf32> -> tensor<3x3xf32>
  %p = fm.pad %s {before = array<i64: 1, 0>, after = array<i64: 0, 2>} : tensor<3x3xf32> -> tensor<4x5xf32>
  %l = fm.reduce_sum %p {axes = array<i64: 0, 1>} : tensor<4x5xf32> -> tensor<f32>
  // CHECK: %[[G:.+]] = fm.broadcast_to %{{.+}} : tensor<1x1xf32> -> tensor<4x5xf32>
  // CHECK: %[[R:.+]] = fm.slice %[[G]] {axis = 0 : i64, end = 4 : i64, start = 1 : i64} : tensor<4x5xf32> -> tensor<3x5xf32>
  // CHECK: %[[C:.+]] = fm.slice %[[R]] {axis = 1 : i64, end = 3 : i64, start = 0 : i64} : tensor<3x5xf32> -> tensor<3x3xf32>
  // CHECK: %[[P:.+]] = fm.pad %[[C]] {after = array<i64: 0, 1>, before = array<i64: 0, 1>} : tensor<3x3xf32> -> tensor<3x5xf32>
  // CHECK: %[[GA:.+]] = fm.slice %[[P]] {axis = 1 : i64, end = 2 : i64, start = 0 : i64} : tensor<3x5xf32> -> tensor<3x2xf32>
  // CHECK: %[[GB:.+]] = fm.slice %[[P]] {axis = 1 : i64, end = 5 : i64, start = 2 : i64} : tensor<3x5xf32> -> tensor<3x3xf32>
  // CHECK-DAG: fm.apply_gradient @a, %[[GA]]
  // CHECK-DAG: fm.apply_gradient @b, %[[GB]]
  return %l : tensor<f32>
}

// -----

// reduce_max: g / (number of maxima) to every element equal to the maximum.
fm.param @m : tensor<3x4xf32> {kind = "param", init = "ones"}
// CHECK-LABEL: func.func @reduce_max
func.func @reduce_max() -> tensor<f32> attributes {fm.differentiate} {
  %m = fm.load @m : tensor<3x4xf32>
  // CHECK: %[[Y:.+]] = fm.reduce_max %[[X:.+]] {axes = array<i64: 1>}
  %y = fm.reduce_max %m {axes = array<i64: 1>} : tensor<3x4xf32> -> tensor<3xf32>
  %l = fm.reduce_sum %y {axes = array<i64: 0>} : tensor<3xf32> -> tensor<f32>
  // CHECK: %[[YK:.+]] = fm.reshape %[[Y]] : tensor<3xf32> -> tensor<3x1xf32>
  // CHECK: %[[HIT:.+]] = fm.compare "eq", %[[X]], %[[YK]] : tensor<3x4xf32>, tensor<3x1xf32> -> tensor<3x4xi1>
  // CHECK: %[[ONES:.+]] = fm.select %[[HIT]], %{{.+}}, %[[ZERO:.+]] : tensor<3x4xi1>, tensor<f32>, tensor<f32> -> tensor<3x4xf32>
  // CHECK: %[[N:.+]] = fm.reduce_sum %[[ONES]] {axes = array<i64: 1>, keepdims = true} : tensor<3x4xf32> -> tensor<3x1xf32>
  // CHECK: %[[SHARE:.+]] = fm.div %{{.+}}, %[[N]] : tensor<3x1xf32>, tensor<3x1xf32> -> tensor<3x1xf32>
  // CHECK: %[[DX:.+]] = fm.select %[[HIT]], %[[SHARE]], %[[ZERO]] : tensor<3x4xi1>, tensor<3x1xf32>, tensor<f32> -> tensor<3x4xf32>
  // CHECK: fm.apply_gradient @m, %[[DX]]
  return %l : tensor<f32>
}
