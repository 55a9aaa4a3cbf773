// RUN: fm-opt --canonicalize %s | fm-opt | FileCheck %s

// Every op round-trips through its assembly format.
// CHECK-LABEL: func.func @roundtrip
func.func @roundtrip(%x: tensor<?x4xf32>, %w: tensor<4x3xf32>, %y: tensor<?xi32>) -> tensor<f32> {
  // CHECK: fm.matmul %{{.+}}, %{{.+}} : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %m = fm.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  // CHECK: fm.compare "gt"
  %c = fm.compare "gt", %m, %m : tensor<?x3xf32>, tensor<?x3xf32> -> tensor<?x3xi1>
  // CHECK: fm.select
  %s = fm.select %c, %m, %m : tensor<?x3xi1>, tensor<?x3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
  // CHECK: fm.log_softmax %{{.+}} {axis = 1 : i64}
  %ls = fm.log_softmax %s {axis = 1 : i64} : tensor<?x3xf32> -> tensor<?x3xf32>
  // CHECK: fm.reduce_sum %{{.+}} {axes = array<i64: 1>, keepdims = true} : tensor<?x3xf32> -> tensor<?x1xf32>
  %r = fm.reduce_sum %ls {axes = array<i64: 1>, keepdims = true} : tensor<?x3xf32> -> tensor<?x1xf32>
  // CHECK: fm.broadcast_to %{{.+}} : tensor<?x1xf32> -> tensor<?x3xf32>
  %b = fm.broadcast_to %r : tensor<?x1xf32> -> tensor<?x3xf32>
  // CHECK: fm.one_hot %{{.+}} {classes = 3 : i64} : tensor<?xi32> -> tensor<?x3xf32>
  %h = fm.one_hot %y {classes = 3 : i64} : tensor<?xi32> -> tensor<?x3xf32>
  %d = fm.mse %b, %h : tensor<?x3xf32>, tensor<?x3xf32> -> tensor<f32>
  // CHECK: fm.accuracy
  %a = fm.accuracy %b, %y : tensor<?x3xf32>, tensor<?xi32> -> tensor<f32>
  %t = fm.add %d, %a : tensor<f32>, tensor<f32> -> tensor<f32>
  return %t : tensor<f32>
}

// Constant folding of scalar arithmetic (the optimizer's 1 - beta1).
// CHECK-LABEL: func.func @fold
func.func @fold() -> tensor<f32> {
  // CHECK: %[[C:.+]] = fm.constant dense<0.100000024> : tensor<f32>
  // CHECK-NEXT: return %[[C]]
  %one = fm.constant dense<1.0> : tensor<f32>
  %b1 = fm.constant dense<0.9> : tensor<f32>
  %r = fm.sub %one, %b1 : tensor<f32>, tensor<f32> -> tensor<f32>
  return %r : tensor<f32>
}

// normalize gives the normalised tensor and the statistics it used, with
// the normalised axes kept as extent 1.
// CHECK-LABEL: func.func @normalize
func.func @normalize(%x: tensor<?x8x4x4xf32>) -> (tensor<?x8x4x4xf32>, tensor<1x8x1x1xf32>) {
  // CHECK: fm.normalize %{{.+}} {axes = array<i64: 0, 2, 3>, eps = 1.000000e-05 : f64} : tensor<?x8x4x4xf32> -> tensor<?x8x4x4xf32>, tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>
  %y, %m, %v = fm.normalize %x {axes = array<i64: 0, 2, 3>, eps = 1.0e-05 : f64} : tensor<?x8x4x4xf32> -> tensor<?x8x4x4xf32>, tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>
  return %y, %v : tensor<?x8x4x4xf32>, tensor<1x8x1x1xf32>
}
