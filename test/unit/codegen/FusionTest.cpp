//===- FusionTest.cpp - Fused + scheduled vs unfused + root -----*- C++ -*-===//
//
// Compiles whole models twice from .fm source: fused (fm-fuse) with hand
// schedules, and unfused (every op a kernel of its own) with every Func at
// root, the plainest program Halide can make of the algorithm. Both run
// every step on the same parameters and data through the JIT; losses,
// metrics, outputs and every parameter's change after one SGD step (the
// gradient times the learning rate) must agree within 1e-5, norm-wise
// relative. The examples are checked, and a fuzz test draws random
// convolutional and dense architectures and batch sizes.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "frontend/Diagnostics.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include "gtest/gtest.h"

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

using namespace fm;
using namespace fm::test;

namespace {

/// One compilation of a model: its module and a JIT-compiled kernel per
/// kernel function.
struct Compiled {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::map<std::string, std::unique_ptr<JitKernel>> kernels;
  int kernelCount = 0;
};

std::unique_ptr<Compiled> compile(const std::string &source, bool fused) {
  auto c = std::make_unique<Compiled>();
  llvm::SourceMgr sourceMgr;
  DiagnosticEngine diag(sourceMgr);
  auto ast = parseSource(source, "<test>", sourceMgr, diag);
  if (!ast) {
    ADD_FAILURE() << "parse failed:\n" << source;
    return nullptr;
  }
  c->module = mlirGen(c->context, *ast, diag);
  if (!c->module) {
    ADD_FAILURE() << "mlirGen failed:\n" << source;
    return nullptr;
  }
  mlir::PassManager pm(&c->context);
  mlir::fm::buildFmPipelineUpTo(pm, "kernels", fused);
  if (mlir::failed(pm.run(*c->module))) {
    ADD_FAILURE() << "pipeline failed";
    return nullptr;
  }
  ScheduleKind schedule = fused ? ScheduleKind::Hand : ScheduleKind::Root;
  for (auto fn : c->module->getOps<mlir::func::FuncOp>()) {
    if (!fn->hasAttr("fm.kernel"))
      continue;
    std::string error;
    auto jit = JitKernel::create(fn, {schedule}, error);
    if (!jit) {
      ADD_FAILURE() << fn.getSymName().str() << ": " << error;
      return nullptr;
    }
    c->kernels[fn.getSymName().str()] = std::move(jit);
    ++c->kernelCount;
  }
  return c;
}

Halide::Type halideType(mlir::Type t) {
  if (t.isF32())
    return Halide::Float(32);
  if (t.isF64())
    return Halide::Float(64);
  if (t.isInteger(64))
    return Halide::Int(64);
  if (t.isInteger(32))
    return Halide::Int(32);
  return Halide::UInt(8);
}

std::vector<int64_t> shapeAt(mlir::Type type, int batch) {
  std::vector<int64_t> shape;
  for (int64_t d : llvm::cast<mlir::RankedTensorType>(type).getShape())
    shape.push_back(mlir::ShapedType::isDynamic(d) ? batch : d);
  return shape;
}

/// Parameters, state and step inputs shared by both compilations, keyed
/// by name; drawn on first use from one generator.
struct Inputs {
  std::mt19937 rng{7};
  int batch = 1;
  int classes = 10;
  std::map<std::string, Host> values;

  const Host &get(const std::string &name, mlir::Type type, bool isLabel) {
    auto it = values.find(name);
    if (it != values.end())
      return it->second;
    std::vector<int64_t> shape = shapeAt(type, batch);
    auto endsWith = [&](const std::string &suffix) {
      return name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(),
                          suffix) == 0;
    };
    Host h = isLabel ? randomInts(shape, rng, classes)
             : name.rfind("optim.", 0) == 0 // optimizer state starts at 0
                 ? Host(shape)
             : endsWith("running_var") ? randomHost(shape, rng, 0.5, 1.5)
                                       : randomHost(shape, rng, -0.5, 0.5);
    return values[name] = h;
  }
};

/// Runs one step function of `c`, calling its kernels in order. Returns
/// the step's results, then the stored value of every stored parameter
/// (keyed "result <i>" and "store <symbol>").
std::map<std::string, Host> runStep(Compiled &c, const std::string &stepName,
                                    Inputs &inputs) {
  std::map<std::string, Host> out;
  auto step = c.module->lookupSymbol<mlir::func::FuncOp>(stepName);
  if (!step)
    return out;
  llvm::DenseMap<mlir::Value, Halide::Buffer<>> values;
  mlir::Block &body = step.getBody().front();
  for (mlir::BlockArgument arg : body.getArguments()) {
    unsigned i = arg.getArgNumber();
    if (auto scalar = step.getArgAttrOfType<mlir::StringAttr>(i, "fm.scalar")) {
      // lr, and the step counter of the first step.
      values[arg] = scalarBuffer(scalar.getValue() == "lr" ? 0.1f : 1.0f);
      continue;
    }
    bool isLabel = static_cast<bool>(step.getArgAttr(i, "fm.label"));
    auto name = step.getArgAttrOfType<mlir::StringAttr>(
        i, isLabel ? "fm.label" : "fm.input");
    values[arg] = toBuffer(
        inputs.get("arg " + name.getValue().str(), arg.getType(), isLabel),
        halideType(llvm::cast<mlir::RankedTensorType>(arg.getType())
                       .getElementType()));
  }
  for (mlir::Operation &op : body) {
    if (auto load = llvm::dyn_cast<mlir::fm::LoadOp>(op)) {
      auto type = llvm::cast<mlir::RankedTensorType>(load.getType());
      values[load.getResult()] =
          toBuffer(inputs.get(load.getParam().str(), type, false),
                   halideType(type.getElementType()));
    } else if (auto call = llvm::dyn_cast<mlir::func::CallOp>(op)) {
      JitKernel &kernel = *c.kernels.at(call.getCallee().str());
      std::vector<Halide::Buffer<>> args;
      for (mlir::Value v : call.getOperands())
        args.push_back(values.lookup(v));
      std::vector<Halide::Buffer<>> results =
          kernel.allocateOutputs(inputs.batch);
      std::string error;
      if (!kernel.run(args, results, error)) {
        ADD_FAILURE() << call.getCallee().str() << ": " << error;
        return out;
      }
      for (auto [r, b] : llvm::zip(call.getResults(), results))
        values[r] = b;
    } else if (auto store = llvm::dyn_cast<mlir::fm::StoreOp>(op)) {
      out["store " + store.getParam().str()] =
          fromBuffer(values.lookup(store.getValue()));
    } else if (auto ret = llvm::dyn_cast<mlir::func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands()))
        out["result " + std::to_string(i)] = fromBuffer(values.lookup(v));
    } else {
      ADD_FAILURE() << "unexpected op in a step: "
                    << op.getName().getStringRef().str();
    }
  }
  return out;
}

/// ||a - e|| / ||e||, with an absolute floor for tensors that are all but
/// zero (a gradient that vanishes in both).
double relativeError(const Host &a, const Host &e) {
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < e.size(); ++i) {
    diff += (a[i] - e[i]) * (a[i] - e[i]);
    norm += e[i] * e[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-6);
}

/// Compiles `source` fused and unfused and compares every step at `batch`.
/// Returns the number of fused and unfused kernels.
std::pair<int, int> checkFusedMatchesUnfused(const std::string &source,
                                             int batch, int classes) {
  auto fused = compile(source, true);
  auto unfused = compile(source, false);
  if (!fused || !unfused)
    return {0, 0};
  for (const char *step : {"predict", "evaluate", "train_step"}) {
    SCOPED_TRACE(step);
    Inputs inputs;
    inputs.batch = batch;
    inputs.classes = classes;
    std::map<std::string, Host> expected = runStep(*unfused, step, inputs);
    std::map<std::string, Host> actual = runStep(*fused, step, inputs);
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(actual.size(), expected.size());
    for (auto &[key, e] : expected) {
      SCOPED_TRACE(key);
      auto found = actual.find(key);
      if (found == actual.end() || found->second.shape != e.shape) {
        ADD_FAILURE() << "missing or differently shaped";
        continue;
      }
      const Host &a = found->second;
      Host da = a, de = e;
      if (key.rfind("store ", 0) == 0) {
        // Compare the update (lr times the gradient), not the parameter
        // it is added to, which would hide errors under its own size.
        const Host &before = inputs.values.at(key.substr(6));
        for (int64_t i = 0; i < e.size(); ++i) {
          da[i] -= before[i];
          de[i] -= before[i];
        }
      }
      EXPECT_LT(relativeError(da, de), 1e-5);
    }
  }
  return {fused->kernelCount, unfused->kernelCount};
}

/// Runs `steps` training steps, each reading the parameters and state the
/// previous one stored (the in-place updates of the optimizer kernels),
/// and returns the final values of everything stored.
std::map<std::string, Host> train(Compiled &c, Inputs &inputs, int steps) {
  std::map<std::string, Host> last;
  for (int s = 0; s < steps; ++s)
    for (auto &[key, value] : runStep(c, "train_step", inputs))
      if (key.rfind("store ", 0) == 0)
        last[key] = inputs.values[key.substr(6)] = value;
  return last;
}

class InPlaceUpdates : public testing::TestWithParam<const char *> {};

TEST_P(InPlaceUpdates, MatchUnfused) {
  // A fused update writes parameters and optimizer state in place in one
  // kernel (Adam's new parameter reads the new moments back; SGD with
  // momentum and coupled weight decay reads the old parameter into the
  // momentum, so the parameter goes through a copy); unfused, every op is
  // a kernel writing a fresh buffer.
  std::string source = R"(
model Net {
  input x: f32[N, 12]
  label y: i32[N]
  h = dense(x, 16) |> relu
  logits = dense(h, 3)
  loss cross_entropy(logits, y)
}
train Net {
  data = fashion_mnist()
  optimizer = OPTIMIZER
  batch = 8
  epochs = 1
}
)";
  source.replace(source.find("OPTIMIZER"), 9, GetParam());
  auto fused = compile(source, true);
  auto unfused = compile(source, false);
  ASSERT_TRUE(fused && unfused);
  Inputs a, b;
  a.batch = b.batch = 8;
  a.classes = b.classes = 3;
  std::map<std::string, Host> expected = train(*unfused, a, 3);
  // The same draws: parameters and data are drawn on first use, in order.
  std::map<std::string, Host> actual = train(*fused, b, 3);
  ASSERT_EQ(actual.size(), expected.size());
  EXPECT_GE(expected.size(), 8u); // 4 parameters and their state
  Inputs initial;
  initial.batch = 8;
  initial.classes = 3;
  runStep(*unfused, "train_step", initial); // the initial values
  for (auto &[key, e] : expected) {
    SCOPED_TRACE(key);
    Host da = actual.at(key), de = e;
    const Host &before = initial.values.at(key.substr(6));
    for (int64_t i = 0; i < e.size(); ++i) {
      da[i] -= before[i];
      de[i] -= before[i];
    }
    EXPECT_LT(relativeError(da, de), 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, InPlaceUpdates,
    testing::Values("adam(lr=0.01, weight_decay=0.01)",
                    "sgd(lr=0.1, momentum=0.9, weight_decay=0.01)"));

std::string readExample(const std::string &name) {
  std::ifstream in(std::string(FM_TEST_SOURCE_DIR) + "/examples/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Plain SGD: one step's parameter change is the gradient times lr (an
/// Adam step's first change is a sign, which rounding can flip).
std::string withSgd(std::string source) {
  return std::regex_replace(source, std::regex("optimizer *= *[^\\n]*"),
                            "optimizer = sgd(lr=0.1)");
}

/// The model in f64: batch norm over a batch of 5 subtracts nearly equal
/// sums, which lifts f32 rounding (different sum orders in the fused and
/// reference kernels) to 1e-5 relative in some gradients.
std::string inF64(std::string source) {
  return std::regex_replace(source, std::regex("input x: f32"), "input x: f64");
}

TEST(FusionTest, ExamplesFusedMatchUnfused) {
  for (const char *name : {"fashion_cnn.fm", "fashion_cnn_bn.fm"}) {
    SCOPED_TRACE(name);
    std::string source = withSgd(readExample(name));
    if (std::string(name) == "fashion_cnn_bn.fm")
      source = inF64(source);
    auto [fused, unfused] = checkFusedMatchesUnfused(source, 5, 10);
    // Fusion did happen: far fewer kernels than ops.
    EXPECT_GT(fused, 10);
    EXPECT_LT(2 * fused, unfused);
  }
}

/// A random model: a few convolution blocks (random filters, kernel,
/// stride, padding, groups, bias, activation, pooling; batch norm in f64),
/// then dense layers, on a random image size and batch.
std::string randomModel(std::mt19937 &rng, int &batch) {
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  int channels = pick(1, 3), size = pick(6, 12);
  batch = std::vector<int>{1, 3, 8, 17}[pick(0, 3)];
  // Batch norm's gradient subtracts means over a small batch; in f32 the
  // cancellation alone leaves ~1e-5 of rounding, whatever the schedule.
  bool batchNorm = pick(0, 2) == 0;
  std::ostringstream m;
  m << "model Fuzz {\n  input x: " << (batchNorm ? "f64" : "f32") << "[N, "
    << channels << ", " << size << ", " << size
    << "]\n  label y: i32[N]\n  h = x\n";
  const char *activations[] = {"relu", "tanh", "sigmoid", "gelu"};
  for (int block = pick(1, 2); block > 0; --block) {
    int groups = channels % 2 == 0 && pick(0, 2) == 0 ? 2 : 1;
    int filters = groups * pick(1, 4);
    int kernel = std::min(pick(1, 3), size);
    int stride = pick(1, 3) == 1 ? 2 : 1;
    bool same = pick(0, 1) && stride == 1;
    bool bias = pick(0, 2) != 0;
    m << "  h = conv2d(h, " << filters << ", kernel=" << kernel
      << ", stride=" << stride << (same ? ", padding=\"same\"" : "")
      << ", groups=" << groups << ", bias=" << (bias ? "true" : "false")
      << ")\n";
    size = same ? size : (size - kernel) / stride + 1;
    channels = filters;
    if (batchNorm)
      m << "  h = batch_norm(h)\n";
    m << "  h = " << activations[pick(0, 3)] << "(h)\n";
    if (size >= 4 && pick(0, 1)) {
      m << "  h = " << (pick(0, 1) ? "maxpool2d" : "avgpool2d") << "(h, 2)\n";
      size /= 2;
    }
  }
  m << "  h = flatten(h) |> dense(" << pick(3, 12) << ") |> relu\n"
    << "  logits = dense(h, 4)\n"
    << "  loss cross_entropy(logits, y)\n"
    << "  output probs = softmax(logits)\n"
    << "  metric acc = accuracy(logits, y)\n}\n"
    << "train Fuzz {\n  data = fashion_mnist()\n"
    << "  optimizer = sgd(lr=0.1, momentum=0.9)\n  batch = " << batch
    << "\n  epochs = 1\n}\n";
  return m.str();
}

TEST(FusionTest, FuzzRandomModelsFusedMatchUnfused) {
  std::mt19937 rng(2026);
  for (int i = 0; i < 5; ++i) {
    int batch = 1;
    std::string source = randomModel(rng, batch);
    SCOPED_TRACE("model " + std::to_string(i) + ", batch " +
                 std::to_string(batch) + ":\n" + source);
    checkFusedMatchesUnfused(source, batch, 4);
  }
}

} // namespace
