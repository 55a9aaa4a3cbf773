// RUN: fm-opt --split-input-file %s | FileCheck %s
// Convolution and pooling ops: shapes from the shape rules, and the stated
// result types of the gradient ops accepted when they are consistent.

// CHECK-LABEL: func.func @fashion_cnn_layer
func.func @fashion_cnn_layer(%x: tensor<?x1x28x28xf32>, %w: tensor<32x1x3x3xf32>) -> tensor<?x32x13x13xf32> {
  // CHECK: fm.conv2d %{{.+}}, %{{.+}} {dilation = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<?x1x28x28xf32>, tensor<32x1x3x3xf32> -> tensor<?x32x26x26xf32>
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<?x1x28x28xf32>, tensor<32x1x3x3xf32> -> tensor<?x32x26x26xf32>
  // CHECK: fm.maxpool2d %{{.+}} {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<?x32x26x26xf32> -> tensor<?x32x13x13xf32>
  %p = fm.maxpool2d %y {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<?x32x26x26xf32> -> tensor<?x32x13x13xf32>
  return %p : tensor<?x32x13x13xf32>
}

// -----

// OH = (9 + 1 + 2 - 2*(3-1) - 1) / 2 + 1 = 4, OW = (8 + 0 + 0 - 1*(2-1) - 1) / 3 + 1 = 3;
// 6 channels in 2 groups of 3, 4 filters (2 per group).
// CHECK-LABEL: func.func @strided_dilated_grouped
func.func @strided_dilated_grouped(%x: tensor<2x6x9x8xf64>, %w: tensor<4x3x3x2xf64>, %g: tensor<2x4x4x3xf64>)
    -> (tensor<2x4x4x3xf64>, tensor<2x6x9x8xf64>, tensor<4x3x3x2xf64>) {
  // CHECK: fm.conv2d {{.*}} -> tensor<2x4x4x3xf64>
  %y = fm.conv2d %x, %w {strides = array<i64: 2, 3>, padding = array<i64: 1, 0, 2, 0>, dilation = array<i64: 2, 1>, groups = 2 : i64}
      : tensor<2x6x9x8xf64>, tensor<4x3x3x2xf64> -> tensor<2x4x4x3xf64>
  // CHECK: fm.conv2d_backward_data {{.*}} -> tensor<2x6x9x8xf64>
  %dx = fm.conv2d_backward_data %g, %w {strides = array<i64: 2, 3>, padding = array<i64: 1, 0, 2, 0>, dilation = array<i64: 2, 1>, groups = 2 : i64}
      : tensor<2x4x4x3xf64>, tensor<4x3x3x2xf64> -> tensor<2x6x9x8xf64>
  // CHECK: fm.conv2d_backward_filter {{.*}} -> tensor<4x3x3x2xf64>
  %dw = fm.conv2d_backward_filter %x, %g {strides = array<i64: 2, 3>, padding = array<i64: 1, 0, 2, 0>, dilation = array<i64: 2, 1>, groups = 2 : i64}
      : tensor<2x6x9x8xf64>, tensor<2x4x4x3xf64> -> tensor<4x3x3x2xf64>
  return %y, %dx, %dw : tensor<2x4x4x3xf64>, tensor<2x6x9x8xf64>, tensor<4x3x3x2xf64>
}

// -----

// Pooling with stride != kernel and asymmetric padding:
// OH = (7 + 1 + 0 - 3) / 2 + 1 = 3, OW = (5 + 0 + 1 - 2) / 1 + 1 = 5.
// CHECK-LABEL: func.func @pooling
func.func @pooling(%x: tensor<?x3x7x5xf32>) -> (tensor<?x3x7x5xf32>, tensor<?x3x7x5xf32>) {
  // CHECK: fm.maxpool2d {{.*}} -> tensor<?x3x3x5xf32>
  %m = fm.maxpool2d %x {kernel = array<i64: 3, 2>, strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 0, 1>}
      : tensor<?x3x7x5xf32> -> tensor<?x3x3x5xf32>
  // CHECK: fm.maxpool2d_backward {{.*}} -> tensor<?x3x7x5xf32>
  %dm = fm.maxpool2d_backward %x, %m {kernel = array<i64: 3, 2>, strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 0, 1>}
      : tensor<?x3x7x5xf32>, tensor<?x3x3x5xf32> -> tensor<?x3x7x5xf32>
  // CHECK: fm.avgpool2d {{.*}} -> tensor<?x3x3x5xf32>
  %a = fm.avgpool2d %x {kernel = array<i64: 3, 2>, strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 0, 1>}
      : tensor<?x3x7x5xf32> -> tensor<?x3x3x5xf32>
  // CHECK: fm.avgpool2d_backward {{.*}} -> tensor<?x3x7x5xf32>
  %da = fm.avgpool2d_backward %a {kernel = array<i64: 3, 2>, strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 0, 1>}
      : tensor<?x3x3x5xf32> -> tensor<?x3x7x5xf32>
  return %dm, %da : tensor<?x3x7x5xf32>, tensor<?x3x7x5xf32>
}
