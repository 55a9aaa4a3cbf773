//===- MLIRGen.cpp - AST to the fm dialect ----------------------*- C++ -*-===//
//
// This file implements the statement and expression walk of MLIRGen: names
// and shadowing, literals adopting the element type they meet, operators,
// user functions inlined per call site with their own naming scope, and
// the model function with its loss, outputs and metrics. Terms, types and
// parameters live in MLIRGenValues.cpp, built-in ops in
// MLIRGenBuiltins.cpp, the train block in MLIRGenTrain.cpp.
//
//===----------------------------------------------------------------------===//
#include "frontend/MLIRGenImpl.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"

using namespace fm;

MLIRGenImpl::MLIRGenImpl(mlir::MLIRContext &ctx, const ModuleAST &ast,
                         DiagnosticEngine &diag)
    : ctx(ctx), ast(ast), diag(diag), b(&ctx) {}

mlir::Location MLIRGenImpl::loc(const Location &l) {
  return mlir::FileLineColLoc::get(&ctx, l.getFile(), l.getLine(), l.getColumn());
}

Term MLIRGenImpl::error(const Location &l, const llvm::Twine &message) {
  diag.error(l, message);
  return Term::invalid();
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

Term MLIRGenImpl::genExpr(const ExprAST &e) {
  const Location &l = e.getLoc();
  if (auto *n = llvm::dyn_cast<NumberExprAST>(&e))
    return n->isInteger() ? Term::num(n->getIntValue(), true, l)
                          : Term::num(n->getValue(), false, l);
  if (auto *s = llvm::dyn_cast<StringExprAST>(&e)) {
    Term t;
    t.kind = Term::String;
    t.text = s->getValue().str();
    t.loc = l;
    return t;
  }
  if (auto *bl = llvm::dyn_cast<BoolExprAST>(&e)) {
    Term t;
    t.kind = Term::Bool;
    t.flag = bl->getValue();
    t.loc = l;
    return t;
  }
  if (auto *n = llvm::dyn_cast<NameExprAST>(&e)) {
    for (auto &scope : llvm::reverse(env)) {
      auto it = scope.find(n->getName());
      if (it != scope.end()) {
        Term t = it->second;
        t.loc = l;
        return t;
      }
      break; // functions see only their own names
    }
    // A bare name may be an argument-less op used as a value (`relu` in a
    // pipe is a call) or a symbol such as an initialiser; callers decide.
    Term t;
    t.kind = Term::Symbol;
    t.text = n->getName().str();
    t.loc = l;
    return t;
  }
  if (auto *neg = llvm::dyn_cast<NegExprAST>(&e)) {
    Term x = genExpr(neg->getOperand());
    if (!x.ok())
      return x;
    if (x.kind == Term::Number)
      return Term::num(-x.number, x.isInteger, l);
    mlir::Value v = asTensor(x, f32(), "'-'");
    if (!v)
      return Term::invalid();
    return build<mlir::fm::NegOp>(l, v);
  }
  if (auto *bin = llvm::dyn_cast<BinaryExprAST>(&e))
    return genBinary(*bin);
  if (auto *call = llvm::dyn_cast<CallExprAST>(&e))
    return genCall(*call);
  if (auto *list = llvm::dyn_cast<ListExprAST>(&e)) {
    Term t;
    t.kind = Term::List;
    t.loc = l;
    for (const ExprPtr &item : list->getElements()) {
      t.items.push_back(genExpr(*item));
      if (!t.items.back().ok())
        return Term::invalid();
    }
    return t;
  }
  return error(l, "unsupported expression");
}

Term MLIRGenImpl::genBinary(const BinaryExprAST &e) {
  Term lhs = genExpr(e.getLHS()), rhs = genExpr(e.getRHS());
  if (!lhs.ok() || !rhs.ok())
    return Term::invalid();
  BinaryOp op = e.getOp();
  const Location &l = e.getLoc();
  std::string spelling = ("'" + getBinaryOpSpelling(op) + "'").str();
  // Constant arithmetic folds (e.g. `scale = 1/255`).
  if (lhs.kind == Term::Number && rhs.kind == Term::Number && !isComparison(op)) {
    double x = lhs.number, y = rhs.number;
    bool ints = lhs.isInteger && rhs.isInteger;
    switch (op) {
    case BinaryOp::Add: return Term::num(x + y, ints, l);
    case BinaryOp::Sub: return Term::num(x - y, ints, l);
    case BinaryOp::Mul: return Term::num(x * y, ints, l);
    case BinaryOp::Div:
      if (y == 0)
        return error(l, "division by zero in a constant expression");
      return Term::num(x / y, false, l); // 1/255 is a fraction
    default:
      return error(l, "expected tensors for " + spelling + " but got numbers");
    }
  }
  // A literal adopts the element type of the tensor it meets.
  mlir::Type elem = f32();
  if (lhs.kind == Term::Tensor)
    elem = tensorType(lhs.value).getElementType();
  else if (rhs.kind == Term::Tensor)
    elem = tensorType(rhs.value).getElementType();
  mlir::Value a = asTensor(lhs, elem, "the left operand of " + spelling);
  mlir::Value c = asTensor(rhs, elem, "the right operand of " + spelling);
  if (!a || !c)
    return Term::invalid();
  using namespace mlir::fm;
  switch (op) {
  case BinaryOp::Add: return build<AddOp>(l, {a, c});
  case BinaryOp::Sub: return build<SubOp>(l, {a, c});
  case BinaryOp::Mul: return build<MulOp>(l, {a, c});
  case BinaryOp::Div: return build<DivOp>(l, {a, c});
  case BinaryOp::MatMul: return build<MatMulOp>(l, {a, c});
  default: break;
  }
  static const char *preds[] = {"lt", "le", "gt", "ge", "eq", "ne"};
  const char *pred = preds[int(op) - int(BinaryOp::Lt)];
  return build<CompareOp>(
      l, {a, c}, {b.getNamedAttr("predicate", b.getStringAttr(pred))});
}

Term MLIRGenImpl::genCall(const CallExprAST &e) {
  if (const FunctionAST *fn = ast.lookupFunction(e.getCallee()))
    return genUserCall(e, *fn);
  const auto &builtins = getBuiltins();
  auto it = builtins.find(e.getCallee());
  if (it == builtins.end())
    return error(e.getLoc(), "unknown operation '" + e.getCallee() + "'");
  const Builtin &op = it->second;

  BoundArgs args;
  auto signature = [&] {
    std::string s = e.getCallee().str() + "(";
    for (auto [i, p] : llvm::enumerate(op.params)) {
      s += (i ? ", " : "") + p;
      auto d = op.defaults.find(p);
      if (d == op.defaults.end())
        continue;
      const Term &v = d->second;
      if (v.kind == Term::Number)
        s += "=" + (v.isInteger ? std::to_string((int64_t)v.number) : std::to_string(v.number));
      else if (v.kind == Term::Bool)
        s += v.flag ? "=true" : "=false";
      else if (v.kind == Term::String)
        s += "=\"" + v.text + "\"";
    }
    return s + ")";
  };
  bool failed = false;
  if (e.getArgs().size() > op.params.size())
    return error(e.getArgs()[op.params.size()]->getLoc(),
                 "expected at most " + std::to_string(op.params.size()) +
                     " positional argument(s) for " + signature() + " but got " +
                     std::to_string(e.getArgs().size()));
  for (auto [i, a] : llvm::enumerate(e.getArgs())) {
    Term t = genExpr(*a);
    failed |= !t.ok();
    args[op.params[i]] = t;
  }
  for (const KeywordArgAST &k : e.getKeywordArgs()) {
    if (!llvm::is_contained(op.params, k.name)) {
      error(k.loc, "unknown argument '" + k.name + "' for " + signature());
      failed = true;
      continue;
    }
    if (args.count(k.name)) {
      error(k.loc, "argument '" + k.name + "' of '" + e.getCallee() +
                       "' is given twice");
      failed = true;
      continue;
    }
    Term t = genExpr(*k.value);
    failed |= !t.ok();
    args[k.name] = t;
  }
  if (failed)
    return Term::invalid();
  for (unsigned i = 0; i < op.params.size(); ++i) {
    const std::string &p = op.params[i];
    if (args.count(p))
      continue;
    if (i < op.required)
      return error(e.getLoc(), "missing argument '" + p + "' of " + signature());
    auto d = op.defaults.find(p);
    if (d != op.defaults.end()) {
      args[p] = d->second;
      args[p].loc = e.getLoc();
    }
  }
  return op.lower(*this, e, args);
}

Term MLIRGenImpl::genUserCall(const CallExprAST &e, const FunctionAST &fn) {
  if (llvm::is_contained(callStack, fn.getName().str()))
    return error(e.getLoc(), "recursive call of '" + fn.getName() +
                                 "'; functions are inlined and must not recurse");
  if (!e.getKeywordArgs().empty())
    return error(e.getKeywordArgs().front().loc,
                 "functions take positional arguments only");
  if (e.getArgs().size() != fn.getParams().size())
    return error(e.getLoc(), "expected " + std::to_string(fn.getParams().size()) +
                                 " argument(s) for '" + fn.getName() +
                                 "' but got " + std::to_string(e.getArgs().size()));
  llvm::StringMap<Term> frame;
  for (auto [param, arg] : llvm::zip(fn.getParams(), e.getArgs())) {
    Term t = genExpr(*arg);
    if (!t.ok())
      return t;
    frame[param.name] = t;
  }
  std::string scope = layerName(fn.getName(), "");
  env.push_back(std::move(frame));
  scopes.push_back({scopes.back().prefix + scope + ".", {}});
  callStack.push_back(fn.getName().str());
  Term returned;
  bool ok = genStatements(fn.getBody(), /*inFunction=*/true, &returned);
  callStack.pop_back();
  scopes.pop_back();
  env.pop_back();
  if (!ok)
    return Term::invalid();
  if (!returned.ok())
    return error(fn.getLoc(), "function '" + fn.getName() + "' has no return");
  return returned;
}

//===----------------------------------------------------------------------===//
// Statements and the model
//===----------------------------------------------------------------------===//

bool MLIRGenImpl::genStatements(llvm::ArrayRef<StmtPtr> body, bool inFunction,
                                Term *returned) {
  unsigned errorsBefore = diag.getErrorCount();
  for (const StmtPtr &s : body) {
    if (diag.hasReachedErrorLimit())
      break;
    auto bind = [&](llvm::StringRef name, Term t) {
      if (t.ok())
        env.back()[name] = std::move(t);
      else
        env.back().erase(name); // later uses report nothing new
    };
    if (auto *in = llvm::dyn_cast<InputStmtAST>(s.get())) {
      if (inFunction) {
        error(in->getLoc(), "input and label declarations belong in a model");
        continue;
      }
      auto type = genType(in->getType());
      if (!type)
        continue;
      mlir::Block &entry = modelFn.getBody().front();
      mlir::Value arg = entry.addArgument(*type, loc(in->getNameLoc()));
      args.push_back({arg, b.getDictionaryAttr({b.getNamedAttr(
                                 in->isLabel() ? "fm.label" : "fm.input",
                                 b.getStringAttr(in->getName()))})});
      bind(in->getName(), Term::tensor(arg, in->getNameLoc()));
    } else if (auto *p = llvm::dyn_cast<ParamStmtAST>(s.get())) {
      mlir::Value v = genParamStmt(*p);
      bind(p->getName(), v ? Term::tensor(v, p->getNameLoc()) : Term());
    } else if (auto *a = llvm::dyn_cast<AssignStmtAST>(s.get())) {
      bind(a->getName(), genExpr(a->getValue()));
    } else if (auto *r = llvm::dyn_cast<ReturnStmtAST>(s.get())) {
      if (!inFunction) {
        error(r->getLoc(), "return belongs in a fn");
        continue;
      }
      *returned = genExpr(r->getValue());
    } else if (inFunction) {
      error(s->getLoc(), "loss, output and metric belong in a model");
    } else if (auto *l = llvm::dyn_cast<LossStmtAST>(s.get())) {
      Term t = genExpr(l->getValue());
      if (!t.ok())
        continue;
      mlir::Value v = asTensor(t, f32(), "the loss");
      if (!v)
        continue;
      auto type = tensorType(v);
      if (type.getRank() != 0 || !llvm::isa<mlir::FloatType>(type.getElementType())) {
        error(l->getValue().getLoc(), "expected a floating-point scalar loss but got " +
                                          mlir::fm::formatShape(type));
        continue;
      }
      if (llvm::any_of(results, [](const Result &r) { return r.role == "loss"; })) {
        error(l->getLoc(), "a model has exactly one loss; write several terms as "
                           "one expression");
        continue;
      }
      std::string name = l->hasName() ? l->getName().str() : "loss";
      results.push_back({"loss", name, v});
      if (l->hasName())
        bind(l->getName(), Term::tensor(v, l->getNameLoc()));
    } else if (auto *res = llvm::dyn_cast<ResultStmtAST>(s.get())) {
      Term t = genExpr(res->getValue());
      if (!t.ok())
        continue;
      mlir::Value v = asTensor(t, f32(), res->isMetric() ? "a metric" : "an output");
      if (!v)
        continue;
      if (res->isMetric() && tensorType(v).getRank() != 0) {
        error(res->getValue().getLoc(), "expected a scalar metric but got shape " +
                                            mlir::fm::formatShape(tensorType(v)));
        continue;
      }
      results.push_back({res->isMetric() ? "metric" : "output",
                         res->getName().str(), v});
      bind(res->getName(), Term::tensor(v, res->getNameLoc()));
    }
  }
  return diag.getErrorCount() == errorsBefore && shapeErrors == 0;
}

bool MLIRGenImpl::genModel(const ModelAST &model) {
  auto fnType = b.getFunctionType({}, {});
  modelFn = mlir::func::FuncOp::create(loc(model.getLoc()), model.getName(), fnType);
  module.push_back(modelFn);
  mlir::Block *entry = modelFn.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  env.emplace_back();
  scopes.push_back({"", {}});

  bool ok = genStatements(model.getBody(), /*inFunction=*/false, nullptr);
  if (!llvm::any_of(args, [](auto &a) { return a.second.contains("fm.input"); })) {
    diag.error(model.getLoc(), "model '" + model.getName() + "' has no input");
    ok = false;
  }
  // A loss statement that failed has been reported already.
  bool writesLoss = llvm::any_of(model.getBody(), [](const StmtPtr &s) {
    return llvm::isa<LossStmtAST>(s.get());
  });
  if (!writesLoss) {
    diag.error(model.getLoc(), "model '" + model.getName() + "' has no loss");
    ok = false;
  }
  if (!ok)
    return false;
  for (const std::function<void()> &update : stateUpdates)
    update();
  stateUpdates.clear();

  llvm::SmallVector<mlir::Value> values;
  llvm::SmallVector<mlir::Attribute> resultAttrs;
  for (const Result &r : results) {
    values.push_back(r.value);
    resultAttrs.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("fm.name", b.getStringAttr(r.name)),
         b.getNamedAttr("fm.role", b.getStringAttr(r.role))}));
  }
  b.create<mlir::func::ReturnOp>(loc(model.getLoc()), values);
  modelFn.setType(b.getFunctionType(entry->getArgumentTypes(),
                                    mlir::ValueRange(values).getTypes()));
  for (auto [i, a] : llvm::enumerate(args))
    modelFn.setArgAttrs(i, a.second);
  modelFn.setAllResultAttrs(resultAttrs);
  modelFn->setAttr("fm.model_fn", b.getUnitAttr());
  return true;
}

/// The source position an MLIR location carries (inlined fn calls and
/// fused ops wrap it), or none.
static Location getSourceLocation(mlir::Location loc) {
  if (auto flc = loc->findInstanceOf<mlir::FileLineColLoc>())
    return Location::get(flc.getFilename(), flc.getLine(), flc.getColumn());
  return Location();
}

std::unique_ptr<mlir::ScopedDiagnosticHandler>
fm::forwardDiagnostics(mlir::MLIRContext &context, DiagnosticEngine &diag) {
  return std::make_unique<mlir::ScopedDiagnosticHandler>(
      &context, [&diag](mlir::Diagnostic &d) {
        Severity sev = d.getSeverity() == mlir::DiagnosticSeverity::Error
                           ? Severity::Error
                       : d.getSeverity() == mlir::DiagnosticSeverity::Warning
                           ? Severity::Warning
                           : Severity::Note;
        diag.report(sev, getSourceLocation(d.getLocation()), d.str());
        for (const mlir::Diagnostic &note : d.getNotes())
          diag.report(Severity::Note, getSourceLocation(note.getLocation()),
                      note.str());
        return mlir::success();
      });
}

mlir::OwningOpRef<mlir::ModuleOp> MLIRGenImpl::run(const MLIRGenOptions &options) {
  ctx.loadDialect<mlir::fm::FmDialect, mlir::func::FuncDialect>();
  // Shape rules report through MLIR diagnostics; print them like ours.
  auto handler = forwardDiagnostics(ctx, diag);

  const ModelAST *model = nullptr;
  for (const auto &def : ast)
    if (auto *m = llvm::dyn_cast<ModelAST>(def.get())) {
      if (!options.modelName.empty() ? m->getName() == options.modelName
                                     : (!model || ast.lookupTrain(m->getName())))
        model = m;
    }
  if (!model) {
    if (options.modelName.empty())
      diag.error(Location::get(ast.getFileName(), 1, 1), "expected a model definition");
    else
      diag.error(Location::get(ast.getFileName(), 1, 1),
                 "no model named '" + options.modelName + "'");
    return nullptr;
  }
  module = mlir::ModuleOp::create(loc(model->getLoc()));
  mlir::OwningOpRef<mlir::ModuleOp> owned(module);
  module->setAttr("fm.model", b.getStringAttr(model->getName()));
  module->setAttr("fm.source", b.getStringAttr(ast.getFileName()));
  bool ok = genModel(*model);
  ok &= lowerTrainBlock(*this, module, ast.lookupTrain(model->getName()),
                        options.overrides,
                        ast.getFileName());
  for (const auto &def : ast)
    if (auto *t = llvm::dyn_cast<TrainAST>(def.get()))
      if (!ast.lookupModel(t->getName())) {
        diag.error(t->getLoc(), "train block for unknown model '" + t->getName() + "'");
        ok = false;
      }
  if (!ok || diag.hasErrors())
    return nullptr;
  if (mlir::failed(mlir::verify(module)))
    return nullptr;
  return owned;
}

mlir::OwningOpRef<mlir::ModuleOp> fm::mlirGen(mlir::MLIRContext &context,
                                              const ModuleAST &module,
                                              DiagnosticEngine &diag,
                                              const MLIRGenOptions &options) {
  return MLIRGenImpl(context, module, diag).run(options);
}
