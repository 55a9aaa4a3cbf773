// RUN: fm-opt --split-input-file --verify-diagnostics --fm-build-steps %s | FileCheck %s

// The model function becomes predict (no labels), evaluate and train_step.
module {
  fm.param @w : tensor<4x3xf32> {kind = "param", init = "zeros"}
  // CHECK-NOT: fm.model_fn
  // CHECK-LABEL: func.func @predict
  // CHECK-SAME: (%arg0: tensor<?x4xf32> {fm.input = "x"}) -> (tensor<?x3xf32> {fm.name = "probs", fm.role = "output"})
  // CHECK-NOT: fm.cross_entropy
  // CHECK: fm.softmax
  // CHECK-LABEL: func.func @evaluate
  // CHECK-SAME: %arg1: tensor<?xi32> {fm.label = "y"}) -> (tensor<f32> {fm.name = "loss", fm.role = "loss"}, tensor<f32> {fm.name = "acc", fm.role = "metric"})
  // CHECK-SAME: attributes {fm.step = "evaluate"}
  // CHECK-NOT: fm.softmax
  // CHECK-LABEL: func.func @train_step
  // CHECK-SAME: attributes {fm.differentiate, fm.step = "train_step"}
  func.func @M(%x: tensor<?x4xf32> {fm.input = "x"}, %y: tensor<?xi32> {fm.label = "y"}) -> (tensor<f32> {fm.role = "loss", fm.name = "loss"}, tensor<?x3xf32> {fm.role = "output", fm.name = "probs"}, tensor<f32> {fm.role = "metric", fm.name = "acc"}) attributes {fm.model_fn} {
    %w = fm.load @w : tensor<4x3xf32>
    %l = fm.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
    %loss = fm.cross_entropy %l, %y : tensor<?x3xf32>, tensor<?xi32> -> tensor<f32>
    %p = fm.softmax %l {axis = 1 : i64} : tensor<?x3xf32> -> tensor<?x3xf32>
    %acc = fm.accuracy %l, %y : tensor<?x3xf32>, tensor<?xi32> -> tensor<f32>
    return %loss, %p, %acc : tensor<f32>, tensor<?x3xf32>, tensor<f32>
  }
}

// -----

// An output may not need labels: predict has none.
// expected-note@+1 {{outputs are computed without labels in predict}}
func.func @M(%x: tensor<?x3xf32> {fm.input = "x"}, %y: tensor<?x3xf32> {fm.label = "y"}) -> (tensor<f32> {fm.role = "loss", fm.name = "loss"}, tensor<?x3xf32> {fm.role = "output", fm.name = "d"}) attributes {fm.model_fn} {
  // expected-error@+1 {{outputs must not depend on label 'y'}}
  %d = fm.sub %x, %y : tensor<?x3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
  %l = fm.mse %x, %y : tensor<?x3xf32>, tensor<?x3xf32> -> tensor<f32>
  return %l, %d : tensor<f32>, tensor<?x3xf32>
}

// -----

// train_or_eval: the training value in train_step, the evaluation value
// elsewhere; stores of running statistics only in train_step.
module {
  fm.param @w : tensor<3xf32> {kind = "param", init = "zeros"}
  fm.param @running : tensor<3xf32> {kind = "state", init = "zeros"}
  // CHECK-LABEL: func.func @predict
  // CHECK-NOT: fm.store
  // CHECK: %[[E:.+]] = fm.neg %arg0
  // CHECK: return %[[E]]
  // CHECK-LABEL: func.func @evaluate
  // CHECK-NOT: fm.store
  // CHECK-LABEL: func.func @train_step
  // CHECK: %[[T:.+]] = fm.exp %arg0
  // CHECK: fm.store %[[T]], @running
  func.func @M(%x: tensor<3xf32> {fm.input = "x"}) -> (tensor<f32> {fm.role = "loss", fm.name = "loss"}, tensor<3xf32> {fm.role = "output", fm.name = "o"}) attributes {fm.model_fn} {
    %w = fm.load @w : tensor<3xf32>
    %t = fm.exp %x : tensor<3xf32> -> tensor<3xf32>
    %e = fm.neg %x : tensor<3xf32> -> tensor<3xf32>
    %y = fm.train_or_eval %t, %e : tensor<3xf32>
    fm.store %t, @running : tensor<3xf32>
    %p = fm.mul %y, %w : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
    %l = fm.reduce_sum %p {axes = array<i64: 0>} : tensor<3xf32> -> tensor<f32>
    return %l, %y : tensor<f32>, tensor<3xf32>
  }
}
