//===- MLIRGenValues.cpp - Terms, types and parameters ----------*- C++ -*-===//
//
// This file implements the value side of MLIRGen: converting terms (numbers
// adopting the element type they meet, strings, axes, shapes), the types
// of declarations, and parameters with their LANGUAGE.md §7 names.
//
//===----------------------------------------------------------------------===//
#include "frontend/MLIRGenImpl.h"

using namespace fm;

std::string Term::describe() const {
  switch (kind) {
  case Tensor: return "a tensor";
  case Number: return "a number";
  case String: return "a string";
  case Bool: return "a bool";
  case List: return "a list";
  case Symbol: return "the name '" + text + "'";
  case Call: return "a call of '" + text + "'";
  case Invalid: break;
  }
  return "an invalid value";
}

//===----------------------------------------------------------------------===//
// Conversions of terms
//===----------------------------------------------------------------------===//

mlir::Value MLIRGenImpl::asTensor(const Term &t, mlir::Type elem,
                                  llvm::StringRef what) {
  if (t.kind == Term::Tensor)
    return t.value;
  if (t.kind == Term::Number) {
    auto type = mlir::RankedTensorType::get({}, elem);
    mlir::Attribute value;
    if (llvm::isa<mlir::FloatType>(elem))
      value = mlir::FloatAttr::get(elem, t.number);
    else if (t.isInteger)
      value = mlir::IntegerAttr::get(elem, (int64_t)t.number);
    else {
      error(t.loc, "expected an integer for " + what + " of integer type but got " +
                       std::to_string(t.number));
      return {};
    }
    return b.create<mlir::fm::ConstantOp>(
        loc(t.loc), type, mlir::DenseElementsAttr::get(type, value));
  }
  if (t.kind == Term::Symbol)
    error(t.loc, "unknown name '" + t.text + "'");
  else if (t.ok())
    error(t.loc, "expected a tensor for " + what + " but got " + t.describe());
  return {};
}

std::optional<double> MLIRGenImpl::asNumber(const Term &t, llvm::StringRef what,
                                            bool integer) {
  if (t.kind != Term::Number) {
    if (t.ok())
      error(t.loc, "expected a constant number for " + what + " but got " +
                       t.describe());
    return std::nullopt;
  }
  if (integer && !t.isInteger) {
    error(t.loc, "expected an integer for " + what + " but got " +
                     std::to_string(t.number));
    return std::nullopt;
  }
  return t.number;
}

std::optional<std::string> MLIRGenImpl::asString(const Term &t,
                                                 llvm::StringRef what) {
  if (t.kind == Term::String || t.kind == Term::Symbol)
    return t.text;
  if (t.ok())
    error(t.loc, "expected a string for " + what + " but got " + t.describe());
  return std::nullopt;
}

std::optional<bool> MLIRGenImpl::asBool(const Term &t, llvm::StringRef what) {
  if (t.kind == Term::Bool)
    return t.flag;
  if (t.ok())
    error(t.loc, "expected true or false for " + what + " but got " + t.describe());
  return std::nullopt;
}

std::optional<std::vector<int64_t>>
MLIRGenImpl::asIntList(const Term &t, llvm::StringRef what) {
  std::vector<int64_t> out;
  if (t.kind == Term::Number) {
    auto v = asNumber(t, what, /*integer=*/true);
    if (!v)
      return std::nullopt;
    out.push_back((int64_t)*v);
    return out;
  }
  if (t.kind != Term::List) {
    if (t.ok())
      error(t.loc, "expected an integer or a list of integers for " + what +
                       " but got " + t.describe());
    return std::nullopt;
  }
  for (const Term &item : t.items) {
    if (item.kind == Term::Symbol && item.text == symbolicDim) {
      out.push_back(mlir::ShapedType::kDynamic);
      continue;
    }
    auto v = asNumber(item, what, /*integer=*/true);
    if (!v)
      return std::nullopt;
    out.push_back((int64_t)*v);
  }
  return out;
}

std::optional<int64_t> MLIRGenImpl::axis(const Term &t, int64_t value,
                                         int64_t rank) {
  int64_t a = value < 0 ? value + rank : value;
  if (a < 0 || a >= rank) {
    error(t.loc, "expected an axis in [" + std::to_string(-rank) + ", " +
                     std::to_string(rank) + ") for a tensor of rank " +
                     std::to_string(rank) + " but got " + std::to_string(value));
    return std::nullopt;
  }
  return a;
}

//===----------------------------------------------------------------------===//
// Parameters and naming (LANGUAGE.md §7)
//===----------------------------------------------------------------------===//

std::string MLIRGenImpl::layerName(llvm::StringRef op,
                                   llvm::StringRef explicitName) {
  if (!explicitName.empty())
    return explicitName.str();
  unsigned k = scopes.back().counters[op]++;
  return k == 0 ? op.str() : (op + "_" + llvm::Twine(k)).str();
}

static void fans(mlir::RankedTensorType type, int64_t &fanIn, int64_t &fanOut) {
  auto s = type.getShape();
  if (s.empty()) {
    fanIn = fanOut = 1;
  } else if (s.size() == 1) {
    fanIn = fanOut = s[0];
  } else if (s.size() == 2) { // dense weights are [in, out]
    fanIn = s[0];
    fanOut = s[1];
  } else { // conv weights are [out, in, kh, kw...]
    int64_t field = 1;
    for (int64_t d : s.drop_front(2))
      field *= d;
    fanIn = s[1] * field;
    fanOut = s[0] * field;
  }
}

mlir::Value MLIRGenImpl::createParam(const Location &where, llvm::StringRef layer,
                                     llvm::StringRef tensor,
                                     mlir::RankedTensorType type,
                                     llvm::StringRef init,
                                     llvm::ArrayRef<double> initArgs,
                                     llvm::StringRef kind, std::string *symbol) {
  std::string name = scopes.back().prefix;
  if (!layer.empty())
    name += layer.str() + ".";
  name += tensor.str();
  if (module.lookupSymbol(name)) {
    error(where, "parameter '" + name + "' is defined twice; give the layer "
                 "a distinct name=");
    return {};
  }
  int64_t fanIn, fanOut;
  fans(type, fanIn, fanOut);
  mlir::OpBuilder mb(&ctx);
  mb.setInsertionPoint(modelFn);
  if (symbol)
    *symbol = name;
  mb.create<mlir::fm::ParamOp>(loc(where), name, type, kind, init,
                               mb.getF64ArrayAttr(initArgs),
                               mb.getI64IntegerAttr(fanIn),
                               mb.getI64IntegerAttr(fanOut));
  return b.create<mlir::fm::LoadOp>(loc(where), type,
                                    mlir::FlatSymbolRefAttr::get(&ctx, name));
}

/// `param NAME: TYPE = INIT`, INIT one of LANGUAGE.md §4's initialisers.
mlir::Value MLIRGenImpl::genParamStmt(const ParamStmtAST &p) {
  auto type = genType(p.getType());
  if (!type)
    return {};
  if (!type->hasStaticShape()) {
    error(p.getType().loc, "expected a parameter type with fixed extents but got a "
                           "symbolic dimension");
    return {};
  }
  const ExprAST &init = p.getInit();
  std::string kind;
  std::vector<double> initArgs;
  std::vector<const ExprAST *> argExprs;
  if (auto *n = llvm::dyn_cast<NameExprAST>(&init)) {
    kind = n->getName().str();
  } else if (auto *c = llvm::dyn_cast<CallExprAST>(&init)) {
    kind = c->getCallee().str();
    for (const ExprPtr &a : c->getArgs())
      argExprs.push_back(a.get());
  } else {
    error(init.getLoc(), "expected an initialiser (zeros, ones, constant(v), "
                         "normal(std), uniform(lo, hi), glorot_uniform, "
                         "glorot_normal, he_uniform, he_normal)");
    return {};
  }
  static const std::map<std::string, unsigned> arity = {
      {"zeros", 0}, {"ones", 0}, {"constant", 1}, {"normal", 1},
      {"uniform", 2}, {"glorot_uniform", 0}, {"glorot_normal", 0},
      {"he_uniform", 0}, {"he_normal", 0}};
  auto it = arity.find(kind);
  if (it == arity.end()) {
    error(init.getLoc(), "unknown initialiser '" + kind + "'; expected zeros, ones, "
                         "constant, normal, uniform, glorot_uniform, "
                         "glorot_normal, he_uniform or he_normal");
    return {};
  }
  if (argExprs.size() != it->second) {
    error(init.getLoc(), "expected " + std::to_string(it->second) +
                             " argument(s) for initialiser '" + kind +
                             "' but got " + std::to_string(argExprs.size()));
    return {};
  }
  for (const ExprAST *a : argExprs) {
    auto v = asNumber(genExpr(*a), "an initialiser argument");
    if (!v)
      return {};
    initArgs.push_back(*v);
  }
  return createParam(p.getNameLoc(), "", p.getName(), *type, kind, initArgs);
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

mlir::Type MLIRGenImpl::elementType(ElementType t) {
  switch (t) {
  case ElementType::F32: return b.getF32Type();
  case ElementType::F64: return b.getF64Type();
  case ElementType::I32: return b.getI32Type();
  case ElementType::I64: return b.getI64Type();
  case ElementType::U8: return b.getIntegerType(8);
  case ElementType::Bool: return b.getI1Type();
  }
  return {};
}

std::optional<mlir::RankedTensorType> MLIRGenImpl::genType(const TypeAST &type) {
  llvm::SmallVector<int64_t> shape;
  for (auto [i, d] : llvm::enumerate(type.dims)) {
    if (!d.isSymbolic()) {
      shape.push_back(d.extent);
      continue;
    }
    if (symbolicDim.empty())
      symbolicDim = d.symbol;
    if (d.symbol != symbolicDim) {
      error(d.loc, "expected the symbolic dimension '" + symbolicDim +
                       "' but got '" + d.symbol +
                       "'; one symbolic (batch) dimension is supported");
      return std::nullopt;
    }
    if (i != 0) {
      error(d.loc, "expected the symbolic dimension '" + d.symbol +
                       "' first; it stands for the batch");
      return std::nullopt;
    }
    shape.push_back(mlir::ShapedType::kDynamic);
  }
  return mlir::RankedTensorType::get(shape, elementType(type.elementType));
}


void MLIRGenImpl::storeState(const Location &where, mlir::Value value,
                             llvm::StringRef symbol) {
  b.create<mlir::fm::StoreOp>(loc(where), value,
                              mlir::FlatSymbolRefAttr::get(&ctx, symbol));
}

mlir::Value MLIRGenImpl::stepScalar(const Location &where) {
  for (auto &[arg, attrs] : args)
    if (attrs.contains("fm.scalar"))
      return arg;
  mlir::Block &entry = modelFn.getBody().front();
  mlir::Value arg = entry.addArgument(
      mlir::RankedTensorType::get({}, b.getF32Type()), loc(where));
  args.push_back({arg, b.getDictionaryAttr({b.getNamedAttr(
                           "fm.scalar", b.getStringAttr("step"))})});
  return arg;
}

llvm::SmallVector<mlir::fm::ParamOp> MLIRGenImpl::getParams() {
  llvm::SmallVector<mlir::fm::ParamOp> out;
  for (auto p : module.getOps<mlir::fm::ParamOp>())
    if (p.isTrainable())
      out.push_back(p);
  return out;
}

Term MLIRGenImpl::buildNamed(const Location &where, llvm::StringRef opName,
                             mlir::ValueRange operands,
                             llvm::ArrayRef<mlir::NamedAttribute> attrs) {
  auto name = mlir::RegisteredOperationName::lookup(opName, &ctx);
  auto *infer = name ? name->getInterface<mlir::InferTypeOpInterface>() : nullptr;
  if (!infer)
    return error(where, "internal error: '" + opName + "' has no shape rule");
  llvm::SmallVector<mlir::Type> types;
  if (mlir::failed(infer->inferReturnTypes(&ctx, loc(where), operands,
                                           b.getDictionaryAttr(attrs),
                                           /*properties=*/nullptr,
                                           /*regions=*/{}, types))) {
    ++shapeErrors;
    return Term::invalid();
  }
  mlir::OperationState state(loc(where), opName);
  state.addOperands(operands);
  state.addAttributes(attrs);
  state.addTypes(types);
  return Term::tensor(b.create(state)->getResult(0), where);
}
