// RUN: fm-opt --split-input-file --fm-optimizer-update %s | FileCheck %s

// SGD with momentum and weight decay: buf = m*buf + (g + wd*p); p -= lr*buf.
module attributes {fm.optimizer = {kind = "sgd", lr = 1.0e-01 : f64, momentum = 9.0e-01 : f64, weight_decay = 1.0e-02 : f64, nesterov = false}} {
  // CHECK: fm.param @w : tensor<3xf32>
  // CHECK-NEXT: fm.param @optim.momentum.w : tensor<3xf32> {kind = "state"}
  fm.param @w : tensor<3xf32> {kind = "param", init = "ones"}
  // CHECK-LABEL: func.func @step
  // CHECK-SAME: %[[G:[^:]+]]: tensor<3xf32>, %[[LR:[^:]+]]: tensor<f32> {fm.scalar = "lr"}, %{{[^:]+}}: tensor<f32> {fm.scalar = "step"}
  func.func @step(%g: tensor<3xf32>) {
    // CHECK: %[[P:.+]] = fm.load @w
    // CHECK: %[[WD:.+]] = fm.constant dense<0.00999999977>
    // CHECK: %[[D:.+]] = fm.mul %[[WD]], %[[P]]
    // CHECK: %[[G2:.+]] = fm.add %[[G]], %[[D]]
    // CHECK: %[[BUF:.+]] = fm.load @optim.momentum.w
    // CHECK: %[[MU:.+]] = fm.constant dense<0.899999976>
    // CHECK: %[[MB:.+]] = fm.mul %[[MU]], %[[BUF]]
    // CHECK: %[[NB:.+]] = fm.add %[[MB]], %[[G2]]
    // CHECK: fm.store %[[NB]], @optim.momentum.w
    // CHECK: %[[STEP:.+]] = fm.mul %[[LR]], %[[NB]]
    // CHECK: %[[NP:.+]] = fm.sub %[[P]], %[[STEP]]
    // CHECK: fm.store %[[NP]], @w
    // CHECK-NOT: fm.apply_gradient
    fm.apply_gradient @w, %g : tensor<3xf32>
    return
  }
}

// -----

// Adam keeps two moments and corrects their bias with the step count.
module attributes {fm.optimizer = {kind = "adam", lr = 1.0e-03 : f64}} {
  // CHECK-DAG: fm.param @optim.adam_m.w : tensor<2xf32> {kind = "state"}
  // CHECK-DAG: fm.param @optim.adam_v.w : tensor<2xf32> {kind = "state"}
  fm.param @w : tensor<2xf32> {kind = "param", init = "ones"}
  // CHECK-LABEL: func.func @step
  func.func @step(%g: tensor<2xf32>) {
    // CHECK: fm.store %{{.+}}, @optim.adam_m.w
    // CHECK: fm.store %{{.+}}, @optim.adam_v.w
    // CHECK: fm.pow %{{.+}}, %arg2
    // CHECK: fm.sqrt
    // CHECK: fm.store %{{.+}}, @w
    fm.apply_gradient @w, %g : tensor<2xf32>
    return
  }
}
