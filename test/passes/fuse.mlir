// RUN: fm-opt --fm-fuse %s | FileCheck %s
// RUN: fm-opt --fm-fuse --fm-outline-kernels %s | FileCheck %s --check-prefix=KERNELS

// The fusion rules of passes/Fuse.cpp, one case each.
module {
  fm.param @w : tensor<4x1x3x3xf32> {kind = "param", init = "zeros"}
  fm.param @b : tensor<4xf32> {kind = "param", init = "zeros"}
  fm.param @v : tensor<16x3xf32> {kind = "param", init = "zeros"}

  // CHECK-LABEL: func.func @train_step
  func.func @train_step(%x: tensor<?x1x6x6xf32> {fm.input = "x"}, %g: tensor<?x4x2x2xf32> {fm.input = "g"}, %lr: tensor<f32> {fm.scalar = "lr"}) -> (tensor<?x3xf32>, tensor<4xf32>) attributes {fm.step = "train_step"} {
    %w = fm.load @w : tensor<4x1x3x3xf32>
    %b = fm.load @b : tensor<4xf32>
    %v = fm.load @v : tensor<16x3xf32>
    %zero = fm.constant dense<0.0> : tensor<f32>

    // Rule 1 with the view rule: the bias reshape is a view of a parameter,
    // cloned into the region, so bias and relu fuse into the convolution.
    // CHECK: %[[CONV:.+]] = fm.fused "conv2d" -> tensor<?x4x4x4xf32> {
    // CHECK-NEXT: fm.conv2d
    // CHECK-NEXT: fm.reshape %{{.+}} : tensor<4xf32> -> tensor<4x1x1xf32>
    // CHECK-NEXT: fm.add
    // CHECK-NEXT: fm.relu
    // CHECK-NEXT: fm.yield
    %c = fm.conv2d %x, %w {dilation = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<?x1x6x6xf32>, tensor<4x1x3x3xf32> -> tensor<?x4x4x4xf32>
    %b3 = fm.reshape %b : tensor<4xf32> -> tensor<4x1x1xf32>
    %s = fm.add %c, %b3 : tensor<?x4x4x4xf32>, tensor<4x1x1xf32> -> tensor<?x4x4x4xf32>
    %y = fm.relu %s : tensor<?x4x4x4xf32> -> tensor<?x4x4x4xf32>

    // Rule 3: the flattening reshape joins the pooling that feeds it.
    // CHECK: %[[POOL:.+]] = fm.fused "maxpool2d" -> tensor<?x16xf32> {
    // CHECK-NEXT: fm.maxpool2d
    // CHECK-NEXT: fm.reshape
    // CHECK-NEXT: fm.yield
    %p = fm.maxpool2d %y {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<?x4x4x4xf32> -> tensor<?x4x2x2xf32>
    %f = fm.reshape %p : tensor<?x4x2x2xf32> -> tensor<?x16xf32>

    // Rule 4: transposes that feed only the matmul travel with it.
    // CHECK: fm.fused "matmul" -> tensor<?x3xf32> {
    // CHECK-NEXT: fm.transpose
    // CHECK-NEXT: fm.transpose
    // CHECK-NEXT: fm.matmul
    // CHECK-NEXT: fm.yield
    %vt = fm.transpose %v {perm = array<i64: 1, 0>} : tensor<16x3xf32> -> tensor<3x16xf32>
    %vtt = fm.transpose %vt {perm = array<i64: 1, 0>} : tensor<3x16xf32> -> tensor<16x3xf32>
    %m = fm.matmul %f, %vtt : tensor<?x16xf32>, tensor<16x3xf32> -> tensor<?x3xf32>

    // Rule 1 (a user reads the group), 2 and 3: the mask of relu's
    // gradient reads the forward result; the select that reads the pooled
    // gradient, the bias gradient's reduction and its reshape all join
    // pooling's backward.
    // CHECK: %[[BWD:.+]]:2 = fm.fused "maxpool2d_backward" -> tensor<?x4x4x4xf32>, tensor<4xf32> {
    // CHECK-NEXT: fm.maxpool2d_backward
    // CHECK-NEXT: fm.constant dense<0.0
    // CHECK-NEXT: fm.compare "gt"
    // CHECK-NEXT: fm.select
    // CHECK-NEXT: fm.reduce_sum
    // CHECK-NEXT: fm.reshape
    // CHECK-NEXT: fm.yield
    %dp = fm.maxpool2d_backward %y, %g {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<?x4x4x4xf32>, tensor<?x4x2x2xf32> -> tensor<?x4x4x4xf32>
    %mask = fm.compare "gt", %y, %zero : tensor<?x4x4x4xf32>, tensor<f32> -> tensor<?x4x4x4xi1>
    %dy = fm.select %mask, %dp, %zero : tensor<?x4x4x4xi1>, tensor<?x4x4x4xf32>, tensor<f32> -> tensor<?x4x4x4xf32>
    %db4 = fm.reduce_sum %dy {axes = array<i64: 0, 2, 3>, keepdims = true} : tensor<?x4x4x4xf32> -> tensor<1x4x1x1xf32>
    %db = fm.reshape %db4 : tensor<1x4x1x1xf32> -> tensor<4xf32>

    // The filter gradient anchors a kernel of its own.
    // CHECK: %[[DW:.+]] = fm.fused "conv2d_backward_filter"
    %dw = fm.conv2d_backward_filter %x, %dy {dilation = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<?x1x6x6xf32>, tensor<?x4x4x4xf32> -> tensor<4x1x3x3xf32>

    // Rule 1: the updates of both parameters form one pointwise kernel;
    // the first reads an earlier group, so it starts a new one.
    // CHECK: %[[UPD:.+]]:2 = fm.fused "pointwise" -> tensor<4xf32>, tensor<4x1x3x3xf32> {
    // CHECK-NEXT: fm.mul
    // CHECK-NEXT: fm.sub
    // CHECK-NEXT: fm.mul
    // CHECK-NEXT: fm.sub
    // CHECK-NEXT: fm.yield
    %sb = fm.mul %lr, %db : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
    %nb = fm.sub %b, %sb : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %sw = fm.mul %lr, %dw : tensor<f32>, tensor<4x1x3x3xf32> -> tensor<4x1x3x3xf32>
    %nw = fm.sub %w, %sw : tensor<4x1x3x3xf32>, tensor<4x1x3x3xf32> -> tensor<4x1x3x3xf32>
    // CHECK: fm.store %[[UPD]]#0, @b
    // CHECK: fm.store %[[UPD]]#1, @w
    fm.store %nb, @b : tensor<4xf32>
    fm.store %nw, @w : tensor<4x1x3x3xf32>
    return %m, %db : tensor<?x3xf32>, tensor<4xf32>
  }

  // Rule 5: in inference nothing else reads the activation, so the
  // pooling joins the convolution's group (contrast @train_step, where
  // the backward pass reads %y and the pooling is a kernel of its own).
  // CHECK-LABEL: func.func @predict
  func.func @predict(%x: tensor<?x1x6x6xf32> {fm.input = "x"}) -> tensor<?x4x2x2xf32> attributes {fm.step = "predict"} {
    %w = fm.load @w : tensor<4x1x3x3xf32>
    %b = fm.load @b : tensor<4xf32>
    // CHECK: %[[P:.+]] = fm.fused "conv2d" -> tensor<?x4x2x2xf32> {
    // CHECK-NEXT: fm.conv2d
    // CHECK-NEXT: fm.reshape
    // CHECK-NEXT: fm.add
    // CHECK-NEXT: fm.relu
    // CHECK-NEXT: fm.maxpool2d
    // CHECK-NEXT: fm.yield
    // CHECK: return %[[P]]
    %c = fm.conv2d %x, %w {dilation = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<?x1x6x6xf32>, tensor<4x1x3x3xf32> -> tensor<?x4x4x4xf32>
    %b3 = fm.reshape %b : tensor<4xf32> -> tensor<4x1x1xf32>
    %s = fm.add %c, %b3 : tensor<?x4x4x4xf32>, tensor<4x1x1xf32> -> tensor<?x4x4x4xf32>
    %y = fm.relu %s : tensor<?x4x4x4xf32> -> tensor<?x4x4x4xf32>
    %p = fm.maxpool2d %y {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<?x4x4x4xf32> -> tensor<?x4x2x2xf32>
    return %p : tensor<?x4x2x2xf32>
  }

  // Rule 2 with normalize, and rule 1 through a pointwise chain: the
  // statistics join the convolution; in the gradient, sqrt(var + eps)
  // reads nothing of the group (only %var, from another kernel) but two
  // ops later the division reads the group's %d: all one kernel.
  // CHECK-LABEL: func.func @normalize_step
  func.func @normalize_step(%x: tensor<?x1x6x6xf32> {fm.input = "x"}, %gy: tensor<?x4x4x4xf32> {fm.input = "g"}, %var: tensor<1x4x1x1xf32> {fm.input = "v"}) -> (tensor<?x4x4x4xf32>, tensor<1x4x1x1xf32>, tensor<?x4x4x4xf32>) attributes {fm.step = "train_step"} {
    %w = fm.load @w : tensor<4x1x3x3xf32>
    // CHECK: fm.fused "conv2d" -> tensor<?x4x4x4xf32>, tensor<1x4x1x1xf32> {
    // CHECK-NEXT: fm.conv2d
    // CHECK-NEXT: fm.normalize
    // CHECK-NEXT: fm.yield
    %c = fm.conv2d %x, %w {dilation = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<?x1x6x6xf32>, tensor<4x1x3x3xf32> -> tensor<?x4x4x4xf32>
    %y, %m, %v = fm.normalize %c {axes = array<i64: 0, 2, 3>, eps = 1.0e-05 : f64} : tensor<?x4x4x4xf32> -> tensor<?x4x4x4xf32>, tensor<1x4x1x1xf32>, tensor<1x4x1x1xf32>
    // CHECK: fm.fused "reduce_sum" -> tensor<?x4x4x4xf32> {
    // CHECK-NEXT: fm.reduce_sum
    // CHECK-NEXT: fm.sub
    // CHECK-NEXT: fm.constant
    // CHECK-NEXT: fm.add
    // CHECK-NEXT: fm.sqrt
    // CHECK-NEXT: fm.div
    // CHECK-NEXT: fm.yield
    %eps = fm.constant dense<1.0e-05> : tensor<f32>
    %sum = fm.reduce_sum %gy {axes = array<i64: 0, 2, 3>, keepdims = true} : tensor<?x4x4x4xf32> -> tensor<1x4x1x1xf32>
    %d = fm.sub %gy, %sum : tensor<?x4x4x4xf32>, tensor<1x4x1x1xf32> -> tensor<?x4x4x4xf32>
    %ve = fm.add %var, %eps : tensor<1x4x1x1xf32>, tensor<f32> -> tensor<1x4x1x1xf32>
    %root = fm.sqrt %ve : tensor<1x4x1x1xf32> -> tensor<1x4x1x1xf32>
    %dx = fm.div %d, %root : tensor<?x4x4x4xf32>, tensor<1x4x1x1xf32> -> tensor<?x4x4x4xf32>
    return %y, %m, %dx : tensor<?x4x4x4xf32>, tensor<1x4x1x1xf32>, tensor<?x4x4x4xf32>
  }

  // Kernels are named by their anchor; a region's operands become the
  // kernel's arguments, in order of first use.
  // KERNELS-DAG: func.func private @k0_conv2d(%{{.+}}: tensor<?x1x6x6xf32>, %{{.+}}: tensor<4x1x3x3xf32>, %{{.+}}: tensor<4xf32>) -> tensor<?x4x4x4xf32> attributes {fm.kernel}
  // KERNELS-DAG: func.func private @k1_maxpool2d
  // KERNELS-DAG: func.func private @k2_matmul
  // KERNELS-DAG: func.func private @k3_maxpool2d_backward
  // KERNELS-DAG: func.func private @k4_conv2d_backward_filter
  // KERNELS-DAG: func.func private @k5_pointwise
  // KERNELS-NOT: fm.fused
}
