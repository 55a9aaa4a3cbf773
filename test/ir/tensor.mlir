// RUN: fm-opt --split-input-file %s | FileCheck %s
// The ops of FmTensorOps.td: they parse, print back, and their stated
// result types agree with the shape rules (batch N on any axis allowed).

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<?x10xf32>) -> (tensor<?x1xf32>, tensor<10xf32>, tensor<?xi32>) {
  // CHECK: fm.reduce_max %{{.+}} {axes = array<i64: 1>, keepdims = true} : tensor<?x10xf32> -> tensor<?x1xf32>
  %a = fm.reduce_max %x {axes = array<i64: 1>, keepdims = true} : tensor<?x10xf32> -> tensor<?x1xf32>
  // CHECK: fm.reduce_min %{{.+}} {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<10xf32>
  %b = fm.reduce_min %x {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<10xf32>
  // CHECK: fm.argmax %{{.+}} {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?xi32>
  %c = fm.argmax %x {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?xi32>
  return %a, %b, %c : tensor<?x1xf32>, tensor<10xf32>, tensor<?xi32>
}

// -----

// CHECK-LABEL: func.func @pointwise
func.func @pointwise(%x: tensor<?x8xf32>, %step: tensor<f32>) -> tensor<?x8xf32> {
  // CHECK: %[[E:.+]] = fm.erf %{{.+}} : tensor<?x8xf32> -> tensor<?x8xf32>
  %e = fm.erf %x : tensor<?x8xf32> -> tensor<?x8xf32>
  // CHECK: fm.dropout %[[E]], %{{.+}} {rate = 5.000000e-01 : f64, salt = 3 : i64} : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %d = fm.dropout %e, %step {rate = 5.000000e-01 : f64, salt = 3 : i64} : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  return %d : tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func.func @shapes
func.func @shapes(%a: tensor<?x2xf32>, %b: tensor<?x3xf32>, %t: tensor<2x?xf32>, %u: tensor<1x?xf32>)
    -> (tensor<?x5xf32>, tensor<3x?xf32>, tensor<?x2xf32>, tensor<?x8xf32>) {
  // CHECK: fm.concat %{{.+}}, %{{.+}} {axis = 1 : i64} : tensor<?x2xf32>, tensor<?x3xf32> -> tensor<?x5xf32>
  %c = fm.concat %a, %b {axis = 1 : i64} : tensor<?x2xf32>, tensor<?x3xf32> -> tensor<?x5xf32>
  // CHECK: fm.concat %{{.+}}, %{{.+}} {axis = 0 : i64} : tensor<2x?xf32>, tensor<1x?xf32> -> tensor<3x?xf32>
  %d = fm.concat %t, %u {axis = 0 : i64} : tensor<2x?xf32>, tensor<1x?xf32> -> tensor<3x?xf32>
  // CHECK: fm.slice %{{.+}} {axis = 1 : i64, end = 4 : i64, start = 2 : i64} : tensor<?x5xf32> -> tensor<?x2xf32>
  %s = fm.slice %c {axis = 1 : i64, start = 2 : i64, end = 4 : i64} : tensor<?x5xf32> -> tensor<?x2xf32>
  // CHECK: fm.pad %{{.+}} {after = array<i64: 0, 1>, before = array<i64: 0, 2>} : tensor<?x5xf32> -> tensor<?x8xf32>
  %p = fm.pad %c {before = array<i64: 0, 2>, after = array<i64: 0, 1>} : tensor<?x5xf32> -> tensor<?x8xf32>
  return %c, %d, %s, %p : tensor<?x5xf32>, tensor<3x?xf32>, tensor<?x2xf32>, tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func.func @embeddings
func.func @embeddings(%table: tensor<1000x64xf32>, %ids: tensor<?x16xi32>) -> tensor<1000x64xf32> {
  // CHECK: %[[E:.+]] = fm.gather %{{.+}}, %{{.+}} : tensor<1000x64xf32>, tensor<?x16xi32> -> tensor<?x16x64xf32>
  %e = fm.gather %table, %ids : tensor<1000x64xf32>, tensor<?x16xi32> -> tensor<?x16x64xf32>
  // CHECK: fm.scatter_add %{{.+}}, %[[E]] {rows = 1000 : i64} : tensor<?x16xi32>, tensor<?x16x64xf32> -> tensor<1000x64xf32>
  %g = fm.scatter_add %ids, %e {rows = 1000 : i64} : tensor<?x16xi32>, tensor<?x16x64xf32> -> tensor<1000x64xf32>
  return %g : tensor<1000x64xf32>
}
