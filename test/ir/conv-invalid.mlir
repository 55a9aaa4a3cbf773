// RUN: fm-opt --split-input-file --verify-diagnostics %s
// Shape-rule and verifier errors of the convolution and pooling ops.

func.func @rank(%x: tensor<?x28x28xf32>, %w: tensor<8x1x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected input of shape [N, C, H, W] (static C, H, W) but got [N, 28, 28]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<?x28x28xf32>, tensor<8x1x3x3xf32> -> tensor<?x8x26x26xf32>
  return
}

// -----

func.func @groups_channels(%x: tensor<?x10x8x8xf32>, %w: tensor<6x5x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected input channels divisible by groups = 3 but got 10 channels in [N, 10, 8, 8]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 3 : i64} : tensor<?x10x8x8xf32>, tensor<6x5x3x3xf32> -> tensor<?x6x6x6xf32>
  return
}

// -----

func.func @groups_filters(%x: tensor<?x4x8x8xf32>, %w: tensor<5x2x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected output channels divisible by groups = 2 but got 5 filters in [5, 2, 3, 3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64} : tensor<?x4x8x8xf32>, tensor<5x2x3x3xf32> -> tensor<?x5x6x6xf32>
  return
}

// -----

func.func @filter_channels(%x: tensor<?x8x8x8xf32>, %w: tensor<4x8x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected filter of shape [4, 4, KH, KW] (8 input channels / 2 groups) but got [4, 8, 3, 3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64} : tensor<?x8x8x8xf32>, tensor<4x8x3x3xf32> -> tensor<?x4x6x6xf32>
  return
}

// -----

func.func @too_small(%x: tensor<?x1x4x4xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected an output of at least 1x1 but got 0x4: the dilated 3x3 kernel spans 5x3 and the padded input is 4x6}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 1, 0, 1>, dilation = array<i64: 2, 1>, groups = 1 : i64} : tensor<?x1x4x4xf32>, tensor<2x1x3x3xf32> -> tensor<?x2x1x1xf32>
  return
}

// -----

func.func @strides(%x: tensor<?x1x8x8xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected strides of 2 positive values [sh, sw] but got [0, 1]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32> -> tensor<?x2x6x6xf32>
  return
}

// -----

func.func @dilation(%x: tensor<?x1x8x8xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected dilation of 2 positive values [dh, dw] but got [1, -1]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, -1>, groups = 1 : i64} : tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32> -> tensor<?x2x6x6xf32>
  return
}

// -----

func.func @padding(%x: tensor<?x1x8x8xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected padding of 4 non-negative values [top, left, bottom, right] but got [0, -1, 0, 0]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, -1, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32> -> tensor<?x2x6x6xf32>
  return
}

// -----

func.func @groups(%x: tensor<?x1x8x8xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error@+2 {{'fm.conv2d' expected a positive number of groups but got 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 0 : i64} : tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32> -> tensor<?x2x6x6xf32>
  return
}

// -----

func.func @element_types(%x: tensor<?x1x8x8xf32>, %w: tensor<2x1x3x3xf64>) {
  // expected-error@+2 {{'fm.conv2d' expected operands of one element type but got 'f32' and 'f64'}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<?x1x8x8xf32>, tensor<2x1x3x3xf64> -> tensor<?x2x6x6xf32>
  return
}

// -----

func.func @backward_data(%g: tensor<?x2x6x6xf32>, %w: tensor<2x1x3x3xf32>) {
  // expected-error@+1 {{'fm.conv2d_backward_data' expected grad of shape [N, 2, 7, 7] but got [N, 2, 6, 6]}}
  %dx = fm.conv2d_backward_data %g, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<?x2x6x6xf32>, tensor<2x1x3x3xf32> -> tensor<?x1x9x9xf32>
  return
}

// -----

func.func @backward_filter(%x: tensor<?x1x8x8xf32>, %g: tensor<?x2x6x6xf32>) {
  // expected-error@+1 {{'fm.conv2d_backward_filter' expected grad of shape [N, 2, 7, 7] but got [N, 2, 6, 6]}}
  %dw = fm.conv2d_backward_filter %x, %g {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<?x1x8x8xf32>, tensor<?x2x6x6xf32> -> tensor<2x1x2x2xf32>
  return
}

// -----

func.func @pool_padding(%x: tensor<?x1x8x8xf32>) {
  // expected-error@+2 {{'fm.maxpool2d' expected padding smaller than the kernel [2, 2] but got [0, 0, 2, 0]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.maxpool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 2, 0>} : tensor<?x1x8x8xf32> -> tensor<?x1x5x4xf32>
  return
}

// -----

func.func @pool_kernel(%x: tensor<?x1x8x8xf32>) {
  // expected-error@+2 {{'fm.avgpool2d' expected kernel of 2 positive values [kh, kw] but got [2]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.avgpool2d %x {kernel = array<i64: 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<?x1x8x8xf32> -> tensor<?x1x4x4xf32>
  return
}

// -----

func.func @pool_too_small(%x: tensor<?x1x2x8xf32>) {
  // expected-error@+2 {{'fm.maxpool2d' expected an output of at least 1x1 but got 0x3: the kernel [3, 3] is larger than the padded input 2x8}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = fm.maxpool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<?x1x2x8xf32> -> tensor<?x1x1x3xf32>
  return
}

// -----

func.func @maxpool_backward_grad(%x: tensor<?x1x8x8xf32>, %g: tensor<?x1x3x3xf32>) {
  // expected-error@+2 {{'fm.maxpool2d_backward' expected grad of shape [N, 1, 4, 4] but got [N, 1, 3, 3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx = fm.maxpool2d_backward %x, %g {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<?x1x8x8xf32>, tensor<?x1x3x3xf32> -> tensor<?x1x8x8xf32>
  return
}

// -----

func.func @avgpool_backward_grad(%g: tensor<?x1x3x3xf32>) {
  // expected-error@+1 {{'fm.avgpool2d_backward' expected grad of shape [N, 1, 4, 4] but got [N, 1, 3, 3]}}
  %dx = fm.avgpool2d_backward %g {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<?x1x3x3xf32> -> tensor<?x1x8x8xf32>
  return
}

// -----

func.func @backward_data_type(%g: tensor<?x2x6x6xf64>, %w: tensor<2x1x3x3xf32>) {
  // expected-error@+1 {{'fm.conv2d_backward_data' expected grad of element type 'f32' but got 'f64'}}
  %dx = fm.conv2d_backward_data %g, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : tensor<?x2x6x6xf64>, tensor<2x1x3x3xf32> -> tensor<?x1x8x8xf32>
  return
}
