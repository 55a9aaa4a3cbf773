//===- AST.cpp - Abstract syntax tree of the fm language ------------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file implements the AST helpers and the AST dump printed by
// `fmc --emit=ast`: one node per line, indented by depth, each followed by
// its `@line:col`.
//
//===----------------------------------------------------------------------===//

#include "frontend/AST.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace fm;

//===----------------------------------------------------------------------===//
// Types and operators
//===----------------------------------------------------------------------===//

llvm::StringRef fm::getElementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F64:
    return "f64";
  case ElementType::I32:
    return "i32";
  case ElementType::I64:
    return "i64";
  case ElementType::U8:
    return "u8";
  case ElementType::Bool:
    return "bool";
  }
  llvm_unreachable("unknown element type");
}

std::optional<ElementType> fm::parseElementType(llvm::StringRef name) {
  for (ElementType type :
       {ElementType::F32, ElementType::F64, ElementType::I32, ElementType::I64,
        ElementType::U8, ElementType::Bool})
    if (getElementTypeName(type) == name)
      return type;
  return std::nullopt;
}

void TypeAST::print(llvm::raw_ostream &os) const {
  os << getElementTypeName(elementType) << '[';
  llvm::interleaveComma(dims, os, [&](const DimAST &dim) {
    if (dim.isSymbolic())
      os << dim.symbol;
    else
      os << dim.extent;
  });
  os << ']';
}

llvm::StringRef fm::getBinaryOpSpelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::MatMul:
    return "@";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  }
  llvm_unreachable("unknown binary operator");
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

/// Returns one more than the deepest expression in `exprs`.
static unsigned depthOf(llvm::ArrayRef<ExprPtr> exprs,
                        llvm::ArrayRef<KeywordArgAST> keywordArgs = {}) {
  unsigned depth = 0;
  for (const ExprPtr &e : exprs)
    depth = std::max(depth, e->getDepth());
  for (const KeywordArgAST &arg : keywordArgs)
    depth = std::max(depth, arg.value->getDepth());
  return depth + 1;
}

CallExprAST::CallExprAST(Location loc, std::string callee, ExprList args,
                         std::vector<KeywordArgAST> keywordArgs)
    : ExprAST(Expr_Call, std::move(loc), depthOf(args, keywordArgs)),
      callee(std::move(callee)), args(std::move(args)),
      keywordArgs(std::move(keywordArgs)) {}

const ExprAST *CallExprAST::getKeywordArg(llvm::StringRef name) const {
  for (const KeywordArgAST &arg : keywordArgs)
    if (arg.name == name)
      return arg.value.get();
  return nullptr;
}

ListExprAST::ListExprAST(Location loc, ExprList elements)
    : ExprAST(Expr_List, std::move(loc), depthOf(elements)),
      elements(std::move(elements)) {}

const ExprAST *TrainAST::getEntry(llvm::StringRef key) const {
  const ExprAST *found = nullptr;
  for (const TrainEntryAST &entry : entries)
    if (entry.key == key)
      found = entry.value.get();
  return found;
}

template <typename T>
static const T *lookup(const ModuleAST &module, llvm::StringRef name) {
  for (const auto &def : module)
    if (auto *t = llvm::dyn_cast<T>(def.get()); t && t->getName() == name)
      return t;
  return nullptr;
}

const ModelAST *ModuleAST::lookupModel(llvm::StringRef name) const {
  return lookup<ModelAST>(*this, name);
}
const TrainAST *ModuleAST::lookupTrain(llvm::StringRef model) const {
  return lookup<TrainAST>(*this, model);
}
const FunctionAST *ModuleAST::lookupFunction(llvm::StringRef name) const {
  return lookup<FunctionAST>(*this, name);
}

//===----------------------------------------------------------------------===//
// Dump
//===----------------------------------------------------------------------===//

/// Returns the shortest `format` rendering of `value` (trying 0 to 17 for
/// the precision) that reads back exactly.
static std::string shortestRoundTrip(const char *format, double value) {
  std::string text;
  for (int precision = 0; precision <= 17; ++precision) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), format, precision, value);
    text = buffer;
    if (std::strtod(text.c_str(), nullptr) == value)
      break;
  }
  return text;
}

/// Formats a double with the fewest digits that read back exactly, always
/// with a '.' or an exponent so that it cannot be mistaken for an integer.
/// Exponents are used only for very large or very small values.
static std::string formatFloat(double value) {
  double magnitude = std::fabs(value);
  bool fixed = magnitude == 0 || (magnitude >= 1e-5 && magnitude < 1e16);
  std::string text = shortestRoundTrip(fixed ? "%.*f" : "%.*g", value);
  if (llvm::StringRef(text).find_first_of(".eEn") == llvm::StringRef::npos)
    text += ".0";
  return text;
}

/// Returns `text` quoted, with '"' and '\' escaped as in the source.
static std::string quote(llvm::StringRef text) {
  std::string result = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      result += '\\';
    result += c;
  }
  return result + "\"";
}

namespace {
/// Prints an AST, one node per line, indented two spaces per level.
class ASTDumper {
public:
  explicit ASTDumper(llvm::raw_ostream &os) : os(os) {}

  void dump(const ModuleAST &module);

private:
  void dump(const TopLevelAST &def);
  void dump(const StmtAST &stmt);
  void dump(const ExprAST &expr);
  void dumpBody(llvm::ArrayRef<StmtPtr> body);

  /// Starts a line at the current depth.
  llvm::raw_ostream &line() { return os.indent(2 * indent); }
  /// Ends a line with the location.
  void end(const Location &loc) {
    os << " @" << loc.line << ':' << loc.col << '\n';
  }

  /// Increases the indentation for the lifetime of the object.
  struct Indent {
    explicit Indent(unsigned &level) : level(level) { ++level; }
    ~Indent() { --level; }
    unsigned &level;
  };

  llvm::raw_ostream &os;
  unsigned indent = 0;
};
} // namespace

void ASTDumper::dump(const ModuleAST &module) {
  line() << "Module " << quote(module.getFileName()) << '\n';
  Indent guard(indent);
  for (const auto &def : module)
    dump(*def);
}

void ASTDumper::dumpBody(llvm::ArrayRef<StmtPtr> body) {
  Indent guard(indent);
  for (const StmtPtr &stmt : body)
    dump(*stmt);
}

void ASTDumper::dump(const TopLevelAST &def) {
  if (auto *model = llvm::dyn_cast<ModelAST>(&def)) {
    line() << "Model " << model->getName();
    end(model->getLoc());
    dumpBody(model->getBody());
  } else if (auto *fn = llvm::dyn_cast<FunctionAST>(&def)) {
    line() << "Function " << fn->getName() << '(';
    llvm::interleaveComma(fn->getParams(), os,
                          [&](const FnParamAST &p) { os << p.name; });
    os << ')';
    end(fn->getLoc());
    dumpBody(fn->getBody());
  } else {
    auto &train = llvm::cast<TrainAST>(def);
    line() << "Train " << train.getName();
    end(train.getLoc());
    Indent guard(indent);
    for (const TrainEntryAST &entry : train.getEntries()) {
      line() << "Entry " << entry.key;
      end(entry.loc);
      Indent inner(indent);
      dump(*entry.value);
    }
  }
}

void ASTDumper::dump(const StmtAST &stmt) {
  const ExprAST *child = nullptr;
  llvm::TypeSwitch<const StmtAST *>(&stmt)
      .Case([&](const InputStmtAST *s) {
        line() << (s->isLabel() ? "Label " : "Input ") << s->getName() << ": ";
        s->getType().print(os);
      })
      .Case([&](const ParamStmtAST *s) {
        line() << "Param " << s->getName() << ": ";
        s->getType().print(os);
        child = &s->getInit();
      })
      .Case([&](const AssignStmtAST *s) {
        line() << "Assign " << s->getName();
        child = &s->getValue();
      })
      .Case([&](const LossStmtAST *s) {
        line() << "Loss";
        if (s->hasName())
          os << ' ' << s->getName();
        child = &s->getValue();
      })
      .Case([&](const ResultStmtAST *s) {
        line() << (s->isMetric() ? "Metric " : "Output ") << s->getName();
        child = &s->getValue();
      })
      .Case([&](const ReturnStmtAST *s) {
        line() << "Return";
        child = &s->getValue();
      });
  end(stmt.getLoc());
  if (child) {
    Indent guard(indent);
    dump(*child);
  }
}

void ASTDumper::dump(const ExprAST &expr) {
  llvm::TypeSwitch<const ExprAST *>(&expr)
      .Case([&](const NumberExprAST *e) {
        line() << "Number ";
        if (e->isInteger())
          os << e->getIntValue();
        else
          os << formatFloat(e->getValue());
        end(e->getLoc());
      })
      .Case([&](const StringExprAST *e) {
        line() << "String " << quote(e->getValue());
        end(e->getLoc());
      })
      .Case([&](const BoolExprAST *e) {
        line() << "Bool " << (e->getValue() ? "true" : "false");
        end(e->getLoc());
      })
      .Case([&](const NameExprAST *e) {
        line() << "Name " << e->getName();
        end(e->getLoc());
      })
      .Case([&](const NegExprAST *e) {
        line() << "Neg";
        end(e->getLoc());
        Indent guard(indent);
        dump(e->getOperand());
      })
      .Case([&](const BinaryExprAST *e) {
        line() << "Binary '" << getBinaryOpSpelling(e->getOp()) << "'";
        end(e->getLoc());
        Indent guard(indent);
        dump(e->getLHS());
        dump(e->getRHS());
      })
      .Case([&](const CallExprAST *e) {
        line() << "Call " << e->getCallee();
        end(e->getLoc());
        Indent guard(indent);
        for (const ExprPtr &arg : e->getArgs())
          dump(*arg);
        for (const KeywordArgAST &arg : e->getKeywordArgs()) {
          line() << "Keyword " << arg.name;
          end(arg.loc);
          Indent inner(indent);
          dump(*arg.value);
        }
      })
      .Case([&](const ListExprAST *e) {
        line() << "List";
        end(e->getLoc());
        Indent guard(indent);
        for (const ExprPtr &element : e->getElements())
          dump(*element);
      });
}

void ModuleAST::dump(llvm::raw_ostream &os) const { ASTDumper(os).dump(*this); }
