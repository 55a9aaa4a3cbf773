// RUN: fm-opt --split-input-file --verify-diagnostics --fm-autodiff %s

fm.param @w : tensor<3xf32> {kind = "param", init = "ones"}
// expected-error@+1 {{the loss does not depend on any trainable parameter}}
func.func @constant_loss(%x: tensor<?x3xf32>) -> tensor<f32> attributes {fm.differentiate} {
  %l = fm.reduce_mean %x {axes = array<i64: 0, 1>} : tensor<?x3xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error@+1 {{expected the first result of 'vector_loss' to be the scalar floating-point loss}}
func.func @vector_loss(%x: tensor<3xf32>) -> tensor<3xf32> attributes {fm.differentiate} {
  return %x : tensor<3xf32>
}
