//===- ParserExpr.cpp - Expression parsing for fm -------------------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file implements the expression part of the fm parser (LANGUAGE.md
// section 5). From loosest to tightest binding:
//
//   pipes `|>`  <  comparisons  <  `+ -`  <  `* / @`  <  unary `-`  <  primary
//
// Binary operators and pipes associate left. Pipes are desugared here:
// `a |> f(b, k=v)` becomes the call `f(a, b, k=v)` and `a |> f` becomes
// `f(a)`.
//
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"

using namespace fm;

namespace {
/// Counts the parser's expression recursion for the lifetime of the object.
class NestingGuard {
public:
  explicit NestingGuard(unsigned &nesting) : nesting(nesting) { ++nesting; }
  ~NestingGuard() { --nesting; }
  bool exceeds(unsigned limit) const { return nesting > limit; }

private:
  unsigned &nesting;
};
} // namespace

void Parser::errorTooDeep(const Location &loc) {
  diag.error(loc, "expression is nested too deeply; the limit is " +
                      llvm::Twine(kMaxExprDepth) + " levels");
}

ExprPtr Parser::checkDepth(ExprPtr expr) {
  if (expr && expr->getDepth() > kMaxExprDepth) {
    errorTooDeep(expr->getLoc());
    return nullptr;
  }
  return expr;
}

/// expression ::= comparison ('|>' pipe_target)*
/// pipe_target ::= name [call_args]
ExprPtr Parser::parseExpression() {
  NestingGuard guard(exprNesting);
  if (guard.exceeds(kMaxExprDepth)) {
    errorTooDeep(cur().loc);
    return nullptr;
  }
  ExprPtr lhs = parseComparison();
  while (lhs && cur().is(TokenKind::Pipe)) {
    consume(); // '|>'
    if (!cur().is(TokenKind::Identifier)) {
      errorExpected("function name after '|>'");
      return nullptr;
    }
    Location loc = cur().loc;
    std::string callee = cur().spelling.str();
    consume();
    ExprList args;
    std::vector<KeywordArgAST> keywordArgs;
    args.push_back(std::move(lhs));
    if (cur().is(TokenKind::LParen) && !parseCallArgs(args, keywordArgs))
      return nullptr;
    lhs = checkDepth(std::make_unique<CallExprAST>(
        loc, std::move(callee), std::move(args), std::move(keywordArgs)));
  }
  return lhs;
}

/// The precedence levels of binary operators, loosest first.
enum BinaryLevel { ComparisonLevel, AdditiveLevel, MultiplicativeLevel };

/// Returns the binary operator spelled by `kind` and its level.
static std::optional<std::pair<BinaryOp, BinaryLevel>>
getBinaryOp(TokenKind kind) {
  switch (kind) {
  case TokenKind::Less:
    return {{BinaryOp::Lt, ComparisonLevel}};
  case TokenKind::LessEqual:
    return {{BinaryOp::Le, ComparisonLevel}};
  case TokenKind::Greater:
    return {{BinaryOp::Gt, ComparisonLevel}};
  case TokenKind::GreaterEqual:
    return {{BinaryOp::Ge, ComparisonLevel}};
  case TokenKind::EqualEqual:
    return {{BinaryOp::Eq, ComparisonLevel}};
  case TokenKind::NotEqual:
    return {{BinaryOp::Ne, ComparisonLevel}};
  case TokenKind::Plus:
    return {{BinaryOp::Add, AdditiveLevel}};
  case TokenKind::Minus:
    return {{BinaryOp::Sub, AdditiveLevel}};
  case TokenKind::Star:
    return {{BinaryOp::Mul, MultiplicativeLevel}};
  case TokenKind::Slash:
    return {{BinaryOp::Div, MultiplicativeLevel}};
  case TokenKind::At:
    return {{BinaryOp::MatMul, MultiplicativeLevel}};
  default:
    return std::nullopt;
  }
}

/// Parses `operand (op operand)*` for the operators of `level`, building a
/// left-associated tree.
template <int level>
ExprPtr Parser::parseBinary(ExprPtr (Parser::*parseOperand)()) {
  ExprPtr lhs = (this->*parseOperand)();
  while (lhs) {
    auto op = getBinaryOp(cur().kind);
    if (!op || op->second != level)
      break;
    Location loc = cur().loc;
    consume();
    ExprPtr rhs = (this->*parseOperand)();
    if (!rhs)
      return nullptr;
    lhs = checkDepth(std::make_unique<BinaryExprAST>(
        loc, op->first, std::move(lhs), std::move(rhs)));
  }
  return lhs;
}

/// comparison ::= additive (('<' | '<=' | '>' | '>=' | '==' | '!=') additive)*
ExprPtr Parser::parseComparison() {
  return parseBinary<ComparisonLevel>(&Parser::parseAdditive);
}

/// additive ::= multiplicative (('+' | '-') multiplicative)*
ExprPtr Parser::parseAdditive() {
  return parseBinary<AdditiveLevel>(&Parser::parseMultiplicative);
}

/// multiplicative ::= unary (('*' | '/' | '@') unary)*
ExprPtr Parser::parseMultiplicative() {
  return parseBinary<MultiplicativeLevel>(&Parser::parseUnary);
}

/// unary ::= '-' unary | primary
/// A minus applied to a number literal is folded into the literal.
ExprPtr Parser::parseUnary() {
  if (!cur().is(TokenKind::Minus))
    return parsePrimary();
  NestingGuard guard(exprNesting);
  if (guard.exceeds(kMaxExprDepth)) {
    errorTooDeep(cur().loc);
    return nullptr;
  }
  Location loc = cur().loc;
  consume(); // '-'
  ExprPtr operand = parseUnary();
  if (!operand)
    return nullptr;
  if (auto *number = llvm::dyn_cast<NumberExprAST>(operand.get())) {
    if (number->isInteger())
      return std::make_unique<NumberExprAST>(loc, -number->getIntValue());
    return std::make_unique<NumberExprAST>(loc, -number->getValue());
  }
  return checkDepth(std::make_unique<NegExprAST>(loc, std::move(operand)));
}

/// primary ::= number | string | 'true' | 'false' | name | call
///           | paren_expr | list
ExprPtr Parser::parsePrimary() {
  const Token &tok = cur();
  ExprPtr result;
  switch (tok.kind) {
  case TokenKind::Number:
    if (tok.isInteger)
      result = std::make_unique<NumberExprAST>(tok.loc, tok.intValue);
    else
      result = std::make_unique<NumberExprAST>(tok.loc, tok.numberValue);
    break;
  case TokenKind::String:
    result = std::make_unique<StringExprAST>(tok.loc, tok.stringValue);
    break;
  case TokenKind::KwTrue:
  case TokenKind::KwFalse:
    result = std::make_unique<BoolExprAST>(tok.loc, tok.is(TokenKind::KwTrue));
    break;
  case TokenKind::Identifier:
    return parseCallOrName();
  case TokenKind::LParen:
    return parseParenExpr();
  case TokenKind::LBracket:
    return parseList();
  default:
    errorExpected("expression");
    return nullptr;
  }
  consume();
  return result;
}

/// name ::= identifier
/// call ::= identifier call_args
ExprPtr Parser::parseCallOrName() {
  Location loc = cur().loc;
  std::string name = cur().spelling.str();
  consume();
  if (!cur().is(TokenKind::LParen))
    return std::make_unique<NameExprAST>(loc, std::move(name));
  ExprList args;
  std::vector<KeywordArgAST> keywordArgs;
  if (!parseCallArgs(args, keywordArgs))
    return nullptr;
  return checkDepth(std::make_unique<CallExprAST>(
      loc, std::move(name), std::move(args), std::move(keywordArgs)));
}

/// call_args ::= '(' [argument (',' argument)*] ')'
/// argument ::= expression | name '=' expression
/// Positional arguments come first. A keyword argument's name may be a
/// keyword, as in `csv(..., label="column")`. New positional arguments are
/// appended to `args` (which holds the piped value, if any).
bool Parser::parseCallArgs(ExprList &args,
                           std::vector<KeywordArgAST> &keywordArgs) {
  Location openLoc = cur().loc;
  consume(); // '('
  if (cur().is(TokenKind::RParen)) {
    consume();
    return true;
  }
  while (true) {
    if ((cur().is(TokenKind::Identifier) || isKeyword(cur().kind)) &&
        lexer.peekToken().is(TokenKind::Equal)) {
      KeywordArgAST arg;
      arg.loc = cur().loc;
      arg.name = cur().spelling.str();
      consume(); // name
      consume(); // '='
      arg.value = parseExpression();
      if (!arg.value)
        return false;
      for (const KeywordArgAST &other : keywordArgs) {
        if (other.name == arg.name) {
          diag.error(arg.loc, "duplicate keyword argument '" + arg.name + "'");
          diag.note(other.loc, "'" + other.name + "' was first given here");
          break;
        }
      }
      keywordArgs.push_back(std::move(arg));
    } else {
      Location argLoc = cur().loc;
      ExprPtr value = parseExpression();
      if (!value)
        return false;
      if (!keywordArgs.empty())
        diag.error(argLoc, "expected keyword argument but got positional "
                           "argument; positional arguments come first");
      args.push_back(std::move(value));
    }
    if (cur().is(TokenKind::Comma)) {
      consume();
      continue;
    }
    if (cur().is(TokenKind::RParen)) {
      consume();
      return true;
    }
    errorExpected("',' or ')'");
    noteOpening(openLoc, "(");
    return false;
  }
}

/// paren_expr ::= '(' expression ')'
ExprPtr Parser::parseParenExpr() {
  Location openLoc = cur().loc;
  consume(); // '('
  ExprPtr inner = parseExpression();
  if (!inner)
    return nullptr;
  if (!cur().is(TokenKind::RParen)) {
    errorExpected("')'");
    noteOpening(openLoc, "(");
    return nullptr;
  }
  consume();
  return inner;
}

/// list ::= '[' [expression (',' expression)*] ']'
ExprPtr Parser::parseList() {
  Location openLoc = cur().loc;
  consume(); // '['
  ExprList elements;
  if (!cur().is(TokenKind::RBracket)) {
    while (true) {
      ExprPtr element = parseExpression();
      if (!element)
        return nullptr;
      elements.push_back(std::move(element));
      if (cur().is(TokenKind::Comma)) {
        consume();
        continue;
      }
      if (cur().is(TokenKind::RBracket))
        break;
      errorExpected("',' or ']'");
      noteOpening(openLoc, "[");
      return nullptr;
    }
  }
  consume(); // ']'
  return checkDepth(
      std::make_unique<ListExprAST>(openLoc, std::move(elements)));
}
