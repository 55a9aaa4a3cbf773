//===- OptimizerTest.cpp - Compiled optimizer updates vs PyTorch's math ---===//
//
// fm-optimizer-update expands fm.apply_gradient into fm ops; here those ops
// are compiled (through codegen's JIT, in f64) and run for several steps,
// and the parameter is compared with a direct transcription of PyTorch's
// torch.optim.SGD and torch.optim.Adam update rules.
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
#include <map>
#include <random>

using namespace mlir;

namespace {

constexpr int kSize = 5, kSteps = 4;
// Exactly representable in f32: the runtime feeds lr as a float.
constexpr double kLr = 0.125;

struct Spec {
  std::string name, attr; // attr: the module's fm.optimizer dictionary
  bool adam = false;
  double momentum = 0, weightDecay = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool nesterov = false;
  bool decoupled = false; // AdamW
  double clip = 0;        // clip_grad_norm
};

/// PyTorch's update rules, in double.
struct Reference {
  const Spec &s;
  std::vector<double> p, buf, m, v;
  void step(const std::vector<double> &grad, int t) {
    double coef = 1;
    if (s.clip > 0) {
      double norm = 0;
      for (double g : grad)
        norm += g * g;
      coef = std::min(1.0, s.clip / (std::sqrt(norm) + 1e-6));
    }
    for (int i = 0; i < kSize; ++i) {
      double g = grad[i] * coef + (s.decoupled ? 0 : s.weightDecay * p[i]);
      if (s.decoupled)
        p[i] *= 1 - kLr * s.weightDecay;
      if (s.adam) {
        m[i] = s.beta1 * m[i] + (1 - s.beta1) * g;
        v[i] = s.beta2 * v[i] + (1 - s.beta2) * g * g;
        double bc1 = 1 - std::pow(s.beta1, t), bc2 = 1 - std::pow(s.beta2, t);
        double denom = std::sqrt(v[i]) / std::sqrt(bc2) + s.eps;
        p[i] -= kLr / bc1 * m[i] / denom;
        continue;
      }
      double d = g;
      if (s.momentum != 0) {
        buf[i] = t == 1 ? g : s.momentum * buf[i] + g;
        d = s.nesterov ? g + s.momentum * buf[i] : buf[i];
      }
      p[i] -= kLr * d;
    }
  }
};

void checkOptimizer(const Spec &spec) {
  SCOPED_TRACE(spec.name);
  MLIRContext ctx;
  ctx.loadDialect<mlir::fm::FmDialect, func::FuncDialect>();
  std::string clip = spec.clip > 0 ? ", fm.clip_grad_norm = " + std::to_string(spec.clip) + " : f64" : "";
  std::string src = "module attributes {fm.optimizer = " + spec.attr + clip + "} {\n"
                    "fm.param @w : tensor<5xf64> {kind = \"param\", init = \"zeros\"}\n"
                    "func.func @step(%g: tensor<5xf64>) {\n"
                    "  fm.apply_gradient @w, %g : tensor<5xf64>\n  return\n}\n}\n";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(src, &ctx);
  ASSERT_TRUE(module);
  PassManager pm(&ctx);
  pm.addPass(mlir::fm::createOptimizerUpdatePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  ASSERT_TRUE(succeeded(pm.run(*module)));

  // Loads become trailing arguments and stores results, so the whole update
  // is one kernel: (g, lr, step, w, state...) -> (stored values...).
  auto fn = module->lookupSymbol<func::FuncOp>("step");
  Block &body = fn.getBody().front();
  std::vector<std::string> loaded, stored;
  std::map<std::string, BlockArgument> args;
  for (auto load : llvm::to_vector(body.getOps<mlir::fm::LoadOp>())) {
    std::string name = load.getParam().str();
    if (!args.count(name)) {
      args.emplace(name, body.addArgument(load.getType(), load.getLoc()));
      loaded.push_back(name);
    }
    load.replaceAllUsesWith(args.at(name));
    load.erase();
  }
  SmallVector<Value> results;
  for (auto store : llvm::to_vector(body.getOps<mlir::fm::StoreOp>())) {
    results.push_back(store.getValue());
    stored.push_back(store.getParam().str());
    store.erase();
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  OpBuilder(ret).create<func::ReturnOp>(ret.getLoc(), results);
  ret.erase();
  fn.setType(FunctionType::get(&ctx, body.getArgumentTypes(), ValueRange(results).getTypes()));
  ASSERT_EQ(fn.getNumArguments(), 3u + loaded.size()); // g, lr, step, then state

  std::string error;
  auto jit = ::fm::JitKernel::create(fn, {::fm::ScheduleKind::Hand}, error);
  ASSERT_TRUE(jit) << error;

  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::map<std::string, Halide::Buffer<double>> state;
  for (const std::string &name : loaded) {
    state[name] = Halide::Buffer<double>(kSize);
    state[name].fill(0.0);
  }
  Reference ref{spec, std::vector<double>(kSize), std::vector<double>(kSize, 0),
                std::vector<double>(kSize, 0), std::vector<double>(kSize, 0)};
  for (int i = 0; i < kSize; ++i)
    ref.p[i] = state["w"](i) = dist(rng);

  for (int t = 1; t <= kSteps; ++t) {
    Halide::Buffer<double> g(kSize);
    std::vector<double> grad(kSize);
    for (int i = 0; i < kSize; ++i)
      grad[i] = g(i) = dist(rng);
    Halide::Buffer<float> lr = Halide::Buffer<float>::make_scalar(), step = lr.copy();
    lr() = kLr;
    step() = t;
    std::vector<Halide::Buffer<>> in = {g, lr, step};
    for (const std::string &name : loaded)
      in.push_back(state[name]);
    auto out = jit->allocateOutputs(1);
    ASSERT_TRUE(jit->run(in, out, error)) << error;
    for (size_t k = 0; k < stored.size(); ++k)
      state[stored[k]] = Halide::Buffer<double>(out[k]).copy();
    ref.step(grad, t);
    for (int i = 0; i < kSize; ++i)
      EXPECT_NEAR(state["w"](i), ref.p[i], 1e-12 * std::max(1.0, std::abs(ref.p[i])))
          << "step " << t << " element " << i;
  }
}

TEST(OptimizerUpdate, PlainSgd) {
  checkOptimizer({"sgd", "{kind = \"sgd\", lr = 1.25e-01 : f64}"});
}
TEST(OptimizerUpdate, SgdMomentumWeightDecay) {
  Spec s{"sgd_momentum", "{kind = \"sgd\", lr = 1.25e-01 : f64, momentum = 9.0e-01 : f64, "
                         "weight_decay = 1.0e-02 : f64}"};
  s.momentum = 0.9;
  s.weightDecay = 0.01;
  checkOptimizer(s);
}
TEST(OptimizerUpdate, SgdNesterov) {
  Spec s{"nesterov", "{kind = \"sgd\", lr = 1.25e-01 : f64, momentum = 8.0e-01 : f64, "
                     "nesterov = true}"};
  s.momentum = 0.8;
  s.nesterov = true;
  checkOptimizer(s);
}
TEST(OptimizerUpdate, Adam) {
  Spec s{"adam", "{kind = \"adam\", lr = 1.25e-01 : f64}"};
  s.adam = true;
  checkOptimizer(s);
}
TEST(OptimizerUpdate, AdamWeightDecayAndBetas) {
  Spec s{"adam_wd", "{kind = \"adam\", lr = 1.25e-01 : f64, beta1 = 8.0e-01 : f64, "
                    "beta2 = 9.0e-01 : f64, eps = 1.0e-06 : f64, weight_decay = 5.0e-02 : f64}"};
  s.adam = true;
  s.beta1 = 0.8;
  s.beta2 = 0.9;
  s.eps = 1e-6;
  s.weightDecay = 0.05;
  checkOptimizer(s);
}

TEST(OptimizerUpdate, AdamW) {
  Spec s{"adamw", "{kind = \"adamw\", lr = 1.25e-01 : f64, weight_decay = 1.0e-01 : f64}"};
  s.adam = true;
  s.decoupled = true;
  s.weightDecay = 0.1;
  checkOptimizer(s);
}
TEST(OptimizerUpdate, ClipGradNormSgd) {
  // Gradients are drawn in [-1, 1] over 5 elements: a limit of 0.5 clips.
  Spec s{"clip", "{kind = \"sgd\", lr = 1.25e-01 : f64, momentum = 9.0e-01 : f64}"};
  s.momentum = 0.9;
  s.clip = 0.5;
  checkOptimizer(s);
}

} // namespace
