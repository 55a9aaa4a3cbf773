//===- AutodiffTest.cpp - Gradients against finite differences --*- C++ -*-===//
//
// For every differentiable op, the gradient that fm-autodiff builds and
// codegen compiles is compared with central finite differences of the
// compiled forward computation, in f64. Each case computes
//   loss = sum(op(params, inputs) * R)
// with R random, so every element of the op's Jacobian is exercised;
// shapes include broadcasting and the symbolic batch N.
//
//===----------------------------------------------------------------------===//
#include "codegen/Jit.h"
#include "ir/FmDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>

using namespace mlir;

namespace {

constexpr int kBatch = 3;

/// How the values of a tensor are drawn (keeps log, sqrt and relu's kink
/// away from their singular points).
enum class Fill { Any, Positive, AwayFromZero, Labels };

struct TensorSpec {
  std::string name;
  std::string type; // MLIR tensor type, e.g. "tensor<?x4xf64>"
  Fill fill = Fill::Any;
  int classes = 0;  // for labels
};

struct GradCase {
  std::string name;
  std::vector<TensorSpec> params, inputs;
  /// MLIR lines computing `%y` from `%<param>` and `%<input>` values.
  std::string body;
  std::string yType;
};

/// Shape of an MLIR tensor type string with `?` as the batch.
std::vector<int64_t> shapeOf(RankedTensorType t) {
  std::vector<int64_t> s;
  for (int64_t d : t.getShape())
    s.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return s;
}

std::string buildModule(const GradCase &c) {
  std::string m = "module {\n";
  for (const TensorSpec &p : c.params)
    m += "fm.param @" + p.name + " : " + p.type + " {kind = \"param\", init = \"zeros\"}\n";
  m += "func.func @f(%R: " + c.yType;
  for (const TensorSpec &in : c.inputs)
    m += ", %" + in.name + ": " + in.type;
  m += ") -> tensor<f64> attributes {fm.differentiate} {\n";
  for (const TensorSpec &p : c.params)
    m += "%" + p.name + " = fm.load @" + p.name + " : " + p.type + "\n";
  m += c.body + "\n";
  m += "%weighted = fm.mul %y, %R : " + c.yType + ", " + c.yType + " -> " + c.yType + "\n";
  std::string axes;
  int rank = std::count(c.yType.begin(), c.yType.end(), 'x');
  for (int i = 0; i < rank; ++i)
    axes += (i ? ", " : "") + std::to_string(i);
  m += "%loss = fm.reduce_sum %weighted {axes = array<i64" + (axes.empty() ? "" : ": " + axes) +
       ">} : " + c.yType + " -> tensor<f64>\n";
  m += "return %loss : tensor<f64>\n}\n}\n";
  return m;
}

/// Turns the differentiated function into one kernel: parameter loads
/// become trailing arguments, gradients extra results (loss first).
func::FuncOp toKernel(func::FuncOp f, std::vector<std::string> &paramOrder,
                      std::vector<std::string> &gradOrder) {
  Block &body = f.getBody().front();
  std::map<std::string, BlockArgument> paramArgs;
  for (auto load : llvm::to_vector(body.getOps<mlir::fm::LoadOp>())) {
    std::string name = load.getParam().str();
    auto it = paramArgs.find(name);
    if (it == paramArgs.end()) {
      it = paramArgs.emplace(name, body.addArgument(load.getType(), load.getLoc())).first;
      paramOrder.push_back(name);
    }
    load.replaceAllUsesWith(it->second);
    load.erase();
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  SmallVector<Value> results(ret.getOperands());
  for (auto apply : llvm::to_vector(body.getOps<mlir::fm::ApplyGradientOp>())) {
    results.push_back(apply.getGradient());
    gradOrder.push_back(apply.getParam().str());
    apply.erase();
  }
  OpBuilder b(ret);
  b.create<func::ReturnOp>(ret.getLoc(), results);
  ret.erase();
  f.setType(FunctionType::get(f.getContext(), body.getArgumentTypes(),
                              ValueRange(results).getTypes()));
  f->setAttr("fm.kernel", UnitAttr::get(f.getContext()));
  return f;
}

Halide::Buffer<> makeBuffer(RankedTensorType type, Fill fill, int classes,
                            std::mt19937_64 &rng) {
  auto sizes = ::fm::getBufferSizes(shapeOf(type), kBatch);
  if (fill == Fill::Labels) {
    Halide::Buffer<int32_t> b(sizes);
    std::uniform_int_distribution<int> d(0, classes - 1);
    b.for_each_value([&](int32_t &v) { v = d(rng); });
    return b;
  }
  Halide::Buffer<double> b(sizes);
  std::uniform_real_distribution<double> any(-1, 1), mag(0.2, 1), pos(0.5, 2);
  b.for_each_value([&](double &v) {
    switch (fill) {
    case Fill::Any: v = any(rng); break;
    case Fill::Positive: v = pos(rng); break;
    default: v = (any(rng) < 0 ? -1 : 1) * mag(rng); break;
    }
  });
  return b;
}

void checkGradients(const GradCase &c) {
  SCOPED_TRACE(c.name);
  MLIRContext ctx;
  ctx.loadDialect<mlir::fm::FmDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(buildModule(c), &ctx);
  ASSERT_TRUE(module) << buildModule(c);
  PassManager pm(&ctx);
  pm.addPass(mlir::fm::createAutodiffPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  auto f = module->lookupSymbol<func::FuncOp>("f");
  std::vector<std::string> paramOrder, gradOrder;
  toKernel(f, paramOrder, gradOrder);
  ASSERT_EQ(gradOrder.size(), c.params.size()) << "every parameter gets a gradient";

  std::string error;
  auto jit = ::fm::JitKernel::create(f, {::fm::ScheduleKind::Hand}, error);
  ASSERT_TRUE(jit) << error;

  std::mt19937_64 rng(42);
  std::vector<Halide::Buffer<>> args;
  auto argTypes = f.getArgumentTypes();
  std::map<std::string, TensorSpec> specs;
  for (const TensorSpec &s : c.inputs)
    specs[s.name] = s;
  for (const TensorSpec &s : c.params)
    specs[s.name] = s;
  // %R, then inputs, then params (in load order).
  args.push_back(makeBuffer(cast<RankedTensorType>(argTypes[0]), Fill::Any, 0, rng));
  for (auto [i, in] : llvm::enumerate(c.inputs))
    args.push_back(makeBuffer(cast<RankedTensorType>(argTypes[i + 1]), in.fill,
                              in.classes, rng));
  for (auto [i, name] : llvm::enumerate(paramOrder))
    args.push_back(makeBuffer(cast<RankedTensorType>(argTypes[1 + c.inputs.size() + i]),
                              specs[name].fill, 0, rng));

  auto runLoss = [&](std::vector<Halide::Buffer<>> &outs) {
    outs = jit->allocateOutputs(kBatch);
    EXPECT_TRUE(jit->run(args, outs, error)) << error;
    return Halide::Buffer<double>(outs[0])();
  };
  std::vector<Halide::Buffer<>> outs;
  runLoss(outs);
  std::vector<Halide::Buffer<>> grads(outs.begin() + 1, outs.end());

  for (auto [g, name] : llvm::enumerate(gradOrder)) {
    size_t argIndex = 1 + c.inputs.size() +
                      (std::find(paramOrder.begin(), paramOrder.end(), name) - paramOrder.begin());
    Halide::Buffer<double> p(args[argIndex]);
    Halide::Buffer<double> analytic(grads[g]);
    double diff2 = 0, norm2a = 0, norm2n = 0;
    const double h = 1e-6;
    std::vector<Halide::Buffer<>> scratch;
    p.for_each_element([&](const int *pos) {
      double saved = p(pos);
      p(pos) = saved + h;
      double up = runLoss(scratch);
      p(pos) = saved - h;
      double down = runLoss(scratch);
      p(pos) = saved;
      double numeric = (up - down) / (2 * h);
      double a = analytic(pos);
      diff2 += (a - numeric) * (a - numeric);
      norm2a += a * a;
      norm2n += numeric * numeric;
    });
    double rel = std::sqrt(diff2) / std::max({std::sqrt(norm2a), std::sqrt(norm2n), 1e-12});
    EXPECT_LT(rel, 1e-6) << "d loss / d " << name << ": relative error " << rel;
    EXPECT_GT(norm2a, 0) << "the gradient of " << name << " is not all zero";
  }
}

std::vector<GradCase> cases() {
  const std::string m34 = "tensor<3x4xf64>", n4 = "tensor<?x4xf64>";
  auto bin = [&](const char *op, const char *bt, Fill fb = Fill::Any) {
    return GradCase{std::string(op) + "_broadcast",
                    {{"a", m34}, {"b", bt, fb}},
                    {},
                    std::string("%y = fm.") + op + " %a, %b : tensor<3x4xf64>, " + bt +
                        " -> tensor<3x4xf64>",
                    m34};
  };
  auto un = [&](const char *op, Fill f = Fill::Any) {
    return GradCase{op, {{"a", m34, f}}, {},
                    std::string("%y = fm.") + op + " %a : " + m34 + " -> " + m34, m34};
  };
  std::vector<GradCase> all = {
      bin("add", "tensor<4xf64>"),
      bin("sub", "tensor<3x1xf64>"),
      bin("mul", "tensor<1x4xf64>"),
      bin("div", "tensor<4xf64>", Fill::Positive),
      bin("pow", "tensor<f64>"),
      un("neg"), un("relu", Fill::AwayFromZero), un("sigmoid"), un("tanh"),
      un("exp"), un("log", Fill::Positive), un("sqrt", Fill::Positive),
  };
  // add with the batch symbol: a batch input plus a broadcast parameter.
  all.push_back({"add_batch", {{"b", "tensor<4xf64>"}}, {{"x", n4}},
                 "%y = fm.add %x, %b : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>", n4});
  // pow's positive base: overwrite fills.
  all[4].params[0].fill = Fill::Positive;
  all.push_back({"matmul", {{"w", "tensor<5x4xf64>"}}, {{"x", "tensor<?x5xf64>"}},
                 "%y = fm.matmul %x, %w : tensor<?x5xf64>, tensor<5x4xf64> -> tensor<?x4xf64>", n4});
  all.push_back({"matmul_both", {{"a", "tensor<3x5xf64>"}, {"b", "tensor<5x4xf64>"}}, {},
                 "%y = fm.matmul %a, %b : tensor<3x5xf64>, tensor<5x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"dense", {{"w", "tensor<5x4xf64>"}, {"b", "tensor<4xf64>"}}, {{"x", "tensor<?x5xf64>"}},
                 "%m = fm.matmul %x, %w : tensor<?x5xf64>, tensor<5x4xf64> -> tensor<?x4xf64>\n"
                 "%y = fm.add %m, %b : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>", n4});
  all.push_back({"transpose", {{"a", "tensor<4x3xf64>"}}, {},
                 "%y = fm.transpose %a {perm = array<i64: 1, 0>} : tensor<4x3xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"reshape", {{"a", "tensor<2x6xf64>"}}, {},
                 "%y = fm.reshape %a : tensor<2x6xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"flatten", {{"a", "tensor<3x2x2xf64>"}}, {},
                 "%y = fm.reshape %a : tensor<3x2x2xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"broadcast_to", {{"a", "tensor<1x4xf64>"}}, {},
                 "%y = fm.broadcast_to %a : tensor<1x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"sum_axis1", {{"a", m34}}, {},
                 "%y = fm.reduce_sum %a {axes = array<i64: 1>} : tensor<3x4xf64> -> tensor<3xf64>",
                 "tensor<3xf64>"});
  all.push_back({"sum_axis0_keepdims", {{"a", m34}}, {},
                 "%y = fm.reduce_sum %a {axes = array<i64: 0>, keepdims = true} : tensor<3x4xf64> -> tensor<1x4xf64>",
                 "tensor<1x4xf64>"});
  all.push_back({"mean_all", {{"a", m34}}, {},
                 "%y = fm.reduce_mean %a {axes = array<i64: 0, 1>} : tensor<3x4xf64> -> tensor<f64>",
                 "tensor<f64>"});
  all.push_back({"mean_batch", {{"b", "tensor<4xf64>"}}, {{"x", n4}},
                 "%s = fm.mul %x, %b : tensor<?x4xf64>, tensor<4xf64> -> tensor<?x4xf64>\n"
                 "%y = fm.reduce_mean %s {axes = array<i64: 0>} : tensor<?x4xf64> -> tensor<4xf64>",
                 "tensor<4xf64>"});
  all.push_back({"softmax_axis1", {{"a", m34}}, {},
                 "%y = fm.softmax %a {axis = 1 : i64} : tensor<3x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"softmax_axis0", {{"a", m34}}, {},
                 "%y = fm.softmax %a {axis = 0 : i64} : tensor<3x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"log_softmax", {{"a", m34}}, {},
                 "%y = fm.log_softmax %a {axis = 1 : i64} : tensor<3x4xf64> -> tensor<3x4xf64>", m34});
  all.push_back({"cross_entropy", {{"w", "tensor<5x4xf64>"}},
                 {{"x", "tensor<?x5xf64>"}, {"labels", "tensor<?xi32>", Fill::Labels, 4}},
                 "%l = fm.matmul %x, %w : tensor<?x5xf64>, tensor<5x4xf64> -> tensor<?x4xf64>\n"
                 "%y = fm.cross_entropy %l, %labels : tensor<?x4xf64>, tensor<?xi32> -> tensor<f64>",
                 "tensor<f64>"});
  all.push_back({"mse", {{"a", m34}}, {{"t", m34}},
                 "%y = fm.mse %a, %t : tensor<3x4xf64>, tensor<3x4xf64> -> tensor<f64>", "tensor<f64>"});
  all.push_back({"select", {{"a", m34}, {"b", "tensor<4xf64>"}}, {{"c", m34}},
                 "%z = fm.constant dense<0.0> : tensor<f64>\n"
                 "%m = fm.compare \"gt\", %c, %z : tensor<3x4xf64>, tensor<f64> -> tensor<3x4xi1>\n"
                 "%y = fm.select %m, %a, %b : tensor<3x4xi1>, tensor<3x4xf64>, tensor<4xf64> -> tensor<3x4xf64>",
                 m34});
  return all;
}

class GradientCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradientCheck, MatchesCentralDifferences) { checkGradients(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Ops, GradientCheck, ::testing::ValuesIn(cases()),
                         [](const auto &info) { return info.param.name; });

} // namespace
