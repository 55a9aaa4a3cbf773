// The MLP of examples/mlp.fm as the passes leave it, a fixture for
// test/unit/codegen (ModelTest.cpp). Regenerate with:
//   fmc examples/mlp.fm --emit=fm
module attributes {fm.model = "MLP", fm.optimizer = {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, kind = "adam", lr = 1.000000e-03 : f64, weight_decay = 0.000000e+00 : f64}, fm.source = "examples/mlp.fm", fm.train = "{\22data\22: {\22kind\22: \22fashion_mnist\22}, \22scale\22: 0.0039215686274509803, \22validation\22: 0.10000000000000001, \22optimizer\22: {\22kind\22: \22adam\22, \22beta1\22: 0.90000000000000002, \22beta2\22: 0.999, \22eps\22: 1e-08, \22lr\22: 0.001, \22weight_decay\22: 0}, \22batch\22: 64, \22epochs\22: 5, \22seed\22: 0, \22checkpoint\22: \22checkpoints/MLP\22}"} {
  fm.param @dense.weight : tensor<784x256xf32> {fan_in = 784 : i64, fan_out = 256 : i64, init = "glorot_uniform"}
  fm.param @optim.adam_v.dense.weight : tensor<784x256xf32> {kind = "state"}
  fm.param @optim.adam_m.dense.weight : tensor<784x256xf32> {kind = "state"}
  fm.param @dense.bias : tensor<256xf32> {fan_in = 256 : i64, fan_out = 256 : i64}
  fm.param @optim.adam_v.dense.bias : tensor<256xf32> {kind = "state"}
  fm.param @optim.adam_m.dense.bias : tensor<256xf32> {kind = "state"}
  fm.param @dense_1.weight : tensor<256x128xf32> {fan_in = 256 : i64, fan_out = 128 : i64, init = "glorot_uniform"}
  fm.param @optim.adam_v.dense_1.weight : tensor<256x128xf32> {kind = "state"}
  fm.param @optim.adam_m.dense_1.weight : tensor<256x128xf32> {kind = "state"}
  fm.param @dense_1.bias : tensor<128xf32> {fan_in = 128 : i64, fan_out = 128 : i64}
  fm.param @optim.adam_v.dense_1.bias : tensor<128xf32> {kind = "state"}
  fm.param @optim.adam_m.dense_1.bias : tensor<128xf32> {kind = "state"}
  fm.param @dense_2.weight : tensor<128x10xf32> {fan_in = 128 : i64, fan_out = 10 : i64, init = "glorot_uniform"}
  fm.param @optim.adam_v.dense_2.weight : tensor<128x10xf32> {kind = "state"}
  fm.param @optim.adam_m.dense_2.weight : tensor<128x10xf32> {kind = "state"}
  fm.param @dense_2.bias : tensor<10xf32> {fan_in = 10 : i64, fan_out = 10 : i64}
  fm.param @optim.adam_v.dense_2.bias : tensor<10xf32> {kind = "state"}
  fm.param @optim.adam_m.dense_2.bias : tensor<10xf32> {kind = "state"}
  func.func private @k0(%arg0: tensor<?x1x28x28xf32>) -> tensor<?x784xf32> attributes {fm.kernel} {
    %0 = fm.reshape %arg0 : tensor<?x1x28x28xf32> -> tensor<?x784xf32>
    return %0 : tensor<?x784xf32>
  }
  func.func private @k1(%arg0: tensor<?x784xf32>, %arg1: tensor<784x256xf32>, %arg2: tensor<256xf32>) -> tensor<?x256xf32> attributes {fm.kernel} {
    %0 = fm.matmul %arg0, %arg1 : tensor<?x784xf32>, tensor<784x256xf32> -> tensor<?x256xf32>
    %1 = fm.add %0, %arg2 : tensor<?x256xf32>, tensor<256xf32> -> tensor<?x256xf32>
    %2 = fm.relu %1 : tensor<?x256xf32> -> tensor<?x256xf32>
    return %2 : tensor<?x256xf32>
  }
  func.func private @k2(%arg0: tensor<?x256xf32>, %arg1: tensor<256x128xf32>, %arg2: tensor<128xf32>) -> tensor<?x128xf32> attributes {fm.kernel} {
    %0 = fm.matmul %arg0, %arg1 : tensor<?x256xf32>, tensor<256x128xf32> -> tensor<?x128xf32>
    %1 = fm.add %0, %arg2 : tensor<?x128xf32>, tensor<128xf32> -> tensor<?x128xf32>
    %2 = fm.relu %1 : tensor<?x128xf32> -> tensor<?x128xf32>
    return %2 : tensor<?x128xf32>
  }
  func.func private @k3(%arg0: tensor<?x128xf32>, %arg1: tensor<128x10xf32>, %arg2: tensor<10xf32>) -> tensor<?x10xf32> attributes {fm.kernel} {
    %0 = fm.matmul %arg0, %arg1 : tensor<?x128xf32>, tensor<128x10xf32> -> tensor<?x10xf32>
    %1 = fm.add %0, %arg2 : tensor<?x10xf32>, tensor<10xf32> -> tensor<?x10xf32>
    return %1 : tensor<?x10xf32>
  }
  func.func private @k4(%arg0: tensor<?x10xf32>) -> tensor<?x10xf32> attributes {fm.kernel} {
    %0 = fm.softmax %arg0 {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?x10xf32>
    return %0 : tensor<?x10xf32>
  }
  func.func @predict(%arg0: tensor<?x1x28x28xf32> {fm.input = "x"}) -> (tensor<?x10xf32> {fm.name = "probs", fm.role = "output"}) attributes {fm.step = "predict"} {
    %0 = call @k0(%arg0) : (tensor<?x1x28x28xf32>) -> tensor<?x784xf32>
    %1 = fm.load @dense.weight : tensor<784x256xf32>
    %2 = fm.load @dense.bias : tensor<256xf32>
    %3 = call @k1(%0, %1, %2) : (tensor<?x784xf32>, tensor<784x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
    %4 = fm.load @dense_1.weight : tensor<256x128xf32>
    %5 = fm.load @dense_1.bias : tensor<128xf32>
    %6 = call @k2(%3, %4, %5) : (tensor<?x256xf32>, tensor<256x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
    %7 = fm.load @dense_2.weight : tensor<128x10xf32>
    %8 = fm.load @dense_2.bias : tensor<10xf32>
    %9 = call @k3(%6, %7, %8) : (tensor<?x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    %10 = call @k4(%9) : (tensor<?x10xf32>) -> tensor<?x10xf32>
    return %10 : tensor<?x10xf32>
  }
  func.func private @k9(%arg0: tensor<?x10xf32>, %arg1: tensor<?xi32>) -> tensor<f32> attributes {fm.kernel} {
    %0 = fm.cross_entropy %arg0, %arg1 : tensor<?x10xf32>, tensor<?xi32> -> tensor<f32>
    return %0 : tensor<f32>
  }
  func.func private @k10(%arg0: tensor<?x10xf32>, %arg1: tensor<?xi32>) -> tensor<f32> attributes {fm.kernel} {
    %0 = fm.accuracy %arg0, %arg1 : tensor<?x10xf32>, tensor<?xi32> -> tensor<f32>
    return %0 : tensor<f32>
  }
  func.func @evaluate(%arg0: tensor<?x1x28x28xf32> {fm.input = "x"}, %arg1: tensor<?xi32> {fm.label = "y"}) -> (tensor<f32> {fm.name = "loss", fm.role = "loss"}, tensor<f32> {fm.name = "acc", fm.role = "metric"}) attributes {fm.step = "evaluate"} {
    %0 = call @k0(%arg0) : (tensor<?x1x28x28xf32>) -> tensor<?x784xf32>
    %1 = fm.load @dense.weight : tensor<784x256xf32>
    %2 = fm.load @dense.bias : tensor<256xf32>
    %3 = call @k1(%0, %1, %2) : (tensor<?x784xf32>, tensor<784x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
    %4 = fm.load @dense_1.weight : tensor<256x128xf32>
    %5 = fm.load @dense_1.bias : tensor<128xf32>
    %6 = call @k2(%3, %4, %5) : (tensor<?x256xf32>, tensor<256x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
    %7 = fm.load @dense_2.weight : tensor<128x10xf32>
    %8 = fm.load @dense_2.bias : tensor<10xf32>
    %9 = call @k3(%6, %7, %8) : (tensor<?x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    %10 = call @k9(%9, %arg1) : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
    %11 = call @k10(%9, %arg1) : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
    return %10, %11 : tensor<f32>, tensor<f32>
  }
  func.func private @k12(%arg0: tensor<?x784xf32>, %arg1: tensor<784x256xf32>, %arg2: tensor<256xf32>) -> (tensor<?x256xf32>, tensor<?x256xf32>) attributes {fm.kernel} {
    %0 = fm.matmul %arg0, %arg1 : tensor<?x784xf32>, tensor<784x256xf32> -> tensor<?x256xf32>
    %1 = fm.add %0, %arg2 : tensor<?x256xf32>, tensor<256xf32> -> tensor<?x256xf32>
    %2 = fm.relu %1 : tensor<?x256xf32> -> tensor<?x256xf32>
    return %1, %2 : tensor<?x256xf32>, tensor<?x256xf32>
  }
  func.func private @k13(%arg0: tensor<?x256xf32>, %arg1: tensor<256x128xf32>, %arg2: tensor<128xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) attributes {fm.kernel} {
    %0 = fm.matmul %arg0, %arg1 : tensor<?x256xf32>, tensor<256x128xf32> -> tensor<?x128xf32>
    %1 = fm.add %0, %arg2 : tensor<?x128xf32>, tensor<128xf32> -> tensor<?x128xf32>
    %2 = fm.relu %1 : tensor<?x128xf32> -> tensor<?x128xf32>
    return %1, %2 : tensor<?x128xf32>, tensor<?x128xf32>
  }
  func.func private @k18(%arg0: tensor<?xi32>) -> tensor<?x10xf32> attributes {fm.kernel} {
    %0 = fm.one_hot %arg0 {classes = 10 : i64} : tensor<?xi32> -> tensor<?x10xf32>
    return %0 : tensor<?x10xf32>
  }
  func.func private @k19(%arg0: tensor<?x10xf32>, %arg1: tensor<?x10xf32>, %arg2: tensor<?x10xf32>) -> tensor<?x10xf32> attributes {fm.kernel} {
    %0 = fm.constant dense<1.000000e+00> : tensor<f32>
    %1 = fm.size %arg0 {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<f32>
    %2 = fm.div %0, %1 : tensor<f32>, tensor<f32> -> tensor<f32>
    %3 = fm.sub %arg1, %arg2 : tensor<?x10xf32>, tensor<?x10xf32> -> tensor<?x10xf32>
    %4 = fm.mul %3, %2 : tensor<?x10xf32>, tensor<f32> -> tensor<?x10xf32>
    return %4 : tensor<?x10xf32>
  }
  func.func private @k20(%arg0: tensor<?x10xf32>) -> tensor<10xf32> attributes {fm.kernel} {
    %0 = fm.reduce_sum %arg0 {axes = array<i64: 0>} : tensor<?x10xf32> -> tensor<10xf32>
    return %0 : tensor<10xf32>
  }
  func.func private @k21(%arg0: tensor<128x10xf32>, %arg1: tensor<?x10xf32>) -> tensor<?x128xf32> attributes {fm.kernel} {
    %0 = fm.transpose %arg0 {perm = array<i64: 1, 0>} : tensor<128x10xf32> -> tensor<10x128xf32>
    %1 = fm.matmul %arg1, %0 : tensor<?x10xf32>, tensor<10x128xf32> -> tensor<?x128xf32>
    return %1 : tensor<?x128xf32>
  }
  func.func private @k22(%arg0: tensor<?x128xf32>, %arg1: tensor<?x10xf32>) -> tensor<128x10xf32> attributes {fm.kernel} {
    %0 = fm.transpose %arg0 {perm = array<i64: 1, 0>} : tensor<?x128xf32> -> tensor<128x?xf32>
    %1 = fm.matmul %0, %arg1 : tensor<128x?xf32>, tensor<?x10xf32> -> tensor<128x10xf32>
    return %1 : tensor<128x10xf32>
  }
  func.func private @k23(%arg0: tensor<?x128xf32>, %arg1: tensor<?x128xf32>) -> tensor<?x128xf32> attributes {fm.kernel} {
    %0 = fm.constant dense<0.000000e+00> : tensor<f32>
    %1 = fm.compare "gt", %arg0, %0 : tensor<?x128xf32>, tensor<f32> -> tensor<?x128xi1>
    %2 = fm.select %1, %arg1, %0 : tensor<?x128xi1>, tensor<?x128xf32>, tensor<f32> -> tensor<?x128xf32>
    return %2 : tensor<?x128xf32>
  }
  func.func private @k24(%arg0: tensor<?x128xf32>) -> tensor<128xf32> attributes {fm.kernel} {
    %0 = fm.reduce_sum %arg0 {axes = array<i64: 0>} : tensor<?x128xf32> -> tensor<128xf32>
    return %0 : tensor<128xf32>
  }
  func.func private @k25(%arg0: tensor<256x128xf32>, %arg1: tensor<?x128xf32>) -> tensor<?x256xf32> attributes {fm.kernel} {
    %0 = fm.transpose %arg0 {perm = array<i64: 1, 0>} : tensor<256x128xf32> -> tensor<128x256xf32>
    %1 = fm.matmul %arg1, %0 : tensor<?x128xf32>, tensor<128x256xf32> -> tensor<?x256xf32>
    return %1 : tensor<?x256xf32>
  }
  func.func private @k26(%arg0: tensor<?x256xf32>, %arg1: tensor<?x128xf32>) -> tensor<256x128xf32> attributes {fm.kernel} {
    %0 = fm.transpose %arg0 {perm = array<i64: 1, 0>} : tensor<?x256xf32> -> tensor<256x?xf32>
    %1 = fm.matmul %0, %arg1 : tensor<256x?xf32>, tensor<?x128xf32> -> tensor<256x128xf32>
    return %1 : tensor<256x128xf32>
  }
  func.func private @k27(%arg0: tensor<?x256xf32>, %arg1: tensor<?x256xf32>) -> tensor<?x256xf32> attributes {fm.kernel} {
    %0 = fm.constant dense<0.000000e+00> : tensor<f32>
    %1 = fm.compare "gt", %arg0, %0 : tensor<?x256xf32>, tensor<f32> -> tensor<?x256xi1>
    %2 = fm.select %1, %arg1, %0 : tensor<?x256xi1>, tensor<?x256xf32>, tensor<f32> -> tensor<?x256xf32>
    return %2 : tensor<?x256xf32>
  }
  func.func private @k28(%arg0: tensor<?x256xf32>) -> tensor<256xf32> attributes {fm.kernel} {
    %0 = fm.reduce_sum %arg0 {axes = array<i64: 0>} : tensor<?x256xf32> -> tensor<256xf32>
    return %0 : tensor<256xf32>
  }
  func.func private @k29(%arg0: tensor<?x784xf32>, %arg1: tensor<?x256xf32>) -> tensor<784x256xf32> attributes {fm.kernel} {
    %0 = fm.transpose %arg0 {perm = array<i64: 1, 0>} : tensor<?x784xf32> -> tensor<784x?xf32>
    %1 = fm.matmul %0, %arg1 : tensor<784x?xf32>, tensor<?x256xf32> -> tensor<784x256xf32>
    return %1 : tensor<784x256xf32>
  }
  func.func private @k30(%arg0: tensor<10xf32>, %arg1: tensor<10xf32>, %arg2: tensor<10xf32>, %arg3: tensor<f32> {fm.scalar = "step"}, %arg4: tensor<f32> {fm.scalar = "lr"}, %arg5: tensor<10xf32>, %arg6: tensor<128x10xf32>, %arg7: tensor<128x10xf32>, %arg8: tensor<128x10xf32>, %arg9: tensor<128x10xf32>, %arg10: tensor<128xf32>, %arg11: tensor<128xf32>, %arg12: tensor<128xf32>, %arg13: tensor<128xf32>, %arg14: tensor<256x128xf32>, %arg15: tensor<256x128xf32>, %arg16: tensor<256x128xf32>, %arg17: tensor<256x128xf32>, %arg18: tensor<256xf32>, %arg19: tensor<256xf32>, %arg20: tensor<256xf32>, %arg21: tensor<256xf32>, %arg22: tensor<784x256xf32>, %arg23: tensor<784x256xf32>, %arg24: tensor<784x256xf32>, %arg25: tensor<784x256xf32>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<784x256xf32>, tensor<784x256xf32>, tensor<784x256xf32>) attributes {fm.kernel} {
    %0 = fm.constant dense<0.100000024> : tensor<f32>
    %1 = fm.mul %arg0, %0 : tensor<10xf32>, tensor<f32> -> tensor<10xf32>
    %2 = fm.constant dense<0.899999976> : tensor<f32>
    %3 = fm.mul %arg1, %2 : tensor<10xf32>, tensor<f32> -> tensor<10xf32>
    %4 = fm.add %3, %1 : tensor<10xf32>, tensor<10xf32> -> tensor<10xf32>
    %5 = fm.mul %arg0, %arg0 : tensor<10xf32>, tensor<10xf32> -> tensor<10xf32>
    %6 = fm.constant dense<9.99987125E-4> : tensor<f32>
    %7 = fm.mul %5, %6 : tensor<10xf32>, tensor<f32> -> tensor<10xf32>
    %8 = fm.constant dense<9.990000e-01> : tensor<f32>
    %9 = fm.mul %arg2, %8 : tensor<10xf32>, tensor<f32> -> tensor<10xf32>
    %10 = fm.add %9, %7 : tensor<10xf32>, tensor<10xf32> -> tensor<10xf32>
    %11 = fm.pow %2, %arg3 : tensor<f32>, tensor<f32> -> tensor<f32>
    %12 = fm.constant dense<1.000000e+00> : tensor<f32>
    %13 = fm.sub %12, %11 : tensor<f32>, tensor<f32> -> tensor<f32>
    %14 = fm.pow %8, %arg3 : tensor<f32>, tensor<f32> -> tensor<f32>
    %15 = fm.sub %12, %14 : tensor<f32>, tensor<f32> -> tensor<f32>
    %16 = fm.sqrt %15 : tensor<f32> -> tensor<f32>
    %17 = fm.sqrt %10 : tensor<10xf32> -> tensor<10xf32>
    %18 = fm.div %17, %16 : tensor<10xf32>, tensor<f32> -> tensor<10xf32>
    %19 = fm.constant dense<9.99999993E-9> : tensor<f32>
    %20 = fm.add %18, %19 : tensor<10xf32>, tensor<f32> -> tensor<10xf32>
    %21 = fm.div %4, %20 : tensor<10xf32>, tensor<10xf32> -> tensor<10xf32>
    %22 = fm.div %arg4, %13 : tensor<f32>, tensor<f32> -> tensor<f32>
    %23 = fm.mul %22, %21 : tensor<f32>, tensor<10xf32> -> tensor<10xf32>
    %24 = fm.sub %arg5, %23 : tensor<10xf32>, tensor<10xf32> -> tensor<10xf32>
    %25 = fm.mul %arg6, %0 : tensor<128x10xf32>, tensor<f32> -> tensor<128x10xf32>
    %26 = fm.mul %arg7, %2 : tensor<128x10xf32>, tensor<f32> -> tensor<128x10xf32>
    %27 = fm.add %26, %25 : tensor<128x10xf32>, tensor<128x10xf32> -> tensor<128x10xf32>
    %28 = fm.mul %arg6, %arg6 : tensor<128x10xf32>, tensor<128x10xf32> -> tensor<128x10xf32>
    %29 = fm.mul %28, %6 : tensor<128x10xf32>, tensor<f32> -> tensor<128x10xf32>
    %30 = fm.mul %arg8, %8 : tensor<128x10xf32>, tensor<f32> -> tensor<128x10xf32>
    %31 = fm.add %30, %29 : tensor<128x10xf32>, tensor<128x10xf32> -> tensor<128x10xf32>
    %32 = fm.sqrt %31 : tensor<128x10xf32> -> tensor<128x10xf32>
    %33 = fm.div %32, %16 : tensor<128x10xf32>, tensor<f32> -> tensor<128x10xf32>
    %34 = fm.add %33, %19 : tensor<128x10xf32>, tensor<f32> -> tensor<128x10xf32>
    %35 = fm.div %27, %34 : tensor<128x10xf32>, tensor<128x10xf32> -> tensor<128x10xf32>
    %36 = fm.mul %22, %35 : tensor<f32>, tensor<128x10xf32> -> tensor<128x10xf32>
    %37 = fm.sub %arg9, %36 : tensor<128x10xf32>, tensor<128x10xf32> -> tensor<128x10xf32>
    %38 = fm.mul %arg10, %0 : tensor<128xf32>, tensor<f32> -> tensor<128xf32>
    %39 = fm.mul %arg11, %2 : tensor<128xf32>, tensor<f32> -> tensor<128xf32>
    %40 = fm.add %39, %38 : tensor<128xf32>, tensor<128xf32> -> tensor<128xf32>
    %41 = fm.mul %arg10, %arg10 : tensor<128xf32>, tensor<128xf32> -> tensor<128xf32>
    %42 = fm.mul %41, %6 : tensor<128xf32>, tensor<f32> -> tensor<128xf32>
    %43 = fm.mul %arg12, %8 : tensor<128xf32>, tensor<f32> -> tensor<128xf32>
    %44 = fm.add %43, %42 : tensor<128xf32>, tensor<128xf32> -> tensor<128xf32>
    %45 = fm.sqrt %44 : tensor<128xf32> -> tensor<128xf32>
    %46 = fm.div %45, %16 : tensor<128xf32>, tensor<f32> -> tensor<128xf32>
    %47 = fm.add %46, %19 : tensor<128xf32>, tensor<f32> -> tensor<128xf32>
    %48 = fm.div %40, %47 : tensor<128xf32>, tensor<128xf32> -> tensor<128xf32>
    %49 = fm.mul %22, %48 : tensor<f32>, tensor<128xf32> -> tensor<128xf32>
    %50 = fm.sub %arg13, %49 : tensor<128xf32>, tensor<128xf32> -> tensor<128xf32>
    %51 = fm.mul %arg14, %0 : tensor<256x128xf32>, tensor<f32> -> tensor<256x128xf32>
    %52 = fm.mul %arg15, %2 : tensor<256x128xf32>, tensor<f32> -> tensor<256x128xf32>
    %53 = fm.add %52, %51 : tensor<256x128xf32>, tensor<256x128xf32> -> tensor<256x128xf32>
    %54 = fm.mul %arg14, %arg14 : tensor<256x128xf32>, tensor<256x128xf32> -> tensor<256x128xf32>
    %55 = fm.mul %54, %6 : tensor<256x128xf32>, tensor<f32> -> tensor<256x128xf32>
    %56 = fm.mul %arg16, %8 : tensor<256x128xf32>, tensor<f32> -> tensor<256x128xf32>
    %57 = fm.add %56, %55 : tensor<256x128xf32>, tensor<256x128xf32> -> tensor<256x128xf32>
    %58 = fm.sqrt %57 : tensor<256x128xf32> -> tensor<256x128xf32>
    %59 = fm.div %58, %16 : tensor<256x128xf32>, tensor<f32> -> tensor<256x128xf32>
    %60 = fm.add %59, %19 : tensor<256x128xf32>, tensor<f32> -> tensor<256x128xf32>
    %61 = fm.div %53, %60 : tensor<256x128xf32>, tensor<256x128xf32> -> tensor<256x128xf32>
    %62 = fm.mul %22, %61 : tensor<f32>, tensor<256x128xf32> -> tensor<256x128xf32>
    %63 = fm.sub %arg17, %62 : tensor<256x128xf32>, tensor<256x128xf32> -> tensor<256x128xf32>
    %64 = fm.mul %arg18, %0 : tensor<256xf32>, tensor<f32> -> tensor<256xf32>
    %65 = fm.mul %arg19, %2 : tensor<256xf32>, tensor<f32> -> tensor<256xf32>
    %66 = fm.add %65, %64 : tensor<256xf32>, tensor<256xf32> -> tensor<256xf32>
    %67 = fm.mul %arg18, %arg18 : tensor<256xf32>, tensor<256xf32> -> tensor<256xf32>
    %68 = fm.mul %67, %6 : tensor<256xf32>, tensor<f32> -> tensor<256xf32>
    %69 = fm.mul %arg20, %8 : tensor<256xf32>, tensor<f32> -> tensor<256xf32>
    %70 = fm.add %69, %68 : tensor<256xf32>, tensor<256xf32> -> tensor<256xf32>
    %71 = fm.sqrt %70 : tensor<256xf32> -> tensor<256xf32>
    %72 = fm.div %71, %16 : tensor<256xf32>, tensor<f32> -> tensor<256xf32>
    %73 = fm.add %72, %19 : tensor<256xf32>, tensor<f32> -> tensor<256xf32>
    %74 = fm.div %66, %73 : tensor<256xf32>, tensor<256xf32> -> tensor<256xf32>
    %75 = fm.mul %22, %74 : tensor<f32>, tensor<256xf32> -> tensor<256xf32>
    %76 = fm.sub %arg21, %75 : tensor<256xf32>, tensor<256xf32> -> tensor<256xf32>
    %77 = fm.mul %arg22, %0 : tensor<784x256xf32>, tensor<f32> -> tensor<784x256xf32>
    %78 = fm.mul %arg23, %2 : tensor<784x256xf32>, tensor<f32> -> tensor<784x256xf32>
    %79 = fm.add %78, %77 : tensor<784x256xf32>, tensor<784x256xf32> -> tensor<784x256xf32>
    %80 = fm.mul %arg22, %arg22 : tensor<784x256xf32>, tensor<784x256xf32> -> tensor<784x256xf32>
    %81 = fm.mul %80, %6 : tensor<784x256xf32>, tensor<f32> -> tensor<784x256xf32>
    %82 = fm.mul %arg24, %8 : tensor<784x256xf32>, tensor<f32> -> tensor<784x256xf32>
    %83 = fm.add %82, %81 : tensor<784x256xf32>, tensor<784x256xf32> -> tensor<784x256xf32>
    %84 = fm.sqrt %83 : tensor<784x256xf32> -> tensor<784x256xf32>
    %85 = fm.div %84, %16 : tensor<784x256xf32>, tensor<f32> -> tensor<784x256xf32>
    %86 = fm.add %85, %19 : tensor<784x256xf32>, tensor<f32> -> tensor<784x256xf32>
    %87 = fm.div %79, %86 : tensor<784x256xf32>, tensor<784x256xf32> -> tensor<784x256xf32>
    %88 = fm.mul %22, %87 : tensor<f32>, tensor<784x256xf32> -> tensor<784x256xf32>
    %89 = fm.sub %arg25, %88 : tensor<784x256xf32>, tensor<784x256xf32> -> tensor<784x256xf32>
    return %4, %10, %24, %27, %31, %37, %40, %44, %50, %53, %57, %63, %66, %70, %76, %79, %83, %89 : tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<784x256xf32>, tensor<784x256xf32>, tensor<784x256xf32>
  }
  func.func @train_step(%arg0: tensor<?x1x28x28xf32> {fm.input = "x"}, %arg1: tensor<?xi32> {fm.label = "y"}, %arg2: tensor<f32> {fm.scalar = "lr"}, %arg3: tensor<f32> {fm.scalar = "step"}) -> (tensor<f32> {fm.name = "loss", fm.role = "loss"}, tensor<f32> {fm.name = "acc", fm.role = "metric"}) attributes {fm.differentiate, fm.step = "train_step"} {
    %0 = call @k0(%arg0) : (tensor<?x1x28x28xf32>) -> tensor<?x784xf32>
    %1 = fm.load @dense.weight : tensor<784x256xf32>
    %2 = fm.load @dense.bias : tensor<256xf32>
    %3:2 = call @k12(%0, %1, %2) : (tensor<?x784xf32>, tensor<784x256xf32>, tensor<256xf32>) -> (tensor<?x256xf32>, tensor<?x256xf32>)
    %4 = fm.load @dense_1.weight : tensor<256x128xf32>
    %5 = fm.load @dense_1.bias : tensor<128xf32>
    %6:2 = call @k13(%3#1, %4, %5) : (tensor<?x256xf32>, tensor<256x128xf32>, tensor<128xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>)
    %7 = fm.load @dense_2.weight : tensor<128x10xf32>
    %8 = fm.load @dense_2.bias : tensor<10xf32>
    %9 = call @k3(%6#1, %7, %8) : (tensor<?x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    %10 = call @k9(%9, %arg1) : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
    %11 = call @k10(%9, %arg1) : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
    %12 = call @k4(%9) : (tensor<?x10xf32>) -> tensor<?x10xf32>
    %13 = call @k18(%arg1) : (tensor<?xi32>) -> tensor<?x10xf32>
    %14 = call @k19(%9, %12, %13) : (tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
    %15 = call @k20(%14) : (tensor<?x10xf32>) -> tensor<10xf32>
    %16 = call @k21(%7, %14) : (tensor<128x10xf32>, tensor<?x10xf32>) -> tensor<?x128xf32>
    %17 = call @k22(%6#1, %14) : (tensor<?x128xf32>, tensor<?x10xf32>) -> tensor<128x10xf32>
    %18 = call @k23(%6#0, %16) : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
    %19 = call @k24(%18) : (tensor<?x128xf32>) -> tensor<128xf32>
    %20 = call @k25(%4, %18) : (tensor<256x128xf32>, tensor<?x128xf32>) -> tensor<?x256xf32>
    %21 = call @k26(%3#1, %18) : (tensor<?x256xf32>, tensor<?x128xf32>) -> tensor<256x128xf32>
    %22 = call @k27(%3#0, %20) : (tensor<?x256xf32>, tensor<?x256xf32>) -> tensor<?x256xf32>
    %23 = call @k28(%22) : (tensor<?x256xf32>) -> tensor<256xf32>
    %24 = call @k29(%0, %22) : (tensor<?x784xf32>, tensor<?x256xf32>) -> tensor<784x256xf32>
    %25 = fm.load @optim.adam_m.dense_2.bias : tensor<10xf32>
    %26 = fm.load @optim.adam_v.dense_2.bias : tensor<10xf32>
    %27 = fm.load @dense_2.weight : tensor<128x10xf32>
    %28 = fm.load @optim.adam_m.dense_2.weight : tensor<128x10xf32>
    %29 = fm.load @optim.adam_v.dense_2.weight : tensor<128x10xf32>
    %30 = fm.load @dense_1.bias : tensor<128xf32>
    %31 = fm.load @optim.adam_m.dense_1.bias : tensor<128xf32>
    %32 = fm.load @optim.adam_v.dense_1.bias : tensor<128xf32>
    %33 = fm.load @dense_1.weight : tensor<256x128xf32>
    %34 = fm.load @optim.adam_m.dense_1.weight : tensor<256x128xf32>
    %35 = fm.load @optim.adam_v.dense_1.weight : tensor<256x128xf32>
    %36 = fm.load @dense.bias : tensor<256xf32>
    %37 = fm.load @optim.adam_m.dense.bias : tensor<256xf32>
    %38 = fm.load @optim.adam_v.dense.bias : tensor<256xf32>
    %39 = fm.load @dense.weight : tensor<784x256xf32>
    %40 = fm.load @optim.adam_m.dense.weight : tensor<784x256xf32>
    %41 = fm.load @optim.adam_v.dense.weight : tensor<784x256xf32>
    %42:18 = call @k30(%15, %25, %26, %arg3, %arg2, %8, %17, %28, %29, %27, %19, %31, %32, %30, %21, %34, %35, %33, %23, %37, %38, %36, %24, %40, %41, %39) : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<f32>, tensor<f32>, tensor<10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<784x256xf32>, tensor<784x256xf32>, tensor<784x256xf32>, tensor<784x256xf32>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128x10xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256x128xf32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<784x256xf32>, tensor<784x256xf32>, tensor<784x256xf32>)
    fm.store %42#0, @optim.adam_m.dense_2.bias : tensor<10xf32>
    fm.store %42#1, @optim.adam_v.dense_2.bias : tensor<10xf32>
    fm.store %42#2, @dense_2.bias : tensor<10xf32>
    fm.store %42#3, @optim.adam_m.dense_2.weight : tensor<128x10xf32>
    fm.store %42#4, @optim.adam_v.dense_2.weight : tensor<128x10xf32>
    fm.store %42#5, @dense_2.weight : tensor<128x10xf32>
    fm.store %42#6, @optim.adam_m.dense_1.bias : tensor<128xf32>
    fm.store %42#7, @optim.adam_v.dense_1.bias : tensor<128xf32>
    fm.store %42#8, @dense_1.bias : tensor<128xf32>
    fm.store %42#9, @optim.adam_m.dense_1.weight : tensor<256x128xf32>
    fm.store %42#10, @optim.adam_v.dense_1.weight : tensor<256x128xf32>
    fm.store %42#11, @dense_1.weight : tensor<256x128xf32>
    fm.store %42#12, @optim.adam_m.dense.bias : tensor<256xf32>
    fm.store %42#13, @optim.adam_v.dense.bias : tensor<256xf32>
    fm.store %42#14, @dense.bias : tensor<256xf32>
    fm.store %42#15, @optim.adam_m.dense.weight : tensor<784x256xf32>
    fm.store %42#16, @optim.adam_v.dense.weight : tensor<784x256xf32>
    fm.store %42#17, @dense.weight : tensor<784x256xf32>
    return %10, %11 : tensor<f32>, tensor<f32>
  }
}
