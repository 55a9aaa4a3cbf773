//===- Parser.h - Recursive-descent parser for fm ---------------*- C++ -*-===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file declares the fm parser, which builds a `ModuleAST` from the
// tokens of a `Lexer`. It is a recursive-descent parser; each method is
// documented with the grammar rule it parses. On a syntax error it reports
// "expected X but got Y", skips to the end of the statement (or the closing
// brace) and goes on, so that one run reports every syntax error.
//
// Entry points: `parseSource` / `parseBuffer` for a whole file, or
// `Parser(lexer, diag).parseModule()`.
//
//===----------------------------------------------------------------------===//

#ifndef FM_FRONTEND_PARSER_H
#define FM_FRONTEND_PARSER_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "frontend/Lexer.h"

#include <memory>
#include <optional>

namespace fm {

/// Parses a whole `.fm` file into a `ModuleAST`.
class Parser {
public:
  /// The deepest expression nesting accepted, counted both in recursion
  /// (parentheses, calls, unary minus) and in AST height (chains of
  /// operators or pipes). It keeps every recursive walk of the AST, here and
  /// in later stages, far from the end of the stack.
  static constexpr unsigned kMaxExprDepth = 256;

  Parser(Lexer &lexer, DiagnosticEngine &diag) : lexer(lexer), diag(diag) {}

  /// Parses the whole token stream. Always returns a module, holding the
  /// definitions that parsed; check `diag.hasErrors()`.
  std::unique_ptr<ModuleAST> parseModule();

private:
  // Definitions and statements (Parser.cpp).
  std::unique_ptr<TopLevelAST> parseModel();
  std::unique_ptr<TopLevelAST> parseTrain();
  std::unique_ptr<TopLevelAST> parseFunction();
  bool parseFunctionParams(std::vector<FnParamAST> &params);
  std::vector<StmtPtr> parseBody(bool inFunction, const Location &openLoc);
  void recoverToBody(bool inFunction);
  StmtPtr parseStatement(bool inFunction);
  StmtPtr parseInputStmt();
  StmtPtr parseParamStmt();
  StmtPtr parseLossStmt();
  StmtPtr parseResultStmt();
  StmtPtr parseReturnStmt();
  StmtPtr parseAssignStmt();
  bool parseType(TypeAST &type);
  bool parseDim(DimAST &dim);

  // Expressions (ParserExpr.cpp).
  ExprPtr parseExpression();
  ExprPtr parseComparison();
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  template <int level> ExprPtr parseBinary(ExprPtr (Parser::*parseOperand)());
  ExprPtr parseUnary();
  ExprPtr parsePrimary();
  ExprPtr parseParenExpr();
  ExprPtr parseList();
  ExprPtr parseCallOrName();
  bool parseCallArgs(ExprList &args, std::vector<KeywordArgAST> &keywordArgs);
  /// Returns `expr`, or reports and returns null if it is too deep.
  ExprPtr checkDepth(ExprPtr expr);
  void errorTooDeep(const Location &loc);

  // Helpers.
  const Token &cur() const { return lexer.getCurToken(); }
  void consume() { lexer.getNextToken(); }
  /// Consumes a token of `kind`, or reports "expected K but got Y".
  bool expect(TokenKind kind);
  /// Consumes a name into `name`/`loc`, or reports "expected WHAT but got Y".
  bool parseName(std::string &name, Location &loc,
                 llvm::StringRef what = "name");
  /// Reports "expected WHAT but got <current token>".
  void errorExpected(const llvm::Twine &what);
  /// After an "expected ')'" error, points at the opening bracket with a
  /// note, unless it is on the line of the error.
  void noteOpening(const Location &openLoc, llvm::StringRef bracket);
  /// Accepts the end of a statement: a newline (consumed), '}' or the end
  /// of the file (not consumed). Reports an error otherwise.
  bool expectStatementEnd();
  /// Skips to the end of the current statement: the next newline or the
  /// '}' closing the body, not consumed. Braces opened on the way are
  /// skipped whole.
  void skipStatement();
  /// Skips to the next `model`, `train` or `fn` that starts a definition:
  /// one followed by a name or first on its line.
  void skipToTopLevel();
  /// True if the current token starts a top-level definition.
  bool atTopLevelStart();

  Lexer &lexer;
  DiagnosticEngine &diag;
  /// The current expression recursion depth.
  unsigned exprNesting = 0;
};

/// Parses buffer `bufferID` of `sourceMgr`. Returns null if a syntax error
/// was reported to `diag` (every one found is reported).
std::unique_ptr<ModuleAST> parseBuffer(llvm::SourceMgr &sourceMgr,
                                       unsigned bufferID,
                                       DiagnosticEngine &diag);

/// Adds `source`, named `fileName`, to `sourceMgr` and parses it. Returns
/// null if a syntax error was reported to `diag`.
std::unique_ptr<ModuleAST> parseSource(llvm::StringRef source,
                                       llvm::StringRef fileName,
                                       llvm::SourceMgr &sourceMgr,
                                       DiagnosticEngine &diag);

} // namespace fm

#endif // FM_FRONTEND_PARSER_H
