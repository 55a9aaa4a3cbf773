// RUN: fm-opt --split-input-file --fm-autodiff %s | FileCheck %s

// conv2d's VJP: the data gradient (with the input's type) for x, the
// filter gradient for w, with the same geometry. The input gets no
// gradient: its data gradient is dead (canonicalisation erases it).
fm.param @w : tensor<4x3x3x3xf32> {kind = "param", init = "he_uniform"}
// CHECK-LABEL: func.func @conv
func.func @conv(%x: tensor<?x3x8x8xf32>) -> tensor<f32> attributes {fm.differentiate} {
  %w = fm.load @w : tensor<4x3x3x3xf32>
  %y = fm.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<?x4x4x4xf32>
  %l = fm.reduce_sum %y {axes = array<i64: 0, 1, 2, 3>} : tensor<?x4x4x4xf32> -> tensor<f32>
  // CHECK: %[[G:.+]] = fm.broadcast_to %{{.+}} -> tensor<?x4x4x4xf32>
  // CHECK: fm.conv2d_backward_data %[[G]], %{{.+}} {dilation = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<?x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<?x3x8x8xf32>
  // CHECK: %[[DW:.+]] = fm.conv2d_backward_filter %arg0, %[[G]] {dilation = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<?x3x8x8xf32>, tensor<?x4x4x4xf32> -> tensor<4x3x3x3xf32>
  // CHECK: fm.apply_gradient @w, %[[DW]]
  return %l : tensor<f32>
}

// -----

// Through two layers the first gets its gradient through the second's
// conv2d_backward_data; pooling's VJPs are its backward ops.
fm.param @w1 : tensor<4x1x3x3xf32> {kind = "param", init = "he_uniform"}
fm.param @w2 : tensor<8x4x3x3xf32> {kind = "param", init = "he_uniform"}
// CHECK-LABEL: func.func @layers
func.func @layers(%x: tensor<?x1x12x12xf32>) -> tensor<f32> attributes {fm.differentiate} {
  %w1 = fm.load @w1 : tensor<4x1x3x3xf32>
  %w2 = fm.load @w2 : tensor<8x4x3x3xf32>
  %h = fm.conv2d %x, %w1 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x1x12x12xf32>, tensor<4x1x3x3xf32> -> tensor<?x4x10x10xf32>
  %p = fm.maxpool2d %h {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<?x4x10x10xf32> -> tensor<?x4x5x5xf32>
  %z = fm.conv2d %p, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x4x5x5xf32>, tensor<8x4x3x3xf32> -> tensor<?x8x3x3xf32>
  %a = fm.avgpool2d %z {kernel = array<i64: 3, 3>, strides = array<i64: 3, 3>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<?x8x3x3xf32> -> tensor<?x8x1x1xf32>
  %l = fm.reduce_sum %a {axes = array<i64: 0, 1, 2, 3>} : tensor<?x8x1x1xf32> -> tensor<f32>
  // CHECK: %[[DA:.+]] = fm.avgpool2d_backward %{{.+}} {kernel = array<i64: 3, 3>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 3, 3>} : tensor<?x8x1x1xf32> -> tensor<?x8x3x3xf32>
  // CHECK: %[[DP:.+]] = fm.conv2d_backward_data %[[DA]], %{{.+}} {{.+}} : tensor<?x8x3x3xf32>, tensor<8x4x3x3xf32> -> tensor<?x4x5x5xf32>
  // CHECK: %[[DW2:.+]] = fm.conv2d_backward_filter %{{.+}}, %[[DA]] {{.+}} -> tensor<8x4x3x3xf32>
  // CHECK: %[[DH:.+]] = fm.maxpool2d_backward %{{.+}}, %[[DP]] {{.+}} : tensor<?x4x10x10xf32>, tensor<?x4x5x5xf32> -> tensor<?x4x10x10xf32>
  // CHECK: %[[DW1:.+]] = fm.conv2d_backward_filter %arg0, %[[DH]] {{.+}} -> tensor<4x1x3x3xf32>
  // CHECK-DAG: fm.apply_gradient @w1, %[[DW1]]
  // CHECK-DAG: fm.apply_gradient @w2, %[[DW2]]
  return %l : tensor<f32>
}
