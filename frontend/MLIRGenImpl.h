//===- MLIRGenImpl.h - MLIRGen internals ------------------------*- C++ -*-===//
//
// Shared by MLIRGen.cpp (statements, names, expressions),
// MLIRGenBuiltins.cpp (the table of built-in operations) and
// MLIRGenTrain.cpp (the train block). Not a public header.
//
//===----------------------------------------------------------------------===//
#ifndef FM_FRONTEND_MLIRGENIMPL_H
#define FM_FRONTEND_MLIRGENIMPL_H

#include "frontend/MLIRGen.h"
#include "ir/FmDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <map>

namespace fm {

/// A value during lowering: a tensor, or a compile-time constant (numbers
/// adopt the element type they meet; strings, bools, lists and bare names
/// are arguments of ops, initialisers and train settings).
struct Term {
  enum Kind { Invalid, Tensor, Number, String, Bool, List, Symbol, Call };
  Kind kind = Invalid;
  Location loc;
  mlir::Value value;         // Tensor
  double number = 0;         // Number
  bool isInteger = false;    // Number written as an integer
  std::string text;          // String, Symbol (name), Call (callee)
  bool flag = false;         // Bool
  std::vector<Term> items;   // List, Call (positional args)
  std::vector<std::pair<std::string, Term>> keywords; // Call

  bool ok() const { return kind != Invalid; }
  static Term invalid() { return Term(); }
  static Term tensor(mlir::Value v, Location loc) {
    Term t;
    t.kind = Tensor;
    t.value = v;
    t.loc = std::move(loc);
    return t;
  }
  static Term num(double v, bool isInt, Location loc) {
    Term t;
    t.kind = Number;
    t.number = v;
    t.isInteger = isInt;
    t.loc = std::move(loc);
    return t;
  }
  /// What the user would call this kind of value, for messages.
  std::string describe() const;
};

/// Arguments of a call bound to an op's parameter names.
using BoundArgs = std::map<std::string, Term>;

class MLIRGenImpl;
/// A built-in operation: binds nothing itself; `args` holds every
/// parameter of its signature that was given or has a default.
using BuiltinFn = std::function<Term(MLIRGenImpl &, const CallExprAST &, BoundArgs &)>;

struct Builtin {
  /// Parameter names in positional order; `required` of them are required.
  std::vector<std::string> params;
  unsigned required = 1;
  /// Defaults for the optional parameters.
  std::map<std::string, Term> defaults;
  BuiltinFn lower;
};

/// The table of built-in operations (MLIRGenBuiltins.cpp); layers and
/// neural-network ops are added by MLIRGenLayers.cpp.
const llvm::StringMap<Builtin> &getBuiltins();
void addLayerBuiltins(llvm::StringMap<Builtin> &table);

class MLIRGenImpl {
public:
  MLIRGenImpl(mlir::MLIRContext &ctx, const ModuleAST &ast,
              DiagnosticEngine &diag);

  mlir::OwningOpRef<mlir::ModuleOp> run(const MLIRGenOptions &options);

  //===--- Services for the built-ins ---------------------------------===//
  mlir::Location loc(const Location &l);
  mlir::OpBuilder &builder() { return b; }
  /// Reports an error and returns an invalid term.
  Term error(const Location &l, const llvm::Twine &message);

  /// Builds op `OpTy` after running its shape rule, so that a mismatch is a
  /// user error at `where` instead of a crash.
  template <typename OpTy>
  Term build(const Location &where, mlir::ValueRange operands,
             llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    llvm::SmallVector<mlir::Type> types;
    if (mlir::failed(OpTy::inferReturnTypes(
            b.getContext(), loc(where), operands,
            b.getDictionaryAttr(attrs), /*properties=*/nullptr,
            /*regions=*/{}, types))) {
      ++shapeErrors;
      return Term::invalid();
    }
    auto op = b.create<OpTy>(loc(where), types, operands, attrs);
    return Term::tensor(op->getResult(0), where);
  }

  /// Like `build`, for an op known by name only (its shape rule found
  /// through InferTypeOpInterface).
  Term buildNamed(const Location &where, llvm::StringRef opName,
                  mlir::ValueRange operands,
                  llvm::ArrayRef<mlir::NamedAttribute> attrs = {});

  /// The tensor `t` stands for; numbers become constants of `elem`.
  mlir::Value asTensor(const Term &t, mlir::Type elem, llvm::StringRef what);
  /// A constant-number argument (int if `integer`), or nullopt after an error.
  std::optional<double> asNumber(const Term &t, llvm::StringRef what,
                                 bool integer = false);
  std::optional<std::string> asString(const Term &t, llvm::StringRef what);
  std::optional<bool> asBool(const Term &t, llvm::StringRef what);
  /// An int or a list of ints (axes, shapes).
  std::optional<std::vector<int64_t>> asIntList(const Term &t,
                                                llvm::StringRef what);
  /// Normalises a possibly negative axis of a rank-`rank` tensor.
  std::optional<int64_t> axis(const Term &t, int64_t value, int64_t rank);

  /// Creates a parameter owned by the current scope, named per LANGUAGE.md
  /// §7 (`scope.layer.tensor`), and loads it.
  mlir::Value createParam(const Location &where, llvm::StringRef layer,
                          llvm::StringRef tensor, mlir::RankedTensorType type,
                          llvm::StringRef init, llvm::ArrayRef<double> initArgs,
                          llvm::StringRef kind = "param",
                          std::string *symbol = nullptr);
  /// Writes `value` to the state tensor `symbol` (running statistics);
  /// only train_step keeps such stores.
  void storeState(const Location &where, mlir::Value value, llvm::StringRef symbol);
  /// Builds `update` (a state update: running statistics) after the rest
  /// of the model, so that the layers that follow in the source fuse with
  /// the kernel they read (batch_norm |> relu) instead of with the update.
  void deferStateUpdate(std::function<void()> update) {
    stateUpdates.push_back(std::move(update));
  }
  /// The optimizer-step counter, a model argument fed by the runtime
  /// (the seed of dropout masks).
  mlir::Value stepScalar(const Location &where);
  /// The trainable parameters defined so far, in definition order.
  llvm::SmallVector<mlir::fm::ParamOp> getParams();
  /// The name of the next layer call of `op` in the current scope, or
  /// `explicitName` if given.
  std::string layerName(llvm::StringRef op, llvm::StringRef explicitName);

  mlir::Type f32() { return b.getF32Type(); }
  static mlir::RankedTensorType tensorType(mlir::Value v) {
    return llvm::cast<mlir::RankedTensorType>(v.getType());
  }

  unsigned shapeErrors = 0;

private:
  friend struct TrainLowering;
  Term genExpr(const ExprAST &e);
  Term genBinary(const BinaryExprAST &e);
  Term genCall(const CallExprAST &e);
  Term genUserCall(const CallExprAST &e, const FunctionAST &fn);
  bool genStatements(llvm::ArrayRef<StmtPtr> body, bool inFunction,
                     Term *returned);
  bool genModel(const ModelAST &model);
  mlir::Type elementType(ElementType t);
  std::optional<mlir::RankedTensorType> genType(const TypeAST &type);
  mlir::Value genParamStmt(const ParamStmtAST &p);

  mlir::MLIRContext &ctx;
  const ModuleAST &ast;
  DiagnosticEngine &diag;
  mlir::OpBuilder b;
  mlir::ModuleOp module;
  mlir::func::FuncOp modelFn;

  /// Lexical environment: one map per fn call, innermost last.
  std::vector<llvm::StringMap<Term>> env;
  /// Naming scopes (§7): prefix and per-op counters, innermost last.
  struct NamingScope {
    std::string prefix;
    llvm::StringMap<unsigned> counters;
  };
  std::vector<NamingScope> scopes;
  std::vector<std::string> callStack;
  std::string symbolicDim;

  struct Result {
    std::string role, name;
    mlir::Value value;
  };
  std::vector<Result> results;
  /// deferStateUpdate's builders, run before the model's return.
  std::vector<std::function<void()>> stateUpdates;
  llvm::SmallVector<std::pair<mlir::Value, mlir::DictionaryAttr>> args;
};

/// Lowers the train block for `model` into module attributes `fm.train`
/// (the descriptor's JSON) and `fm.optimizer` (MLIRGenTrain.cpp).
bool lowerTrainBlock(MLIRGenImpl &gen, mlir::ModuleOp module,
                     const TrainAST *train, const TrainAST *overrides,
                     llvm::StringRef sourceFile);

//===----------------------------------------------------------------------===//
// Helpers for writing built-ins
//===----------------------------------------------------------------------===//

namespace builtins {

inline Term str(const char *s) {
  Term t;
  t.kind = Term::String;
  t.text = s;
  return t;
}
inline Term boolean(bool v) {
  Term t;
  t.kind = Term::Bool;
  t.flag = v;
  return t;
}
inline Term integer(int64_t v) { return Term::num(v, true, Location()); }
inline Term number(double v) { return Term::num(v, false, Location()); }

/// The tensor argument `name` (numbers become f32 scalars).
inline mlir::Value tensorArg(MLIRGenImpl &g, BoundArgs &a, const char *name) {
  return g.asTensor(a[name], g.f32(), std::string("argument '") + name + "'");
}

/// Builds fm ops at one source location for compositions (batch norm,
/// GELU, binary cross-entropy, ...); a null operand gives a null result.
struct Ops {
  MLIRGenImpl &g;
  Location loc;

  mlir::Value scalar(mlir::Type elem, double v) {
    return g.asTensor(Term::num(v, false, loc), elem, "a constant");
  }
  static mlir::Type elemOf(mlir::Value v) {
    return MLIRGenImpl::tensorType(v).getElementType();
  }
  mlir::Value scalarLike(mlir::Value v, double c) { return scalar(elemOf(v), c); }
  template <typename OpTy>
  mlir::Value op(mlir::ValueRange operands,
                 llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    for (mlir::Value v : operands)
      if (!v)
        return {};
    Term t = g.build<OpTy>(loc, operands, attrs);
    return t.ok() ? t.value : mlir::Value();
  }
  mlir::Value add(mlir::Value a, mlir::Value b) { return op<mlir::fm::AddOp>({a, b}); }
  mlir::Value sub(mlir::Value a, mlir::Value b) { return op<mlir::fm::SubOp>({a, b}); }
  mlir::Value mul(mlir::Value a, mlir::Value b) { return op<mlir::fm::MulOp>({a, b}); }
  mlir::Value div(mlir::Value a, mlir::Value b) { return op<mlir::fm::DivOp>({a, b}); }
  mlir::Value cmp(const char *pred, mlir::Value a, mlir::Value b) {
    return op<mlir::fm::CompareOp>(
        {a, b}, {g.builder().getNamedAttr("predicate", g.builder().getStringAttr(pred))});
  }
  mlir::Value named(llvm::StringRef name, mlir::ValueRange operands,
                    llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    for (mlir::Value v : operands)
      if (!v)
        return {};
    Term t = g.buildNamed(loc, name, operands, attrs);
    return t.ok() ? t.value : mlir::Value();
  }
  mlir::Value select(mlir::Value c, mlir::Value a, mlir::Value b) {
    return op<mlir::fm::SelectOp>({c, a, b});
  }
  mlir::Value reduce(bool mean, mlir::Value x, llvm::ArrayRef<int64_t> axes,
                     bool keepdims) {
    auto &b = g.builder();
    llvm::SmallVector<mlir::NamedAttribute> attrs = {
        b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
        b.getNamedAttr("keepdims", b.getBoolAttr(keepdims))};
    return mean ? op<mlir::fm::ReduceMeanOp>(x, attrs) : op<mlir::fm::ReduceSumOp>(x, attrs);
  }
  mlir::Value castTo(mlir::Value x, mlir::Type elem) {
    if (!x || elemOf(x) == elem)
      return x;
    auto t = MLIRGenImpl::tensorType(x);
    return g.builder().create<mlir::fm::CastOp>(
        g.loc(loc), mlir::RankedTensorType::get(t.getShape(), elem), x);
  }
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape) {
    if (!x)
      return x;
    auto t = mlir::RankedTensorType::get(shape, elemOf(x));
    return t == x.getType() ? x
                            : g.builder().create<mlir::fm::ReshapeOp>(g.loc(loc), t, x);
  }
  static llvm::SmallVector<int64_t> allAxes(mlir::Value x) {
    return llvm::to_vector(llvm::seq<int64_t>(0, MLIRGenImpl::tensorType(x).getRank()));
  }
};

} // namespace builtins

} // namespace fm

#endif // FM_FRONTEND_MLIRGENIMPL_H
