// RUN: fm-opt --split-input-file --verify-diagnostics %s

func.func @matmul_inner(%a: tensor<?x4xf32>, %b: tensor<5x3xf32>) {
  // expected-error@+2 {{'fm.matmul' expected inner dimensions to agree but got [N, 4] @ [5, 3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %m = fm.matmul %a, %b : tensor<?x4xf32>, tensor<5x3xf32> -> tensor<?x3xf32>
  return
}

// -----

func.func @broadcast(%a: tensor<?x4xf32>, %b: tensor<3xf32>) {
  // expected-error@+2 {{'fm.add' cannot broadcast shapes [N, 4] and [3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %m = fm.add %a, %b : tensor<?x4xf32>, tensor<3xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @reshape_batch(%a: tensor<?x4xf32>) {
  // expected-error@+1 {{expected the batch dimension N to stay the leading dimension}}
  %m = fm.reshape %a : tensor<?x4xf32> -> tensor<4x?xf32>
  return
}

// -----

func.func @reshape_count(%a: tensor<?x4xf32>) {
  // expected-error@+1 {{expected the same number of elements but got [N, 4] -> [N, 5]}}
  %m = fm.reshape %a : tensor<?x4xf32> -> tensor<?x5xf32>
  return
}

// -----

func.func @axis(%a: tensor<?x4xf32>) {
  // expected-error@+1 {{expected axis in [0, 2) but got 2}}
  %m = fm.softmax %a {axis = 2 : i64} : tensor<?x4xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @reduce_axis(%a: tensor<?x4xf32>) {
  // expected-error@+2 {{expected axis in [0, 2) but got 3 for shape [N, 4]}}
  // expected-error@+1 {{failed to infer returned types}}
  %m = fm.reduce_sum %a {axes = array<i64: 3>} : tensor<?x4xf32> -> tensor<?xf32>
  return
}

// -----

func.func @labels(%a: tensor<?x4xf32>, %y: tensor<?xf32>) {
  // expected-error@+1 {{operand #1 must be ranked tensor of 32-bit signless integer}}
  %m = fm.cross_entropy %a, %y : tensor<?x4xf32>, tensor<?xf32> -> tensor<f32>
  return
}

// -----

// expected-error@+1 {{'fm.param' op expected a tensor type of static shape}}
fm.param @p : tensor<?x3xf32> {kind = "param", init = "zeros"}

// -----

fm.param @q : tensor<3xf32> {kind = "param", init = "zeros"}
func.func @load_type() {
  // expected-error@+1 {{expected type 'tensor<3xf32>' of 'q' but got 'tensor<4xf32>'}}
  %q = fm.load @q : tensor<4xf32>
  return
}

// -----

func.func @load_missing() {
  // expected-error@+1 {{'nope' does not name an fm.param}}
  %q = fm.load @nope : tensor<4xf32>
  return
}

// -----

func.func @normalize_eps(%x: tensor<?x8xf32>) {
  // expected-error@+1 {{'fm.normalize' op expected eps above 0 but got 0}}
  %y, %m, %v = fm.normalize %x {axes = array<i64: 0>, eps = 0.0 : f64} : tensor<?x8xf32> -> tensor<?x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @normalize_axis(%x: tensor<?x8xf32>) {
  // expected-error@+2 {{expected axis in [0, 2) but got 2 for shape [N, 8]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y, %m, %v = fm.normalize %x {axes = array<i64: 2>, eps = 1.0e-05 : f64} : tensor<?x8xf32> -> tensor<?x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>
  return
}
