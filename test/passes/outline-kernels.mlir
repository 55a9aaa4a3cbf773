// RUN: fm-opt --fm-fuse --fm-outline-kernels %s | FileCheck %s
// RUN: fm-opt --fm-outline-kernels %s | FileCheck %s --check-prefix=UNFUSED

// matmul + bias + relu fuse into one kernel; the transposed operand of a
// matmul travels with it, and the pointwise update that consumes the
// gradient fuses into the gradient's kernel.
module {
  fm.param @w : tensor<4x3xf32> {kind = "param", init = "zeros"}
  fm.param @b : tensor<3xf32> {kind = "param", init = "zeros"}

  // CHECK-LABEL: func.func private @k0_matmul
  // CHECK-SAME: -> tensor<?x3xf32> attributes {fm.kernel}
  // CHECK: fm.matmul
  // CHECK-NEXT: fm.add
  // CHECK-NEXT: fm.relu
  // CHECK-NEXT: return

  // CHECK-LABEL: func.func private @k1_matmul
  // CHECK-SAME: {fm.scalar = "lr"}
  // CHECK: fm.transpose
  // CHECK-NEXT: fm.matmul
  // CHECK-NEXT: fm.mul
  // CHECK-NEXT: fm.sub
  // CHECK-NEXT: return
  // CHECK-NOT: func.func private

  // Without fm-fuse every op is a kernel of its own: the unfused reference.
  // UNFUSED-COUNT-7: func.func private @k{{[0-9]+}}_{{[a-z]+}}(
  // UNFUSED-NOT: func.func private
  // UNFUSED: func.func @train_step

  // CHECK-LABEL: func.func @train_step
  func.func @train_step(%x: tensor<?x4xf32> {fm.input = "x"}, %lr: tensor<f32> {fm.scalar = "lr"}) -> tensor<?x3xf32> attributes {fm.step = "train_step"} {
    // CHECK: %[[W:.+]] = fm.load @w
    // CHECK: %[[B:.+]] = fm.load @b
    // CHECK: %[[H:.+]] = call @k0_matmul(%arg0, %[[W]], %[[B]])
    // CHECK: %[[NW:.+]] = call @k1_matmul(%arg0, %[[H]], %arg1, %[[W]])
    // CHECK: fm.store %[[NW]], @w
    %w = fm.load @w : tensor<4x3xf32>
    %b = fm.load @b : tensor<3xf32>
    %m = fm.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
    %h = fm.add %m, %b : tensor<?x3xf32>, tensor<3xf32> -> tensor<?x3xf32>
    %r = fm.relu %h : tensor<?x3xf32> -> tensor<?x3xf32>
    %xt = fm.transpose %x {perm = array<i64: 1, 0>} : tensor<?x4xf32> -> tensor<4x?xf32>
    %g = fm.matmul %xt, %r : tensor<4x?xf32>, tensor<?x3xf32> -> tensor<4x3xf32>
    %step = fm.mul %lr, %g : tensor<f32>, tensor<4x3xf32> -> tensor<4x3xf32>
    %nw = fm.sub %w, %step : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
    fm.store %nw, @w : tensor<4x3xf32>
    return %r : tensor<?x3xf32>
  }
}
