//===- Descriptor.cpp - The descriptor of a compiled module -----*- C++ -*-===//
//
// This file implements planModel. It walks each step function once, in
// order, giving every value a tensor id:
//   - step arguments -> `input` / `label` tensors (one per name across
//     steps) or `{"scalar": name}` call arguments;
//   - `fm.load @p` -> @p's tensor (one per param/state symbol);
//   - each call result -> a fresh `temp`, except a result that is stored
//     to @p: the call writes it straight into @p's tensor. That is only
//     sound if nothing still needs @p's old value after the call, and if
//     the kernel, when it also reads @p, does so pointwise; both are
//     checked here and reported as errors otherwise.
//
//===----------------------------------------------------------------------===//
#include "codegen/Descriptor.h"
#include "codegen/KernelCost.h"

#include "ir/FmDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using mlir::fm::ConstantOp;
using mlir::fm::LoadOp;
using mlir::fm::ParamOp;
using mlir::fm::StoreOp;

namespace fm {
std::string sanitizeIdentifier(const std::string &name) {
  std::string out = name;
  for (char &c : out)
    if (!llvm::isAlnum(c) && c != '_')
      c = '_';
  if (out.empty() || llvm::isDigit(out[0]))
    out = "_" + out;
  return out;
}
} // namespace fm

/// The descriptor's dtype spelling of an element type.
static std::string getDType(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isF64())
    return "f64";
  if (t.isInteger(1))
    return "bool";
  if (t.isInteger(8))
    return "u8";
  if (t.isInteger(32))
    return "i32";
  if (t.isInteger(64))
    return "i64";
  return "";
}

namespace {
struct TensorInfo {
  std::string name, kind, dtype;
  std::vector<int64_t> shape;
  ParamOp param; // param and state tensors
};
struct CallArg {
  int tensor = -1;
  std::string scalar;
};
struct Call {
  int kernel = -1;
  std::vector<CallArg> args;
};
struct Step {
  std::string name;
  std::vector<Call> calls;
  std::vector<std::pair<std::string, int>> results;
};

class Planner {
public:
  Planner(ModuleOp module, ::fm::ModelPlan &plan)
      : module(module), plan(plan) {}
  LogicalResult run();

private:
  ModuleOp module;
  ::fm::ModelPlan &plan;
  std::vector<TensorInfo> tensors;
  llvm::StringMap<int> paramTensors, namedTensors;
  llvm::DenseMap<Operation *, int> kernelIndex;
  std::vector<Step> steps;
  std::string loss;
  std::vector<std::string> metrics, outputs;

  // State of the step being planned.
  llvm::DenseMap<Value, int> tensorOf;
  llvm::DenseMap<Value, std::string> scalarOf;
  llvm::DenseMap<int, SmallVector<Value>> holders; // tensor -> live values
  llvm::StringMap<Operation *> pendingStores;

  int addTensor(std::string name, std::string kind, Type type);
  LogicalResult planStep(func::FuncOp step);
  LogicalResult planCall(Step &step, Operation *call, func::FuncOp callee,
                         ValueRange operands);
  LogicalResult planResults(Step &step, func::FuncOp func, func::ReturnOp ret);
  func::FuncOp synthesizeConstant(ConstantOp op);
  std::string writeJson(StringRef train);
};
} // namespace

int Planner::addTensor(std::string name, std::string kind, Type type) {
  auto t = llvm::cast<RankedTensorType>(type);
  TensorInfo info{
      std::move(name), std::move(kind), getDType(t.getElementType()), {}, {}};
  for (int64_t d : t.getShape())
    info.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  tensors.push_back(std::move(info));
  return tensors.size() - 1;
}

func::FuncOp Planner::synthesizeConstant(ConstantOp op) {
  OpBuilder b(op.getContext());
  if (!plan.synthesized)
    plan.synthesized = ModuleOp::create(op.getLoc());
  b.setInsertionPointToEnd(plan.synthesized->getBody());
  std::string name = "const" + std::to_string(plan.kernels.size());
  auto type = b.getFunctionType({}, {op.getType()});
  auto func = b.create<func::FuncOp>(op.getLoc(), name, type);
  func->setAttr("fm.kernel", b.getUnitAttr());
  b.setInsertionPointToStart(func.addEntryBlock());
  Operation *clone = b.clone(*op);
  b.create<func::ReturnOp>(op.getLoc(), clone->getResults());
  return func;
}

LogicalResult Planner::planCall(Step &step, Operation *call,
                                func::FuncOp callee, ValueRange operands) {
  Call c;
  c.kernel = kernelIndex.lookup(callee);
  for (auto [i, v] : llvm::enumerate(operands)) {
    bool kernelScalar = static_cast<bool>(callee.getArgAttr(i, "fm.scalar"));
    if (scalarOf.count(v) != kernelScalar)
      return call->emitOpError()
             << "operand " << i << (kernelScalar ? " must" : " must not")
             << " be a step scalar for @" << callee.getSymName();
    if (kernelScalar) {
      c.args.push_back({-1, scalarOf.lookup(v)});
    } else if (tensorOf.count(v)) {
      c.args.push_back({tensorOf.lookup(v), ""});
    } else {
      return call->emitOpError() << "operand " << i
                                 << " is not a step argument, load or call "
                                    "result";
    }
  }
  for (OpResult r : call->getResults()) {
    SmallVector<StoreOp> stores;
    for (Operation *user : r.getUsers())
      if (auto store = dyn_cast<StoreOp>(user))
        stores.push_back(store);
    if (stores.size() > 1)
      return stores[1].emitOpError() << "stores a value that is stored "
                                        "elsewhere too; codegen writes each "
                                        "result into one tensor";
    int id;
    if (stores.empty()) {
      id = addTensor(step.name + "/" + callee.getSymName().str() + "#" +
                         std::to_string(r.getResultNumber()),
                     "temp", r.getType());
    } else {
      StringRef param = stores[0].getParam();
      id = paramTensors.lookup(param);
      // Whatever still holds @p's old value must be done with it, except
      // this call's own reads, which the kernel must do pointwise.
      for (Value old : holders[id]) {
        for (OpOperand &use : old.getUses()) {
          Operation *user = use.getOwner();
          if (user == call) {
            if (!mlir::fm::isInPlaceWriteSafe(callee, use.getOperandNumber(),
                                              r.getResultNumber()))
              return call->emitOpError()
                     << "writes @" << param << " in place but @"
                     << callee.getSymName() << " does not read it pointwise";
            continue;
          }
          if (!user->isBeforeInBlock(call))
            return call->emitOpError()
                   << "overwrites @" << param
                   << " while its old value is still used later by "
                   << user->getName();
        }
      }
      for (OpResult other : call->getResults())
        if (other.getResultNumber() < r.getResultNumber() &&
            tensorOf.lookup(other) == id)
          return call->emitOpError() << "writes @" << param << " twice";
      holders[id].clear();
      pendingStores[param] = stores[0];
    }
    tensorOf[r] = id;
    holders[id].push_back(r);
    c.args.push_back({id, ""});
  }
  step.calls.push_back(std::move(c));
  return success();
}

LogicalResult Planner::planResults(Step &step, func::FuncOp func,
                                   func::ReturnOp ret) {
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto name = func.getResultAttrOfType<StringAttr>(i, "fm.name");
    auto role = func.getResultAttrOfType<StringAttr>(i, "fm.role");
    if (!name || !role || !tensorOf.count(v))
      return ret.emitOpError()
             << "result " << i << " needs fm.name and fm.role and a tensor";
    step.results.emplace_back(name.str(), tensorOf.lookup(v));
    std::vector<std::string> *names = nullptr;
    if (role.getValue() == "loss")
      loss = name.str();
    else if (role.getValue() == "metric")
      names = &metrics;
    else if (role.getValue() == "output")
      names = &outputs;
    if (names && !llvm::is_contained(*names, name.str()))
      names->push_back(name.str());
  }
  return success();
}

LogicalResult Planner::planStep(func::FuncOp func) {
  Step step;
  step.name = func->getAttrOfType<StringAttr>("fm.step").str();
  tensorOf.clear();
  scalarOf.clear();
  holders.clear();
  pendingStores.clear();
  for (BlockArgument arg : func.getArguments()) {
    unsigned i = arg.getArgNumber();
    if (auto s = func.getArgAttrOfType<StringAttr>(i, "fm.scalar")) {
      scalarOf[arg] = s.str();
      continue;
    }
    StringRef kind = "input";
    auto name = func.getArgAttrOfType<StringAttr>(i, "fm.input");
    if (!name) {
      kind = "label";
      name = func.getArgAttrOfType<StringAttr>(i, "fm.label");
    }
    if (!name)
      return func.emitOpError()
             << "argument " << i << " has no fm.input, fm.label or fm.scalar";
    auto it = namedTensors.find(name.getValue());
    int id = it != namedTensors.end()
                 ? it->second
                 : (namedTensors[name.getValue()] =
                        addTensor(name.str(), kind.str(), arg.getType()));
    auto type = llvm::cast<RankedTensorType>(arg.getType());
    std::vector<int64_t> shape;
    for (int64_t d : type.getShape())
      shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
    if (tensors[id].kind != kind || tensors[id].shape != shape ||
        tensors[id].dtype != getDType(type.getElementType()))
      return func.emitOpError() << "'" << name.getValue()
                                << "' has another kind, shape or dtype in an "
                                   "earlier step";
    tensorOf[arg] = id;
    holders[id].push_back(arg);
  }
  for (Operation &op : func.getBody().front()) {
    if (auto load = dyn_cast<LoadOp>(op)) {
      if (pendingStores.count(load.getParam()))
        return load.emitOpError()
               << "reads @" << load.getParam()
               << " after a kernel already overwrote it for a later store";
      int id = paramTensors.lookup(load.getParam());
      tensorOf[load] = id;
      holders[id].push_back(load);
    } else if (auto store = dyn_cast<StoreOp>(op)) {
      if (tensorOf.lookup(store.getValue()) !=
              paramTensors.lookup(store.getParam()) ||
          !(store.getValue().getDefiningOp<func::CallOp>() ||
            store.getValue().getDefiningOp<ConstantOp>()))
        return store.emitOpError()
               << "stores a value that no kernel call writes; codegen "
                  "expects every stored value to be a call result";
      pendingStores.erase(store.getParam());
    } else if (auto call = dyn_cast<func::CallOp>(op)) {
      auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee());
      if (!callee || !kernelIndex.count(callee))
        return call.emitOpError() << "calls @" << call.getCallee()
                                  << ", which is not an fm.kernel function";
      if (failed(planCall(step, call, callee, call.getOperands())))
        return failure();
    } else if (auto constant = dyn_cast<ConstantOp>(op)) {
      func::FuncOp kernel = synthesizeConstant(constant);
      kernelIndex[kernel] = plan.kernels.size();
      plan.kernels.push_back(kernel);
      if (failed(planCall(step, constant, kernel, {})))
        return failure();
    } else if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (failed(planResults(step, func, ret)))
        return failure();
    } else {
      return op.emitOpError() << "is not expected in a step function";
    }
  }
  steps.push_back(std::move(step));
  return success();
}

std::string Planner::writeJson(StringRef train) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::json::OStream j(os); // compact; EmitLibrary breaks it into lines
  j.object([&] {
    j.attribute("format", "fm-model");
    j.attribute("version", 1);
    j.attribute("model", plan.model);
    if (auto source = module->getAttrOfType<StringAttr>("fm.source"))
      j.attribute("source", source.getValue());
    j.attributeArray("tensors", [&] {
      for (const TensorInfo &t : tensors)
        j.object([&] {
          j.attribute("name", t.name);
          j.attribute("kind", t.kind);
          j.attribute("dtype", t.dtype);
          j.attributeArray("shape", [&] {
            for (int64_t d : t.shape)
              j.value(d);
          });
          if (!t.param)
            return;
          ParamOp p = t.param;
          j.attributeObject("init", [&] {
            j.attribute("kind", p.getInit());
            j.attributeArray("args", [&] {
              for (Attribute a : p.getInitArgs())
                j.value(llvm::cast<FloatAttr>(a).getValueAsDouble());
            });
            if (p.getFanIn())
              j.attribute("fan_in", static_cast<int64_t>(*p.getFanIn()));
            if (p.getFanOut())
              j.attribute("fan_out", static_cast<int64_t>(*p.getFanOut()));
          });
        });
    });
    j.attributeObject("steps", [&] {
      for (const Step &s : steps)
        j.attributeObject(s.name, [&] {
          j.attributeArray("calls", [&] {
            for (const Call &c : s.calls)
              j.object([&] {
                j.attribute("kernel", c.kernel);
                j.attributeArray("args", [&] {
                  for (const CallArg &a : c.args)
                    j.object([&] {
                      if (a.tensor >= 0)
                        j.attribute("tensor", a.tensor);
                      else
                        j.attribute("scalar", a.scalar);
                    });
                });
              });
          });
          j.attributeObject("results", [&] {
            for (const auto &[name, id] : s.results)
              j.attribute(name, id);
          });
        });
    });
    // Kernel-table order; the flops let profilers report GFLOP/s.
    j.attributeArray("kernels", [&] {
      for (func::FuncOp k : plan.kernels)
        j.object([&] {
          j.attribute("name", k.getSymName());
          j.attribute("ops", ::fm::getKernelOps(k));
          ::fm::KernelCost cost = ::fm::getKernelCost(k);
          if (cost.known)
            j.attributeArray("flops", [&] {
              j.value(cost.perItem);
              j.value(cost.fixed);
            });
        });
    });
    if (!loss.empty())
      j.attribute("loss", loss);
    j.attributeArray("metrics", [&] {
      for (const std::string &m : metrics)
        j.value(m);
    });
    j.attributeArray("outputs", [&] {
      for (const std::string &o : outputs)
        j.value(o);
    });
    if (!train.empty()) {
      j.attributeBegin("train");
      j.rawValue(train);
      j.attributeEnd();
    }
  });
  return text;
}

LogicalResult Planner::run() {
  auto model = module->getAttrOfType<StringAttr>("fm.model");
  if (!model || model.getValue().empty() ||
      ::fm::sanitizeIdentifier(model.str()) != model.getValue())
    return module.emitError()
           << "expected fm.model to name the model with a C identifier";
  plan.model = model.str();
  StringRef train;
  if (auto attr = module->getAttrOfType<StringAttr>("fm.train")) {
    train = attr.getValue();
    if (auto parsed = llvm::json::parse(train); !parsed) {
      std::string message = llvm::toString(parsed.takeError());
      return module.emitError() << "fm.train is not valid JSON: " << message;
    }
  }
  for (ParamOp p : module.getOps<ParamOp>()) {
    int id = addTensor(p.getSymName().str(), p.getKind().str(), p.getType());
    tensors[id].param = p;
    paramTensors[p.getSymName()] = id;
  }
  for (func::FuncOp f : module.getOps<func::FuncOp>())
    if (f->hasAttr("fm.kernel")) {
      kernelIndex[f] = plan.kernels.size();
      plan.kernels.push_back(f);
    }
  for (func::FuncOp f : module.getOps<func::FuncOp>())
    if (f->hasAttr("fm.step") && failed(planStep(f)))
      return failure();
  plan.json = writeJson(train);
  return success();
}

namespace fm {
LogicalResult planModel(ModuleOp module, ModelPlan &plan) {
  plan = ModelPlan();
  return Planner(module, plan).run();
}
} // namespace fm
