// RUN: fm-opt --split-input-file --verify-diagnostics %s
// Shape-rule errors of the ops of FmTensorOps.td.

func.func @argmax_axis(%x: tensor<?x8xf32>) {
  // expected-error@+2 {{'fm.argmax' expected axis in [0, 2) but got 2 for shape [N, 8]}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.argmax %x {axis = 2 : i64} : tensor<?x8xf32> -> tensor<?xi32>
  return
}

// -----

func.func @dropout_rate(%x: tensor<?x8xf32>, %s: tensor<f32>) {
  // expected-error@+2 {{'fm.dropout' expected rate in [0, 1) but got 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.dropout %x, %s {rate = 1.0 : f64, salt = 0 : i64} : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  return
}

// -----

func.func @concat_batch_axis(%a: tensor<?x2xf32>, %b: tensor<?x2xf32>) {
  // expected-error@+2 {{'fm.concat' expected a static extent on axis 0 but got the batch extent N in operand 0 of shape [N, 2]}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.concat %a, %b {axis = 0 : i64} : tensor<?x2xf32>, tensor<?x2xf32> -> tensor<?x2xf32>
  return
}

// -----

func.func @concat_extents(%a: tensor<?x2xf32>, %b: tensor<3x3xf32>) {
  // expected-error@+2 {{'fm.concat' expected equal extents on all axes but 1 but got [N, 2] and [3, 3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.concat %a, %b {axis = 1 : i64} : tensor<?x2xf32>, tensor<3x3xf32> -> tensor<?x5xf32>
  return
}

// -----

func.func @concat_types(%a: tensor<2xf32>, %b: tensor<2xf64>) {
  // expected-error@+2 {{'fm.concat' expected operands of one element type but got 'f32' and 'f64'}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.concat %a, %b {axis = 0 : i64} : tensor<2xf32>, tensor<2xf64> -> tensor<4xf32>
  return
}

// -----

func.func @slice_range(%x: tensor<?x8xf32>) {
  // expected-error@+2 {{'fm.slice' expected 0 <= start < end <= 8 on axis 1 of [N, 8] but got start 5 and end 9}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.slice %x {axis = 1 : i64, start = 5 : i64, end = 9 : i64} : tensor<?x8xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @slice_batch_axis(%x: tensor<?x8xf32>) {
  // expected-error@+2 {{'fm.slice' expected a static extent on axis 0 but got the batch extent N of [N, 8]}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.slice %x {axis = 0 : i64, start = 0 : i64, end = 1 : i64} : tensor<?x8xf32> -> tensor<1x8xf32>
  return
}

// -----

func.func @pad_batch_axis(%x: tensor<?x8xf32>) {
  // expected-error@+2 {{'fm.pad' expected no padding of the batch axis 0 of [N, 8] but got 1 before and 0 after}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.pad %x {before = array<i64: 1, 0>, after = array<i64: 0, 0>} : tensor<?x8xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @pad_entries(%x: tensor<?x8xf32>) {
  // expected-error@+2 {{'fm.pad' expected 2 entries (one per axis of [N, 8]) in before and after but got 1 and 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.pad %x {before = array<i64: 0>, after = array<i64: 0>} : tensor<?x8xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @pad_negative(%x: tensor<4xf32>) {
  // expected-error@+2 {{'fm.pad' expected non-negative padding but got -1 before and 0 after axis 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.pad %x {before = array<i64: -1>, after = array<i64: 0>} : tensor<4xf32> -> tensor<3xf32>
  return
}

// -----

func.func @gather_table(%t: tensor<7xf32>, %ids: tensor<?xi32>) {
  // expected-error@+2 {{'fm.gather' expected a table of static shape [V, D] but got [7]}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.gather %t, %ids : tensor<7xf32>, tensor<?xi32> -> tensor<?x7xf32>
  return
}

// -----

func.func @scatter_add_shape(%ids: tensor<?xi32>, %u: tensor<?x2x3xf32>) {
  // expected-error@+2 {{'fm.scatter_add' expected updates of the ids' shape [N] followed by a static row width but got [N, 2, 3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.scatter_add %ids, %u {rows = 4 : i64} : tensor<?xi32>, tensor<?x2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @scatter_add_rows(%ids: tensor<?xi32>, %u: tensor<?x3xf32>) {
  // expected-error@+2 {{'fm.scatter_add' expected a positive number of rows but got 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %r = fm.scatter_add %ids, %u {rows = 0 : i64} : tensor<?xi32>, tensor<?x3xf32> -> tensor<0x3xf32>
  return
}

// -----

func.func @missing_attribute(%x: tensor<?x8xf32>) {
  // expected-error@+1 {{requires attribute 'axis'}}
  %r = fm.argmax %x : tensor<?x8xf32> -> tensor<?xi32>
  return
}
