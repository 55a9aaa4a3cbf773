// RUN: fm-opt --split-input-file --verify-diagnostics --fm-autodiff %s

// maxpool2d_backward has no gradient rule (a second derivative through max
// pooling): autodiff reports it rather than dropping the gradient.
fm.param @x : tensor<1x1x4x4xf32> {kind = "param", init = "ones"}
func.func @second_order(%g: tensor<1x1x2x2xf32>) -> tensor<f32> attributes {fm.differentiate} {
  %x = fm.load @x : tensor<1x1x4x4xf32>
  // expected-error@+1 {{cannot differentiate 'fm.maxpool2d_backward': it has no gradient rule}}
  %d = fm.maxpool2d_backward %x, %g {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32> -> tensor<1x1x4x4xf32>
  %l = fm.reduce_sum %d {axes = array<i64: 0, 1, 2, 3>} : tensor<1x1x4x4xf32> -> tensor<f32>
  return %l : tensor<f32>
}
