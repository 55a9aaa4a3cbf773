//===- AST.h - Abstract syntax tree of the fm language ----------*- C++ -*-===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file declares the AST of the fm language (LANGUAGE.md sections 3 to
// 9). Nodes use LLVM-style RTTI: walk them with `llvm::isa`, `llvm::cast`,
// `llvm::dyn_cast` or `llvm::TypeSwitch` on `getKind()`. Every node carries
// the `Location` where it starts. Pipes are already desugared into calls:
// `a |> f(b, k=v)` is the `CallExprAST` `f(a, b, k=v)`.
//
//   ModuleAST
//     ModelAST     `model NAME { StmtAST... }`
//     TrainAST     `train NAME { key = ExprAST ... }`
//     FunctionAST  `fn NAME(a, b) { StmtAST... }`
//
//===----------------------------------------------------------------------===//

#ifndef FM_FRONTEND_AST_H
#define FM_FRONTEND_AST_H

#include "frontend/Location.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fm {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// The element types of tensors.
enum class ElementType { F32, F64, I32, I64, U8, Bool };

/// Returns the spelling of an element type (`f32`, ..., `bool`).
llvm::StringRef getElementTypeName(ElementType type);
/// Parses an element type name; std::nullopt if `name` is none.
std::optional<ElementType> parseElementType(llvm::StringRef name);

/// One dimension of a tensor type: a positive extent or a symbolic name.
struct DimAST {
  Location loc;
  /// The extent, or -1 for a symbolic dimension.
  int64_t extent = -1;
  /// The name of a symbolic dimension (`N`), empty otherwise.
  std::string symbol;

  bool isSymbolic() const { return extent < 0; }
};

/// A tensor type `DTYPE[D0, D1, ...]`; `f32[]` is a scalar.
struct TypeAST {
  Location loc;
  ElementType elementType = ElementType::F32;
  std::vector<DimAST> dims;

  bool isScalar() const { return dims.empty(); }
  /// Prints the type as written, e.g. `f32[N, 1, 28, 28]`.
  void print(llvm::raw_ostream &os) const;
};

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// Base class of expressions.
class ExprAST {
public:
  enum ExprASTKind {
    Expr_Number,
    Expr_String,
    Expr_Bool,
    Expr_Name,
    Expr_Neg,
    Expr_Binary,
    Expr_Call,
    Expr_List,
  };

  ExprAST(ExprASTKind kind, Location loc, unsigned depth = 1)
      : kind(kind), loc(std::move(loc)), depth(depth) {}
  virtual ~ExprAST() = default;

  ExprASTKind getKind() const { return kind; }
  const Location &getLoc() const { return loc; }
  /// The height of this expression tree (1 for a leaf). The parser bounds
  /// it, so recursive walks over expressions cannot overflow the stack.
  unsigned getDepth() const { return depth; }

private:
  const ExprASTKind kind;
  Location loc;
  unsigned depth;
};

using ExprPtr = std::unique_ptr<ExprAST>;
using ExprList = std::vector<ExprPtr>;

/// A number literal: `42`, `1e-3`, `.5`. A leading unary minus is folded
/// in, so `-1` is one literal.
class NumberExprAST : public ExprAST {
public:
  NumberExprAST(Location loc, double value)
      : ExprAST(Expr_Number, std::move(loc)), value(value) {}
  NumberExprAST(Location loc, int64_t intValue)
      : ExprAST(Expr_Number, std::move(loc)), value(double(intValue)),
        intValue(intValue), integer(true) {}

  /// The value as a double (also for integers).
  double getValue() const { return value; }
  /// True when written as an integer (no '.', no exponent).
  bool isInteger() const { return integer; }
  /// The exact value of an integer literal.
  int64_t getIntValue() const { return intValue; }

  static bool classof(const ExprAST *e) { return e->getKind() == Expr_Number; }

private:
  double value;
  int64_t intValue = 0;
  bool integer = false;
};

/// A string literal, escapes resolved: `"same"`.
class StringExprAST : public ExprAST {
public:
  StringExprAST(Location loc, std::string value)
      : ExprAST(Expr_String, std::move(loc)), value(std::move(value)) {}
  llvm::StringRef getValue() const { return value; }
  static bool classof(const ExprAST *e) { return e->getKind() == Expr_String; }

private:
  std::string value;
};

/// `true` or `false`.
class BoolExprAST : public ExprAST {
public:
  BoolExprAST(Location loc, bool value)
      : ExprAST(Expr_Bool, std::move(loc)), value(value) {}
  bool getValue() const { return value; }
  static bool classof(const ExprAST *e) { return e->getKind() == Expr_Bool; }

private:
  bool value;
};

/// A reference to a named value, a function parameter or a symbolic name
/// (`x`, `glorot_uniform`, `flip_horizontal`).
class NameExprAST : public ExprAST {
public:
  NameExprAST(Location loc, std::string name)
      : ExprAST(Expr_Name, std::move(loc)), name(std::move(name)) {}
  llvm::StringRef getName() const { return name; }
  static bool classof(const ExprAST *e) { return e->getKind() == Expr_Name; }

private:
  std::string name;
};

/// Unary minus `-x` (of anything but a number literal).
class NegExprAST : public ExprAST {
public:
  NegExprAST(Location loc, ExprPtr operand)
      : ExprAST(Expr_Neg, std::move(loc), operand->getDepth() + 1),
        operand(std::move(operand)) {}
  const ExprAST &getOperand() const { return *operand; }
  static bool classof(const ExprAST *e) { return e->getKind() == Expr_Neg; }

private:
  ExprPtr operand;
};

/// The binary operators, arithmetic then comparisons.
enum class BinaryOp { Add, Sub, Mul, Div, MatMul, Lt, Le, Gt, Ge, Eq, Ne };

/// Returns the spelling of a binary operator (`+`, `@`, `<=`, ...).
llvm::StringRef getBinaryOpSpelling(BinaryOp op);
/// True for `< <= > >= == !=`.
inline bool isComparison(BinaryOp op) { return op >= BinaryOp::Lt; }

/// A binary operation `lhs op rhs`; located at the operator.
class BinaryExprAST : public ExprAST {
public:
  BinaryExprAST(Location loc, BinaryOp op, ExprPtr lhs, ExprPtr rhs)
      : ExprAST(Expr_Binary, std::move(loc),
                std::max(lhs->getDepth(), rhs->getDepth()) + 1),
        op(op), lhs(std::move(lhs)), rhs(std::move(rhs)) {}
  BinaryOp getOp() const { return op; }
  const ExprAST &getLHS() const { return *lhs; }
  const ExprAST &getRHS() const { return *rhs; }
  static bool classof(const ExprAST *e) { return e->getKind() == Expr_Binary; }

private:
  BinaryOp op;
  ExprPtr lhs, rhs;
};

/// A keyword argument `name=value` of a call.
struct KeywordArgAST {
  Location loc;
  std::string name;
  ExprPtr value;
};

/// A call `callee(args..., name=value...)`, located at the callee's name.
/// Pipes become calls: in `a |> f(b)` the piped value `a` is the first
/// positional argument.
class CallExprAST : public ExprAST {
public:
  CallExprAST(Location loc, std::string callee, ExprList args,
              std::vector<KeywordArgAST> keywordArgs);
  llvm::StringRef getCallee() const { return callee; }
  /// The positional arguments, in order.
  llvm::ArrayRef<ExprPtr> getArgs() const { return args; }
  /// The keyword arguments, in source order.
  llvm::ArrayRef<KeywordArgAST> getKeywordArgs() const { return keywordArgs; }
  /// Returns the value of keyword argument `name`, or null.
  const ExprAST *getKeywordArg(llvm::StringRef name) const;
  static bool classof(const ExprAST *e) { return e->getKind() == Expr_Call; }

private:
  std::string callee;
  ExprList args;
  std::vector<KeywordArgAST> keywordArgs;
};

/// A list `[a, b, c]`.
class ListExprAST : public ExprAST {
public:
  ListExprAST(Location loc, ExprList elements);
  llvm::ArrayRef<ExprPtr> getElements() const { return elements; }
  static bool classof(const ExprAST *e) { return e->getKind() == Expr_List; }

private:
  ExprList elements;
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

/// Base class of the statements of `model` and `fn` bodies.
class StmtAST {
public:
  enum StmtASTKind {
    Stmt_Input,  ///< InputStmtAST: `input NAME: TYPE`
    Stmt_Label,  ///< InputStmtAST: `label NAME: TYPE`
    Stmt_Param,  ///< ParamStmtAST
    Stmt_Assign, ///< AssignStmtAST
    Stmt_Loss,   ///< LossStmtAST
    Stmt_Output, ///< ResultStmtAST: `output NAME = EXPR`
    Stmt_Metric, ///< ResultStmtAST: `metric NAME = EXPR`
    Stmt_Return, ///< ReturnStmtAST
  };

  StmtAST(StmtASTKind kind, Location loc) : kind(kind), loc(std::move(loc)) {}
  virtual ~StmtAST() = default;

  StmtASTKind getKind() const { return kind; }
  /// The location of the statement's first token.
  const Location &getLoc() const { return loc; }

private:
  const StmtASTKind kind;
  Location loc;
};

using StmtPtr = std::unique_ptr<StmtAST>;

/// `input NAME: TYPE` or `label NAME: TYPE` (see `isLabel`).
class InputStmtAST : public StmtAST {
public:
  InputStmtAST(Location loc, bool label, std::string name, Location nameLoc,
               TypeAST type)
      : StmtAST(label ? Stmt_Label : Stmt_Input, std::move(loc)),
        name(std::move(name)), nameLoc(std::move(nameLoc)),
        type(std::move(type)) {}
  bool isLabel() const { return getKind() == Stmt_Label; }
  llvm::StringRef getName() const { return name; }
  const Location &getNameLoc() const { return nameLoc; }
  const TypeAST &getType() const { return type; }
  static bool classof(const StmtAST *s) {
    return s->getKind() == Stmt_Input || s->getKind() == Stmt_Label;
  }

private:
  std::string name;
  Location nameLoc;
  TypeAST type;
};

/// `param NAME: TYPE = INIT`.
class ParamStmtAST : public StmtAST {
public:
  ParamStmtAST(Location loc, std::string name, Location nameLoc, TypeAST type,
               ExprPtr init)
      : StmtAST(Stmt_Param, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)), type(std::move(type)),
        init(std::move(init)) {}
  llvm::StringRef getName() const { return name; }
  const Location &getNameLoc() const { return nameLoc; }
  const TypeAST &getType() const { return type; }
  /// The initializer, e.g. `zeros` or `normal(0.01)`.
  const ExprAST &getInit() const { return *init; }
  static bool classof(const StmtAST *s) { return s->getKind() == Stmt_Param; }

private:
  std::string name;
  Location nameLoc;
  TypeAST type;
  ExprPtr init;
};

/// `NAME = EXPR`; located at NAME.
class AssignStmtAST : public StmtAST {
public:
  AssignStmtAST(Location loc, std::string name, ExprPtr value)
      : StmtAST(Stmt_Assign, std::move(loc)), name(std::move(name)),
        value(std::move(value)) {}
  llvm::StringRef getName() const { return name; }
  const ExprAST &getValue() const { return *value; }
  static bool classof(const StmtAST *s) { return s->getKind() == Stmt_Assign; }

private:
  std::string name;
  ExprPtr value;
};

/// `loss EXPR` or `loss NAME = EXPR`.
class LossStmtAST : public StmtAST {
public:
  LossStmtAST(Location loc, std::string name, Location nameLoc, ExprPtr value)
      : StmtAST(Stmt_Loss, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)), value(std::move(value)) {}
  bool hasName() const { return !name.empty(); }
  /// The name, empty when not given.
  llvm::StringRef getName() const { return name; }
  const Location &getNameLoc() const { return nameLoc; }
  const ExprAST &getValue() const { return *value; }
  static bool classof(const StmtAST *s) { return s->getKind() == Stmt_Loss; }

private:
  std::string name;
  Location nameLoc;
  ExprPtr value;
};

/// `output NAME = EXPR` or `metric NAME = EXPR` (see `isMetric`).
class ResultStmtAST : public StmtAST {
public:
  ResultStmtAST(Location loc, bool metric, std::string name, Location nameLoc,
                ExprPtr value)
      : StmtAST(metric ? Stmt_Metric : Stmt_Output, std::move(loc)),
        name(std::move(name)), nameLoc(std::move(nameLoc)),
        value(std::move(value)) {}
  bool isMetric() const { return getKind() == Stmt_Metric; }
  llvm::StringRef getName() const { return name; }
  const Location &getNameLoc() const { return nameLoc; }
  const ExprAST &getValue() const { return *value; }
  static bool classof(const StmtAST *s) {
    return s->getKind() == Stmt_Output || s->getKind() == Stmt_Metric;
  }

private:
  std::string name;
  Location nameLoc;
  ExprPtr value;
};

/// `return EXPR`, only in a `fn`.
class ReturnStmtAST : public StmtAST {
public:
  ReturnStmtAST(Location loc, ExprPtr value)
      : StmtAST(Stmt_Return, std::move(loc)), value(std::move(value)) {}
  const ExprAST &getValue() const { return *value; }
  static bool classof(const StmtAST *s) { return s->getKind() == Stmt_Return; }

private:
  ExprPtr value;
};

//===----------------------------------------------------------------------===//
// Top-level definitions
//===----------------------------------------------------------------------===//

/// Base class of `model`, `train` and `fn` definitions.
class TopLevelAST {
public:
  enum TopLevelASTKind { TopLevel_Model, TopLevel_Train, TopLevel_Function };

  TopLevelAST(TopLevelASTKind kind, Location loc, std::string name)
      : kind(kind), loc(std::move(loc)), name(std::move(name)) {}
  virtual ~TopLevelAST() = default;

  TopLevelASTKind getKind() const { return kind; }
  /// The location of the leading keyword.
  const Location &getLoc() const { return loc; }
  /// The model's or function's name; for `train`, the trained model's.
  llvm::StringRef getName() const { return name; }

private:
  const TopLevelASTKind kind;
  Location loc;
  std::string name;
};

/// `model NAME { statements }`.
class ModelAST : public TopLevelAST {
public:
  ModelAST(Location loc, std::string name, std::vector<StmtPtr> body)
      : TopLevelAST(TopLevel_Model, std::move(loc), std::move(name)),
        body(std::move(body)) {}
  llvm::ArrayRef<StmtPtr> getBody() const { return body; }
  static bool classof(const TopLevelAST *t) {
    return t->getKind() == TopLevel_Model;
  }

private:
  std::vector<StmtPtr> body;
};

/// One `key = value` line of a `train` block.
struct TrainEntryAST {
  Location loc;
  std::string key;
  ExprPtr value;
};

/// `train MODEL { key = value ... }`.
class TrainAST : public TopLevelAST {
public:
  TrainAST(Location loc, std::string model, std::vector<TrainEntryAST> entries)
      : TopLevelAST(TopLevel_Train, std::move(loc), std::move(model)),
        entries(std::move(entries)) {}
  llvm::ArrayRef<TrainEntryAST> getEntries() const { return entries; }
  /// Returns the value of the last entry named `key`, or null.
  const ExprAST *getEntry(llvm::StringRef key) const;
  static bool classof(const TopLevelAST *t) {
    return t->getKind() == TopLevel_Train;
  }

private:
  std::vector<TrainEntryAST> entries;
};

/// A parameter name of a `fn`.
struct FnParamAST {
  Location loc;
  std::string name;
};

/// `fn NAME(params) { statements }`.
class FunctionAST : public TopLevelAST {
public:
  FunctionAST(Location loc, std::string name, std::vector<FnParamAST> params,
              std::vector<StmtPtr> body)
      : TopLevelAST(TopLevel_Function, std::move(loc), std::move(name)),
        params(std::move(params)), body(std::move(body)) {}
  llvm::ArrayRef<FnParamAST> getParams() const { return params; }
  llvm::ArrayRef<StmtPtr> getBody() const { return body; }
  static bool classof(const TopLevelAST *t) {
    return t->getKind() == TopLevel_Function;
  }

private:
  std::vector<FnParamAST> params;
  std::vector<StmtPtr> body;
};

/// A whole `.fm` file: its top-level definitions in source order.
class ModuleAST {
public:
  ModuleAST(std::string fileName,
            std::vector<std::unique_ptr<TopLevelAST>> defs)
      : fileName(std::move(fileName)), defs(std::move(defs)) {}

  llvm::StringRef getFileName() const { return fileName; }
  llvm::ArrayRef<std::unique_ptr<TopLevelAST>> getDefinitions() const {
    return defs;
  }
  auto begin() const { return defs.begin(); }
  auto end() const { return defs.end(); }

  /// Returns the first model / train block / function with this name, or
  /// null.
  const ModelAST *lookupModel(llvm::StringRef name) const;
  const TrainAST *lookupTrain(llvm::StringRef model) const;
  const FunctionAST *lookupFunction(llvm::StringRef name) const;

  /// Prints the tree with locations (`fmc --emit=ast`).
  void dump(llvm::raw_ostream &os) const;

private:
  std::string fileName;
  std::vector<std::unique_ptr<TopLevelAST>> defs;
};

} // namespace fm

#endif // FM_FRONTEND_AST_H
