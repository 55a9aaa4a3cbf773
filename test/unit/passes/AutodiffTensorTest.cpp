//===- AutodiffTensorTest.cpp - Gradients of the tensor ops -----*- C++ -*-===//
//
// Gradient checks (GradientCheck.h: loss = sum(y * R), f64, central
// differences) for the ops of ir/FmTensorOps.td, and for the compositions
// the front end builds from them: leaky_relu, exact GELU, binary
// cross-entropy from logits, layer norm and batch norm (training). A
// separate test checks that reduce_max/min split the gradient evenly
// between tied elements, which finite differences cannot see; another
// runs a model using every op through the whole training pipeline and
// compares each kernel's hand schedule with the all-root one.
//
//===----------------------------------------------------------------------===//
#include "GradientCheck.h"

#include "codegen/Descriptor.h"

using namespace fm_test;

namespace {

const std::string m34 = "tensor<3x4xf64>";

/// `%y = fm.<op> %a {<attrs>} : <in> -> <out>` on a parameter `a`.
GradCase unary(const std::string &name, const std::string &op,
               const std::string &attrs, const std::string &in,
               const std::string &out, Fill fill = Fill::Any) {
  return {name, {{"a", in, fill}}, {},
          "%y = fm." + op + " %a " + attrs + " : " + in + " -> " + out, out};
}

std::vector<GradCase> opCases() {
  std::vector<GradCase> all = {
      // Reductions (random inputs: no ties).
      unary("reduce_max_axis1", "reduce_max", "{axes = array<i64: 1>}", m34,
            "tensor<3xf64>"),
      unary("reduce_max_axis0_keepdims", "reduce_max",
            "{axes = array<i64: 0>, keepdims = true}", m34, "tensor<1x4xf64>"),
      unary("reduce_min_all", "reduce_min", "{axes = array<i64: 0, 1>}", m34,
            "tensor<f64>"),
      unary("reduce_min_axis1_keepdims", "reduce_min",
            "{axes = array<i64: 1>, keepdims = true}", m34, "tensor<3x1xf64>"),
      unary("reduce_max_3d_axes02", "reduce_max", "{axes = array<i64: 0, 2>}",
            "tensor<2x3x4xf64>", "tensor<3xf64>"),
      unary("erf", "erf", "", m34, m34),
      // Shapes.
      unary("slice_axis1", "slice",
            "{axis = 1 : i64, start = 1 : i64, end = 4 : i64}",
            "tensor<3x5xf64>", "tensor<3x3xf64>"),
      unary("slice_axis0", "slice",
            "{axis = 0 : i64, start = 1 : i64, end = 3 : i64}", m34,
            "tensor<2x4xf64>"),
      unary("pad", "pad",
            "{before = array<i64: 1, 0>, after = array<i64: 2, 3>}", m34,
            "tensor<6x7xf64>"),
  };
  all.push_back(
      {"reduce_max_batch", {{"b", "tensor<4xf64>"}}, {{"x", "tensor<?x4xf64>"}},
       "%s = fm.mul %x, %b : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>\n"
       "%y = fm.reduce_max %s {axes = array<i64: 0>} : tensor<?x4xf64> -> tensor<4xf64>",
       "tensor<4xf64>"});
  all.push_back(
      {"reduce_min_rows_batch", {{"b", "tensor<4xf64>"}}, {{"x", "tensor<?x4xf64>"}},
       "%s = fm.mul %x, %b : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>\n"
       "%y = fm.reduce_min %s {axes = array<i64: 1>, keepdims = true} : tensor<?x4xf64> -> tensor<?x1xf64>",
       "tensor<?x1xf64>"});
  // concat along axis 1 of batched operands (features), and along axis 0
  // of operands batched in axis 1.
  all.push_back(
      {"concat_axis1_batch",
       {{"p", "tensor<2xf64>"}, {"q", "tensor<3xf64>"}},
       {{"x", "tensor<?x2xf64>"}, {"z", "tensor<?x3xf64>"}},
       "%a = fm.mul %x, %p : tensor<?x2xf64>, tensor<2xf64> -> tensor<?x2xf64>\n"
       "%b = fm.mul %z, %q : tensor<?x3xf64>, tensor<3xf64> -> tensor<?x3xf64>\n"
       "%y = fm.concat %a, %b {axis = 1 : i64} : tensor<?x2xf64>, tensor<?x3xf64> -> tensor<?x5xf64>",
       "tensor<?x5xf64>"});
  all.push_back(
      {"concat_axis0_batch",
       {{"p", "tensor<2x1xf64>"}, {"q", "tensor<1x1xf64>"}},
       {{"x", "tensor<2x?xf64>"}, {"z", "tensor<1x?xf64>"}},
       "%a = fm.mul %x, %p : tensor<2x?xf64>, tensor<2x1xf64> -> tensor<2x?xf64>\n"
       "%b = fm.mul %z, %q : tensor<1x?xf64>, tensor<1x1xf64> -> tensor<1x?xf64>\n"
       "%y = fm.concat %a, %b {axis = 0 : i64} : tensor<2x?xf64>, tensor<1x?xf64> -> tensor<3x?xf64>",
       "tensor<3x?xf64>"});
  // An operand used twice: its two slices of the gradient add up.
  all.push_back(
      {"concat_three_repeated",
       {{"a", "tensor<3x2xf64>"}, {"b", "tensor<3x1xf64>"}},
       {},
       "%y = fm.concat %a, %b, %a {axis = 1 : i64} : tensor<3x2xf64>, tensor<3x1xf64>, tensor<3x2xf64> -> tensor<3x5xf64>",
       "tensor<3x5xf64>"});
  all.push_back(
      {"pad_batch", {{"p", "tensor<4xf64>"}}, {{"x", "tensor<?x4xf64>"}},
       "%a = fm.mul %x, %p : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>\n"
       "%y = fm.pad %a {before = array<i64: 0, 2>, after = array<i64: 0, 1>} : tensor<?x4xf64> -> tensor<?x7xf64>",
       "tensor<?x7xf64>"});
  // Embeddings: 6 ids over 5 rows, so some rows repeat and some are unused.
  all.push_back(
      {"gather", {{"table", "tensor<5x3xf64>"}},
       {{"ids", "tensor<?x2xi32>", Fill::Labels, 5}},
       "%y = fm.gather %table, %ids : tensor<5x3xf64>, tensor<?x2xi32> -> tensor<?x2x3xf64>",
       "tensor<?x2x3xf64>"});
  all.push_back(
      {"scatter_add", {{"p", "tensor<3xf64>"}},
       {{"x", "tensor<?x3xf64>"}, {"ids", "tensor<?xi32>", Fill::Labels, 4}},
       "%u = fm.mul %x, %p : tensor<?x3xf64>, tensor<3xf64> -> tensor<?x3xf64>\n"
       "%y = fm.scatter_add %ids, %u {rows = 4 : i64} : tensor<?xi32>, tensor<?x3xf64> -> tensor<4x3xf64>",
       "tensor<4x3xf64>"});
  // dropout with a fixed seed: the finite differences see the same mask.
  all.push_back(
      {"dropout", {{"p", "tensor<8xf64>"}}, {{"x", "tensor<?x8xf64>"}},
       "%seed = fm.constant dense<7.0> : tensor<f64>\n"
       "%a = fm.mul %x, %p : tensor<?x8xf64>, tensor<8xf64> -> tensor<?x8xf64>\n"
       "%y = fm.dropout %a, %seed {rate = 5.000000e-01 : f64, salt = 3 : i64} : tensor<?x8xf64>, tensor<f64> -> tensor<?x8xf64>",
       "tensor<?x8xf64>"});
  return all;
}

std::vector<GradCase> compositionCases() {
  std::vector<GradCase> all;
  // leaky_relu(x, 0.01) = select(x > 0, x, 0.01 x)
  all.push_back(
      {"leaky_relu", {{"a", m34, Fill::AwayFromZero}}, {},
       "%z = fm.constant dense<0.0> : tensor<f64>\n"
       "%alpha = fm.constant dense<0.01> : tensor<f64>\n"
       "%m = fm.compare \"gt\", %a, %z : tensor<3x4xf64>, tensor<f64> -> tensor<3x4xi1>\n"
       "%s = fm.mul %a, %alpha : tensor<3x4xf64>, tensor<f64> -> tensor<3x4xf64>\n"
       "%y = fm.select %m, %a, %s : tensor<3x4xi1>, tensor<3x4xf64>, tensor<3x4xf64> -> tensor<3x4xf64>",
       m34});
  // gelu(x) = 0.5 x (1 + erf(x / sqrt 2))
  all.push_back(
      {"gelu", {{"a", m34}}, {},
       "%r2 = fm.constant dense<0.70710678118654752> : tensor<f64>\n"
       "%half = fm.constant dense<0.5> : tensor<f64>\n"
       "%one = fm.constant dense<1.0> : tensor<f64>\n"
       "%t = fm.mul %a, %r2 : tensor<3x4xf64>, tensor<f64> -> tensor<3x4xf64>\n"
       "%e = fm.erf %t : tensor<3x4xf64> -> tensor<3x4xf64>\n"
       "%p = fm.add %e, %one : tensor<3x4xf64>, tensor<f64> -> tensor<3x4xf64>\n"
       "%q = fm.mul %a, %p : tensor<3x4xf64>, tensor<3x4xf64> -> tensor<3x4xf64>\n"
       "%y = fm.mul %q, %half : tensor<3x4xf64>, tensor<f64> -> tensor<3x4xf64>",
       m34});
  // binary_cross_entropy(l, t) = mean(max(l, 0) - l t + log(1 + exp(-|l|)))
  all.push_back(
      {"binary_cross_entropy", {{"w", "tensor<5x2xf64>"}},
       {{"x", "tensor<?x5xf64>"}, {"t", "tensor<?x2xf64>"}},
       "%z = fm.constant dense<0.0> : tensor<f64>\n"
       "%one = fm.constant dense<1.0> : tensor<f64>\n"
       "%l = fm.matmul %x, %w : tensor<?x5xf64>, tensor<5x2xf64> -> tensor<?x2xf64>\n"
       "%pos = fm.compare \"gt\", %l, %z : tensor<?x2xf64>, tensor<f64> -> tensor<?x2xi1>\n"
       "%relu = fm.select %pos, %l, %z : tensor<?x2xi1>, tensor<?x2xf64>, tensor<f64> -> tensor<?x2xf64>\n"
       "%nl = fm.neg %l : tensor<?x2xf64> -> tensor<?x2xf64>\n"
       "%abs = fm.select %pos, %l, %nl : tensor<?x2xi1>, tensor<?x2xf64>, tensor<?x2xf64> -> tensor<?x2xf64>\n"
       "%na = fm.neg %abs : tensor<?x2xf64> -> tensor<?x2xf64>\n"
       "%ex = fm.exp %na : tensor<?x2xf64> -> tensor<?x2xf64>\n"
       "%op = fm.add %ex, %one : tensor<?x2xf64>, tensor<f64> -> tensor<?x2xf64>\n"
       "%sp = fm.log %op : tensor<?x2xf64> -> tensor<?x2xf64>\n"
       "%lt = fm.mul %l, %t : tensor<?x2xf64>, tensor<?x2xf64> -> tensor<?x2xf64>\n"
       "%d = fm.sub %relu, %lt : tensor<?x2xf64>, tensor<?x2xf64> -> tensor<?x2xf64>\n"
       "%e = fm.add %d, %sp : tensor<?x2xf64>, tensor<?x2xf64> -> tensor<?x2xf64>\n"
       "%y = fm.reduce_mean %e {axes = array<i64: 0, 1>} : tensor<?x2xf64> -> tensor<f64>",
       "tensor<f64>"});
  // layer_norm over the last axis, with scale and shift.
  all.push_back(
      {"layer_norm",
       {{"w", "tensor<4xf64>"}, {"gamma", "tensor<4xf64>"}, {"beta", "tensor<4xf64>"}},
       {{"x", "tensor<?x4xf64>"}},
       "%eps = fm.constant dense<1.0e-5> : tensor<f64>\n"
       "%one = fm.constant dense<1.0> : tensor<f64>\n"
       "%a = fm.mul %x, %w : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>\n"
       "%mean = fm.reduce_mean %a {axes = array<i64: 1>, keepdims = true} : tensor<?x4xf64> -> tensor<?x1xf64>\n"
       "%d = fm.sub %a, %mean : tensor<?x4xf64>, tensor<?x1xf64> -> tensor<?x4xf64>\n"
       "%d2 = fm.mul %d, %d : tensor<?x4xf64>, tensor<?x4xf64> -> tensor<?x4xf64>\n"
       "%var = fm.reduce_mean %d2 {axes = array<i64: 1>, keepdims = true} : tensor<?x4xf64> -> tensor<?x1xf64>\n"
       "%ve = fm.add %var, %eps : tensor<?x1xf64>, tensor<f64> -> tensor<?x1xf64>\n"
       "%sd = fm.sqrt %ve : tensor<?x1xf64> -> tensor<?x1xf64>\n"
       "%inv = fm.div %one, %sd : tensor<f64>, tensor<?x1xf64> -> tensor<?x1xf64>\n"
       "%n = fm.mul %d, %inv : tensor<?x4xf64>, tensor<?x1xf64> -> tensor<?x4xf64>\n"
       "%s = fm.mul %n, %gamma : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>\n"
       "%y = fm.add %s, %beta : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>",
       "tensor<?x4xf64>"});
  // batch_norm in training: statistics over N, H, W of NCHW.
  const std::string x4 = "tensor<?x2x3x3xf64>", c11 = "tensor<1x2x1x1xf64>";
  all.push_back(
      {"batch_norm",
       {{"w", "tensor<2x3x3xf64>"}, {"gamma", "tensor<2x1x1xf64>"}, {"beta", "tensor<2x1x1xf64>"}},
       {{"x", x4}},
       "%eps = fm.constant dense<1.0e-5> : tensor<f64>\n"
       "%a = fm.mul %x, %w : " + x4 + ", tensor<2x3x3xf64> -> " + x4 + "\n"
       "%mean = fm.reduce_mean %a {axes = array<i64: 0, 2, 3>, keepdims = true} : " + x4 + " -> " + c11 + "\n"
       "%d = fm.sub %a, %mean : " + x4 + ", " + c11 + " -> " + x4 + "\n"
       "%d2 = fm.mul %d, %d : " + x4 + ", " + x4 + " -> " + x4 + "\n"
       "%var = fm.reduce_mean %d2 {axes = array<i64: 0, 2, 3>, keepdims = true} : " + x4 + " -> " + c11 + "\n"
       "%ve = fm.add %var, %eps : " + c11 + ", tensor<f64> -> " + c11 + "\n"
       "%sd = fm.sqrt %ve : " + c11 + " -> " + c11 + "\n"
       "%n = fm.div %d, %sd : " + x4 + ", " + c11 + " -> " + x4 + "\n"
       "%s = fm.mul %n, %gamma : " + x4 + ", tensor<2x1x1xf64> -> " + x4 + "\n"
       "%y = fm.add %s, %beta : " + x4 + ", tensor<2x1x1xf64> -> " + x4,
       x4});
  return all;
}

class TensorGradientCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(TensorGradientCheck, MatchesCentralDifferences) {
  checkGradients(GetParam());
}

INSTANTIATE_TEST_SUITE_P(TensorOps, TensorGradientCheck,
                         ::testing::ValuesIn(opCases()),
                         [](const auto &info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Compositions, TensorGradientCheck,
                         ::testing::ValuesIn(compositionCases()),
                         [](const auto &info) { return info.param.name; });

//===----------------------------------------------------------------------===//
// Ties
//===----------------------------------------------------------------------===//

/// The gradient of sum(op(a)) for a given `a` (3x4, f64), compiled like
/// checkGradients does it.
std::vector<double> gradientOfSum(const std::string &op,
                                  const std::string &attrs,
                                  const std::string &outType,
                                  const std::vector<double> &values) {
  GradCase c = unary(op, op, attrs, m34, outType);
  MLIRContext ctx;
  ctx.loadDialect<mlir::fm::FmDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(buildModule(c), &ctx);
  EXPECT_TRUE(module);
  if (!module)
    return {};
  PassManager pm(&ctx);
  pm.addPass(mlir::fm::createAutodiffPass());
  pm.addPass(createCanonicalizerPass());
  EXPECT_TRUE(succeeded(pm.run(*module)));
  auto f = module->lookupSymbol<func::FuncOp>("f");
  std::vector<std::string> params, grads;
  toKernel(f, params, grads);
  std::string error;
  auto jit = ::fm::JitKernel::create(f, {::fm::ScheduleKind::Hand}, error);
  EXPECT_TRUE(jit) << error;
  if (!jit)
    return {};
  auto outShape = shapeOf(cast<RankedTensorType>(f.getArgumentTypes()[0]));
  Halide::Buffer<double> r(::fm::getBufferSizes(outShape, kBatch));
  r.fill(1.0); // loss = sum(y)
  Halide::Buffer<double> a(4, 3);
  for (int i = 0; i < 12; ++i)
    a(i % 4, i / 4) = values[i];
  std::vector<Halide::Buffer<>> args = {r, a};
  std::vector<Halide::Buffer<>> outs = jit->allocateOutputs(kBatch);
  EXPECT_TRUE(jit->run(args, outs, error)) << error;
  Halide::Buffer<double> g(outs[1]);
  std::vector<double> out;
  for (int i = 0; i < 12; ++i)
    out.push_back(g(i % 4, i / 4));
  return out;
}

TEST(TensorGradientTies, ReduceMaxSplitsEvenly) {
  std::vector<double> a = {1, 3, 3, 0, //
                           2, 2, 2, 2, //
                           5, 1, 0, 5};
  std::vector<double> rows = {0, .5, .5, 0, .25, .25, .25, .25, .5, 0, 0, .5};
  EXPECT_EQ(gradientOfSum("reduce_max", "{axes = array<i64: 1>}",
                          "tensor<3xf64>", a),
            rows);
  // The global maximum 5 appears twice.
  std::vector<double> all = {0, 0, 0, 0, 0, 0, 0, 0, .5, 0, 0, .5};
  EXPECT_EQ(gradientOfSum("reduce_max", "{axes = array<i64: 0, 1>}",
                          "tensor<f64>", a),
            all);
}

TEST(TensorGradientTies, ReduceMinSplitsEvenly) {
  std::vector<double> a = {0, 0, 3, 0, //
                           1, 2, 2, 2, //
                           0, 0, 0, 5};
  // Column minima: 0 twice, 0 twice, 0 once, 0 once.
  std::vector<double> cols = {.5, .5, 0, 1, 0, 0, 0, 0, .5, .5, 1, 0};
  EXPECT_EQ(gradientOfSum("reduce_min",
                          "{axes = array<i64: 0>, keepdims = true}",
                          "tensor<1x4xf64>", a),
            cols);
}

//===----------------------------------------------------------------------===//
// Through the training pipeline
//===----------------------------------------------------------------------===//

/// A model using every tensor op: embeddings, a max over positions, GELU,
/// a concat with a dense input, dropout fed the step counter, pad and
/// slice, and an argmax output.
const char *kModel = R"mlir(
module attributes {fm.model = "T"} {
  fm.param @table : tensor<10x6xf32> {kind = "param", init = "zeros"}
  fm.param @w : tensor<8x1xf32> {kind = "param", init = "zeros"}
  func.func @M(%ids: tensor<?x3xi32> {fm.input = "ids"}, %x: tensor<?x2xf32> {fm.input = "x"},
               %y: tensor<?x1xf32> {fm.label = "y"}, %step: tensor<f32> {fm.scalar = "step"})
      -> (tensor<f32> {fm.role = "loss", fm.name = "loss"}, tensor<?xi32> {fm.role = "output", fm.name = "best"})
      attributes {fm.model_fn} {
    %t = fm.load @table : tensor<10x6xf32>
    %w = fm.load @w : tensor<8x1xf32>
    %e = fm.gather %t, %ids : tensor<10x6xf32>, tensor<?x3xi32> -> tensor<?x3x6xf32>
    %m = fm.reduce_max %e {axes = array<i64: 1>} : tensor<?x3x6xf32> -> tensor<?x6xf32>
    %r2 = fm.constant dense<0.70710678118654752> : tensor<f32>
    %half = fm.constant dense<0.5> : tensor<f32>
    %one = fm.constant dense<1.0> : tensor<f32>
    %ms = fm.mul %m, %r2 : tensor<?x6xf32>, tensor<f32> -> tensor<?x6xf32>
    %erf = fm.erf %ms : tensor<?x6xf32> -> tensor<?x6xf32>
    %e1 = fm.add %erf, %one : tensor<?x6xf32>, tensor<f32> -> tensor<?x6xf32>
    %mh = fm.mul %m, %half : tensor<?x6xf32>, tensor<f32> -> tensor<?x6xf32>
    %g = fm.mul %mh, %e1 : tensor<?x6xf32>, tensor<?x6xf32> -> tensor<?x6xf32>
    %c = fm.concat %g, %x {axis = 1 : i64} : tensor<?x6xf32>, tensor<?x2xf32> -> tensor<?x8xf32>
    %d = fm.dropout %c, %step {rate = 2.500000e-01 : f64, salt = 1 : i64} : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
    %h = fm.train_or_eval %d, %c : tensor<?x8xf32>
    %p = fm.pad %h {before = array<i64: 0, 1>, after = array<i64: 0, 2>} : tensor<?x8xf32> -> tensor<?x11xf32>
    %s = fm.slice %p {axis = 1 : i64, start = 1 : i64, end = 9 : i64} : tensor<?x11xf32> -> tensor<?x8xf32>
    %l = fm.matmul %s, %w : tensor<?x8xf32>, tensor<8x1xf32> -> tensor<?x1xf32>
    %loss = fm.mse %l, %y : tensor<?x1xf32>, tensor<?x1xf32> -> tensor<f32>
    %mn = fm.reduce_min %s {axes = array<i64: 1>, keepdims = true} : tensor<?x8xf32> -> tensor<?x1xf32>
    %sh = fm.sub %s, %mn : tensor<?x8xf32>, tensor<?x1xf32> -> tensor<?x8xf32>
    %best = fm.argmax %sh {axis = 1 : i64} : tensor<?x8xf32> -> tensor<?xi32>
    return %loss, %best : tensor<f32>, tensor<?xi32>
  }
}
)mlir";

/// Every element of a buffer as a double, in Halide's storage order.
template <typename T> void collect(Halide::Buffer<> b, std::vector<double> &out) {
  Halide::Buffer<T>(b).for_each_value([&](T v) { out.push_back(double(v)); });
}
std::vector<double> values(const Halide::Buffer<> &b) {
  std::vector<double> out;
  Halide::Type t = b.type();
  if (t == Halide::Float(32))
    collect<float>(b, out);
  else if (t == Halide::Float(64))
    collect<double>(b, out);
  else if (t == Halide::Int(32))
    collect<int32_t>(b, out);
  else if (t == Halide::Int(64))
    collect<int64_t>(b, out);
  else
    collect<uint8_t>(b, out);
  return out;
}

TEST(TensorOpsPipeline, EveryKernelHandMatchesRoot) {
  MLIRContext ctx;
  ctx.loadDialect<mlir::fm::FmDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kModel, &ctx);
  ASSERT_TRUE(module);
  PassManager pm(&ctx);
  mlir::fm::buildFmTrainingPipeline(pm);
  ASSERT_TRUE(succeeded(pm.run(*module)));
  ::fm::ModelPlan plan;
  ASSERT_TRUE(succeeded(::fm::planModel(*module, plan)));
  // The backward pass went through scatter_add, and the step counter
  // reached the dropout kernels.
  int scatters = 0, dropouts = 0;
  module->walk([&](Operation *op) {
    scatters += isa<mlir::fm::ScatterAddOp>(op);
    dropouts += isa<mlir::fm::DropoutOp>(op);
  });
  EXPECT_EQ(scatters, 1);
  EXPECT_EQ(dropouts, 2); // forward and backward of train_step

  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> any(-1, 1);
  std::uniform_int_distribution<int> small(0, 9);
  int kernels = 0;
  for (auto kernel : module->getOps<func::FuncOp>()) {
    if (!kernel->hasAttr("fm.kernel"))
      continue;
    ++kernels;
    SCOPED_TRACE(kernel.getSymName().str());
    std::string error;
    auto hand = ::fm::JitKernel::create(kernel, {::fm::ScheduleKind::Hand}, error);
    ASSERT_TRUE(hand) << error;
    auto root = ::fm::JitKernel::create(kernel, {::fm::ScheduleKind::Root}, error);
    ASSERT_TRUE(root) << error;
    for (int batch : {1, 3, 64, 65}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      std::vector<Halide::Buffer<>> args;
      for (const ::fm::KernelArg &arg : hand->getKernel().args) {
        if (arg.isScalar) { // the step counter (and the learning rate)
          Halide::Buffer<float> s = Halide::Buffer<float>::make_scalar();
          s() = 3;
          args.push_back(s);
          continue;
        }
        Halide::Buffer<> b(arg.type, ::fm::getBufferSizes(arg.shape, batch));
        if (arg.type == Halide::Float(32))
          Halide::Buffer<float>(b).for_each_value([&](float &v) { v = any(rng); });
        else if (arg.type == Halide::Int(32))
          Halide::Buffer<int32_t>(b).for_each_value([&](int32_t &v) { v = small(rng); });
        else // bool masks travel as uint8
          Halide::Buffer<uint8_t>(b).for_each_value([&](uint8_t &v) { v = small(rng) % 2; });
        args.push_back(b);
      }
      auto outHand = hand->allocateOutputs(batch);
      auto outRoot = root->allocateOutputs(batch);
      ASSERT_TRUE(hand->run(args, outHand, error)) << error;
      ASSERT_TRUE(root->run(args, outRoot, error)) << error;
      for (size_t o = 0; o < outHand.size(); ++o) {
        std::vector<double> a = values(outHand[o]), e = values(outRoot[o]);
        ASSERT_EQ(a.size(), e.size());
        for (size_t i = 0; i < a.size(); ++i)
          if (!(std::isnan(a[i]) && std::isnan(e[i])))
            ASSERT_NEAR(a[i], e[i], 1e-5 + 1e-5 * std::fabs(e[i]))
              << "output " << o << " element " << i;
      }
    }
  }
  EXPECT_GT(kernels, 3);
}

} // namespace
