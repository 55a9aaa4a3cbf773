// RUN: fm-opt --split-input-file --fm-autodiff %s | FileCheck %s

// The gradient of mean(x * w) with respect to a broadcast parameter is summed
// back to the parameter's shape; the input gets no gradient.
fm.param @w : tensor<3xf32> {kind = "param", init = "ones"}
// CHECK-LABEL: func.func @broadcast_mul
func.func @broadcast_mul(%x: tensor<?x3xf32>) -> tensor<f32> attributes {fm.differentiate} {
  %w = fm.load @w : tensor<3xf32>
  %p = fm.mul %x, %w : tensor<?x3xf32>, tensor<3xf32> -> tensor<?x3xf32>
  %l = fm.reduce_mean %p {axes = array<i64: 0, 1>} : tensor<?x3xf32> -> tensor<f32>
  // CHECK: %[[ONE:.+]] = fm.constant dense<1.000000e+00> : tensor<f32>
  // CHECK: %[[N:.+]] = fm.size %{{.+}} {axes = array<i64: 0, 1>}
  // CHECK: %[[G:.+]] = fm.div %[[ONE]], %[[N]]
  // CHECK: %[[K:.+]] = fm.reshape %[[G]] : tensor<f32> -> tensor<1x1xf32>
  // CHECK: %[[B:.+]] = fm.broadcast_to %[[K]] : tensor<1x1xf32> -> tensor<?x3xf32>
  // CHECK: %[[GW:.+]] = fm.mul %[[B]], %arg0
  // CHECK: %[[SUM:.+]] = fm.reduce_sum %[[GW]] {axes = array<i64: 0>} : tensor<?x3xf32> -> tensor<3xf32>
  // CHECK: fm.apply_gradient @w, %[[SUM]] : tensor<3xf32>
  // CHECK-NOT: fm.apply_gradient
  return %l : tensor<f32>
}

// -----

// A value used twice gets the sum of both gradients (fan-out).
fm.param @v : tensor<4xf32> {kind = "param", init = "ones"}
// CHECK-LABEL: func.func @fan_out
func.func @fan_out() -> tensor<f32> attributes {fm.differentiate} {
  %v = fm.load @v : tensor<4xf32>
  %sq = fm.mul %v, %v : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %l = fm.reduce_sum %sq {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
  // CHECK: %[[B:.+]] = fm.broadcast_to
  // CHECK: %[[A:.+]] = fm.mul %[[B]], %[[V:.+]] :
  // CHECK: %[[C:.+]] = fm.mul %[[B]], %[[V]] :
  // CHECK: %[[S:.+]] = fm.add %[[A]], %[[C]]
  // CHECK: fm.apply_gradient @v, %[[S]]
  return %l : tensor<f32>
}

// -----

// Labels are not differentiated; cross-entropy's rule gives
// (softmax(logits) - one_hot(labels)) / N.
fm.param @w : tensor<4x3xf32> {kind = "param", init = "zeros"}
// CHECK-LABEL: func.func @cross_entropy
func.func @cross_entropy(%x: tensor<?x4xf32>, %y: tensor<?xi32>) -> tensor<f32> attributes {fm.differentiate} {
  %w = fm.load @w : tensor<4x3xf32>
  %l = fm.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %ce = fm.cross_entropy %l, %y : tensor<?x3xf32>, tensor<?xi32> -> tensor<f32>
  // CHECK: %[[P:.+]] = fm.softmax %{{.+}} {axis = 1 : i64}
  // CHECK: %[[H:.+]] = fm.one_hot %arg1 {classes = 3 : i64}
  // CHECK: %[[D:.+]] = fm.sub %[[P]], %[[H]]
  // CHECK: %[[G:.+]] = fm.mul %[[D]], %{{.+}} : tensor<?x3xf32>, tensor<f32>
  // CHECK: %[[XT:.+]] = fm.transpose %arg0 {perm = array<i64: 1, 0>} : tensor<?x4xf32> -> tensor<4x?xf32>
  // CHECK: %[[GW:.+]] = fm.matmul %[[XT]], %[[G]] : tensor<4x?xf32>, tensor<?x3xf32> -> tensor<4x3xf32>
  // CHECK: fm.apply_gradient @w, %[[GW]]
  return %ce : tensor<f32>
}

// -----

// ReLU's gradient masks where the input is positive.
fm.param @b : tensor<2xf32> {kind = "param", init = "zeros"}
// CHECK-LABEL: func.func @relu
func.func @relu(%x: tensor<?x2xf32>) -> tensor<f32> attributes {fm.differentiate} {
  %b = fm.load @b : tensor<2xf32>
  %h = fm.add %x, %b : tensor<?x2xf32>, tensor<2xf32> -> tensor<?x2xf32>
  %r = fm.relu %h : tensor<?x2xf32> -> tensor<?x2xf32>
  %l = fm.reduce_sum %r {axes = array<i64: 0, 1>} : tensor<?x2xf32> -> tensor<f32>
  // CHECK: %[[Z:.+]] = fm.constant dense<0.000000e+00> : tensor<f32>
  // CHECK: %[[M:.+]] = fm.compare "gt", %[[H:.+]], %[[Z]]
  // CHECK: %[[S:.+]] = fm.select %[[M]], %{{.+}}, %[[Z]]
  // CHECK: %[[R:.+]] = fm.reduce_sum %[[S]] {axes = array<i64: 0>}
  // CHECK: fm.apply_gradient @b, %[[R]]
  return %l : tensor<f32>
}
