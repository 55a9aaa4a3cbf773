//===- ModelCheck.cpp - Whole models through the JIT, step by step -------===//
//
// This file implements the model harness of ModelCheck.h.
//
//===----------------------------------------------------------------------===//
#include "ModelCheck.h"

#include "frontend/Diagnostics.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "ir/FmDialect.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/SourceMgr.h"

#include "gtest/gtest.h"

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

namespace fm::test {

namespace {
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

} // namespace

const Host &Inputs::get(const std::string &name, mlir::Type type,
                        bool isLabel) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  std::vector<int64_t> shape = shapeAt(type, batch);
  auto endsWith = [&](const std::string &suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) ==
               0;
  };
  Host h = isLabel ? randomInts(shape, rng, classes)
           : name.rfind("optim.", 0) == 0 // optimizer state starts at 0
               ? Host(shape)
               : endsWith("running_var") ? randomHost(shape, rng, 0.5, 1.5)
                                         : randomHost(shape, rng, -0.5, 0.5);
  return values[name] = h;
}

std::unique_ptr<Compiled> compileToKernels(const std::string &source,
                                           bool fused) {
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
  return c;
}

std::unique_ptr<Compiled> compile(const std::string &source, bool fused,
                                  const Halide::Target &target) {
  std::unique_ptr<Compiled> c = compileToKernels(source, fused);
  if (!c)
    return nullptr;
  ScheduleOptions schedule;
  schedule.kind = fused ? ScheduleKind::Hand : ScheduleKind::Root;
  schedule.target = target;
  for (auto fn : c->module->getOps<mlir::func::FuncOp>()) {
    if (!fn->hasAttr("fm.kernel"))
      continue;
    std::string error;
    auto jit = JitKernel::create(fn, schedule, error);
    if (!jit) {
      ADD_FAILURE() << fn.getSymName().str() << ": " << error;
      return nullptr;
    }
    c->kernels[fn.getSymName().str()] = std::move(jit);
    ++c->kernelCount;
  }
  return c;
}

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
                                             int batch, int classes,
                                             const Halide::Target &target) {
  auto fused = compile(source, true, target);
  auto unfused = compile(source, false, getHostTarget());
  if (!fused || !unfused)
    return {0, 0};
  return checkSameSteps(*fused, *unfused, batch, classes);
}

std::pair<int, int> checkSameSteps(Compiled &fusedModel, Compiled &reference,
                                   int batch, int classes) {
  Compiled *fused = &fusedModel, *unfused = &reference;
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

std::string readExample(const std::string &name) {
  std::ifstream in(std::string(FM_TEST_SOURCE_DIR) + "/examples/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string withSgd(std::string source) {
  return std::regex_replace(source, std::regex("optimizer *= *[^\\n]*"),
                            "optimizer = sgd(lr=0.1)");
}

std::string inF64(std::string source) {
  return std::regex_replace(source, std::regex("input x: f32"), "input x: f64");
}

} // namespace fm::test
