//===- GradientCheck.h - Gradient-check harness -----------------*- C++ -*-===//
//
// Shared by the gradient-check test files: a case names parameters and
// inputs and computes `%y`; the harness builds
//   loss = sum(y * R)   (R random, so every Jacobian entry counts)
// differentiates it with fm-autodiff, compiles the whole function with
// codegen's JIT in f64 and compares each parameter's gradient with central
// finite differences (norm-wise relative error < 1e-6).
//
//===----------------------------------------------------------------------===//
#ifndef FM_TEST_GRADIENTCHECK_H
#define FM_TEST_GRADIENTCHECK_H

#include "codegen/Jit.h"
#include "ir/FmDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

namespace fm_test {
using namespace mlir;

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
inline std::vector<int64_t> shapeOf(RankedTensorType t) {
  std::vector<int64_t> s;
  for (int64_t d : t.getShape())
    s.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return s;
}

inline std::string buildModule(const GradCase &c) {
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
inline func::FuncOp toKernel(func::FuncOp f, std::vector<std::string> &paramOrder,
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

inline Halide::Buffer<> makeBuffer(RankedTensorType type, Fill fill, int classes,
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

inline void checkGradients(const GradCase &c) {
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

} // namespace fm_test

#endif // FM_TEST_GRADIENTCHECK_H
